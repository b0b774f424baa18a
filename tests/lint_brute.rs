//! The table analyses against brute force, on small generated schedules:
//! every input class is enumerated (each bound, a value between each two
//! bounds and beyond the extremes, every variant, every named string and
//! one other), and what the sweep reports must be exactly what the
//! enumeration sees: the same rules reached, the same rules unsatisfiable,
//! the same overlapping pairs, a gap exactly when one exists. Every example
//! record the linter gives is typed and evaluated to show it really is one.

// A test fails by panicking; helpers here may unwrap and index freely.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;
use proptest::prelude::*;
use rust_decimal::Decimal;
use std::collections::BTreeSet;
use tollgate::lint::table;
use tollgate::model::{Body, Hit};
use tollgate_oracle::generate::{policy, Shape};
use tollgate_runtime::table::{Cell, FieldKind, FieldSpec, Row, Table};
use tollgate_runtime::value::Value;

/// Candidate values of one column: one per class the cells can tell apart.
fn candidates(kind: &FieldKind, cells: &[&Cell]) -> Vec<Value> {
    match kind {
        FieldKind::Enum(vs) => (0..vs.len() as u32).map(Value::Enum).collect(),
        FieldKind::Bool => vec![Value::Bool(false), Value::Bool(true)],
        FieldKind::String | FieldKind::Timestamp => {
            let mut names: BTreeSet<String> = BTreeSet::new();
            for c in cells {
                if let Cell::StrIn(s) | Cell::StrNotIn(s) = c {
                    names.extend(s.iter().cloned());
                }
            }
            names.insert("zz-none-of-them".into());
            names.into_iter().map(Value::Str).collect()
        }
        FieldKind::Money | FieldKind::Decimal | FieldKind::Integer => {
            let mut bounds: BTreeSet<Decimal> = BTreeSet::new();
            for c in cells {
                if let Cell::Range(iv) = c {
                    bounds.extend(iv.lo.value().map(|v| v.normalize()));
                    bounds.extend(iv.hi.value().map(|v| v.normalize()));
                }
            }
            let b: Vec<Decimal> = bounds.into_iter().collect();
            let mut out: BTreeSet<Decimal> = b.iter().copied().collect();
            let one = Decimal::ONE;
            match (b.first(), b.last()) {
                (Some(lo), Some(hi)) => {
                    out.insert(*lo - one);
                    out.insert(*hi + one);
                }
                _ => {
                    out.insert(Decimal::from(100));
                }
            }
            for w in b.windows(2) {
                if *kind == FieldKind::Integer {
                    out.insert(w[0] + one);
                } else {
                    out.insert((w[0] + w[1]) / Decimal::TWO);
                }
            }
            out.into_iter().map(Value::Num).collect()
        }
    }
}

/// The rules (in order) whose rows admit `point` (values per column).
fn matching(rows: &[Row], point: &[Value]) -> Vec<u32> {
    let mut rules: Vec<u32> = rows
        .iter()
        .filter(|r| r.cells.iter().zip(point).all(|(c, v)| c.admits(v)))
        .map(|r| r.rule.get())
        .collect();
    rules.dedup();
    rules.sort_unstable();
    rules.dedup();
    rules
}

/// The rules an example record (JSON) matches in schedule `k` of `table`.
fn rules_of_example(table: &Table, k: usize, json: &str) -> Vec<u32> {
    let record = tollgate::record::from_json(json, table.fields())
        .unwrap_or_else(|e| panic!("example {json} is not a valid record: {e}"));
    let s = &table.schedules()[k];
    let point: Vec<Value> = s
        .columns()
        .iter()
        .map(|&f| record[f.get() as usize].clone())
        .collect();
    matching(s.rows(), &point)
}

/// The table of a generated policy, overlaps and all (`compile` refuses
/// overlapping unique schedules, whose analysis is what is tested here).
fn compile_unproven(
    text: &str,
) -> Result<(tollgate::model::Policy, tollgate_runtime::table::Table), ()> {
    common::unproven(text).map_err(drop)
}

fn check(seed: u64, rules: usize, unique: bool) {
    let text = policy(
        seed,
        Shape {
            rules,
            schedules: 2,
            unique,
            specific: false,
        },
    );
    let Ok((model, table)) = compile_unproven(&text) else {
        return;
    };
    let Body::Fees(schedules) = &model.body else {
        unreachable!()
    };
    let fields: Vec<FieldSpec> = table.fields().to_vec();
    for (k, (s, ts)) in schedules.iter().zip(table.schedules()).enumerate() {
        // Brute force over every class of every column.
        let per_column: Vec<Vec<Value>> = ts
            .columns()
            .iter()
            .enumerate()
            .map(|(c, &f)| {
                let cells: Vec<&Cell> = ts.rows().iter().map(|r| &r.cells[c]).collect();
                let field = &table.fields()[f.get() as usize];
                let mut values = candidates(&field.kind, &cells);
                // Money that does not accept refunds is never negative.
                if field.kind == FieldKind::Money && !field.refunds {
                    values.retain(|v| matches!(v, Value::Num(d) if !d.is_sign_negative()));
                    if !values.contains(&Value::Num(Decimal::ZERO)) {
                        values.insert(0, Value::Num(Decimal::ZERO));
                    }
                }
                values
            })
            .collect();
        let total: usize = per_column.iter().map(Vec::len).product();
        if total > 300_000 {
            continue;
        }
        let n = s.rules.len();
        let mut reached = vec![false; n];
        let mut satisfiable = vec![false; n];
        let mut pairs: BTreeSet<(u32, u32)> = BTreeSet::new();
        let mut gap = false;
        let mut point: Vec<Value> = per_column.iter().map(|c| c[0].clone()).collect();
        let mut index = vec![0usize; per_column.len()];
        loop {
            for (c, &i) in index.iter().enumerate() {
                point[c] = per_column[c][i].clone();
            }
            let m = matching(ts.rows(), &point);
            match m.first() {
                None => gap = true,
                Some(&first) => {
                    reached[first as usize] = true;
                    for &r in &m {
                        satisfiable[r as usize] = true;
                    }
                    if s.hit == Hit::Unique {
                        // `otherwise` is the default, never an overlap.
                        let m: Vec<u32> = m
                            .iter()
                            .copied()
                            .filter(|&r| !s.rules[r as usize].otherwise)
                            .collect();
                        for (i, &a) in m.iter().enumerate() {
                            for &b in &m[i + 1..] {
                                pairs.insert((a, b));
                            }
                        }
                    } else {
                        for &b in &m[1..] {
                            pairs.insert((first, b));
                        }
                    }
                }
            }
            // Next point.
            let mut c = 0;
            loop {
                if c == index.len() {
                    break;
                }
                index[c] += 1;
                if index[c] < per_column[c].len() {
                    break;
                }
                index[c] = 0;
                c += 1;
            }
            if c == index.len() {
                break;
            }
        }

        let (space, owners, _) = table::rule_space(s, &fields);
        let found = table::analyse(s, &space, &owners, &fields);
        let label = format!("seed {seed}, schedule {k}:\n{text}");
        let unsat: Vec<bool> = satisfiable.iter().map(|s| !s).collect();
        assert_eq!(found.unsat, unsat, "unsatisfiable rules differ; {label}");
        if s.hit == Hit::First {
            assert_eq!(found.wins, reached, "reached rules differ; {label}");
        }
        let got: BTreeSet<(u32, u32)> = found.pairs.keys().copied().collect();
        assert_eq!(got, pairs, "overlapping pairs differ; {label}");
        assert_eq!(!found.gaps.is_empty(), gap, "gap differs; {label}");
        // Every example is what it claims.
        for (&(a, b), json) in &found.pairs {
            let m = rules_of_example(&table, k, json);
            assert!(
                m.contains(&a) && m.contains(&b),
                "{json} is not in both {a} and {b}; {label}"
            );
            if s.hit == Hit::First {
                assert_eq!(
                    m.first(),
                    Some(&a),
                    "{json}: {a} is not the first match; {label}"
                );
            }
        }
        for (json, _) in &found.gaps {
            assert!(
                rules_of_example(&table, k, json).is_empty(),
                "{json} is matched; {label}"
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: common::cases(300), ..ProptestConfig::default() })]

    #[test]
    fn sweep_agrees_with_brute_force_first(seed in any::<u64>(), rules in 1usize..9) {
        check(seed, rules, false);
    }

    #[test]
    fn sweep_agrees_with_brute_force_unique(seed in any::<u64>(), rules in 1usize..7) {
        check(seed, rules, true);
    }
}

#[test]
fn brute_force_sees_what_it_should() {
    // The enumeration itself: a schedule with a known gap, overlap and
    // shadowed rule.
    let text = "policy p version 1\nkind fees\nrounding half_up\nfield amount: money\n\
                schedule s {\n hit first\n rule a when amount < 10 => 1%\n rule b when amount < 5 => 2%\n \
                rule c when amount > 20 => 3%\n}\n";
    let (model, table) = tollgate::compile_source(text).unwrap();
    let Body::Fees(schedules) = &model.body else {
        unreachable!()
    };
    let fields = table.fields().to_vec();
    let (space, owners, _) = table::rule_space(&schedules[0], &fields);
    let found = table::analyse(&schedules[0], &space, &owners, &fields);
    assert_eq!(found.wins, vec![true, false, true]);
    assert_eq!(
        found.pairs.keys().copied().collect::<Vec<_>>(),
        vec![(0, 1)]
    );
    assert_eq!(found.gaps.len(), 1);
    assert_eq!(table.schedules().len(), 1);
}
