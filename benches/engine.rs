//! Decisions per second, single thread, side by side in one run:
//! the compiled evaluator against the reference interpreter and against a
//! hand-written `match`, on `lakala.toll` and on a generated 1,000-rule
//! policy; the index against a row scan by table size (the choice recorded in
//! `docs/evaluator.md`); and `tollgate eval`'s per-record work end to end.
//!
//! Run: `cargo bench --bench engine`. Figures go to BENCHMARKS.md.

// A benchmark fails by panicking on bad setup; indexing is bounded by RECORDS.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)]

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rust_decimal::Decimal;
use std::hint::black_box;
use std::time::Duration;
use tollgate::model::Policy;
use tollgate_benches::lakala::lakala_by_hand;
use tollgate_oracle::generate::{self, Rng, Shape};
use tollgate_runtime::table::{Lookup, Table};
use tollgate_runtime::value::Value;

const RECORDS: usize = 1024;

fn load(path: &str) -> (Policy, Table) {
    let text = tollgate_benches::read(path).expect("policy file");
    tollgate::compile_source(&text).expect("policy compiles")
}

fn records(table: &Table, seed: u64) -> Vec<Vec<Value>> {
    let mut r = Rng::new(seed);
    (0..RECORDS)
        .map(|_| generate::record(&mut r, table.fields()))
        .collect()
}

fn interpreted(policy: &Policy, record: &[Value]) -> Option<Decimal> {
    let components = tollgate_oracle::interp::evaluate(policy, record).ok()?;
    Some(components.iter().map(|c| c.fee.total).sum())
}

/// Benchmarks `f` on one record per iteration, cycling through `records`.
fn per_record<T>(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    id: impl Into<String>,
    records: &[Vec<Value>],
    f: impl Fn(&[Value]) -> T,
) {
    let mut i = 0;
    g.bench_function(id.into(), |b| {
        b.iter(|| {
            i = (i + 1) % records.len();
            black_box(f(black_box(&records[i])))
        })
    });
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30)
}

fn lakala(c: &mut Criterion) {
    let (policy, table) = load("policies/fees/lakala.toll");
    let recs = records(&table, 1);
    for r in &recs {
        assert_eq!(
            table.total(r).ok(),
            lakala_by_hand(r),
            "the hand-written match must agree"
        );
    }
    let mut g = c.benchmark_group("lakala");
    g.throughput(Throughput::Elements(1));
    per_record(&mut g, "compiled", &recs, |r| table.total(r));
    per_record(&mut g, "hand_written_match", &recs, lakala_by_hand);
    per_record(&mut g, "interpreter", &recs, |r| interpreted(&policy, r));
    g.finish();
}

fn generated(c: &mut Criterion) {
    generated_group(c, "generated_1000_rules", true);
    generated_group(c, "generated_1000_broad_rules", false);
}

/// A generated 1,000-rule, six-column policy: `specific` rules form a rate
/// sheet (a record matches few rules, typically deep in the table); broad
/// rules overlap heavily (a record matches one of the first few).
fn generated_group(c: &mut Criterion, name: &str, specific: bool) {
    let text = generate::policy(
        42,
        Shape {
            rules: 1_000,
            schedules: 1,
            unique: false,
            specific,
        },
    );
    let (policy, table) = tollgate::compile_source(&text).expect("generated policy compiles");
    let mut scanned = table.clone();
    scanned.set_lookup(Some(Lookup::Scan));
    let recs = records(&table, 2);
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Elements(1));
    per_record(&mut g, "compiled", &recs, |r| table.total(r));
    per_record(&mut g, "compiled_scan", &recs, |r| scanned.total(r));
    per_record(&mut g, "interpreter", &recs, |r| interpreted(&policy, r));
    g.finish();
}

fn index_or_scan(c: &mut Criterion) {
    let mut g = c.benchmark_group("index_vs_scan");
    g.throughput(Throughput::Elements(1));
    for rules in [4usize, 8, 16, 32, 64, 256] {
        let text = generate::policy(
            7,
            Shape {
                rules,
                schedules: 1,
                unique: false,
                specific: false,
            },
        );
        let (_, table) = tollgate::compile_source(&text).expect("generated policy compiles");
        let recs = records(&table, 3);
        for (name, lookup) in [
            ("scan", Lookup::Scan),
            ("bitsets", Lookup::Bitsets),
            ("grid", Lookup::Grid),
        ] {
            let mut t = table.clone();
            t.set_lookup(Some(lookup));
            if t.schedules().iter().any(|s| s.lookup() != lookup) {
                continue; // no grid for this table
            }
            per_record(&mut g, format!("{name}/{rules}"), &recs, |r| t.total(r));
        }
    }
    g.finish();
}

fn end_to_end(c: &mut Criterion) {
    let (_, table) = load("policies/fees/acquirer_2026.toll");
    let lines: Vec<String> = tollgate_benches::read("examples/transactions.jsonl")
        .expect("sample data")
        .lines()
        .map(String::from)
        .collect();
    let mut g = c.benchmark_group("eval_end_to_end");
    g.throughput(Throughput::Elements(1));
    let mut i = 0;
    let mut components = Vec::new();
    g.bench_function("parse_decide_print", |b| {
        b.iter(|| {
            i = (i + 1) % lines.len();
            let record = tollgate::record::from_json(&lines[i], table.fields()).expect("sample record");
            let total = table.fee(&record, &mut components).expect("sample fee");
            let out = serde_json::json!({
                "fee": total.to_string(),
                "components": components.iter().map(|c| c.fee.total.to_string()).collect::<Vec<_>>(),
            });
            black_box(out.to_string())
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = config();
    targets = lakala, generated, index_or_scan, end_to_end
}
criterion_main!(benches);
