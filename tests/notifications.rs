//! Scenario files: each `tests/notifications/*.jsonl` is one stream of
//! messages for `policies/notifications/merchant_messages.toll` (or the
//! policy its first line names), evaluated in order with state carried
//! across, each with the decision it must get.

// A test fails by panicking; helpers here may unwrap and index freely.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

#[test]
fn every_scenario_gets_its_decisions() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<_> = std::fs::read_dir(root.join("tests/notifications"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 7,
        "one scenario per rule of merchant_messages.toll"
    );
    for file in files {
        let all: Vec<serde_json::Value> = std::fs::read_to_string(&file)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        // The first line may name another policy than the reference one.
        let policy = all
            .first()
            .and_then(|h| h.get("policy"))
            .and_then(|p| p.as_str())
            .unwrap_or("policies/notifications/merchant_messages.toll")
            .to_string();
        let lines: Vec<serde_json::Value> = all
            .into_iter()
            .filter(|v| v.get("record").is_some())
            .collect();
        let input: String = lines.iter().map(|l| format!("{}\n", l["record"])).collect();
        let mut child = Command::new(env!("CARGO_BIN_EXE_tollgate"))
            .args(["eval", policy.as_str()])
            .current_dir(root)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let got: Vec<serde_json::Value> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(got.len(), lines.len(), "{}", file.display());
        for (i, (g, l)) in got.iter().zip(&lines).enumerate() {
            assert_eq!(
                g,
                &l["expect"],
                "{} message {}: {}",
                file.display(),
                i + 1,
                l["record"]
            );
        }
    }
}

/// Runs `tollgate eval` with `args` on `input`: stdout lines as JSON, stderr.
fn eval(args: &[&str], input: &str) -> (Vec<serde_json::Value>, String) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .arg("eval")
        .args(args)
        .current_dir(root)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Written from a thread: the output may fill its pipe before the input ends.
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_string();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()).unwrap());
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    let lines = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (lines, String::from_utf8(out.stderr).unwrap())
}

/// Two promotions at 09:00 and 09:01, then thousands of messages among
/// which one is dated two days ahead, exactly where the store is pruned:
/// the promotion at 10:00 is still the third in 24h.
#[test]
fn one_record_dated_ahead_does_not_wipe_the_history() {
    let promo = |at: &str| {
        format!(
            r#"{{"kind":"promo","merchant":"m1","terminal":"t1","at":"2026-11-25T{at}+08:00"}}"#
        )
    };
    let mut input = format!("{}\n{}\n", promo("09:00:00"), promo("09:01:00"));
    // Records 3 to 4,095: security alerts (no state), 09:02 to 09:59.
    for i in 3..4096 {
        let secs = 120 + (i - 3) * 3_400 / 4_093;
        input.push_str(&format!(
            r#"{{"kind":"security","merchant":"m2","terminal":"t2","at":"2026-11-25T09:{:02}:{:02}+08:00"}}"#,
            secs / 60,
            secs % 60
        ));
        input.push('\n');
    }
    // Record 4,096, where `eval` prunes: a clock two days ahead.
    input.push_str(
        r#"{"kind":"network_status","merchant":"m3","terminal":"t3","at":"2026-11-27T09:30:00+08:00"}"#,
    );
    input.push('\n');
    input.push_str(&promo("10:00:00"));
    input.push('\n');
    let (lines, _) = eval(&["policies/notifications/merchant_messages.toll"], &input);
    assert_eq!(lines.len(), 4097);
    assert_eq!(
        lines[4096],
        serde_json::json!({"decision":"suppress","rule":"promo_cap","reason":"cap reached: 2 delivered in 24h, cap 2"})
    );
}

/// State saved by version 1 of a policy, loaded by version 2 that raises
/// one cap, renames one rule and lengthens one window: the unchanged and
/// re-capped rules keep their deliveries, the others start afresh, and
/// stderr says which.
#[test]
fn state_carries_across_policy_versions() {
    let dir = std::env::temp_dir().join(format!("tollgate-versions-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let state = dir.join("throttle.state");
    let _ = std::fs::remove_file(&state);
    let state_arg = state.to_str().unwrap();
    let msg = |kind: &str, at: &str| {
        format!(
            r#"{{"kind":"{kind}","merchant":"m1","terminal":"t1","at":"2026-11-25T{at}:00+08:00"}}"#
        ) + "\n"
    };
    let first: String = [
        msg("promo", "09:00"),
        msg("promo", "09:10"),
        msg("notice", "09:00"),
        msg("status", "09:00"),
    ]
    .concat();
    let (lines, _) = eval(
        &["tests/notifications/versions_v1.toll", "--state", state_arg],
        &first,
    );
    assert!(
        lines.iter().all(|l| l["decision"] == "deliver"),
        "{lines:?}"
    );
    let second: String = [
        msg("promo", "09:20"),
        msg("promo", "09:30"),
        msg("notice", "09:05"),
        msg("status", "09:10"),
    ]
    .concat();
    let (lines, stderr) = eval(
        &["tests/notifications/versions_v2.toll", "--state", state_arg],
        &second,
    );
    let decisions: Vec<&str> = lines
        .iter()
        .map(|l| l["decision"].as_str().unwrap_or("error"))
        .collect();
    // promo_cap kept its two deliveries (now cap 3); notice_dedup kept its
    // one; status_cap's window changed, so it starts afresh.
    assert_eq!(
        decisions,
        ["deliver", "suppress", "suppress", "deliver"],
        "{lines:?}"
    );
    assert_eq!(lines[1]["rule"], "promo_cap");
    assert_eq!(lines[2]["rule"], "notice_dedup");
    assert!(
        stderr.contains("state of `versions` version 1 loaded into version 2"),
        "{stderr}"
    );
    for line in [
        "  kept    notice_dedup",
        "  kept    promo_cap",
        "  dropped status_cap: its window changed",
        "  dropped notice_cap: no rule of that name keeps state now",
    ] {
        assert!(stderr.contains(line), "{line:?} not in {stderr}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A rerun of the same input with `--state` (a gateway replaying after a
/// crash) answers every line with its first decision, marked as a repeat,
/// and records no new delivery: a fresh promotion afterwards still finds
/// room under the cap of 2 per 24h.
#[test]
fn a_rerun_answers_every_message_as_a_repeat() {
    let dir = std::env::temp_dir().join(format!("tollgate-rerun-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let state = dir.join("throttle.state");
    let _ = std::fs::remove_file(&state);
    let args = [
        "policies/notifications/merchant_messages.toll",
        "--state",
        state.to_str().unwrap(),
    ];
    let msg = |id: &str, kind: &str, at: &str| {
        format!(
            r#"{{"msg_id":"{id}","kind":"{kind}","merchant":"m1","terminal":"t1","txn_id":"x1","at":"2026-11-25T{at}+08:00"}}"#
        ) + "\n"
    };
    let input: String = [
        msg("a", "promo", "09:00:00"),
        msg("b", "txn_success", "09:01:00"),
        msg("c", "txn_success", "09:02:00"),
        msg("d", "promo", "12:00:00"),
        msg("e", "security", "09:03:00"),
    ]
    .concat();
    let (first, _) = eval(&args, &input);
    let decisions: Vec<&str> = first
        .iter()
        .map(|l| l["decision"].as_str().unwrap_or("error"))
        .collect();
    assert_eq!(
        decisions,
        ["deliver", "deliver", "suppress", "defer", "deliver"],
        "{first:?}"
    );
    assert!(first.iter().all(|l| l.get("repeat").is_none()), "{first:?}");
    let (again, _) = eval(&args, &input);
    assert_eq!(again.len(), first.len());
    for (a, f) in again.iter().zip(&first) {
        let mut expected = f.clone();
        expected["repeat"] = serde_json::json!(true);
        assert_eq!(a, &expected);
    }
    // One promotion was delivered, not two: a new one at 09:30 is the second.
    let (next, _) = eval(&args, &msg("f", "promo", "09:30:00"));
    assert_eq!(next, [serde_json::json!({"decision": "deliver"})]);
    let (cap, _) = eval(&args, &msg("g", "promo", "09:40:00"));
    assert_eq!(cap[0]["rule"], "promo_cap", "{cap:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}
