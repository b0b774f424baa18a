//! The single-cap throttle workload, shared by `throttle.rs` (criterion,
//! time) and `instructions.rs` (callgrind, instructions): one cap rule (30
//! per terminal per rolling hour) over 100,000 terminals, the clock moving
//! `STEP_MS` per check, for Tollgate's `MemoryState` and for governor's
//! keyed GCRA limiter doing the same job with keys that clone for free.
//! Both sides visit the terminals in the same order, each side's stale
//! state dropped at the same cadence (Tollgate's `prune` after four times
//! as many checks as the store holds entries, what `tollgate eval` does;
//! governor's `retain_recent` likewise).

use governor::clock::FakeRelativeClock;
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::keyed::{KeyedStateStore, ShrinkableKeyedStateStore};
use governor::RateLimiter;
use std::time::Duration;
use tollgate_runtime::notify::{MemoryState, NotifyPolicy};
use tollgate_runtime::value::Value;

/// How many distinct terminals the checks cycle over.
pub const TERMINALS: usize = 100_000;

/// How far the clock moves per check: 100,000 terminals come round every
/// 1,000 s, so every key stays live in the one-hour window and sees about
/// 3.6 checks per hour.
pub const STEP_MS: i64 = 10;

/// The first record's instant (2026-11-25T00:00:00Z).
const START_MS: i64 = 1_795_536_000_000;

/// The compiled notifications policy of `text`.
pub fn policy(text: &str) -> NotifyPolicy {
    match tollgate::pipeline::compile(text, &tollgate::pipeline::Options::default()) {
        Ok(out) => match out.compiled {
            tollgate_runtime::artifact::Compiled::Notifications(p) => p,
            tollgate_runtime::artifact::Compiled::Fees(_) => panic!("a fees policy"),
        },
        Err(e) => panic!("{e:?}"),
    }
}

/// The one-cap policy both engines enforce.
pub fn cap_policy() -> NotifyPolicy {
    policy(concat!(
        "policy cap version 1\n",
        "kind notifications\n",
        "field kind: enum { msg }\n",
        "field merchant: string\n",
        "field terminal: string\n",
        "field txn_id: string default \"\"\n",
        "field at: timestamp\n",
        "rule per_terminal when kind == msg => limit 30 per 1h by terminal\n",
    ))
}

/// The name of the `i`th terminal in visiting order: a stride through the
/// terminals, so that neighbouring checks are of unrelated terminals.
pub fn terminal(i: usize) -> String {
    format!("t{}", (i * 7919) % TERMINALS)
}

/// `n` records of `p`, one second apart, cycling `kinds`; record `i` is of
/// terminal `terminal(i % TERMINALS)`.
pub fn records(p: &NotifyPolicy, kinds: &[&str], n: usize) -> Vec<Vec<Value>> {
    (0..n)
        .map(|i| {
            let at = chrono::DateTime::from_timestamp(START_MS / 1000 + i as i64, 0)
                .unwrap()
                .to_rfc3339();
            let json = serde_json::json!({
                "kind": kinds[i % kinds.len()],
                "merchant": format!("m{}", i % 1000),
                "terminal": terminal(i % TERMINALS),
                "txn_id": format!("x{i}"),
                "at": at,
            });
            tollgate::record::from_json(&json.to_string(), p.fields()).unwrap()
        })
        .collect()
}

/// Sets the record's clock field to `now_ms`: the clock moves forward on
/// every check, as it does for governor's.
pub fn stamp(rec: &mut [Value], clock: u32, now_ms: i64) -> &[Value] {
    rec[clock as usize] = Value::Time {
        unix_ms: now_ms,
        offset_secs: 0,
    };
    rec
}

/// The order in which checks visit the terminals (indexes into the records
/// and the keys), one cycle of which is repeated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Record 0, 1, 2...: each record, and governor's key, is next in
    /// memory to the previous one (the prefetcher streams them).
    InOrder,
    /// A fixed random permutation of the terminals: every terminal once per
    /// cycle, as often as in order, but nothing next in memory.
    Random,
}

impl Order {
    /// One cycle of visits over `n` terminals.
    pub fn visits(self, n: usize) -> Vec<u32> {
        let mut v: Vec<u32> = (0..n as u32).collect();
        if self == Order::Random {
            // Fisher-Yates with a fixed xorshift: the same order every run.
            let mut x = 0x9E37_79B9_7F4A_7C15u64;
            for i in (1..v.len()).rev() {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                v.swap(i, (x % (i as u64 + 1)) as usize);
            }
        }
        v
    }
}

/// Tollgate's side: the policy, one record per terminal, and the store.
pub struct Tollgate {
    policy: NotifyPolicy,
    records: Vec<Vec<Value>>,
    visits: Vec<u32>,
    state: MemoryState,
    at: usize,
    now: i64,
    since: usize,
}

impl Tollgate {
    /// An empty store and the terminals' records, visited in `order`.
    pub fn new(order: Order) -> Tollgate {
        let policy = cap_policy();
        let records = records(&policy, &["msg"], TERMINALS);
        Tollgate {
            policy,
            records,
            visits: order.visits(TERMINALS),
            state: MemoryState::new(),
            at: 0,
            now: START_MS,
            since: 0,
        }
    }

    /// One check of the next terminal, the clock `STEP_MS` later: whether
    /// the message is delivered.
    pub fn check(&mut self) -> bool {
        self.at = (self.at + 1) % self.visits.len();
        self.now += STEP_MS;
        let rec = &mut self.records[self.visits[self.at] as usize];
        let rec = stamp(rec, self.policy.clock(), self.now);
        self.since += 1;
        if self.since >= self.state.prune_interval() {
            self.state.prune(&self.policy, self.now);
            self.since = 0;
        }
        matches!(
            self.policy
                .decide(std::hint::black_box(rec), &mut self.state),
            Ok(tollgate_runtime::notify::Decision::Deliver { .. })
        )
    }
}

/// A governor limiter on the workload's keys and fake clock.
pub type Limiter<S> = RateLimiter<&'static str, S, FakeRelativeClock, NoOpMiddleware<Nanos>>;

/// The terminals' names as governor's keys, leaked once each so that a
/// check copies a `&'static str` (as Tollgate's hashed keys never copy a
/// string).
pub fn keys() -> Vec<&'static str> {
    (0..TERMINALS)
        .map(|i| &*Box::leak(terminal(i).into_boxed_str()))
        .collect()
}

/// Governor's side: a limiter, its clock, the keys and the visiting order.
pub struct Governor<'a, S: KeyedStateStore<&'static str>> {
    limiter: &'a Limiter<S>,
    clock: &'a FakeRelativeClock,
    keys: &'a [&'static str],
    visits: Vec<u32>,
    at: usize,
    since: usize,
    interval: usize,
}

impl<'a, S> Governor<'a, S>
where
    S: KeyedStateStore<&'static str> + ShrinkableKeyedStateStore<&'static str>,
{
    /// Checks of `limiter` (on `clock`) over `keys`, visited in `order`.
    pub fn new(
        limiter: &'a Limiter<S>,
        clock: &'a FakeRelativeClock,
        keys: &'a [&'static str],
        order: Order,
    ) -> Governor<'a, S> {
        Governor {
            limiter,
            clock,
            keys,
            visits: order.visits(keys.len()),
            at: 0,
            since: 0,
            // `len` locks the store, so the interval is read only after a
            // prune.
            interval: 4096,
        }
    }

    /// One check of the next key, the clock `STEP_MS` later: whether it
    /// conforms.
    pub fn check(&mut self) -> bool {
        self.at = (self.at + 1) % self.visits.len();
        self.clock.advance(Duration::from_millis(STEP_MS as u64));
        self.since += 1;
        if self.since >= self.interval {
            self.limiter.retain_recent();
            self.interval = self.limiter.len().saturating_mul(4).max(4096);
            self.since = 0;
        }
        let key = &self.keys[self.visits[self.at] as usize];
        self.limiter.check_key(std::hint::black_box(key)).is_ok()
    }
}
