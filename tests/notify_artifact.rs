//! Notifications policies compile to artifacts: `tollgate compile` accepts
//! them, `tollgate eval` runs an artifact with the same output lines as
//! its source (state carried between runs alike), and `tollgate table`
//! prints a policy's rules, zone and span of years from either.

// A test fails by panicking; helpers here may unwrap and index freely.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;
use common::{stdout, tollgate};

use std::path::{Path, PathBuf};

/// Compiles `policy` into `dir`; returns the artifact's path.
fn compile(policy: &str, dir: &Path) -> PathBuf {
    let out = dir.join("policy.tgc");
    let o = tollgate(&["compile", policy, "-o", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).starts_with("compiled "), "{}", stdout(&o));
    out
}

/// Each scenario of `tests/notifications` (records only), with its policy.
fn scenarios() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/notifications");
    let mut files: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|file| {
            let lines: Vec<serde_json::Value> = std::fs::read_to_string(file)
                .unwrap()
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
            let policy = lines
                .first()
                .and_then(|h| h.get("policy"))
                .and_then(|p| p.as_str())
                .unwrap_or("policies/notifications/merchant_messages.toll")
                .to_string();
            let input = lines
                .iter()
                .filter_map(|l| l.get("record"))
                .map(|r| format!("{r}\n"))
                .collect();
            (policy, input)
        })
        .collect()
}

#[test]
fn an_artifact_answers_every_scenario_like_its_source() {
    let dir = common::scratch("notify_artifact_scenarios");
    let scenarios = scenarios();
    assert!(scenarios.len() >= 7);
    for (policy, input) in scenarios {
        let artifact = compile(&policy, &dir);
        for explain in [false, true] {
            let mut args = vec!["eval", policy.as_str()];
            if explain {
                args.push("--explain");
            }
            let source = common::tollgate_stdin(&args, &input);
            args[1] = artifact.to_str().unwrap();
            let compiled = common::tollgate_stdin(&args, &input);
            assert!(!source.stdout.is_empty());
            assert_eq!(stdout(&compiled), stdout(&source), "{policy}");
            assert_eq!(compiled.status.code(), source.status.code());
        }
    }
}

#[test]
fn state_carries_between_an_artifact_and_its_source() {
    let dir = common::scratch("notify_artifact_state");
    let artifact = compile("policies/notifications/merchant_messages.toll", &dir);
    let state = dir.join("throttle.state");
    let promo = |at: &str| {
        format!("{{\"kind\":\"promo\",\"merchant\":\"m1\",\"terminal\":\"t1\",\"at\":\"2026-11-25T{at}+08:00\"}}\n")
    };
    let run = |policy: &str, input: String| {
        common::tollgate_stdin(
            &["eval", policy, "--state", state.to_str().unwrap()],
            &input,
        )
    };
    let first = run(
        artifact.to_str().unwrap(),
        format!("{}{}", promo("09:00:00"), promo("10:00:00")),
    );
    assert_eq!(first.status.code(), Some(0));
    assert!(state.exists());
    // The state the artifact saved is the source's, and back again.
    let second = run(
        "policies/notifications/merchant_messages.toll",
        promo("14:00:00"),
    );
    let full = r#"{"decision":"suppress","rule":"promo_cap","reason":"cap reached: 2 delivered in 24h, cap 2"}"#;
    assert_eq!(stdout(&second).trim(), full);
    let third = run(artifact.to_str().unwrap(), promo("15:00:00"));
    assert_eq!(stdout(&third).trim(), full);
}

#[test]
fn table_prints_the_rules_zone_and_span_of_a_policy_or_its_artifact() {
    let dir = common::scratch("notify_artifact_table");
    let policy = "tests/notifications/new_york.toll";
    let artifact = compile(policy, &dir);
    let from_source = tollgate(&["table", policy]);
    let from_artifact = tollgate(&["table", artifact.to_str().unwrap()]);
    assert_eq!(from_source.status.code(), Some(0));
    assert_eq!(stdout(&from_source), stdout(&from_artifact));
    let out = stdout(&from_source);
    assert!(
        out.contains("zone America/New_York: offsets known for years 2000-2099"),
        "{out}"
    );
    let m = tollgate(&["table", "policies/notifications/merchant_messages.toll"]);
    let out = stdout(&m);
    for line in [
        "policy merchant_messages version 1 (notifications, Asia/Shanghai)",
        "clock at, lateness 1h, message id msg_id",
        "rule 2 txn_dedup: dedup by (terminal, txn_id, kind) within 10m",
        "rule 3 peak_hours: quiet 11:00-13:00, 17:00-20:00 then defer",
        "rule 5 promo_cap: limit promo_cap within 0..2 per 1d by merchant",
        "rule 8 opted_out: suppress \"merchant opted out of promotions\"",
        "  when kind: promo; promo_opt_out: true",
    ] {
        assert!(out.contains(line), "no `{line}` in\n{out}");
    }
}

/// `eval`'s one line for `record` on `policy`.
fn eval_one(policy: &str, record: &str) -> String {
    let o = common::tollgate_stdin(&["eval", policy], &format!("{record}\n"));
    stdout(&o).trim().to_string()
}

#[test]
fn zone_years_choose_the_span_the_artifact_holds_and_table_prints() {
    let dir = common::scratch("notify_artifact_zone_years");
    let out = dir.join("ny.tgc");
    let out_s = out.to_str().unwrap();
    let policy = "tests/notifications/new_york.toll";
    let o = tollgate(&["compile", policy, "-o", out_s, "--zone-years", "2026..2035"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let table = stdout(&tollgate(&["table", out_s]));
    insta::assert_snapshot!("table_new_york_2026_2035", table);
    // Two offset changes a year, ten years.
    assert!(table.contains("years 2026-2035, UTC-05:00 at the start, 20 offset changes"));
    // The default span: the database's, 2000-2099.
    let full = dir.join("full.tgc");
    let o = tollgate(&["compile", policy, "-o", full.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    let table = stdout(&tollgate(&["table", full.to_str().unwrap()]));
    assert!(table.contains("years 2000-2099, UTC-05:00 at the start, 200 offset changes"));
}

#[test]
fn a_record_just_outside_the_chosen_span_is_refused_just_inside_decided() {
    let dir = common::scratch("notify_artifact_zone_edges");
    let out = dir.join("ny.tgc");
    let out_s = out.to_str().unwrap();
    let policy = "tests/notifications/new_york.toll";
    let o = tollgate(&["compile", policy, "-o", out_s, "--zone-years", "2026..2035"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let promo =
        |at: &str| format!(r#"{{"kind":"promo","merchant":"m","terminal":"t","at":"{at}"}}"#);
    let outside = |at: &str| {
        format!(
            r#"{{"error":"the record's time {at} is outside the years the policy's time zone `America/New_York` is built for, 2026-2035 (from 2026-01-01T00:00:00Z, before 2036-01-01T00:00:00Z); not decided","record":1}}"#
        )
    };
    for at in ["2025-12-31T23:59:59.999Z", "2036-01-01T00:00:00Z"] {
        assert_eq!(eval_one(out_s, &promo(at)), outside(at));
    }
    for at in ["2026-01-01T00:00:00Z", "2035-12-31T23:59:59.999Z"] {
        let line = eval_one(out_s, &promo(at));
        assert_eq!(line, eval_one(policy, &promo(at)), "{at}");
        assert!(line.starts_with(r#"{"decision":"deliver""#), "{line}");
    }
}

#[test]
fn bad_zone_years_are_usage_errors() {
    let dir = common::scratch("notify_artifact_bad_years");
    let out = dir.join("x.tgc");
    let out_s = out.to_str().unwrap();
    let m = "policies/notifications/merchant_messages.toll";
    for (span, says) in [
        ("2035..2026", "the span 2035..2026 ends before it starts"),
        (
            "1999..2026",
            "the span 1999..2026 reaches outside 2000..2099",
        ),
        (
            "2026..2100",
            "the span 2026..2100 reaches outside 2000..2099",
        ),
        (
            "2026-2035",
            "`2026-2035` is not a span of years: write FIRST..LAST",
        ),
        ("2026..", "`2026..` lacks a year"),
        ("26..35", "`26` in `26..35` is not a year"),
        ("+2026..2030", "`+2026` in `+2026..2030` is not a year"),
    ] {
        let o = tollgate(&["compile", m, "-o", out_s, "--zone-years", span]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{span}: {err}");
        assert!(err.contains(says), "{span}: {err}");
        assert!(!out.exists());
    }
    let o = tollgate(&[
        "compile",
        "policies/fees/lakala.toll",
        "-o",
        out_s,
        "--zone-years",
        "2026..2035",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stdout(&o).contains("is a fees policy, which has no zone to build"));
    let artifact = compile(m, &dir);
    let o = tollgate(&[
        "compile",
        artifact.to_str().unwrap(),
        "-o",
        out_s,
        "--zone-years",
        "2026..2035",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stdout(&o).contains("--zone-years applies to a policy source"));
}
