//! Enums of up to 4,096 variants (merchant category codes need several
//! hundred): a 4,096-variant field through compile, eval, the artifact
//! round trip and lint. (`tests/oracle.rs` generates large-enum policies
//! that the compiled evaluator and the interpreter must agree on.)

// A test fails by panicking; helpers here may unwrap and index freely.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::process::Command;
use tollgate_runtime::artifact::{self, ArtifactErrorKind};
use tollgate_runtime::eval::EvalError;
use tollgate_runtime::table::{Cell, Lookup, Table, Variants, MAX_ENUM_VARIANTS};
use tollgate_runtime::value::Value;

/// A policy whose `category` has 4,096 variants, with rules on the first,
/// the 64th and 65th (either side of a word), and the last.
fn categories() -> String {
    let names: Vec<String> = (0..MAX_ENUM_VARIANTS).map(|i| format!("c{i:04}")).collect();
    format!(
        "policy categories version 1\nkind fees\nrounding half_up\nlint warn partly-shadowed\n\
         field category: enum {{ {} }}\nfield amount: money\n\
         schedule mdr {{\n  hit first\n\
           rule first when category == c0000 => 0.10%\n\
           rule edge when category in {{c0063, c0064}} => 0.20%\n\
           rule last when category == c4095 => 0.30%\n\
           rule most when category not in {{c0001, c4094}} => 0.40%\n\
           otherwise => 0.50%\n}}\n",
        names.join(", ")
    )
}

fn fee(table: &Table, category: u32, amount: &str) -> Result<String, EvalError> {
    let record = vec![Value::Enum(category), Value::Num(amount.parse().unwrap())];
    table.total(&record).map(|d| d.to_string())
}

#[test]
fn a_4096_variant_enum_compiles_evaluates_round_trips_and_lints() {
    let text = categories();
    let (policy, table) = tollgate::compile_source(&text).unwrap();
    // Cells past the first 64 variants hold a word per 64.
    let cells: Vec<&Cell> = table.schedules()[0]
        .rows()
        .iter()
        .map(|r| &r.cells[0])
        .collect();
    assert!(matches!(cells[2], Cell::Enum(Variants::Large(w)) if w.len() == 64));
    assert!(matches!(cells[0], Cell::Enum(Variants::Small(1))));
    let expected = [
        (0, "1.00"),
        (1, "5.00"),
        (63, "2.00"),
        (64, "2.00"),
        (65, "4.00"),
        (4094, "5.00"),
        (4095, "3.00"),
    ];
    let reloaded = artifact::decode(&artifact::encode(&table)).unwrap();
    assert_eq!(reloaded, table);
    for lookup in [
        None,
        Some(Lookup::Scan),
        Some(Lookup::Bitsets),
        Some(Lookup::Grid),
    ] {
        let mut t = reloaded.clone();
        t.set_lookup(lookup);
        for (category, want) in expected {
            assert_eq!(
                fee(&t, category, "1000.00").unwrap(),
                want,
                "c{category:04} {lookup:?}"
            );
            let record = vec![
                Value::Enum(category),
                Value::Num("1000.00".parse().unwrap()),
            ];
            let interpreted = tollgate_oracle::interp::evaluate(&policy, &record).unwrap();
            assert_eq!(interpreted[0].fee.total.to_string(), want);
        }
    }
    // The linter sees every variant: `most` is partly shadowed by each
    // earlier rule (another fee), and the last variants are told apart.
    let found = tollgate::lint::lint_source(&text, &[]);
    let codes: Vec<&str> = found.iter().map(|d| d.code.as_str()).collect();
    assert!(codes.iter().all(|c| *c == "L0103"), "{codes:?}");
    assert_eq!(codes.len(), 3, "{codes:?}");
    assert!(found
        .iter()
        .any(|d| d.help.as_deref().unwrap_or("").contains("c4095")));
}

#[test]
fn the_cli_prices_a_record_of_the_4096th_variant() {
    let dir = std::env::temp_dir().join(format!("tollgate-large-enum-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let policy = dir.join("categories.toll");
    std::fs::write(&policy, categories()).unwrap();
    let compiled = dir.join("categories.tgc");
    let bin = env!("CARGO_BIN_EXE_tollgate");
    let o = Command::new(bin)
        .args([
            "compile",
            policy.to_str().unwrap(),
            "-o",
            compiled.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let input = dir.join("in.jsonl");
    std::fs::write(
        &input,
        "{\"category\":\"c4095\",\"amount\":\"1000.00\"}\n{\"category\":\"c0064\",\"amount\":\"1000.00\"}\n",
    )
    .unwrap();
    for source in [&policy, &compiled] {
        let o = Command::new(bin)
            .args([
                "eval",
                source.to_str().unwrap(),
                "--input",
                input.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&o.stdout);
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines[0].contains(r#""fee":"3.00""#), "{out}");
        assert!(lines[1].contains(r#""fee":"2.00""#), "{out}");
    }
}

#[test]
fn damaged_large_enum_cells_are_refused() {
    let (_, table) = tollgate::compile_source(&categories()).unwrap();
    // A large set whose last word is zero is not in its one form: refused
    // by the constructor every loaded table goes through.
    let s = &table.schedules()[0];
    let mut touched = false;
    let e = common::rebuilt(s, |_, _, rows| {
        if let Cell::Enum(Variants::Large(w)) = &mut rows[2].cells[0] {
            w.push(0);
            touched = true;
        }
    })
    .unwrap_err();
    assert!(
        touched && matches!(e.kind, ArtifactErrorKind::Invalid(_)),
        "{e}"
    );
    // A variant past the field's last one.
    let mut fields = table.fields().to_vec();
    fields[0].kind = tollgate_runtime::table::FieldKind::Enum(vec!["a".into(); 100]);
    let e = Table::new(
        table.name().into(),
        table.version(),
        table.window(),
        table.currency().into(),
        table.timezone().into(),
        fields,
        table.schedules().to_vec(),
    )
    .unwrap_err();
    assert!(matches!(e.kind, ArtifactErrorKind::Invalid(_)), "{e}");
}
