//! Linting time as schedules grow: generated six-column rate sheets (two
//! enums, money, an integer, a bool, a string) of 100, 1,000 and 10,000
//! narrow rules, linted end to end (parse, check, compile, every lint).
//!
//! Run: `cargo bench --bench lint`.

// Benchmark setup failures end the run.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use std::hint::black_box;
use std::time::{Duration, Instant};
use tollgate_oracle::generate::rate_sheet;

fn lint(c: &mut Criterion) {
    let mut g = c.benchmark_group("lint_generated_schedule");
    g.sample_size(10);
    for rules in [100, 1_000, 10_000] {
        let text = rate_sheet(7, rules);
        // One timed run first, with what it found, for the record.
        let start = Instant::now();
        let found = tollgate::lint::lint_source(&text, &[]);
        println!(
            "{rules} rules: {} findings, first run {:.3} s",
            found.len(),
            start.elapsed().as_secs_f64()
        );
        g.bench_with_input(BenchmarkId::from_parameter(rules), &text, |b, text| {
            b.iter(|| black_box(tollgate::lint::lint_source(black_box(text), &[])).len())
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_millis(200)).measurement_time(Duration::from_secs(5));
    targets = lint
}
criterion_main!(benches);
