//! Instruction counts, for figures that do not move with a noisy machine:
//! run one workload N times under `valgrind --tool=callgrind`, twice with
//! different N, and divide the difference by the difference in N (setup
//! cancels out). See BENCHMARKS.md for the commands.
//!
//! `instructions WORKLOAD N` with WORKLOAD one of `lakala_compiled`,
//! `lakala_hand`, `lakala_interpreter`.

// Setup failures end the run: a panic is the right report here.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)]

use rust_decimal::{Decimal, RoundingStrategy};
use std::hint::black_box;
use tollgate::generate::{self, Rng};
use tollgate_runtime::value::Value;

/// `lakala.toll` by hand (the same function as in `benches/engine.rs`).
fn lakala_by_hand(record: &[Value]) -> Option<Decimal> {
    let (Some(Value::Enum(channel)), Some(Value::Num(amount))) = (record.first(), record.get(1))
    else {
        return None;
    };
    let (rate, cap) = match channel {
        0 | 4 | 5 => (Decimal::new(6, 3), None),
        1 => (Decimal::new(5, 3), Some(Decimal::new(2500, 2))),
        2 | 3 => (Decimal::new(38, 4), None),
        _ => return None,
    };
    let fee = amount
        .checked_mul(rate)?
        .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    Some(cap.map_or(fee, |c| fee.min(c)))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // `cargo bench` runs every bench target with `--bench`: do nothing then.
    if args.len() != 3 {
        return;
    }
    let n: usize = args[2].parse().expect("N");
    let text =
        std::fs::read_to_string("policies/fees/lakala.toll").expect("run from the repository root");
    let (policy, table) = tollgate::compile_source(&text).expect("lakala compiles");
    let mut r = Rng::new(1);
    let records: Vec<Vec<Value>> = (0..1024)
        .map(|_| generate::record(&mut r, &table.fields))
        .collect();
    let mut sum = Decimal::ZERO;
    for i in 0..n {
        let rec = black_box(&records[i % records.len()]);
        let fee = match args[1].as_str() {
            "lakala_compiled" => table.total(rec).ok(),
            "lakala_hand" => lakala_by_hand(rec),
            "lakala_interpreter" => tollgate::interp::evaluate(&policy, rec)
                .ok()
                .map(|c| c[0].fee.total),
            other => panic!("unknown workload {other}"),
        };
        sum += fee.unwrap_or_default();
    }
    println!("{sum}");
}
