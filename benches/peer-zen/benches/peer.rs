//! Tollgate's compiled evaluator against GoRules' zen-engine (compiled with
//! `Decision::compile()`, so it uses its bytecode and table index), on the
//! same decision tables and the same records: `lakala.toll` and a generated
//! 1,000-rule, six-column rate sheet.
//!
//! Run from this folder: `cargo bench --bench peer` (builds zen-engine and
//! its JavaScript engine: over ten minutes the first time).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use std::time::Duration;
use tollgate_oracle::generate::{self, Rng, Shape};
use tollgate_peer_zen::{jdm, record_json};
use tollgate_runtime::table::Table;
use tollgate_runtime::trace::FeeTrace;
use zen_engine::model::DecisionContent;
use zen_engine::DecisionEngine;

const RECORDS: usize = 1024;

fn workload(c: &mut Criterion, name: &str, table: &Table) {
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let content: DecisionContent = serde_json::from_value(jdm(table, 0)).unwrap();
    let engine = DecisionEngine::default();
    let mut decision = engine.create_decision(content.into()).unwrap();
    decision.compile();
    let mut r = Rng::new(9);
    let records: Vec<_> = (0..RECORDS).map(|_| generate::record(&mut r, table.fields())).collect();
    let contexts: Vec<_> = records.iter().map(|rec| record_json(table, rec)).collect();
    // Both engines must pick the same rule for every record before timing.
    let mut agreed = 0;
    for (rec, ctx) in records.iter().zip(&contexts) {
        // The rule Tollgate decided, as its trace records it (whether or
        // not the fee then computes).
        let (mut out, mut trace) = (Vec::new(), FeeTrace::default());
        let _ = table.fee_traced(rec, &mut out, &mut trace);
        let ours = trace.schedules().first().and_then(|s| s.rule).map(|r| table.schedules()[0].rules()[r.get() as usize].name.clone());
        let theirs = rt.block_on(decision.evaluate(ctx.clone().into())).unwrap();
        let theirs = serde_json::to_value(&theirs.result).unwrap();
        let theirs = theirs.get("rule").and_then(|v| v.as_str()).map(String::from);
        assert_eq!(ours, theirs, "engines disagree on {ctx}");
        agreed += 1;
    }
    eprintln!("{name}: both engines agree on {agreed} records");
    let zen_inputs: Vec<_> = contexts.iter().map(|c| zen_engine::Variable::from(c.clone())).collect();
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Elements(1));
    let mut i = 0;
    g.bench_function("tollgate_fee", |b| {
        b.iter(|| {
            i = (i + 1) % RECORDS;
            black_box(table.total(black_box(&records[i])).ok())
        })
    });
    g.bench_function("zen_engine_rule", |b| {
        b.iter(|| {
            i = (i + 1) % RECORDS;
            black_box(rt.block_on(decision.evaluate(zen_inputs[i].clone())).ok())
        })
    });
    g.finish();
}

fn peer(c: &mut Criterion) {
    let lakala = std::fs::read_to_string("../../policies/fees/lakala.toll").unwrap();
    let (_, lakala) = tollgate::compile_source(&lakala).unwrap();
    workload(c, "peer_lakala", &lakala);
    let sheet = generate::policy(42, Shape { rules: 1_000, schedules: 1, unique: false, specific: true });
    let (_, sheet) = tollgate::compile_source(&sheet).unwrap();
    workload(c, "peer_generated_1000_rules", &sheet);
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(3)).sample_size(20);
    targets = peer
}
criterion_main!(benches);
