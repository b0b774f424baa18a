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
