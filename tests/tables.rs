//! The decision table as `tollgate table` prints it, for every policy in
//! `tests/tables/`: one snapshot per file. Amounts print exactly as declared.

// A test fails by panicking; helpers here may unwrap and index freely.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;
use std::path::Path;
use tollgate::compile::print::print_table;

fn table_text(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let (_, table) =
        tollgate::compile_source(&text).unwrap_or_else(|d| panic!("{}: {d:?}", path.display()));
    print_table(&table)
}

#[test]
fn table_snapshots() {
    insta::glob!("tables/*.toll", |path| {
        insta::assert_snapshot!(table_text(path));
    });
}

#[test]
fn declared_amounts_print_exactly() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let printed = table_text(&root.join("tests/tables/exact_amounts.toll"));
    for written in [
        "0.14% + 0.0195",
        "(0.0325% min 0.0015 cap 2.50) + 0.005",
        "min 0.0015",
        "cap 2.50",
        "up to 100.005 => 0.5001%",
        "0.38%",
        "<= 999.995",
        "| 0.001",
    ] {
        assert!(
            printed.contains(written),
            "`{written}` is not in the table:\n{printed}"
        );
    }
}

/// `eval --explain` on one record of a `tests/tables/` policy.
fn explain(policy: &str, record: &str) -> String {
    let out = common::tollgate_stdin(&["eval", policy, "--explain"], record);
    let line: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    serde_json::to_string_pretty(&line["components"][0]["explain"]).unwrap()
}

#[test]
fn explain_shows_the_formula_as_declared() {
    let e = explain(
        "tests/tables/exact_amounts.toll",
        r#"{"channel":"scan","amount":"1000.00"}"#,
    );
    insta::assert_snapshot!(e);
    assert!(e.contains("(0.0325% min 0.0015 cap 2.50) + 0.005"), "{e}");
}
