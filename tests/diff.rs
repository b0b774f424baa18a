//! `tollgate diff` on hand-made pairs: every `tests/diff/NAME.old.toll`
//! has a `NAME.new.toll`; the snapshot is what a reviewer sees (text, then
//! the exit code), and every example record the diff prints is checked on
//! both versions: its fee really changes.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::process::Command;

fn tollgate(args: &[&str]) -> (String, String, i32) {
    let out = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
        out.status.code().unwrap_or(-1),
    )
}

/// The fee `table` charges on the JSON record `example`, or its error.
fn fee(table: &tollgate_runtime::table::Table, example: &str) -> Result<String, String> {
    let record = tollgate::record::from_json(example, &table.fields)?;
    table
        .total(&record)
        .map(|d| d.to_string())
        .map_err(|e| format!("{e:?}"))
}

#[test]
fn pairs_snapshots_and_examples() {
    insta::glob!("diff/*.old.toll", |path| {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let stem = name.trim_end_matches(".old.toll");
        let old = format!("tests/diff/{stem}.old.toll");
        let new = format!("tests/diff/{stem}.new.toll");
        let (text, err, code) = tollgate(&["diff", &old, &new]);
        assert!(err.is_empty(), "{stem}: {err}");
        insta::assert_snapshot!(format!("{text}exit code {code}\n"));
        // Every example record really changes its fee.
        let src = |p: &str| {
            std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(p))
                .unwrap()
        };
        let (_, a) = tollgate::compile_source(&src(&old)).unwrap();
        let (_, b) = tollgate::compile_source(&src(&new)).unwrap();
        let (json, _, json_code) = tollgate(&["diff", "--format", "json", &old, &new]);
        assert_eq!(json_code, code);
        let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(doc["changed"], serde_json::Value::Bool(code == 1));
        for s in doc["schedules"].as_array().unwrap() {
            for r in s["regions"].as_array().unwrap() {
                let example = r["example"].to_string();
                assert_ne!(fee(&a, &example), fee(&b, &example), "{stem}: {example}");
            }
        }
    });
}

#[test]
fn a_version_compared_with_itself_has_no_change() {
    for p in [
        "policies/fees/lakala.toll",
        "policies/fees/acquirer_2026.toll",
        "policies/fees/unionpay_classes.toll",
    ] {
        let (text, _, code) = tollgate(&["diff", p, p]);
        assert_eq!(code, 0, "{p}: {text}");
        assert!(text.contains("no fee changes"), "{text}");
    }
}

#[test]
fn versions_that_cannot_be_compared_exit_2() {
    let (_, err, code) = tollgate(&[
        "diff",
        "policies/fees/lakala.toll",
        "policies/notifications/merchant_messages.toll",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("error:"), "{err}");
    let (_, err, code) = tollgate(&["diff", "policies/fees/lakala.toll", "no/such/file.toll"]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot read"), "{err}");
}
