//! Notification decisions per second, single thread, side by side:
//! `merchant_messages.toll` over 100,000 distinct terminals, and one cap rule
//! (30 per terminal per rolling hour) against governor's keyed limiter
//! (GCRA) doing the same job, in its fastest fair configurations: keys
//! that clone for free (`&'static str`), each of its two stores (dashmap
//! and a locked hash map), its default hasher and xxh64. Tollgate's cap is
//! exact over the rolling window; governor's GCRA approximates it by
//! spacing. The single cap is run with the terminals visited in order,
//! then in a random order (`random_order/`), the same keys for both engines.
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
use governor::state::keyed::{KeyedStateStore, ShrinkableKeyedStateStore};
use governor::{Quota, RateLimiter};
use single_cap::{records, stamp, Governor, Limiter, Order, Tollgate, STEP_MS, TERMINALS};
use std::hint::black_box;
use std::num::NonZeroU32;
use std::time::Duration;
use tollgate_runtime::bounded::BoundedState;
use tollgate_runtime::notify::MemoryState;
use xxhash_rust::xxh64::Xxh64Builder;

#[path = "single_cap.rs"]
mod single_cap;

fn merchant_messages(c: &mut Criterion) {
    let text = tollgate_benches::read("policies/notifications/merchant_messages.toll").unwrap();
    let p = single_cap::policy(&text);
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

fn single_cap(c: &mut Criterion) {
    let keys = single_cap::keys();
    let mut g = c.benchmark_group("single_cap_100k_terminals");
    g.throughput(Throughput::Elements(1));
    // Every side: the clock moves STEP_MS per check, keys cycle over the
    // terminals, and stale state is dropped as a server does it (see
    // `single_cap.rs`). In order, then in a random order of the same keys.
    let mut tollgate = Tollgate::new(Order::InOrder);
    g.bench_function("tollgate_exact_memory_state", |b| {
        b.iter(|| black_box(tollgate.check()))
    });
    let p = single_cap::cap_policy();
    let mut recs = records(&p, &["msg"], TERMINALS);
    let mut bounded = BoundedState::new(&p, 64).unwrap();
    let (mut i, mut now) = (0, 1_795_536_000_000i64);
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
    governor_bench(
        &mut g,
        "governor_gcra_dashmap",
        &dashmap,
        &clock,
        &keys,
        Order::InOrder,
    );
    let clock = FakeRelativeClock::default();
    let hashmap = RateLimiter::hashmap_with_clock(quota, clock.clone());
    governor_bench(
        &mut g,
        "governor_gcra_hashmap",
        &hashmap,
        &clock,
        &keys,
        Order::InOrder,
    );
    let clock = FakeRelativeClock::default();
    let dashmap =
        RateLimiter::dashmap_with_clock_and_hasher(quota, clock.clone(), Xxh64Builder::new(0));
    governor_bench(
        &mut g,
        "governor_gcra_dashmap_xxh64",
        &dashmap,
        &clock,
        &keys,
        Order::InOrder,
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
        Order::InOrder,
    );
    // The same keys in a random order: nothing of a check is next in
    // memory to the previous check's.
    let mut tollgate = Tollgate::new(Order::Random);
    g.bench_function("random_order/tollgate_exact_memory_state", |b| {
        b.iter(|| black_box(tollgate.check()))
    });
    let clock = FakeRelativeClock::default();
    let dashmap = RateLimiter::dashmap_with_clock(quota, clock.clone());
    governor_bench(
        &mut g,
        "random_order/governor_gcra_dashmap",
        &dashmap,
        &clock,
        &keys,
        Order::Random,
    );
    let clock = FakeRelativeClock::default();
    let hashmap = RateLimiter::hashmap_with_clock(quota, clock.clone());
    governor_bench(
        &mut g,
        "random_order/governor_gcra_hashmap",
        &hashmap,
        &clock,
        &keys,
        Order::Random,
    );
    g.finish();
}

/// One of governor's keyed limiters on the single-cap workload, its keys
/// visited in `order`.
fn governor_bench<S>(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    limiter: &Limiter<S>,
    clock: &FakeRelativeClock,
    keys: &[&'static str],
    order: Order,
) where
    S: KeyedStateStore<&'static str> + ShrinkableKeyedStateStore<&'static str>,
{
    let mut governor = Governor::new(limiter, clock, keys, order);
    g.bench_function(name, |b| b.iter(|| black_box(governor.check())));
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(3)).sample_size(30);
    targets = merchant_messages, single_cap
}
criterion_main!(benches);
