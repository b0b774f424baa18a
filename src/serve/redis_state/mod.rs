//! The Redis backend of `tollgate serve` (`--state redis://...`): throttle
//! state shared by every instance pointed at the same Redis.
//!
//! A decision is one optimistic transaction (docs/serve.md, "Shared state
//! on Redis"): the engine decides on the values the record's keys are
//! believed to hold (what this instance last read or wrote for a cap's key;
//! nothing for a key it does not know), with the same code as `tollgate
//! eval`, and one Lua script checks that every key still holds what was
//! believed and, only then, writes the changes. A cap's key that holds
//! something else keeps the decision when the decision stands on what it
//! holds ([`stands`]: in order, and a count the decision tolerates), and
//! the script writes the delivery on that value as the engine would. If a
//! key differs otherwise, nothing is written, the script answers every
//! key's current value, and the decision is made again on those. Decisions
//! are therefore serializable, a stream sent in order gets `eval`'s
//! decisions, and the common case (keys this instance wrote last, new
//! ones, or caps that admit the message whoever wrote them) costs one
//! round trip.

use crate::cli::eval::notify_line;
use crate::cli::notify_out;
use serde_json::{json, Value as Json};
use std::collections::HashMap;
use std::time::Duration;
use tollgate_runtime::ids::Answer;
use tollgate_runtime::notify::{Action, MemoryState, NotifyPolicy};
use tollgate_runtime::value::Value;

mod failure;
mod keys;
mod known;
mod script;
mod stands;
mod view;

use keys::{Holds, Keys};
use known::Known;
use script::Answered;
use view::View;

/// The default of `--redis-known-keys`.
pub const DEFAULT_KNOWN_KEYS: usize = known::DEFAULT_ENTRIES;

/// The default of `--redis-timeout-ms`.
pub const TIMEOUT_MS: u64 = 250;

/// How many times a decision is made again when another decision changed
/// its keys between the read and the write, before it counts as failed.
const MAX_TRIES: usize = 10_000;

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
    /// Its commands without its checks ([`RedisState::decide_unchecked`]).
    unchecked: redis::Script,
    /// What caps' keys were last seen to hold.
    known: Known,
}

impl RedisState {
    /// A backend for `url` (`redis://HOST:PORT/DB`); connects on first use.
    ///
    /// # Errors
    /// The URL is not a Redis URL.
    pub fn new(url: &str, timeout: Duration, default_mode: FailMode) -> Result<RedisState, String> {
        let mut info = redis::IntoConnectionInfo::into_connection_info(url)
            .map_err(|e| format!("{url}: {e}"))?;
        // RESP3: the client hears of a lost connection when it is lost (a
        // push) and reconnects then, not at the next call, which would
        // meet the dead connection and fail.
        info.redis.protocol = redis::ProtocolVersion::RESP3;
        let client = redis::Client::open(info).map_err(|e| format!("{url}: {e}"))?;
        Ok(RedisState {
            client,
            conn: tokio::sync::Mutex::new(None),
            timeout,
            default_mode,
            modes: HashMap::new(),
            cas: redis::Script::new(script::CAS),
            unchecked: redis::Script::new(script::UNCHECKED),
            known: Known::new(known::DEFAULT_ENTRIES),
        })
    }

    /// Remembers the values of at most about `entries` caps' keys
    /// (`--redis-known-keys`), instead of [`DEFAULT_KNOWN_KEYS`]: a key
    /// forgotten costs a second script when it is next decided.
    pub fn with_known_keys(mut self, entries: usize) -> RedisState {
        self.known = Known::new(entries);
        self
    }

    /// The fail mode of policy `name`.
    pub fn mode(&self, name: &str) -> FailMode {
        self.modes.get(name).copied().unwrap_or(self.default_mode)
    }

    /// The backend as `GET /v1/policies` names it: the server (without
    /// credentials), the timeout, the fail modes and how many caps' keys
    /// it remembers (`--redis-known-keys`).
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
            "known_keys": self.known.bound(),
        })
    }

    /// The connection, made now if there is none yet.
    async fn connection(&self) -> Result<redis::aio::ConnectionManager, String> {
        let mut held = self.conn.lock().await;
        if let Some(c) = held.as_ref() {
            return Ok(c.clone());
        }
        // No retry within a call: a retry's delay would outlast the timeout
        // and hide what happened (a refused connection). The next decision
        // tries again.
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(self.timeout)
            .set_response_timeout(self.timeout)
            .set_number_of_retries(0);
        let made = self
            .call(redis::aio::ConnectionManager::new_with_config(
                self.client.clone(),
                config,
            ))
            .await?;
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
        self.decide_by(&self.cas, policy, record, explain).await
    }

    /// Decides `record` as [`RedisState::decide`] does, with the same
    /// commands in Redis but none of the checks that make the step atomic:
    /// what a decision costs Redis at the least, for measuring what the
    /// checks add (BENCHMARKS.md, section 14). Wrong under concurrency:
    /// never used to decide.
    #[doc(hidden)]
    pub async fn decide_unchecked(
        &self,
        policy: &NotifyPolicy,
        record: &[Value],
    ) -> Result<Result<Json, String>, String> {
        self.decide_by(&self.unchecked, policy, record, false).await
    }

    /// Decides `record` with `lua`, [`script::CAS`] or
    /// [`script::UNCHECKED`].
    async fn decide_by(
        &self,
        lua: &redis::Script,
        policy: &NotifyPolicy,
        record: &[Value],
        explain: bool,
    ) -> Result<Result<Json, String>, String> {
        let keys = Keys::of(policy, record);
        if keys.is_empty() {
            // No rule that applies keeps state: nothing to read or write.
            return Ok(notify_line(
                policy,
                record,
                &mut MemoryState::new(),
                explain,
            ));
        }
        // A cap's key is believed to hold what it held last time; a
        // de-duplication key or a message id is new in the common case.
        let mut believed: Vec<Option<Vec<u8>>> = keys
            .slots
            .iter()
            .map(|s| match s.holds {
                Holds::Rule { cap: true, .. } => self.known.get(s.hash),
                _ => None,
            })
            .collect();
        let mut conn = self.connection().await?;
        for _ in 0..MAX_TRIES {
            let mut view = View::load(&keys, &believed)?;
            let (line, engine) = decide_on(policy, record, &mut view, explain);
            let changes = view.changes(&keys);
            let mut cmd = script::command(lua.get_hash(), &keys);
            for ((slot, old), change) in keys.slots.iter().zip(&believed).zip(&changes) {
                let stands = match (slot.holds, &engine) {
                    (
                        Holds::Rule {
                            cap: true, rule, ..
                        },
                        Some(a),
                    ) => stands::cap(policy, rule, record, a, old.as_deref()),
                    _ => None,
                };
                let change = change.as_ref().map(Option::as_deref);
                script::push_op(
                    &mut cmd,
                    old.as_deref(),
                    change,
                    slot.ttl_ms,
                    stands.as_ref(),
                );
            }
            let answer = self.run(lua, &mut conn, &cmd).await?;
            match script::answered(answer, keys.slots.len())? {
                Answered::Written(news) => {
                    let kept = keys.slots.iter().zip(believed).zip(changes).zip(news);
                    for (((slot, old), change), new) in kept {
                        if let Holds::Rule { cap: true, .. } = slot.holds {
                            self.known.set(slot.hash, new.or(change).unwrap_or(old));
                        }
                    }
                    return Ok(line);
                }
                Answered::Changed(now) => {
                    // A key held something else: decide again on what
                    // they hold.
                    for (slot, value) in keys.slots.iter().zip(&now) {
                        if let Holds::Rule { cap: true, .. } = slot.holds {
                            self.known.set(slot.hash, value.clone());
                        }
                    }
                    believed = now;
                }
            }
            tokio::task::yield_now().await;
        }
        Err(format!(
            "the keys of this record changed {MAX_TRIES} times while it was decided"
        ))
    }

    /// Runs `lua`'s command `cmd`, loading the script first if Redis
    /// does not have it (a restarted or flushed Redis), and sending it once
    /// more if it was never sent ([`not_sent`]: the client is connecting
    /// again, which is what the first call after Redis comes back meets).
    /// A call lost in flight is not sent again: it may have been applied.
    async fn run(
        &self,
        lua: &redis::Script,
        conn: &mut redis::aio::ConnectionManager,
        cmd: &redis::Cmd,
    ) -> Result<redis::Value, String> {
        let mut resent = false;
        let mut loaded = false;
        loop {
            let answer =
                tokio::time::timeout(self.timeout, cmd.query_async::<redis::Value>(conn)).await;
            match answer {
                Ok(Ok(v)) => return Ok(v),
                Ok(Err(e)) if e.kind() == redis::ErrorKind::NoScriptError && !loaded => {
                    loaded = true;
                    self.call(lua.load_async(conn)).await?;
                }
                Ok(Err(e)) if !resent && not_sent(&e) => {
                    resent = true;
                }
                Ok(Err(e)) => return Err(self.failed(&e)),
                Err(_) => return Err(self.late()),
            }
        }
    }

    /// One call to Redis, bounded by the timeout.
    async fn call<T>(
        &self,
        fut: impl std::future::Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, String> {
        match tokio::time::timeout(self.timeout, fut).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(self.failed(&e)),
            Err(_) => Err(self.late()),
        }
    }

    /// The error of a call that took longer than the timeout.
    fn late(&self) -> String {
        failure::late(
            &self.client.get_connection_info().addr.to_string(),
            self.timeout,
        )
    }

    /// The error of a call that failed: what happened, as `e`'s kind says.
    fn failed(&self, e: &redis::RedisError) -> String {
        let server = self.client.get_connection_info().addr.to_string();
        failure::describe(e, &server, self.timeout)
    }
}

/// Whether a call failed before it was sent: the connection was refused,
/// or the client's reconnection (after it heard the connection was lost)
/// had failed, which the `redis` crate's connection manager answers as
/// `Reconnecting failed: …` without sending the call, and then connects
/// again.
fn not_sent(e: &redis::RedisError) -> bool {
    e.is_connection_refusal() || e.to_string().contains("Reconnecting failed")
}

/// Decides `record` on `view` as `eval` would print it (the line, or the
/// message of its error line), with the engine's answer when the line
/// explains nothing and is not an error: what the conditions under which
/// the decision stands on other values of its caps' keys are made from
/// ([`stands`]). An explanation shows what every rule saw, so a decision
/// explained stands only on the values it saw.
fn decide_on(
    policy: &NotifyPolicy,
    record: &[Value],
    view: &mut View,
    explain: bool,
) -> (Result<Json, String>, Option<Answer>) {
    if explain {
        return (notify_line(policy, record, view, true), None);
    }
    match policy.answer(record, view) {
        Ok(a) => (Ok(notify_out::explained(policy, record, a, None)), Some(a)),
        Err(e) => (Err(notify_out::error(policy, e)), None),
    }
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
