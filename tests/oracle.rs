//! The law of the engine: the compiled evaluator (with its index) and the
//! reference interpreter agree on every field of every result, on random
//! records, for every fee policy in `policies/` and for randomly generated
//! policies (many rules, overlapping ranges, every fee form). The artifact
//! round trip changes nothing either.

// A test fails by panicking; helpers here may unwrap and index freely.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;
use proptest::prelude::*;
use std::path::Path;
use tollgate::model::{Body, Policy};
use tollgate_oracle::generate::{self, Rng, Shape};
use tollgate_runtime::artifact::{self, Compiled};
use tollgate_runtime::eval::{Component, EvalError};
use tollgate_runtime::table::{Lookup, Table};
use tollgate_runtime::trace::FeeTrace;

fn compiled(
    table: &Table,
    record: &[tollgate_runtime::value::Value],
) -> Result<Vec<Component>, EvalError> {
    let mut out = Vec::new();
    let answer = table.fee(record, &mut out);
    traced_agrees(table, record, &answer, &out);
    let total = answer?;
    let total_only = table.total(record).unwrap();
    assert_eq!(total, total_only, "fee() and total() disagree");
    assert_eq!(total, out.iter().map(|c| c.fee.total).sum());
    Ok(out)
}

/// Pricing with a trace gives the same answer, and the trace explains
/// each component: its rule and computation, and, as the rules tried, every
/// row of every rule before it, each with a cell that refuses the record.
fn traced_agrees(
    table: &Table,
    record: &[tollgate_runtime::value::Value],
    answer: &Result<rust_decimal::Decimal, EvalError>,
    components: &[Component],
) {
    let (mut traced, mut trace) = (Vec::new(), FeeTrace::default());
    assert_eq!(
        &table.fee_traced(record, &mut traced, &mut trace),
        answer,
        "tracing changed the fee: {record:?}"
    );
    if answer.is_err() {
        return;
    }
    assert_eq!(traced, components);
    assert_eq!(trace.schedules().len(), components.len());
    for (c, t) in components.iter().zip(trace.schedules()) {
        assert_eq!(
            (t.schedule, t.rule, t.fee.as_ref()),
            (c.schedule, Some(c.rule), Some(&c.fee))
        );
        let s = &table.schedules()[c.schedule.get() as usize];
        let before: Vec<u32> = (0..s.rows().len() as u32)
            .filter(|&i| s.rows()[i as usize].rule < c.rule)
            .collect();
        let tried: Vec<u32> = t.tried.iter().map(|m| m.row).collect();
        assert_eq!(tried, before, "the rows tried: {record:?}");
        for m in &t.tried {
            let column = m.column as usize;
            let field = s.columns()[column].get() as usize;
            assert_eq!(m.value.as_ref(), record.get(field));
            let cell = &s.rows()[m.row as usize].cells[column];
            assert!(
                m.value.as_ref().is_none_or(|v| !cell.admits(v)),
                "{m:?} admits"
            );
        }
    }
}

fn agree(policy: &Policy, table: &Table, seed: u64, records: usize) {
    let reloaded = artifact::decode(&artifact::encode(table)).unwrap();
    // The same table searched every other way: scan, bitsets, grid.
    let variants: Vec<Table> = [Lookup::Scan, Lookup::Bitsets, Lookup::Grid]
        .into_iter()
        .map(|lookup| {
            let mut t = table.clone();
            t.set_lookup(Some(lookup));
            t
        })
        .collect();
    let mut r = Rng::new(seed);
    for _ in 0..records {
        let record = generate::record(&mut r, table.fields());
        let expected = tollgate_oracle::interp::evaluate(policy, &record);
        if let Err(EvalError::Ambiguous {
            schedule,
            first,
            second,
        }) = expected
        {
            // Independently of both evaluators: the two rules named hold,
            // and neither is `otherwise` (the default never overlaps).
            let Body::Fees(schedules) = &policy.body else {
                panic!("not a fees policy")
            };
            let s = &schedules[schedule.get() as usize];
            for rule in [first, second] {
                let r = &s.rules[rule.get() as usize];
                assert!(!r.otherwise, "`otherwise` called ambiguous: {record:?}");
                assert!(tollgate_oracle::interp::holds(&r.when, &record));
            }
        }
        let got = compiled(table, &record);
        assert_eq!(got, expected, "record {record:?}");
        assert_eq!(
            compiled(&reloaded, &record),
            expected,
            "after the artifact round trip"
        );
        for (t, lookup) in variants.iter().zip(["scan", "bitsets", "grid"]) {
            assert_eq!(compiled(t, &record), expected, "{lookup} disagrees");
        }
    }
}

#[test]
fn reference_policies_agree_with_the_interpreter() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    for path in tollgate::source::discover(&root).unwrap() {
        let text = std::fs::read_to_string(&path).unwrap();
        let (policy, Compiled::Fees(table)) = common::compiled(&text) else {
            continue;
        };
        agree(&policy, &table, 7, 5_000);
    }
}

#[test]
fn large_generated_policies_agree_and_use_the_index() {
    for seed in 0..3 {
        let text = generate::policy(
            seed,
            Shape {
                rules: 1_000,
                schedules: 1,
                unique: false,
                specific: seed % 2 == 1,
            },
        );
        let (policy, table) = tollgate::compile_source(&text).unwrap();
        assert_ne!(table.schedules()[0].lookup(), Lookup::Scan);
        agree(&policy, &table, seed, 2_000);
    }
}

/// A policy refused to compile is refused only for overlaps of unique
/// schedules (E0402), and each example record meets the conditions of both
/// rules named, neither of them `otherwise`.
fn refused_for_overlaps(text: &str, diagnostics: &[tollgate::Diagnostic]) {
    let (policy, table) = common::unproven(text).unwrap();
    assert!(!diagnostics.is_empty());
    for d in diagnostics {
        assert_eq!(
            d.code.as_str(),
            "E0402",
            "refused for another reason: {d:?}"
        );
        let help = d.help.as_deref().unwrap();
        let json = help
            .strip_prefix("for example ")
            .and_then(|h| h.split(" matches both").next())
            .unwrap();
        let record = tollgate::record::from_json(json, table.fields()).unwrap();
        // "rules `a` and `b` of unique schedule `s` both match ..."
        let names: Vec<&str> = d.message.split('`').collect();
        let Body::Fees(schedules) = &policy.body else {
            panic!("not a fees policy")
        };
        let s = schedules.iter().find(|s| s.name == names[5]).unwrap();
        for name in [names[1], names[3]] {
            let r = s.rules.iter().find(|r| r.name == name).unwrap();
            assert!(!r.otherwise && s.hit == tollgate::model::Hit::Unique);
            assert!(
                tollgate_oracle::interp::holds(&r.when, &record),
                "{json} does not meet `{name}`\n{text}"
            );
        }
    }
}

#[test]
fn unique_sheets_with_otherwise_agree() {
    // Disjoint unique schedules ending in `otherwise`: small ones (the
    // disjointness is proven when the table is built) and one above the
    // proof's row limit (checked on every record at run time).
    for (seed, rules) in [(1, 12), (2, 100), (3, 700)] {
        let text = generate::unique_sheet(seed, rules);
        let (policy, table) = tollgate::compile_source(&text).unwrap();
        let mut r = Rng::new(seed);
        for _ in 0..2_000 {
            let record = generate::record(&mut r, table.fields());
            assert!(
                !matches!(
                    tollgate_oracle::interp::evaluate(&policy, &record),
                    Err(EvalError::Ambiguous { .. })
                ),
                "disjoint rules called ambiguous: {record:?}"
            );
        }
        agree(&policy, &table, seed, 2_000);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: common::cases(40), ..ProptestConfig::default() })]

    #[test]
    fn large_enum_policies_agree(seed in any::<u64>(), variants in 60usize..=4096, rules in 1usize..40) {
        // Enums past one 64-bit word, up to the 4,096 variants allowed.
        let text = generate::large_enum_policy(seed, variants, rules, 2);
        let (policy, table) = tollgate::compile_source(&text)
            .unwrap_or_else(|d| panic!("generated policy does not compile: {d:?}"));
        agree(&policy, &table, seed, 200);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: common::cases(300), ..ProptestConfig::default() })]

    #[test]
    fn generated_policies_agree(seed in any::<u64>(), rules in 1usize..60, schedules in 1usize..4, specific in any::<bool>()) {
        let text = generate::policy(seed, Shape { rules, schedules, unique: true, specific });
        match tollgate::compile_source(&text) {
            Ok((policy, table)) => agree(&policy, &table, seed ^ 0x5eed, 200),
            Err(d) => refused_for_overlaps(&text, &d),
        }
    }
}
