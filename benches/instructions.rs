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
//! there).

// Setup failures end the run: a panic is the right report here.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)]

#[path = "support/lakala.rs"]
mod lakala;

use lakala::lakala_by_hand;
use rust_decimal::Decimal;
use std::hint::black_box;
use tollgate::generate::{self, Rng};
use tollgate_runtime::value::Value;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // `cargo bench` runs every bench target with `--bench`: do nothing then.
    if args.len() != 3 {
        return;
    }
    let n: usize = args[2].parse().expect("N");
    let text = if args[1].starts_with("categories") {
        generate::large_enum_policy(1, 4096, 200, 1)
    } else if args[1].starts_with("sheet") {
        generate::rate_sheet(42, 1_000)
    } else {
        std::fs::read_to_string("policies/fees/lakala.toll").expect("run from the repository root")
    };
    let (policy, table) = tollgate::compile_source(&text).expect("lakala compiles");
    let mut r = Rng::new(if args[1].starts_with("sheet") { 9 } else { 1 });
    let records: Vec<Vec<Value>> = (0..1024)
        .map(|_| generate::record(&mut r, table.fields()))
        .collect();
    let mut sum = Decimal::ZERO;
    for i in 0..n {
        let rec = black_box(&records[i % records.len()]);
        let fee = match args[1].as_str() {
            "lakala_compiled" | "categories_compiled" | "sheet_compiled" => table.total(rec).ok(),
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
