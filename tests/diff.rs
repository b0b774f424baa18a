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

mod common;
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
    let record = tollgate::record::from_json(example, table.fields())?;
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
        let src = |p: &str| {
            std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(p))
                .unwrap()
        };
        let (json, _, json_code) = tollgate(&["diff", "--format", "json", &old, &new]);
        assert_eq!(json_code, code);
        let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(doc["changed"], serde_json::Value::Bool(code == 1));
        if doc["kind"] == "notifications" {
            check_notification_examples(stem, &doc, &src(&old), &src(&new));
            return;
        }
        // Every example record really changes its fee.
        let (_, a) = tollgate::compile_source(&src(&old)).unwrap();
        let (_, b) = tollgate::compile_source(&src(&new)).unwrap();
        for s in doc["schedules"].as_array().unwrap() {
            for r in s["regions"].as_array().unwrap() {
                let example = r["example"].to_string();
                assert_ne!(fee(&a, &example), fee(&b, &example), "{stem}: {example}");
            }
        }
    });
}

fn notify_policy(source: &str) -> tollgate_runtime::notify::NotifyPolicy {
    common::notifications(source).1
}

/// Each decision of `p` on `stream`: what happens to the message (what
/// counts as a change) and the rule that decided, if one did.
fn decisions(
    p: &tollgate_runtime::notify::NotifyPolicy,
    stream: &[String],
) -> Vec<(String, Option<String>)> {
    use tollgate_runtime::notify::{Decision, MemoryState};
    let mut state = MemoryState::new();
    let name = |i: u32| Some(p.rules()[i as usize].name().into());
    stream
        .iter()
        .map(|line| {
            let record = tollgate::record::from_json(line, p.fields()).unwrap();
            match p.decide(&record, &mut state) {
                Ok(Decision::Deliver { .. }) => ("deliver".to_string(), None),
                Ok(Decision::Suppress { rule, .. }) => ("suppress".to_string(), name(rule.get())),
                Ok(Decision::Defer { rule, until_ms }) => {
                    (format!("defer until {until_ms}"), name(rule.get()))
                }
                Err(e) => (format!("error {e:?}"), None),
            }
        })
        .collect()
}

/// Every example stream of a notifications diff, run on both versions'
/// engines here: the marked message's decision differs (not only the
/// wording of its reason), no earlier one does, and the changed rule is
/// the one that decides it in the old or the new version.
fn check_notification_examples(stem: &str, doc: &serde_json::Value, old: &str, new: &str) {
    let (a, b) = (notify_policy(old), notify_policy(new));
    for rule in doc["rules"].as_array().unwrap() {
        if rule["change"] == "renamed" || rule["change"] == "reworded" {
            assert!(rule["example"].is_null(), "{stem}: {rule}");
            continue;
        }
        let e = &rule["example"];
        assert!(
            e.is_object(),
            "{stem}: rule {} has no example",
            rule["rule"]
        );
        let stream: Vec<String> = e["stream"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m.to_string())
            .collect();
        let at = e["message"].as_u64().unwrap() as usize;
        let (da, db) = (decisions(&a, &stream), decisions(&b, &stream));
        let verdicts = |d: &[(String, Option<String>)]| -> Vec<String> {
            d.iter().map(|(v, _)| v.clone()).collect()
        };
        let (va, vb) = (verdicts(&da), verdicts(&db));
        assert_ne!(va[at], vb[at], "{stem}: {stream:?}");
        assert_eq!(va[..at], vb[..at], "{stem}: an earlier message differs");
        let name = rule["rule"].as_str().map(str::to_string);
        let by_old = rule["change"] != "added" && da[at].1 == name;
        let by_new = rule["change"] != "removed" && db[at].1 == name;
        assert!(
            by_old || by_new,
            "{stem}: the example for rule {} is decided by {:?} (old) and {:?} (new)",
            rule["rule"],
            da[at].1,
            db[at].1
        );
    }
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
    let (text, _, code) = tollgate(&[
        "diff",
        "policies/notifications/merchant_messages.toll",
        "policies/notifications/merchant_messages.toll",
    ]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("no rule changes"), "{text}");
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
