//! Fee cases as data: every line of `tests/fees/cases.jsonl` names a policy,
//! a record and the expected fee (with the rules that decided it, or each
//! component's fee), or the expected error. Each case runs through the
//! compiled table, the same table after an artifact round trip, and the
//! reference interpreter; all three must agree with the expectation.

// A test fails by panicking; helpers here may unwrap and index freely.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use serde_json::Value as Json;
use std::collections::HashMap;
use std::path::Path;
use tollgate::model::Policy;
use tollgate_runtime::artifact;
use tollgate_runtime::eval::Component;
use tollgate_runtime::table::Table;

fn money(d: rust_decimal::Decimal) -> String {
    let mut d = d;
    if d.scale() < 2 {
        d.rescale(2);
    }
    d.to_string()
}

/// The fee and component names or error message, as the CLI would print them.
fn outcome(
    table: &Table,
    result: Result<(rust_decimal::Decimal, Vec<Component>), String>,
) -> Result<(String, Vec<String>, Vec<String>), String> {
    let (total, components) = result?;
    let names = components
        .iter()
        .map(|c| {
            let s = &table.schedules()[c.schedule.get() as usize];
            format!("{}/{}", s.name(), s.rules()[c.rule.get() as usize].name)
        })
        .collect();
    let fees = components.iter().map(|c| money(c.fee.total)).collect();
    Ok((money(total), names, fees))
}

#[test]
fn fee_cases() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cases = std::fs::read_to_string(root.join("tests/fees/cases.jsonl")).unwrap();
    let mut policies: HashMap<String, (Policy, Table, Table)> = HashMap::new();
    let mut count = 0;
    for line in cases.lines().filter(|l| !l.trim().is_empty()) {
        let case: Json = serde_json::from_str(line).unwrap();
        let name = case["case"].as_str().unwrap();
        let path = case["policy"].as_str().unwrap();
        let (policy, table, reloaded) = policies.entry(path.to_string()).or_insert_with(|| {
            let text = std::fs::read_to_string(root.join(path)).unwrap();
            let (policy, table) =
                tollgate::compile_source(&text).unwrap_or_else(|d| panic!("{path}: {d:?}"));
            let reloaded = artifact::decode(&artifact::encode(&table)).unwrap();
            (policy, table, reloaded)
        });
        let record = tollgate::record::from_json(&case["record"].to_string(), table.fields());
        let run = |t: &Table| -> Result<_, String> {
            let r = record.clone()?;
            let mut out = Vec::new();
            let total = t.fee(&r, &mut out).map_err(|e| format!("{e:?}"))?;
            Ok((total, out))
        };
        let compiled = outcome(table, run(table));
        let from_artifact = outcome(reloaded, run(reloaded));
        let interpreted = outcome(
            table,
            record.clone().and_then(|r| {
                let c =
                    tollgate_oracle::interp::evaluate(policy, &r).map_err(|e| format!("{e:?}"))?;
                let total = c.iter().map(|c| c.fee.total).sum();
                Ok((total, c))
            }),
        );
        assert_eq!(
            compiled, from_artifact,
            "{name}: artifact round trip changed the result"
        );
        assert_eq!(
            compiled, interpreted,
            "{name}: compiled and interpreted disagree"
        );
        match (&compiled, case.get("error")) {
            (Err(e), Some(expected)) => {
                let expected = expected.as_str().unwrap();
                let shown = if e.contains("Overflow") {
                    "arithmetic overflow".to_string()
                } else {
                    e.clone()
                };
                assert!(
                    shown.contains(expected),
                    "{name}: error `{e}` lacks `{expected}`"
                );
            }
            (Ok((fee, rules, fees)), None) => {
                assert_eq!(fee, case["fee"].as_str().unwrap(), "{name}");
                if let Some(expected) = case.get("rules") {
                    let expected: Vec<String> = serde_json::from_value(expected.clone()).unwrap();
                    assert_eq!(rules, &expected, "{name}");
                }
                if let Some(expected) = case.get("components") {
                    let expected: Vec<String> = serde_json::from_value(expected.clone()).unwrap();
                    assert_eq!(fees, &expected, "{name}");
                }
            }
            (got, _) => panic!("{name}: unexpected outcome {got:?}"),
        }
        count += 1;
    }
    assert!(count >= 30, "only {count} cases");
}
