//! Notification decisions per second, single thread, side by side:
//! `merchant_messages.toll` over 100,000 distinct terminals, and one cap rule
//! (30 per terminal per rolling hour) against governor's keyed limiter
//! (GCRA) doing the same job, in its fastest fair configurations: keys
//! that clone for free (`&'static str`), each of its two stores (dashmap
//! and a locked hash map), its default hasher and xxh64. Tollgate's cap is
//! exact over the rolling window; governor's GCRA approximates it by
//! spacing.
//!
//! Run: `cargo bench --bench throttle`.

// Benchmark setup failures end the run.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)]

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use governor::clock::FakeRelativeClock;
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::keyed::{KeyedStateStore, ShrinkableKeyedStateStore};
use governor::{Quota, RateLimiter};
use std::hint::black_box;
use std::num::NonZeroU32;
use std::time::Duration;
use tollgate_runtime::bounded::BoundedState;
use tollgate_runtime::notify::{MemoryState, NotifyPolicy};
use tollgate_runtime::value::Value;
use xxhash_rust::xxh64::Xxh64Builder;

const TERMINALS: usize = 100_000;

fn policy(text: &str) -> NotifyPolicy {
    match tollgate::pipeline::compile(text, &tollgate::pipeline::Options::default()) {
        Ok(out) => match out.compiled {
            tollgate_runtime::artifact::Compiled::Notifications(p) => p,
            tollgate_runtime::artifact::Compiled::Fees(_) => panic!("a fees policy"),
        },
        Err(e) => panic!("{e:?}"),
    }
}

/// Records for `TERMINALS` terminals, one second apart, cycling kinds.
fn records(p: &NotifyPolicy, kinds: &[&str], n: usize) -> Vec<Vec<Value>> {
    (0..n)
        .map(|i| {
            let at = chrono::DateTime::from_timestamp(1_795_536_000 + i as i64, 0)
                .unwrap()
                .to_rfc3339();
            let json = serde_json::json!({
                "kind": kinds[i % kinds.len()],
                "merchant": format!("m{}", i % 1000),
                "terminal": format!("t{}", (i * 7919) % TERMINALS),
                "txn_id": format!("x{i}"),
                "at": at,
            });
            tollgate::record::from_json(&json.to_string(), p.fields()).unwrap()
        })
        .collect()
}

/// Sets the record's clock field to `now_ms`: the clock moves forward on
/// every check, as it does for governor's.
fn stamp(rec: &mut [Value], clock: u32, now_ms: i64) -> &[Value] {
    rec[clock as usize] = Value::Time {
        unix_ms: now_ms,
        offset_secs: 0,
    };
    rec
}

fn merchant_messages(c: &mut Criterion) {
    let text = tollgate_benches::read("policies/notifications/merchant_messages.toll").unwrap();
    let p = policy(&text);
    let mut recs = records(
        &p,
        &[
            "txn_success",
            "promo",
            "network_status",
            "security",
            "txn_failure",
        ],
        200_000,
    );
    let mut g = c.benchmark_group("merchant_messages_100k_terminals");
    g.throughput(Throughput::Elements(1));
    // One message a second, so the run walks through every hour of the day
    // (quiet windows included); pruned as `tollgate eval` prunes.
    let mut state = MemoryState::new();
    let (mut i, mut now, mut since) = (0, 1_795_536_000_000i64, 0);
    g.bench_function("decide_memory_state", |b| {
        b.iter(|| {
            i = (i + 1) % recs.len();
            now += 1000;
            let rec = stamp(&mut recs[i], p.clock(), now);
            since += 1;
            if since >= state.prune_interval() {
                state.prune(&p, now);
                since = 0;
            }
            black_box(p.decide(black_box(rec), &mut state).ok())
        })
    });
    g.finish();
}

/// How far the clock moves per check in the single-cap comparison: 100,000
/// terminals come round every 1,000 s, so every key stays live in the
/// one-hour window and sees about 3.6 checks per hour.
const STEP_MS: i64 = 10;

fn single_cap(c: &mut Criterion) {
    let p = policy(concat!(
        "policy cap version 1\n",
        "kind notifications\n",
        "field kind: enum { msg }\n",
        "field merchant: string\n",
        "field terminal: string\n",
        "field txn_id: string default \"\"\n",
        "field at: timestamp\n",
        "rule per_terminal when kind == msg => limit 30 per 1h by terminal\n",
    ));
    let mut recs = records(&p, &["msg"], TERMINALS);
    // Governor's keys clone for free, as Tollgate's hashed keys do: each
    // terminal's name is leaked once, and a check copies a `&'static str`.
    let keys: Vec<&'static str> = (0..TERMINALS)
        .map(|i| &*Box::leak(format!("t{}", (i * 7919) % TERMINALS).into_boxed_str()))
        .collect();
    let mut g = c.benchmark_group("single_cap_100k_terminals");
    g.throughput(Throughput::Elements(1));
    // Every side: the clock moves STEP_MS per check, keys cycle over the
    // terminals, and stale state is dropped as a server does it (tollgate:
    // `prune` after four times as many checks as the store has entries;
    // governor: `retain_recent` at the same cadence).
    let mut memory = MemoryState::new();
    let (mut i, mut now, mut since) = (0, 1_795_536_000_000i64, 0);
    g.bench_function("tollgate_exact_memory_state", |b| {
        b.iter(|| {
            i = (i + 1) % recs.len();
            now += STEP_MS;
            let rec = stamp(&mut recs[i], p.clock(), now);
            since += 1;
            if since >= memory.prune_interval() {
                memory.prune(&p, now);
                since = 0;
            }
            black_box(p.decide(black_box(rec), &mut memory).ok())
        })
    });
    let mut bounded = BoundedState::new(&p, 64).unwrap();
    g.bench_function("tollgate_exact_bounded_64_keys", |b| {
        b.iter(|| {
            i = (i + 1) % recs.len();
            now += STEP_MS;
            let rec = stamp(&mut recs[i], p.clock(), now);
            black_box(p.decide(black_box(rec), &mut bounded).ok())
        })
    });
    let quota = Quota::per_hour(NonZeroU32::new(30).unwrap());
    // Governor's two keyed stores, with its default hasher (SipHash) and
    // with xxh64, the hash Tollgate keys its terminals by.
    let clock = FakeRelativeClock::default();
    let dashmap = RateLimiter::dashmap_with_clock(quota, clock.clone());
    governor_bench(&mut g, "governor_gcra_dashmap", &dashmap, &clock, &keys);
    let clock = FakeRelativeClock::default();
    let hashmap = RateLimiter::hashmap_with_clock(quota, clock.clone());
    governor_bench(&mut g, "governor_gcra_hashmap", &hashmap, &clock, &keys);
    let clock = FakeRelativeClock::default();
    let dashmap =
        RateLimiter::dashmap_with_clock_and_hasher(quota, clock.clone(), Xxh64Builder::new(0));
    governor_bench(
        &mut g,
        "governor_gcra_dashmap_xxh64",
        &dashmap,
        &clock,
        &keys,
    );
    let clock = FakeRelativeClock::default();
    let hashmap =
        RateLimiter::hashmap_with_clock_and_hasher(quota, clock.clone(), Xxh64Builder::new(0));
    governor_bench(
        &mut g,
        "governor_gcra_hashmap_xxh64",
        &hashmap,
        &clock,
        &keys,
    );
    g.finish();
}

/// One of governor's keyed limiters on the single-cap workload: the clock
/// advanced STEP_MS per check, keys cycling over the terminals, stale keys
/// dropped at Tollgate's pruning cadence.
fn governor_bench<S>(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    limiter: &RateLimiter<&'static str, S, FakeRelativeClock, NoOpMiddleware<Nanos>>,
    clock: &FakeRelativeClock,
    keys: &[&'static str],
) where
    S: KeyedStateStore<&'static str> + ShrinkableKeyedStateStore<&'static str>,
{
    // `len` locks the store, so the interval is read only after a prune.
    let (mut i, mut since, mut interval) = (0, 0, 4096);
    g.bench_function(name, |b| {
        b.iter(|| {
            i = (i + 1) % keys.len();
            clock.advance(Duration::from_millis(STEP_MS as u64));
            since += 1;
            if since >= interval {
                limiter.retain_recent();
                interval = limiter.len().saturating_mul(4).max(4096);
                since = 0;
            }
            black_box(limiter.check_key(black_box(&keys[i])).is_ok())
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(3)).sample_size(30);
    targets = merchant_messages, single_cap
}
criterion_main!(benches);
