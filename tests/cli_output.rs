//! Every command's output written to a pipe whose reader goes away (as
//! `| head -1` does), to a pipe closed before the first write, and to a
//! full device: no panic, a quiet end on a broken pipe, one error line and
//! exit code 2 on a failing write.

// A test fails by panicking; helpers here may unwrap and index freely.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};

fn command(args: &[String]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tollgate"));
    c.args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .env("RUST_BACKTRACE", "1")
        .stdin(Stdio::null())
        .stderr(Stdio::piped());
    c
}

/// What a run printed on stderr and its exit code.
struct Ended {
    code: Option<i32>,
    stderr: String,
}

fn assert_no_panic(what: &str, e: &Ended) {
    assert!(
        !e.stderr.contains("panicked") && e.code != Some(101),
        "{what}: exit {:?}, stderr:\n{}",
        e.code,
        e.stderr
    );
}

/// Runs `args`, reads the first line of stdout, then closes the pipe.
fn read_one_line(args: &[String]) -> (String, Ended) {
    let mut child = command(args).stdout(Stdio::piped()).spawn().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    drop(out);
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let code = child.wait().unwrap().code();
    (first, Ended { code, stderr })
}

/// Runs `args` with stdout a pipe whose read end is closed at once.
fn closed_before_writing(args: &[String]) -> Ended {
    let mut child = command(args).stdout(Stdio::piped()).spawn().unwrap();
    drop(child.stdout.take());
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let code = child.wait().unwrap().code();
    Ended { code, stderr }
}

/// Runs `args` with stdout on `/dev/full`.
fn to_full_device(args: &[String]) -> Ended {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let o = command(args).stdout(Stdio::from(full)).output().unwrap();
    Ended {
        code: o.status.code(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// The three cases for one command line whose normal exit code is
/// `code`; `large` says its output is over 1 MiB (checked by a full run).
fn every_way_of_failing(args: &[String], code: i32, large: bool) {
    if large {
        let full = command(args).stdout(Stdio::piped()).output().unwrap();
        assert_eq!(full.status.code(), Some(code));
        assert!(full.stdout.len() > 1 << 20, "{} bytes", full.stdout.len());
        let (first, ended) = read_one_line(args);
        assert!(!first.is_empty());
        assert_no_panic("reader gone after one line", &ended);
        assert_eq!(ended.code, Some(code), "{}", ended.stderr);
    }
    let ended = closed_before_writing(args);
    assert_no_panic("pipe closed before the first write", &ended);
    assert_eq!(ended.code, Some(code), "{}", ended.stderr);
    let ended = to_full_device(args);
    assert_no_panic("/dev/full", &ended);
    assert_eq!(ended.code, Some(2), "{}", ended.stderr);
    assert!(
        ended.stderr.contains("error: cannot write the output"),
        "{}",
        ended.stderr
    );
}

/// A policy with thousands of errors (each rule names an unknown field),
/// so that `check` and `lint` print over 1 MiB as JSON.
fn many_errors(dir: &Path) -> String {
    let mut text = String::from(
        "policy noisy version 1\nkind fees\nrounding half_up\nfield amount: money\n\
         schedule s {\n  hit first\n",
    );
    for i in 0..4000 {
        text.push_str(&format!("  rule r{i} when chanel_{i} == 1 => 0.38%\n"));
    }
    text.push_str("  otherwise => 0.60%\n}\n");
    let path = dir.join("noisy.toll");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

#[test]
fn check_output_errors_are_handled() {
    let dir = common::scratch("output_check");
    let noisy = many_errors(&dir);
    every_way_of_failing(&strings(&["check", "--format", "json", &noisy]), 1, true);
    every_way_of_failing(&strings(&["check", &noisy]), 1, false);
    every_way_of_failing(&strings(&["check", "policies"]), 0, false);
}

#[test]
fn lint_output_errors_are_handled() {
    let dir = common::scratch("output_lint");
    let noisy = many_errors(&dir);
    for format in ["json", "sarif"] {
        every_way_of_failing(&strings(&["lint", "--format", format, &noisy]), 1, true);
    }
    every_way_of_failing(&strings(&["lint", "policies"]), 0, false);
}

#[test]
fn table_output_errors_are_handled() {
    // One rule over a set of 70,000 merchants: one cell wider than 65,535
    // characters (which used to panic in the padding) and a table over
    // 1 MiB, from a policy that compiles fast.
    let dir = common::scratch("output_table");
    let mut text = String::from(
        "policy listed version 1\nkind fees\nrounding half_up\n\
         field merchant: string\nfield amount: money\nschedule mdr {\n  hit first\n  \
         rule listed when merchant in {",
    );
    let names: Vec<String> = (0..70_000)
        .map(|i| format!("\"merchant-{i:06}\""))
        .collect();
    text.push_str(&names.join(", "));
    text.push_str("} => 0.38%\n  otherwise => 0.60%\n}\n");
    let path = dir.join("listed.toll");
    std::fs::write(&path, text).unwrap();
    let listed = path.display().to_string();
    every_way_of_failing(&strings(&["table", &listed]), 0, true);
    every_way_of_failing(&strings(&["table", "policies/fees/lakala.toll"]), 0, false);
    every_way_of_failing(&strings(&["table", "no/such/policy.toll"]), 2, false);
}

#[test]
fn explain_output_errors_are_handled() {
    // Its output is small: never over 1 MiB.
    every_way_of_failing(&strings(&["explain"]), 0, false);
    every_way_of_failing(&strings(&["explain", "L0207"]), 0, false);
}

#[test]
fn compile_output_errors_are_handled() {
    let dir = common::scratch("output_compile");
    let artifact = dir.join("out.tgc").display().to_string();
    every_way_of_failing(
        &strings(&["compile", "policies/fees/lakala.toll", "-o", &artifact]),
        0,
        false,
    );
}
