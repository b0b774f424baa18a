//! The Redis backend of `tollgate serve` (`--state redis://...`): throttle
//! state shared by every instance pointed at the same Redis.
//!
//! A decision is one optimistic transaction (docs/serve.md, "Shared state
//! on Redis"): the engine decides on the values the record's keys are
//! believed to hold (what this instance last read or wrote for a cap's key;
//! nothing for a key it does not know), with the same code as `tollgate
//! eval`, and one Lua script checks that every key still holds what was
//! believed and, only then, writes the changes. If one key differs, nothing
//! is written, the script answers every key's current value, and the
//! decision is made again on those. Decisions are therefore serializable,
//! a stream sent in order gets `eval`'s decisions, and the common case
//! (keys this instance wrote last, or new ones) costs one round trip.

use crate::cli::eval::notify_line;
use crate::cli::state::journal::{put_entry, scan, Entry};
use serde_json::{json, Value as Json};
use std::collections::HashMap;
use std::time::Duration;
use tollgate_runtime::notify::{
    key_of, Action, Decision, MemoryState, NotifyPolicy, NotifyRule, ThrottleState,
};
use tollgate_runtime::value::Value;
use tollgate_runtime::window::Span;

/// The default of `--redis-timeout-ms`.
pub const TIMEOUT_MS: u64 = 250;

/// How many times a decision is made again when another decision changed
/// its keys between the read and the write, before it counts as failed.
const MAX_TRIES: usize = 10_000;

/// A wall-clock day in ms: the margin every key keeps past the time a
/// record could still need it.
const DAY_MS: i64 = 86_400_000;

/// The compare-and-set step: `KEYS` are every key the decision read;
/// `ARGV[i]` is what key `i` was believed to hold (empty for none),
/// `ARGV[n+i]` what to do with it (`k` keep, `d` delete, `s` followed by
/// the new value), and `ARGV[2n+i]` its time to live in ms when set.
/// Returns 1 when written; when a key holds something else, writes nothing
/// and returns what every key holds (empty for none), in order.
const CAS: &str = r"
local n = #KEYS
local now = redis.call('MGET', unpack(KEYS))
local ok = true
for i = 1, n do
  if now[i] == false then now[i] = '' end
  if now[i] ~= ARGV[i] then ok = false end
end
if not ok then return now end
for i = 1, n do
  local w = ARGV[n + i]
  local op = string.sub(w, 1, 1)
  if op == 's' then
    redis.call('SET', KEYS[i], string.sub(w, 2), 'PX', ARGV[2 * n + i])
  elseif op == 'd' then
    redis.call('DEL', KEYS[i])
  end
end
return 1
";

/// How many values of caps' keys an instance remembers (in 16 shards, a
/// shard forgetting all of its own when full): a guess only, never trusted
/// (the script checks it), so a forgotten or stale value costs a second
/// round trip, never a wrong decision.
const KNOWN_ENTRIES: usize = 1 << 17;

/// The values this instance last read or wrote for caps' keys, by the
/// hash of the Redis key.
struct Known {
    shards: Vec<std::sync::Mutex<HashMap<u64, Vec<u8>>>>,
}

impl Known {
    fn new() -> Known {
        Known {
            shards: (0..16)
                .map(|_| std::sync::Mutex::new(HashMap::new()))
                .collect(),
        }
    }

    fn hash(key: &str) -> u64 {
        xxhash_rust::xxh64::xxh64(key.as_bytes(), 0)
    }

    fn shard(&self, h: u64) -> Option<std::sync::MutexGuard<'_, HashMap<u64, Vec<u8>>>> {
        self.shards
            .get((h % 16) as usize)
            .map(|m| m.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    /// What `key` is believed to hold (`None`: nothing).
    fn get(&self, key: &str) -> Option<Vec<u8>> {
        let h = Known::hash(key);
        self.shard(h)?.get(&h).cloned()
    }

    /// Remembers that `key` holds `value` (`None`: nothing).
    fn set(&self, key: &str, value: Option<&[u8]>) {
        let h = Known::hash(key);
        let Some(mut shard) = self.shard(h) else {
            return;
        };
        match value {
            None => {
                shard.remove(&h);
            }
            Some(v) => {
                if shard.len() >= KNOWN_ENTRIES / 16 && !shard.contains_key(&h) {
                    shard.clear();
                }
                shard.insert(h, v.to_vec());
            }
        }
    }
}

/// What a decision does when Redis cannot be reached in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailMode {
    /// Decide as if the state were empty (stateless rules still apply) and
    /// mark the line `"degraded":true`.
    Open,
    /// Suppress the message, marked `"degraded":true`, with the reason
    /// `state_unavailable` (a decision the stateless rules make that is
    /// not a delivery stands, and an always-deliver rule still delivers).
    Closed,
}

impl FailMode {
    /// Its name in flags and metrics.
    pub fn name(self) -> &'static str {
        match self {
            FailMode::Open => "open",
            FailMode::Closed => "closed",
        }
    }
}

/// The Redis connection and the settings of the backend.
pub struct RedisState {
    /// The client, kept to connect again.
    client: redis::Client,
    /// The connection (reconnects by itself), once made.
    conn: tokio::sync::Mutex<Option<redis::aio::ConnectionManager>>,
    /// How long one call to Redis may take.
    pub timeout: Duration,
    /// The fail mode of policies not named in `modes`.
    pub default_mode: FailMode,
    /// Fail modes by policy name.
    pub modes: HashMap<String, FailMode>,
    /// The compare-and-set script (loaded once, then called by its hash).
    cas: redis::Script,
    /// What caps' keys were last seen to hold.
    known: Known,
}

/// The Redis keys of one decision and the engine's view of them.
struct Snapshot {
    /// The stateful rules that apply, with their keys: `(rule, key hash,
    /// Redis key, whether it is a cap's key)`.
    rules: Vec<(u32, u64, String, bool)>,
    /// The message id's hash and Redis key, if the record has one.
    id: Option<(u64, String)>,
}

impl RedisState {
    /// A backend for `url` (`redis://HOST:PORT/DB`); connects on first use.
    ///
    /// # Errors
    /// The URL is not a Redis URL.
    pub fn new(url: &str, timeout: Duration, default_mode: FailMode) -> Result<RedisState, String> {
        let client = redis::Client::open(url).map_err(|e| format!("{url}: {e}"))?;
        Ok(RedisState {
            client,
            conn: tokio::sync::Mutex::new(None),
            timeout,
            default_mode,
            modes: HashMap::new(),
            cas: redis::Script::new(CAS),
            known: Known::new(),
        })
    }

    /// The fail mode of policy `name`.
    pub fn mode(&self, name: &str) -> FailMode {
        self.modes.get(name).copied().unwrap_or(self.default_mode)
    }

    /// The backend as `GET /v1/policies` names it: the server (without
    /// credentials), the timeout and the fail modes.
    pub fn listing(&self) -> Json {
        let info = self.client.get_connection_info();
        let named = |mode: FailMode| {
            let mut names: Vec<&str> = self
                .modes
                .iter()
                .filter(|(_, m)| **m == mode)
                .map(|(n, _)| n.as_str())
                .collect();
            names.sort_unstable();
            names
        };
        json!({
            "backend": "redis",
            "server": format!("{}/{}", info.addr, info.redis.db),
            "timeout_ms": u64::try_from(self.timeout.as_millis()).unwrap_or(u64::MAX),
            "fail_mode": self.default_mode.name(),
            "fail_open": named(FailMode::Open),
            "fail_closed": named(FailMode::Closed),
        })
    }

    /// The connection, made now if there is none yet.
    async fn connection(&self) -> Result<redis::aio::ConnectionManager, String> {
        let mut held = self.conn.lock().await;
        if let Some(c) = held.as_ref() {
            return Ok(c.clone());
        }
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(self.timeout)
            .set_response_timeout(self.timeout)
            .set_number_of_retries(1)
            .set_max_delay(200);
        let made = tokio::time::timeout(
            self.timeout,
            redis::aio::ConnectionManager::new_with_config(self.client.clone(), config),
        )
        .await
        .map_err(|_| "Redis did not answer in time".to_string())?
        .map_err(|e| e.to_string())?;
        *held = Some(made.clone());
        Ok(made)
    }

    /// Decides `record` as `eval` would print it, against the state in
    /// Redis. `Err` when Redis could not be reached or did not answer in
    /// time: the caller then follows the policy's fail mode.
    pub async fn decide(
        &self,
        policy: &NotifyPolicy,
        record: &[Value],
        explain: bool,
    ) -> Result<Result<Json, String>, String> {
        let snap = snapshot(policy, record);
        if snap.rules.is_empty() && snap.id.is_none() {
            // No rule that applies keeps state: nothing to read or write.
            return Ok(notify_line(
                policy,
                record,
                &mut MemoryState::new(),
                explain,
            ));
        }
        let keys: Vec<&str> = snap
            .rules
            .iter()
            .map(|(_, _, k, _)| k.as_str())
            .chain(snap.id.iter().map(|(_, k)| k.as_str()))
            .collect();
        // A cap's key is believed to hold what it held last time; a
        // de-duplication key or a message id is new in the common case.
        let cap = |i: usize| snap.rules.get(i).is_some_and(|r| r.3);
        let mut read: Vec<Option<Vec<u8>>> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| if cap(i) { self.known.get(k) } else { None })
            .collect();
        let mut conn = self.connection().await?;
        for _ in 0..MAX_TRIES {
            let mut view = RedisView::load(&snap, &read)?;
            let line = notify_line(policy, record, &mut view, explain);
            let writes = view.writes(policy, &snap);
            let mut inv = self.cas.prepare_invoke();
            for k in &keys {
                inv.key(*k);
            }
            for old in &read {
                inv.arg(old.as_deref().unwrap_or(&[]));
            }
            for (op, _) in &writes {
                inv.arg(op.as_slice());
            }
            for (_, ttl) in &writes {
                inv.arg(*ttl);
            }
            let answer: redis::Value = self.call(inv.invoke_async(&mut conn)).await?;
            if let redis::Value::Int(1) = answer {
                for (i, (k, (op, _))) in keys.iter().zip(&writes).enumerate() {
                    if cap(i) {
                        let now = match op.split_first() {
                            Some((b's', v)) => Some(v),
                            Some((b'd', _)) => None,
                            _ => read.get(i).and_then(|v| v.as_deref()),
                        };
                        self.known.set(k, now);
                    }
                }
                return Ok(line);
            }
            // A key held something else: decide again on what they hold.
            read = current(answer, keys.len())?;
            for (i, k) in keys.iter().enumerate() {
                if cap(i) {
                    self.known.set(k, read.get(i).and_then(|v| v.as_deref()));
                }
            }
            tokio::task::yield_now().await;
        }
        Err(format!(
            "the keys of this record changed {MAX_TRIES} times while it was decided"
        ))
    }

    /// One call to Redis, bounded by the timeout.
    async fn call<T>(
        &self,
        fut: impl std::future::Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, String> {
        match tokio::time::timeout(self.timeout, fut).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!(
                "Redis did not answer within {} ms",
                self.timeout.as_millis()
            )),
        }
    }
}

/// The values of `n` keys as the compare-and-set script answers them when
/// one differed (empty for none).
fn current(answer: redis::Value, n: usize) -> Result<Vec<Option<Vec<u8>>>, String> {
    let redis::Value::Array(items) = answer else {
        return Err(format!(
            "unexpected answer from the state script: {answer:?}"
        ));
    };
    if items.len() != n {
        return Err(format!(
            "the state script answered {} values for {n} keys",
            items.len()
        ));
    }
    items
        .into_iter()
        .map(|v| match v {
            redis::Value::BulkString(b) if b.is_empty() => Ok(None),
            redis::Value::BulkString(b) => Ok(Some(b)),
            other => Err(format!("unexpected value from the state script: {other:?}")),
        })
        .collect()
}

/// The line of a decision Redis could not take part in, by `mode`: the
/// decision on an empty state (open), or a suppression unless the stateless
/// rules already hold the message back or an always-deliver rule covers it
/// (closed); marked degraded.
pub fn degraded_line(
    policy: &NotifyPolicy,
    record: &[Value],
    explain: bool,
    mode: FailMode,
    why: &str,
) -> Result<Json, String> {
    let mut line = notify_line(policy, record, &mut MemoryState::new(), explain)?;
    let delivers = line.get("decision").and_then(Json::as_str) == Some("deliver");
    // A message an always-deliver rule covers counts nowhere: it goes.
    let always = policy
        .rules()
        .iter()
        .any(|r| *r.action() == Action::AlwaysDeliver && r.applies(record));
    if mode == FailMode::Closed && delivers && !always {
        line = json!({ "decision": "suppress", "reason": "state_unavailable" });
    }
    if let Json::Object(m) = &mut line {
        m.insert("degraded".into(), Json::Bool(true));
        m.insert("state_error".into(), Json::String(why.to_string()));
    }
    Ok(line)
}

/// The keys a decision of `record` reads: those of the stateful rules that
/// apply to it, and of its message id.
fn snapshot(policy: &NotifyPolicy, record: &[Value]) -> Snapshot {
    let mut rules = Vec::new();
    for (i, rule) in policy.rules().iter().enumerate() {
        if let Some(keys) = rule.keys() {
            if rule.applies(record) {
                let key = key_of(record, keys);
                let cap = matches!(rule.action(), Action::Limit { .. });
                rules.push((i as u32, key, rule_key(policy, rule, key), cap));
            }
        }
    }
    let id = policy
        .message_id_of(record)
        .map(|id| (id, format!("tollgate:{{{}}}:id:{id:016x}", policy.name())));
    Snapshot { rules, id }
}

/// The Redis key of a rule's key: the policy's name is the hash tag (so
/// that a decision's keys are in one Cluster slot), then the rule's name
/// and layout (kind, window and key fields: a rule that changes them
/// starts empty, as `eval --state` carries state over), then the key hash.
pub fn rule_key(policy: &NotifyPolicy, rule: &NotifyRule, key: u64) -> String {
    format!(
        "tollgate:{{{}}}:rule:{}:{:016x}:{key:016x}",
        policy.name(),
        rule.name(),
        layout(policy, rule)
    )
}

/// A hash of what a rule's state means: its kind, window and key fields.
fn layout(policy: &NotifyPolicy, rule: &NotifyRule) -> u64 {
    let mut text = String::new();
    text.push_str(match rule.action() {
        Action::Dedup { .. } => "dedup",
        _ => "limit",
    });
    text.push_str(&format!(" {:?}", rule.span()));
    for &k in rule.keys().unwrap_or(&[]) {
        let name = policy
            .fields()
            .get(k as usize)
            .map_or("?", |f| f.name.as_str());
        text.push(' ');
        text.push_str(name);
    }
    xxhash_rust::xxh64::xxh64(text.as_bytes(), 0)
}

/// How long (wall clock) a rule's key is kept after its last change: its
/// window (two days for a calendar day), plus the lateness, plus a day.
fn rule_ttl(policy: &NotifyPolicy, rule: &NotifyRule) -> i64 {
    let span = match rule.span() {
        Some(Span::Rolling(ms)) => ms,
        _ => 2 * DAY_MS,
    };
    span.saturating_add(policy.lateness_ms().max(0))
        .saturating_add(DAY_MS)
}

/// The engine's view of one snapshot: the values read, and what the
/// decision changed.
struct RedisView {
    state: MemoryState,
    /// Rules whose key got a delivery.
    recorded: Vec<u32>,
    /// Whether the message id's decision was remembered.
    remembered: bool,
}

impl RedisView {
    /// Reads the values of `snap`'s keys (`read`, in the same order).
    fn load(snap: &Snapshot, read: &[Option<Vec<u8>>]) -> Result<RedisView, String> {
        let mut state = MemoryState::new();
        for ((rule, key, name, _), value) in snap.rules.iter().zip(read) {
            let Some(bytes) = value else { continue };
            if bytes.len() % 8 != 0 {
                return Err(format!("{name} does not hold a delivery history"));
            }
            for chunk in bytes.chunks_exact(8) {
                let mut b = [0u8; 8];
                b.copy_from_slice(chunk);
                state.record(*rule, *key, i64::from_le_bytes(b), i64::MIN);
            }
        }
        if let (Some((id, name)), Some(Some(bytes))) = (&snap.id, read.get(snap.rules.len())) {
            let mut found: Option<(i64, Decision)> = None;
            scan(bytes, |e| {
                if let Entry::MessageId {
                    id: got,
                    at_ms,
                    decision,
                } = e
                {
                    if got == *id {
                        found = Some((at_ms, decision));
                    }
                }
                true
            });
            let Some((at, decision)) = found else {
                return Err(format!("{name} does not hold a decision"));
            };
            state.remember(*id, at, decision);
        }
        Ok(RedisView {
            state,
            recorded: Vec::new(),
            remembered: false,
        })
    }

    /// For each key of `snap`, in order: what to do with it (`k`, `d` or
    /// `s` and the value) and its time to live in ms.
    fn writes(&self, policy: &NotifyPolicy, snap: &Snapshot) -> Vec<(Vec<u8>, i64)> {
        let mut out = Vec::with_capacity(snap.rules.len() + 1);
        for (rule, key, _, _) in &snap.rules {
            if !self.recorded.contains(rule) {
                out.push((b"k".to_vec(), 0));
                continue;
            }
            let times = self.state.history(*rule, *key);
            if times.is_empty() {
                out.push((b"d".to_vec(), 0));
                continue;
            }
            let mut v = Vec::with_capacity(1 + 8 * times.len());
            v.push(b's');
            for t in times {
                v.extend_from_slice(&t.to_le_bytes());
            }
            let ttl = policy
                .rules()
                .get(*rule as usize)
                .map_or(2 * DAY_MS, |r| rule_ttl(policy, r));
            out.push((v, ttl));
        }
        if let Some((id, _)) = &snap.id {
            match self.state.decided(*id).filter(|_| self.remembered) {
                Some((at_ms, decision)) => {
                    let mut v = vec![b's'];
                    put_entry(
                        &Entry::MessageId {
                            id: *id,
                            at_ms,
                            decision,
                        },
                        &mut v,
                    );
                    let ttl = policy.lateness_ms().max(0).saturating_add(DAY_MS);
                    out.push((v, ttl));
                }
                None => out.push((b"k".to_vec(), 0)),
            }
        }
        out
    }
}

impl ThrottleState for RedisView {
    fn history(&self, rule: u32, key: u64) -> &[i64] {
        self.state.history(rule, key)
    }

    fn newest(&self, rule: u32, key: u64) -> Option<i64> {
        self.state.newest(rule, key)
    }

    fn record(&mut self, rule: u32, key: u64, at_ms: i64, forget_through_ms: i64) {
        self.state.record(rule, key, at_ms, forget_through_ms);
        if !self.recorded.contains(&rule) {
            self.recorded.push(rule);
        }
    }

    fn decided(&self, id: u64) -> Option<(i64, Decision)> {
        self.state.decided(id)
    }

    fn remember(&mut self, id: u64, at_ms: i64, decision: Decision) {
        self.state.remember(id, at_ms, decision);
        self.remembered = true;
    }
}
