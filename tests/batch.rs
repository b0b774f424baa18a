//! Batch pricing with `tollgate eval`: `--jobs N` answers exactly as one
//! thread does (the same lines in the same order, error lines and exit
//! codes included), `--output fee` prints the totals, and nothing but the
//! answers reaches a pipe (no progress bar).

// A test fails by panicking; helpers here may unwrap and index freely.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;
use common::tollgate;

use std::path::Path;
use std::process::{Command, Output};

const POLICY: &str = "policies/fees/acquirer_2026.toll";

/// `n` records built from the sample transactions with varied amounts,
/// with bad lines mixed in: blank lines, broken JSON, unknown fields,
/// invalid UTF-8, a byte-order mark first, and (when `long`) a line over
/// the 1 MiB limit.
fn input(n: usize, long: bool) -> Vec<u8> {
    let sample = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/transactions.jsonl"),
    )
    .unwrap();
    let lines: Vec<&str> = sample.lines().collect();
    let mut out = "\u{feff}".as_bytes().to_vec();
    for i in 0..n {
        match i % 997 {
            13 => out.extend_from_slice(b"\n"),
            14 => out.extend_from_slice(b"{\"channel\": \"wechat\",\n"),
            15 => out.extend_from_slice(b"{\"chanel\": \"wechat\", \"amount\": \"1.00\"}\n"),
            16 => out.extend_from_slice(b"\xff\xfe not text\n"),
            17 => out.extend_from_slice(b"{\"merchant_class\": \"standard\", \"channel\": \"bitcoin\", \"amount\": \"1\", \"settlement\": \"t1\", \"onboarded_days\": 1, \"suspected_cashout\": false}\n"),
            18 if long && i < 1000 => {
                out.push(b'"');
                out.extend(std::iter::repeat_n(b'x', (1 << 20) + 10));
                out.extend_from_slice(b"\"\n");
            }
            _ => {
                let line = lines[i % lines.len()];
                let amount = format!("\"amount\": \"{}.{:02}\"", i * 7 % 90_000, i % 100);
                let varied = match line.find("\"amount\": \"") {
                    Some(at) => {
                        let end = line[at + 11..].find('"').unwrap() + at + 12;
                        format!("{}{amount}{}", &line[..at], &line[end..])
                    }
                    None => line.to_string(),
                };
                out.extend_from_slice(varied.as_bytes());
                out.push(b'\n');
            }
        }
    }
    out
}

fn write_input(name: &str, bytes: &[u8]) -> String {
    let dir = common::scratch(name);
    let path = dir.join("records.jsonl");
    std::fs::write(&path, bytes).unwrap();
    path.to_str().unwrap().to_string()
}

/// Runs `eval` over `path` with `extra` arguments.
fn eval(path: &str, extra: &[&str]) -> Output {
    let mut args = vec!["eval", POLICY, "--input", path];
    args.extend_from_slice(extra);
    tollgate(&args)
}

#[test]
fn jobs_answer_as_one_thread_does() {
    let path = write_input("jobs_small", &input(3_000, true));
    let one = eval(&path, &["--jobs", "1"]);
    assert_eq!(one.status.code(), Some(1), "bad lines make exit code 1");
    let text = String::from_utf8(one.stdout.clone()).unwrap();
    assert_eq!(text.lines().count(), 3_000, "one line out per line in");
    assert!(text.contains(r#"{"error":"blank line: no record","record":14}"#));
    assert!(text.contains(r#"{"error":"line is not valid UTF-8","record":17}"#));
    assert!(text.contains(r#"{"error":"record is longer than 1048576 bytes","record":19}"#));
    assert!(text.lines().nth(1).unwrap().starts_with(r#"{"fee":"#));
    for jobs in ["2", "3", "8"] {
        let many = eval(&path, &["--jobs", jobs]);
        assert_eq!(many.status.code(), one.status.code(), "--jobs {jobs}");
        assert!(
            many.stdout == one.stdout,
            "--jobs {jobs}: the same lines in the same order"
        );
        assert_eq!(many.stderr, one.stderr, "--jobs {jobs}");
    }
    // The default (one thread per core) too.
    assert!(eval(&path, &[]).stdout == one.stdout);
}

#[test]
fn jobs_on_a_large_input() {
    let path = write_input("jobs_large", &input(200_000, false));
    let one = eval(&path, &["--jobs", "1", "--output", "fee"]);
    let two = eval(&path, &["--jobs", "2", "--output", "fee"]);
    assert_eq!(one.status.code(), Some(1));
    assert_eq!(two.status.code(), Some(1));
    assert_eq!(one.stdout.iter().filter(|&&b| b == b'\n').count(), 200_000);
    assert!(one.stdout == two.stdout, "the same lines in the same order");
}

#[test]
fn good_input_exits_zero_with_any_jobs() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/transactions.jsonl")
        .to_str()
        .unwrap()
        .to_string();
    let one = eval(&path, &["--jobs", "1"]);
    let two = eval(&path, &["--jobs", "2"]);
    assert_eq!(one.status.code(), Some(0));
    assert_eq!(two.status.code(), Some(0));
    assert_eq!(one.stdout, two.stdout);
}

#[test]
fn output_fee_is_the_total_of_each_decision() {
    let path = write_input("output_fee", &input(2_000, false));
    let json = eval(&path, &["--jobs", "1"]);
    let fees = eval(&path, &["--output", "fee"]);
    assert_eq!(fees.status.code(), json.status.code());
    let json = String::from_utf8(json.stdout).unwrap();
    let fees = String::from_utf8(fees.stdout).unwrap();
    assert_eq!(json.lines().count(), fees.lines().count());
    for (j, f) in json.lines().zip(fees.lines()) {
        let value: serde_json::Value = serde_json::from_str(j).unwrap();
        match value.get("fee") {
            // A priced record: its total alone.
            Some(fee) => assert_eq!(fee.as_str().unwrap(), f),
            // A bad record: the same error line.
            None => assert_eq!(j, f),
        }
    }
}

#[test]
fn output_fee_applies_to_fees_policies() {
    let out = tollgate(&[
        "eval",
        "policies/notifications/merchant_messages.toll",
        "--input",
        "examples/transactions.jsonl",
        "--output",
        "fee",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: --output fee applies to fees policies\n"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn jobs_zero_is_refused() {
    let out = tollgate(&["eval", POLICY, "--jobs", "0"]);
    assert_eq!(out.status.code(), Some(2));
}

/// Runs `tollgate` with `input` written to its standard input, a pipe, by
/// another thread while its output is read (the output is larger than a
/// pipe holds).
fn piped(args: &[&str], input: Vec<u8>) -> Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

/// Standard input is read on one thread (a pipe may bring records one at
/// a time), with the same answers.
#[test]
fn stdin_answers_alike() {
    let bytes = input(2_500, false);
    let path = write_input("stdin", &bytes);
    let file = eval(&path, &["--jobs", "2"]);
    let text = String::from_utf8_lossy(&bytes).to_string();
    // The invalid UTF-8 lines are lost to the lossy conversion: compare
    // without them.
    let piped = piped(&["eval", POLICY, "--jobs", "2"], text.into_bytes());
    assert_eq!(piped.status.code(), file.status.code());
    let differ = String::from_utf8(file.stdout)
        .unwrap()
        .lines()
        .zip(String::from_utf8(piped.stdout).unwrap().lines())
        .filter(|(a, b)| a != b)
        .count();
    assert_eq!(differ, 3, "only the lines that were invalid UTF-8 differ");
}

/// With stderr a pipe, a run on a file prints no progress bar, and nothing
/// at all on stderr without `--summary`.
#[test]
fn no_progress_on_a_pipe() {
    let path = write_input("progress", &input(50_000, false));
    for jobs in ["1", "2"] {
        let out = eval(&path, &["--jobs", jobs]);
        assert!(
            out.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let out = eval(&path, &["--jobs", jobs, "--summary"]);
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(
            err.starts_with("evaluated 50000 records: ") && err.lines().count() == 1,
            "{err}"
        );
    }
}

/// What `eval` writes to a terminal on stderr, its stdout discarded: the
/// command `sh` runs under a pseudo-terminal made by `script` (util-linux),
/// with the escape sequences and carriage returns of a redrawn line
/// turned into plain lines.
fn on_a_terminal(sh: &str) -> String {
    let out = Command::new("script")
        .args(["-qec", sh, "/dev/null"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(std::process::Stdio::null())
        .output()
        .expect("`script` (util-linux) runs a command under a pseudo-terminal");
    // `script -e` ends with the command's code: 1 here, for the input's
    // bad lines.
    assert!(
        out.status.code().is_some(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).replace('\r', "\n");
    let mut plain = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: up to and including its final letter.
            for e in chars.by_ref() {
                if e.is_ascii_alphabetic() {
                    break;
                }
            }
        } else if c == '\n' || (' '..='~').contains(&c) {
            plain.push(c);
        }
    }
    plain
}

/// With stderr a terminal and a file as input, a run shows a progress bar
/// (percent, records done, the rate, an ETA) with any `--jobs`, and clears
/// it at the end; with a pipe as input (no size to measure) it shows none.
#[test]
fn a_progress_bar_on_a_terminal() {
    let path = write_input("progress-terminal", &input(300_000, false));
    let bin = env!("CARGO_BIN_EXE_tollgate");
    for jobs in ["1", "2"] {
        let shown = on_a_terminal(&format!(
            "'{bin}' eval {POLICY} --input '{path}' --jobs {jobs} > /dev/null"
        ));
        // The bar is drawn at once; its message (records done and the
        // rate) once the first answers are written, so a very fast run
        // may end before a line shows it: when one does, it is well formed.
        let bars: Vec<&str> = shown
            .lines()
            .filter(|l| l.contains("% ") && l.contains(" ETA "))
            .collect();
        assert!(
            !bars.is_empty(),
            "--jobs {jobs}: no progress bar in {shown:?}"
        );
        for bar in bars.iter().filter(|b| b.contains("records")) {
            let message = bar.split("% ").nth(1).unwrap_or_default();
            let (done, rest) = message.split_once(" records, ").unwrap_or_default();
            assert!(
                done.parse::<u64>().is_ok() && rest.contains("/s ETA "),
                "--jobs {jobs}: a malformed bar {bar:?}"
            );
        }
        assert!(
            shown.contains("evaluated 300000 records: "),
            "--jobs {jobs}: no summary in {shown:?}"
        );
    }
    let piped = on_a_terminal(&format!("cat '{path}' | '{bin}' eval {POLICY} > /dev/null"));
    assert!(!piped.contains("ETA"), "a bar for a pipe: {piped:?}");
    assert!(piped.contains("evaluated 300000 records: "), "{piped:?}");
}

#[test]
fn output_fee_reads_csv_too() {
    let args = [
        "eval",
        "policies/fees/lakala.toll",
        "--input",
        "examples/lakala.csv",
    ];
    let json = tollgate(&args);
    let fees = tollgate(&[&args[..], &["--output", "fee"]].concat());
    assert_eq!(fees.status.code(), json.status.code());
    let json = String::from_utf8(json.stdout).unwrap();
    let fees = String::from_utf8(fees.stdout).unwrap();
    assert_eq!(json.lines().count(), fees.lines().count());
    for (j, f) in json.lines().zip(fees.lines()) {
        let value: serde_json::Value = serde_json::from_str(j).unwrap();
        match value.get("fee") {
            Some(fee) => assert_eq!(fee.as_str().unwrap(), f),
            None => assert_eq!(j, f),
        }
    }
}

#[test]
fn output_csv_keeps_columns_and_answers_every_record() {
    let input = concat!(
        "{\"txn_id\":\"T1\",\"merchant_class\":\"standard\",\"channel\":\"credit_card\",\"amount\":\"100.00\",\"settlement\":\"t1\",\"onboarded_days\":400,\"suspected_cashout\":false}\n",
        "{\"txn_id\":\"T,2\",\"channel\":\"wechat\"}\n",
        "\n",
        "{\"txn_id\":7,\"merchant_class\":\"waived\",\"channel\":\"wechat\",\"amount\":\"5.00\",\"settlement\":\"d0\",\"onboarded_days\":1,\"suspected_cashout\":false}\n",
    );
    let path = write_input("output_csv", input.as_bytes());
    let out = eval(&path, &["--output", "csv", "--keep", "txn_id"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        concat!(
            "txn_id,fee,error\n",
            "T1,0.60,\n",
            "\"T,2\",,missing required field `merchant_class`\n",
            ",,blank line: no record\n",
            "7,0.00,\n",
        )
    );
    // Without --keep: the fee and the error; the same with --jobs.
    let one = eval(
        &path,
        &["--output", "csv", "--ignore-unknown", "--jobs", "1"],
    );
    let two = eval(
        &path,
        &["--output", "csv", "--ignore-unknown", "--jobs", "2"],
    );
    assert_eq!(one.stdout, two.stdout);
    assert_eq!(
        String::from_utf8(one.stdout).unwrap(),
        "fee,error\n0.60,\n,missing required field `merchant_class`\n,blank line: no record\n0.00,\n"
    );
}

#[test]
fn output_csv_reads_csv_input() {
    let out = tollgate(&[
        "eval",
        "policies/fees/lakala.toll",
        "--input",
        "examples/lakala.csv",
        "--output",
        "csv",
    ]);
    let json = tollgate(&[
        "eval",
        "policies/fees/lakala.toll",
        "--input",
        "examples/lakala.csv",
    ]);
    let text = String::from_utf8(out.stdout).unwrap();
    let mut rows = text.lines();
    assert_eq!(rows.next(), Some("fee,error"));
    for (row, j) in rows.zip(String::from_utf8(json.stdout).unwrap().lines()) {
        let value: serde_json::Value = serde_json::from_str(j).unwrap();
        match value.get("fee") {
            Some(fee) => assert_eq!(row, format!("{},", fee.as_str().unwrap())),
            None => assert!(row.starts_with(','), "{row}"),
        }
    }
}

#[test]
fn explain_writes_json_only() {
    let out = tollgate(&["eval", POLICY, "--output", "fee", "--explain"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: --explain writes JSON lines: it cannot be used with --output fee\n"
    );
}

/// Runs `eval` with `extra` over `path`, reading one line of its output
/// and then closing the pipe: the exit code and that line.
fn first_line_then_close(path: &str, extra: &[&str]) -> (Option<i32>, String) {
    use std::io::BufRead;
    use std::process::Stdio;
    let mut args = vec!["eval", POLICY, "--input", path];
    args.extend_from_slice(extra);
    let mut child = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(&args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    {
        let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
        out.read_line(&mut first).unwrap();
    }
    (child.wait().unwrap().code(), first)
}

/// A reader that goes away early (`| head -1`) ends the run quietly with
/// the exit code it would have had: 1 when a line it was sent is an error
/// line, whichever path and output wrote it.
#[test]
fn an_output_closed_early_keeps_the_error_exit_code() {
    let bad = "{\"channel\": \"bitcoin\", \"amount\": \"1\"}\n".repeat(200_000);
    let path = write_input("batch-closed-early", bad.as_bytes());
    for extra in [
        &["--jobs", "1"][..],
        &["--jobs", "2"],
        &["--output", "fee"],
        &["--output", "csv"],
    ] {
        let (code, first) = first_line_then_close(&path, extra);
        assert!(first.contains("error"), "{extra:?}: {first}");
        assert_eq!(code, Some(1), "{extra:?}");
    }
}

/// An error line carries the kept fields whenever the record could be
/// read that far: a record that writes a key twice is valid JSON, so its
/// error line keeps them, on every path that reads JSON Lines.
#[test]
fn a_repeated_key_keeps_the_kept_fields() {
    let line = "{\"channel\":\"wechat\",\"amount\":\"1\",\"amount\":\"2\",\"txn_id\":\"dup\"}\n";
    for (policy, extra) in [
        (POLICY, &["--jobs", "1"][..]),
        (POLICY, &["--output", "csv"]),
        (POLICY, &["--explain"]),
        ("policies/notifications/merchant_messages.toll", &[]),
    ] {
        let mut args = vec!["eval", policy, "--keep", "txn_id"];
        args.extend_from_slice(extra);
        let out = piped(&args, line.as_bytes().to_vec());
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("appears twice"), "{extra:?}: {text}");
        assert!(text.contains("dup"), "{policy} {extra:?}: {text}");
        assert_eq!(out.status.code(), Some(1), "{extra:?}");
    }
}
