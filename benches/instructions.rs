//! Instruction counts, for figures that do not move with a noisy machine:
//! run one workload N times under `valgrind --tool=callgrind`, twice with
//! different N, and divide the difference by the difference in N (setup
//! cancels out). See BENCHMARKS.md for the commands.
//!
//! `instructions WORKLOAD N` with WORKLOAD one of `lakala_compiled`,
//! `lakala_hand`, `lakala_interpreter`, `categories_compiled` (a
//! generated policy of 200 rules on a 4,096-variant merchant category
//! field: the large-enum figure), or `sheet_compiled` (the generated
//! 1,000-rule rate sheet of the zen-engine comparison, records drawn as
//! there): the fee alone (`Table::total`); `lakala_components` and
//! `sheet_components`: the fee with its components (`Table::fee`, what
//! `tollgate eval` prints); `messages_decide`: one notification of
//! `merchant_messages.toll` decided against a `MemoryState`, one a
//! second, pruned as `tollgate eval` prunes. `lakala_explained`,
//! `sheet_explained` and `messages_explained` do the same with the
//! engine's trace kept (`eval --explain`), in loops of their own so that
//! the untraced loops stay as they were. `cap_tollgate` and
//! `cap_governor`: the single-cap throttle workload of `throttle.rs`
//! (`single_cap.rs`), one check per iteration, Tollgate's `MemoryState`
//! against governor's `HashMap` store (its default hasher; `cap_governor_xxh64`
//! with xxh64); with `_random`, the same keys visited in a random order.

// Setup failures end the run: a panic is the right report here.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)]

use rust_decimal::Decimal;
use single_cap::{Governor, Order, Tollgate};
use std::hint::black_box;
use tollgate_benches::lakala::lakala_by_hand;
use tollgate_oracle::generate::{self, Rng};
use tollgate_runtime::notify::{Decision, MemoryState, NotifyPolicy};
use tollgate_runtime::table::Table;
use tollgate_runtime::trace::{FeeTrace, NotifyTrace};
use tollgate_runtime::value::Value;

#[path = "single_cap.rs"]
mod single_cap;

/// What one iteration does, chosen once before the loop so that every
/// workload pays the same for the choice.
#[derive(Clone, Copy)]
enum Workload {
    Compiled,
    Components,
    Hand,
    Interpreter,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // `cargo bench` runs every bench target with `--bench`: do nothing then.
    if args.len() != 3 {
        return;
    }
    let n: usize = args[2].parse().expect("N");
    if args[1].starts_with("messages") {
        return messages(&args[1], n);
    }
    if args[1].starts_with("cap_") {
        return cap(&args[1], n);
    }
    if args[1].ends_with("_explained") {
        return explained(&args[1], n);
    }
    let workload = match args[1].as_str() {
        "lakala_compiled" | "categories_compiled" | "sheet_compiled" => Workload::Compiled,
        "lakala_components" | "sheet_components" => Workload::Components,
        "lakala_hand" => Workload::Hand,
        "lakala_interpreter" => Workload::Interpreter,
        other => panic!("unknown workload {other}"),
    };
    let text = if args[1].starts_with("categories") {
        generate::large_enum_policy(1, 4096, 200, 1)
    } else if args[1].starts_with("sheet") {
        generate::rate_sheet(42, 1_000)
    } else {
        tollgate_benches::read("policies/fees/lakala.toll").expect("policy file")
    };
    let (policy, table, records) = fees(&args[1], &text);
    let mut components = Vec::new();
    let mut sum = Decimal::ZERO;
    for i in 0..n {
        let rec = black_box(&records[i % records.len()]);
        let fee = match black_box(workload) {
            Workload::Compiled => table.total(rec).ok(),
            Workload::Components => table.fee(rec, &mut components).ok(),
            Workload::Hand => lakala_by_hand(rec),
            Workload::Interpreter => tollgate_oracle::interp::evaluate(&policy, rec)
                .ok()
                .map(|c| c[0].fee.total),
        };
        sum += fee.unwrap_or_default();
    }
    println!("{sum}");
}

/// The policy and table of `text`, and 1,024 records drawn for `workload`.
fn fees(workload: &str, text: &str) -> (tollgate::model::Policy, Table, Vec<Vec<Value>>) {
    let (policy, table) = tollgate::compile_source(text).expect("the policy compiles");
    let mut r = Rng::new(if workload.starts_with("sheet") { 9 } else { 1 });
    let records: Vec<Vec<Value>> = (0..1024)
        .map(|_| generate::record(&mut r, table.fields()))
        .collect();
    (policy, table, records)
}

/// `lakala_explained` and `sheet_explained`: the fee with its components
/// and the engine's trace.
fn explained(workload: &str, n: usize) {
    let text = if workload.starts_with("sheet") {
        generate::rate_sheet(42, 1_000)
    } else {
        tollgate_benches::read("policies/fees/lakala.toll").expect("policy file")
    };
    let (_, table, records) = fees(workload, &text);
    let (mut components, mut trace) = (Vec::new(), FeeTrace::default());
    let mut sum = Decimal::ZERO;
    for i in 0..n {
        let rec = black_box(&records[i % records.len()]);
        let fee = table.fee_traced(rec, &mut components, &mut trace).ok();
        sum += fee.unwrap_or_default();
    }
    println!("{sum}");
}

/// What one notification iteration does.
#[derive(Clone, Copy)]
enum Messages {
    Decide,
    Explained,
}

/// `messages_decide`: `n` notifications of `merchant_messages.toll`, one
/// a second from 2026-11-25T00:00:00+08:00 on, over 1,000 terminals.
fn messages(workload: &str, n: usize) {
    let text = tollgate_benches::read("policies/notifications/merchant_messages.toll")
        .expect("run from the repository root");
    let options = tollgate::pipeline::Options::default();
    let policy: NotifyPolicy = match tollgate::pipeline::compile(&text, &options) {
        Ok(out) => match out.compiled {
            tollgate_runtime::artifact::Compiled::Notifications(p) => p,
            tollgate_runtime::artifact::Compiled::Fees(_) => panic!("a fees policy"),
        },
        Err(e) => panic!("{e:?}"),
    };
    let kinds = [
        "txn_success",
        "promo",
        "network_status",
        "security",
        "txn_failure",
    ];
    let mut records: Vec<Vec<Value>> = (0..4096)
        .map(|i| {
            let json = serde_json::json!({
                "kind": kinds[i % kinds.len()],
                "merchant": format!("m{}", i % 100),
                "terminal": format!("t{}", (i * 7919) % 1000),
                "txn_id": format!("x{}", i % 2048),
                "at": "2026-11-25T00:00:00+08:00",
            });
            tollgate::record::from_json(&json.to_string(), policy.fields()).unwrap()
        })
        .collect();
    let work = match workload {
        "messages_decide" => Messages::Decide,
        "messages_explained" => Messages::Explained,
        other => panic!("unknown workload {other}"),
    };
    let clock = policy.clock() as usize;
    let (mut state, mut trace) = (MemoryState::new(), NotifyTrace::default());
    let (mut now, mut since, mut delivered) = (1_795_536_000_000i64, 0, 0u64);
    for i in 0..n {
        now += 1000;
        let rec = &mut records[i % 4096];
        rec[clock] = Value::Time {
            unix_ms: now,
            offset_secs: 8 * 3600,
        };
        since += 1;
        if since >= state.prune_interval() {
            state.prune(&policy, now);
            since = 0;
        }
        let decision = match black_box(work) {
            Messages::Decide => policy.decide(black_box(rec), &mut state),
            Messages::Explained => policy
                .answer_traced(black_box(rec), &mut state, &mut trace)
                .map(|a| a.decision),
        };
        if let Ok(Decision::Deliver { .. }) = decision {
            delivered += 1;
        }
    }
    println!("{delivered}");
}

/// `cap_tollgate`, `cap_governor` and `cap_governor_xxh64` (each with
/// `_random` for the random order): `n` checks of the single-cap
/// workload; prints how many were let through.
fn cap(workload: &str, n: usize) {
    let (engine, order) = match workload.strip_suffix("_random") {
        Some(engine) => (engine, Order::Random),
        None => (workload, Order::InOrder),
    };
    let quota = governor::Quota::per_hour(std::num::NonZeroU32::new(30).unwrap());
    let clock = governor::clock::FakeRelativeClock::default();
    let keys = single_cap::keys();
    let passed = match engine {
        "cap_tollgate" => {
            let mut t = Tollgate::new(order);
            (0..n).filter(|_| t.check()).count()
        }
        "cap_governor" => {
            let limiter = governor::RateLimiter::hashmap_with_clock(quota, clock.clone());
            let mut g = Governor::new(&limiter, &clock, &keys, order);
            (0..n).filter(|_| g.check()).count()
        }
        "cap_governor_xxh64" => {
            let limiter = governor::RateLimiter::hashmap_with_clock_and_hasher(
                quota,
                clock.clone(),
                xxhash_rust::xxh64::Xxh64Builder::new(0),
            );
            let mut g = Governor::new(&limiter, &clock, &keys, order);
            (0..n).filter(|_| g.check()).count()
        }
        other => panic!("unknown workload {other}"),
    };
    println!("{passed}");
}
