//! Message ids survive a crash: `tollgate eval --state` journals the
//! decision of every message id before its line is printed, so a run
//! killed with SIGKILL mid-stream and rerun on the same input answers every
//! line the first run printed as a repeat, with the same decision, and no
//! cap is exceeded in what the gateway was told to send.

// A test fails by panicking; helpers here may unwrap and index freely.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
#![cfg(unix)]

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use tollgate_oracle::generate::Rng;

/// Promotions with ids, capped per merchant.
const POLICY: &str = r#"policy gateway version 1
kind notifications
timezone "UTC"
late records within 12h
message id id

field kind: enum { promo, notice }
field merchant: string
field id: string default ""
field at: timestamp

rule promo_cap when kind == promo => limit 2 per 24h by merchant
"#;

/// The most records a batch holds (`docs/durability.md`): a killed run may
/// have decided (and journaled) at most this many records it never printed.
const BATCH: usize = 1024;

/// `len` promotions 20 s apart from 2026-11-25 (all within the lateness),
/// for 300 merchants, each with its own id; and the merchant of each.
fn stream(seed: u64, len: usize) -> (String, Vec<String>) {
    let mut r = Rng::new(seed);
    let start = 1_795_564_800_000; // 2026-11-25T00:00:00Z
    let mut text = String::new();
    let mut merchants = Vec::new();
    for i in 0..len {
        let at = chrono::DateTime::from_timestamp_millis(start + i as i64 * 20_000)
            .unwrap()
            .format("%Y-%m-%dT%H:%M:%S%.3fZ");
        let merchant = format!("m{}", r.below(300));
        text.push_str(&format!(
            "{{\"kind\":\"promo\",\"merchant\":\"{merchant}\",\"id\":\"p{seed}-{i}\",\"at\":\"{at}\"}}\n"
        ));
        merchants.push(merchant);
    }
    (text, merchants)
}

fn spawn(dir: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(["eval", "policy.toll", "--state", "throttle.state"])
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn parse(lines: &[String]) -> Vec<serde_json::Value> {
    lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Runs with `input` on stdin, kept open, and kills the run with SIGKILL
/// once it has printed `kill_after` lines: the complete lines it printed.
fn killed_run(dir: &Path, input: &str, kill_after: usize) -> Vec<String> {
    let mut child = spawn(dir);
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_string();
    let (done, wait) = mpsc::channel::<()>();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
        let _ = wait.recv();
    });
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut read = Vec::new();
    for _ in 0..kill_after {
        assert!(out.read_until(b'\n', &mut read).unwrap() > 0, "ended early");
    }
    child.kill().unwrap();
    out.read_to_end(&mut read).unwrap();
    drop(done);
    writer.join().unwrap();
    assert_eq!(child.wait().unwrap().code(), None, "the run was killed");
    let text = String::from_utf8_lossy(&read);
    text.split_inclusive('\n')
        .filter(|l| l.ends_with('\n'))
        .map(|l| l.trim_end().to_string())
        .collect()
}

/// Runs to completion with `input` on stdin: its lines.
fn full_run(dir: &Path, input: &str) -> Vec<String> {
    let mut child = spawn(dir);
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_string();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

#[test]
fn a_rerun_after_kill_9_answers_what_was_printed_as_repeats() {
    let runs = common::cases(10) as usize;
    let mut r = Rng::new(5);
    for run in 0..runs {
        let dir = common::scratch(&format!("message-ids-kill-{run}"));
        std::fs::write(dir.join("policy.toll"), POLICY).unwrap();
        let len = 1500;
        let (input, merchants) = stream(run as u64, len);
        let kill_after = 1 + r.below(len - 1);
        let first = parse(&killed_run(&dir, &input, kill_after));
        assert!(first.len() >= kill_after);
        // The gateway got no answer for the rest: it sends everything again.
        let again = parse(&full_run(&dir, &input));
        assert_eq!(again.len(), len);
        for (i, (f, a)) in first.iter().zip(&again).enumerate() {
            assert!(f.get("repeat").is_none(), "run {run} line {i}: {f}");
            let mut expected = f.clone();
            expected["repeat"] = serde_json::json!(true);
            assert_eq!(a, &expected, "run {run}: line {i} printed before the kill");
        }
        // Decided but not printed: at most the batch that was being committed.
        for (i, a) in again.iter().enumerate().skip(first.len()) {
            if a.get("repeat").is_some() {
                assert!(
                    i < first.len() + BATCH,
                    "run {run}: line {i} is a repeat, more than a batch after the {} printed",
                    first.len()
                );
            }
        }
        // What the gateway acts on: the first answer it got for each message.
        let mut sent: BTreeMap<&str, usize> = BTreeMap::new();
        for (i, merchant) in merchants.iter().enumerate() {
            let answer = first.get(i).unwrap_or(&again[i]);
            if answer["decision"] == "deliver" {
                *sent.entry(merchant).or_default() += 1;
            }
        }
        for (merchant, n) in &sent {
            assert!(
                *n <= 2,
                "run {run}: {merchant} sent {n} promotions within 24h"
            );
        }
        assert!(sent.len() > 100, "run {run}: promotions were delivered");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
