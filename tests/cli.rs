//! The `tollgate` binary as a user runs it: exit codes, output formats, and
//! bad input of every kind.

// A test fails by panicking; helpers here may unwrap and index freely.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;
use common::{stdout, tollgate};
use std::path::Path;

#[test]
fn clean_policies_exit_zero() {
    let o = tollgate(&["check", "policies"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert_eq!(stdout(&o).trim(), "checked 4 files: 0 errors, 0 warnings");
}

#[test]
fn errors_exit_one_and_show_the_source() {
    let o = tollgate(&["check", "tests/diagnostics/E0103_unknown_variant.toll"]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(
        out.contains("[E0103] Error: `alipy` is not a variant of `channel`"),
        "{out}"
    );
    assert!(
        out.contains("rule scan when channel in {wechat, alipy} => 0.38%"),
        "{out}"
    );
    assert!(out.contains("did you mean `alipay`?"), "{out}");
    assert!(!out.contains('\u{1b}'), "no color codes with NO_COLOR");
}

#[test]
fn json_output_lists_every_diagnostic() {
    let o = tollgate(&["check", "--format", "json", "tests/diagnostics", "policies"]);
    assert_eq!(o.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let files = doc["files"].as_u64().unwrap();
    let corpus = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/diagnostics"))
        .unwrap()
        .count();
    assert_eq!(files as usize, corpus + 4);
    let diags = doc["diagnostics"].as_array().unwrap();
    assert_eq!(doc["errors"].as_u64().unwrap() as usize, diags.len());
    for d in diags {
        for key in [
            "code", "severity", "message", "file", "line", "column", "span",
        ] {
            assert!(!d[key].is_null(), "{key} missing in {d}");
        }
        assert!(
            d["file"].as_str().unwrap().contains("diagnostics"),
            "clean policies report nothing"
        );
    }
}

#[test]
fn missing_files_and_bad_usage_exit_two() {
    let o = tollgate(&["check", "no/such/file.toll"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot read no/such/file.toll"));
    assert_eq!(tollgate(&["check"]).status.code(), Some(2));
    assert_eq!(tollgate(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(
        tollgate(&["check", "--format", "yaml", "policies"])
            .status
            .code(),
        Some(2)
    );
    // An I/O error wins over policy errors found in other files.
    let o = tollgate(&["check", "tests/diagnostics", "no/such/dir"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn explain_prints_every_code_and_rejects_unknown_ones() {
    let list = tollgate(&["explain"]);
    assert_eq!(list.status.code(), Some(0));
    assert!(stdout(&list).contains("E0202  unit mismatch"));
    for line in stdout(&list).lines() {
        let code = line.split_whitespace().next().unwrap();
        let o = tollgate(&["explain", code]);
        assert_eq!(o.status.code(), Some(0));
        if code.starts_with('L') {
            // A lint: its page in docs/codes/, also found by name.
            let name = line.split_whitespace().nth(1).unwrap();
            assert!(stdout(&o).starts_with(&format!("# {code} {name}: ")));
            for heading in ["## What it does", "## Why is this bad", "## Example"] {
                assert!(stdout(&o).contains(heading), "{code} lacks {heading}");
            }
            assert_eq!(stdout(&tollgate(&["explain", name])), stdout(&o));
        } else {
            assert!(stdout(&o).starts_with(&format!("# {code}: ")));
            assert!(stdout(&o).contains("## How to fix"));
        }
    }
    assert_eq!(tollgate(&["explain", "E9999"]).status.code(), Some(2));
}

#[test]
fn hostile_files_are_diagnosed_not_crashed_on() {
    let dir = common::scratch("hostile");
    let lakala =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/fees/lakala.toll"))
            .unwrap();
    let mut cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "truncated.toll",
            lakala[..lakala.len() / 2].to_vec(),
            "E0001",
        ),
        (
            "random.toll",
            (0..4096u32)
                .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
                .collect(),
            "E0003",
        ),
        (
            "latin1.toll",
            b"policy caf\xe9 version 1\n".to_vec(),
            "E0003",
        ),
        ("empty.toll", Vec::new(), "E0001"),
    ];
    // 10 MB: over the size limit, refused without being read whole.
    let mut big = lakala.clone();
    while big.len() < 10 << 20 {
        big.extend_from_slice(b"# padding padding padding padding padding padding padding\n");
    }
    cases.push(("big.toll", big, "E0004"));
    for (name, bytes, code) in &cases {
        std::fs::write(dir.join(name), bytes).unwrap();
        let o = tollgate(&[
            "check",
            "--format",
            "json",
            dir.join(name).to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(1), "{name}");
        let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(doc["diagnostics"][0]["code"], *code, "{name}: {doc}");
        let text = tollgate(&["check", dir.join(name).to_str().unwrap()]);
        assert_eq!(text.status.code(), Some(1), "{name}");
        assert!(stdout(&text).contains(code), "{name}");
    }
}

#[test]
fn directories_are_searched_for_toll_files_only() {
    let dir = common::scratch("tree");
    std::fs::create_dir_all(dir.join("a/b")).unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/fees/lakala.toll"),
        dir.join("a/b/x.toll"),
    )
    .unwrap();
    std::fs::write(dir.join("a/notes.txt"), "not a policy").unwrap();
    let o = tollgate(&["check", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o).trim(), "checked 1 file: 0 errors, 0 warnings");
}

#[test]
fn eval_prints_one_line_per_record_in_order() {
    let o = tollgate(&[
        "eval",
        "policies/fees/acquirer_2026.toll",
        "--input",
        "examples/transactions.jsonl",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let input = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/transactions.jsonl"),
    )
    .unwrap();
    let out = stdout(&o);
    assert_eq!(out.lines().count(), input.lines().count());
    let first: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!(
        first.to_string(),
        r#"{"fee":"60.00","components":[{"schedule":"mdr","rule":"credit","fee":"60.00"},{"schedule":"cashout_surcharge","rule":"otherwise","fee":"0.00"},{"schedule":"instant_settlement","rule":"otherwise","fee":"0.00"}]}"#
    );
}

#[test]
fn bad_records_give_error_lines_and_processing_continues() {
    let input = concat!(
        "{\"channel\":\"credit_card\",\"amount\":\"100.00\"}\n",
        "{\"channel\":\"bitcoin\",\"amount\":\"100.00\"}\n",
        "not json\n",
        "\n",
        "{\"channel\":\"wechat\"}\n",
        "{\"channel\":\"wechat\",\"amount\":\"1e3\"}\n",
        "{\"channel\":\"wechat\",\"amount\":\"12.3.4\"}\n",
        "{\"channel\":\"debit_card\",\"amount\":\"8000.00\"}\n",
    );
    let o = common::tollgate_stdin(&["eval", "policies/fees/lakala.toll"], input);
    assert_eq!(o.status.code(), Some(1));
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines.len(),
        8,
        "one line out per line in, the blank one too"
    );
    assert_eq!(lines[0]["fee"], "0.60");
    assert_eq!(lines[1]["record"], 2);
    assert!(lines[1]["error"]
        .as_str()
        .unwrap()
        .contains("`bitcoin` is not one of"));
    assert_eq!(lines[2]["record"], 3);
    assert!(lines[2]["error"].as_str().unwrap().contains("invalid JSON"));
    assert_eq!(lines[3]["record"], 4);
    assert_eq!(lines[3]["error"], "blank line: no record");
    assert_eq!(lines[4]["record"], 5, "records are numbered by input line");
    assert!(lines[4]["error"]
        .as_str()
        .unwrap()
        .contains("missing required field `amount`"));
    assert_eq!(lines[5]["fee"], "3.80", "1e3 is exactly 1000");
    assert!(lines[6]["error"]
        .as_str()
        .unwrap()
        .contains("not a decimal number"));
    assert_eq!(lines[7]["fee"], "25.00");
}

#[test]
fn csv_input_and_artifacts_give_the_same_answers() {
    let dir = common::scratch("eval");
    let artifact = dir.join("lakala.tgc");
    let o = tollgate(&[
        "compile",
        "policies/fees/lakala.toll",
        "-o",
        artifact.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        stdout(&o).starts_with("compiled lakala version 1 to "),
        "{}",
        stdout(&o)
    );
    let from_source = tollgate(&[
        "eval",
        "policies/fees/lakala.toll",
        "--input",
        "examples/lakala.csv",
    ]);
    let from_artifact = tollgate(&[
        "eval",
        artifact.to_str().unwrap(),
        "--input",
        "examples/lakala.csv",
    ]);
    assert_eq!(from_source.status.code(), Some(0));
    assert_eq!(stdout(&from_source), stdout(&from_artifact));
    let jsonl = tollgate(&[
        "eval",
        "policies/fees/lakala.toll",
        "--input",
        "examples/transactions.jsonl",
    ]);
    assert_eq!(
        jsonl.status.code(),
        Some(1),
        "the acquirer's records have fields lakala does not read"
    );
    let csv = common::tollgate_stdin(
        &["eval", "policies/fees/lakala.toll", "--input-format", "csv"],
        "amount,channel\n800.00,wechat\n5,alipay\n,wechat\n",
    );
    let lines: Vec<&str> = std::str::from_utf8(&csv.stdout).unwrap().lines().collect();
    assert_eq!(
        lines[0],
        r#"{"fee":"3.04","components":[{"schedule":"mdr","rule":"scan","fee":"3.04"}]}"#
    );
    assert!(lines[1].contains(r#""fee":"0.02""#));
    assert_eq!(
        lines[2],
        r#"{"error":"missing required field `amount`","record":3}"#
    );
    let bad_header = common::tollgate_stdin(
        &["eval", "policies/fees/lakala.toll", "--input-format", "csv"],
        "amount,chanel\n1,wechat\n",
    );
    assert!(stdout(&bad_header).contains("unknown field `chanel` (did you mean `channel`?)"));
    assert_eq!(bad_header.status.code(), Some(1));
}

#[test]
fn damaged_artifacts_are_refused() {
    let dir = common::scratch("damaged");
    let artifact = dir.join("lakala.tgc");
    tollgate(&[
        "compile",
        "policies/fees/lakala.toll",
        "-o",
        artifact.to_str().unwrap(),
    ]);
    let mut bytes = std::fs::read(&artifact).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x10;
    std::fs::write(&artifact, &bytes).unwrap();
    let o = common::tollgate_stdin(&["eval", artifact.to_str().unwrap()], "{}\n");
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("checksum mismatch"));
    assert!(o.stdout.is_empty());
}

#[test]
fn explain_traces_the_rules_tried_and_the_arithmetic() {
    let o = common::tollgate_stdin(
        &["eval", "policies/fees/lakala.toll", "--explain"],
        "{\"channel\":\"debit_card\",\"amount\":\"8000.00\"}\n",
    );
    let line: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let e = &line["components"][0]["explain"];
    assert_eq!(e["tried"][0]["rule"], "credit");
    assert_eq!(
        e["tried"][0]["failed"],
        "`channel` is debit_card, the rule needs credit_card"
    );
    assert_eq!(e["matched"], "debit");
    assert_eq!(e["rate"], "0.50%");
    assert_eq!(e["raw"], "40.00");
    assert_eq!(e["rounded"], "40.00");
    assert_eq!(e["cap_applied"], "25.00");
    assert_eq!(e["fee"], "25.00");
}

#[test]
fn table_prints_rows_and_notification_rules() {
    let o = tollgate(&["table", "policies/fees/lakala.toll"]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    assert!(
        out.contains("schedule mdr (hit unique, on amount, rounding half_up to 0.01)"),
        "{out}"
    );
    assert!(
        out.contains("2 | debit       | debit_card                   | 0.50% cap 25.00"),
        "{out}"
    );
    let n = tollgate(&["table", "policies/notifications/merchant_messages.toll"]);
    assert_eq!(n.status.code(), Some(0));
    assert!(stdout(&n).contains("rule 1 security_always: always deliver"));
}

#[test]
fn over_long_records_are_refused_and_the_stream_goes_on() {
    let long = format!("{{\"channel\":\"{}\"}}\n", "x".repeat(3 << 20));
    let input =
        format!("{long}{{\"channel\":\"credit_card\",\"amount\":\"100.00\"}}\n\u{0}\u{ff}\n");
    let o = common::tollgate_stdin(&["eval", "policies/fees/lakala.toll"], &input);
    assert_eq!(o.status.code(), Some(1));
    let lines: Vec<&str> = std::str::from_utf8(&o.stdout).unwrap().lines().collect();
    assert_eq!(
        lines[0],
        r#"{"error":"record is longer than 1048576 bytes","record":1}"#
    );
    assert!(lines[1].starts_with(r#"{"fee":"0.60""#));
    assert!(lines[2].contains(r#""record":3"#));
}

#[test]
fn explain_names_every_alternative_of_a_failed_rule_and_unique_clashes() {
    let dir = common::scratch("overlap");
    let policy = dir.join("overlap.toll");
    let text = "policy overlap version 1\nkind fees\nrounding half_up\nfield channel: enum { card, qr }\nfield amount: money\n\
         schedule mdr {\n  hit unique\n  rule big when amount > 1000 or channel == qr => 0.50%\n  rule cards when channel == card => 0.60%\n}\n";
    std::fs::write(&policy, text).unwrap();
    // The source is refused: the overlap is proven, with a record.
    let o = common::tollgate_stdin(&["eval", policy.to_str().unwrap()], "");
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("[E0402]"), "{err}");
    assert!(
        err.contains(r#"for example {"channel":"card","amount":"1000.01"} matches both"#),
        "{err}"
    );
    // A table built without the proof (as an artifact made elsewhere may
    // be) still checks every record at run time.
    let (_, table) = common::unproven(text).unwrap();
    let artifact = dir.join("overlap.tgc");
    std::fs::write(&artifact, tollgate_runtime::artifact::encode(&table)).unwrap();
    let o = common::tollgate_stdin(
        &["eval", artifact.to_str().unwrap(), "--explain"],
        "{\"channel\":\"card\",\"amount\":\"10\"}\n{\"channel\":\"card\",\"amount\":\"2000\"}\n",
    );
    assert_eq!(o.status.code(), Some(1));
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines[0]["components"][0]["explain"]["tried"][0]["failed"],
        "`amount` is 10, the rule needs > 1000; `channel` is card, the rule needs qr"
    );
    assert_eq!(
        lines[1]["error"],
        "rules `big` and `cards` of unique schedule `mdr` both match this record"
    );
}

#[test]
fn over_long_csv_lines_stop_the_stream_with_an_error_line() {
    let input = format!(
        "channel,amount\nwechat,800.00\ncredit_card,{}\nwechat,1.00\n",
        "9".repeat(2 << 20)
    );
    let o = common::tollgate_stdin(
        &["eval", "policies/fees/lakala.toll", "--input-format", "csv"],
        &input,
    );
    assert_eq!(o.status.code(), Some(1));
    let lines: Vec<&str> = std::str::from_utf8(&o.stdout).unwrap().lines().collect();
    assert!(lines[0].starts_with(r#"{"fee":"3.04""#));
    assert_eq!(
        lines[1],
        r#"{"error":"a line is longer than 1048576 bytes; the rest of the input is not read","record":2}"#
    );
    assert_eq!(lines.len(), 2);
}

#[test]
fn unreadable_inputs_and_unwritable_outputs_exit_two() {
    let o = tollgate(&[
        "eval",
        "policies/fees/lakala.toll",
        "--input",
        "no/such/records.jsonl",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot read no/such/records.jsonl"));
    let o = tollgate(&[
        "compile",
        "policies/fees/lakala.toll",
        "-o",
        "no/such/dir/lakala.tgc",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot write no/such/dir/lakala.tgc"));
    let o = tollgate(&[
        "eval",
        "no/such/policy.toll",
        "--input",
        "examples/lakala.csv",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot read no/such/policy.toll"));
}

#[test]
fn state_is_carried_between_runs_and_damage_is_refused() {
    let dir = common::scratch("state");
    let state = dir.join("throttle.state");
    let promo = |at: &str| {
        format!("{{\"kind\":\"promo\",\"merchant\":\"m1\",\"terminal\":\"t1\",\"at\":\"2026-11-25T{at}+08:00\"}}\n")
    };
    let run = |input: String| {
        common::tollgate_stdin(
            &[
                "eval",
                "policies/notifications/merchant_messages.toll",
                "--state",
                state.to_str().unwrap(),
            ],
            &input,
        )
    };
    let first = run(format!("{}{}", promo("09:00:00"), promo("10:00:00")));
    assert_eq!(first.status.code(), Some(0));
    assert!(state.exists());
    let second = run(promo("14:00:00"));
    assert_eq!(
        stdout(&second).trim(),
        r#"{"decision":"suppress","rule":"promo_cap","reason":"cap reached: 2 delivered in 24h, cap 2"}"#
    );
    let mut bytes = std::fs::read(&state).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    std::fs::write(&state, &bytes).unwrap();
    let damaged = run(promo("15:00:00"));
    assert_eq!(damaged.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&damaged.stderr)
        .contains("saved state is damaged: checksum mismatch"));
    let fees = common::tollgate_stdin(
        &[
            "eval",
            "policies/fees/lakala.toll",
            "--state",
            state.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(fees.status.code(), Some(2));
}

#[test]
fn explain_shows_what_each_notification_rule_saw() {
    let o = common::tollgate_stdin(
        &["eval", "policies/notifications/merchant_messages.toll", "--explain"],
        concat!(
            "{\"kind\":\"promo\",\"merchant\":\"m1\",\"terminal\":\"t1\",\"at\":\"2026-11-25T09:00:00+08:00\",\"promo_cap\":5}\n",
            "{\"kind\":\"promo\",\"merchant\":\"m1\",\"terminal\":\"t1\",\"at\":\"2026-11-25T12:00:00+08:00\",\"promo_cap\":5}\n",
        ),
    );
    assert_eq!(o.status.code(), Some(0));
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[1]["decision"], "defer");
    let trace = lines[1]["explain"].as_array().unwrap();
    assert_eq!(trace.len(), 8, "every rule is listed");
    assert_eq!(
        trace[0],
        serde_json::json!({"rule": "security_always", "applies": false})
    );
    assert_eq!(trace[2]["saw"]["inside"], true);
    assert_eq!(trace[2]["saw"]["local_time"], "12:00:00");
    let cap = &trace[4]["saw"];
    assert_eq!(
        (
            cap["delivered_in_period"].as_u64(),
            cap["cap"].as_u64(),
            cap["clamped_from"].as_i64()
        ),
        (Some(1), Some(2), Some(5))
    );
}

#[test]
fn an_opted_out_merchant_gets_no_promotion_and_explain_says_why() {
    let o = common::tollgate_stdin(
        &["eval", "policies/notifications/merchant_messages.toll", "--explain"],
        "{\"kind\":\"promo\",\"merchant\":\"m1\",\"terminal\":\"t1\",\"at\":\"2026-11-25T12:00:00+08:00\",\"promo_opt_out\":true}\n",
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let line: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    // Suppressed, not deferred: the opt-out is decided before quiet windows.
    assert_eq!(line["decision"], "suppress");
    assert_eq!(line["rule"], "opted_out");
    assert_eq!(line["reason"], "merchant opted out of promotions");
    let trace = line["explain"].as_array().unwrap();
    let rule = trace.iter().find(|t| t["rule"] == "opted_out").unwrap();
    assert_eq!(
        rule["saw"],
        serde_json::json!({"action": "suppress", "reason": "merchant opted out of promotions"})
    );
}

#[test]
fn a_json_record_with_a_key_twice_is_an_error_not_the_last_value() {
    let o = common::tollgate_stdin(
        &["eval", "policies/fees/lakala.toll"],
        concat!(
            "{\"channel\":\"credit_card\",\"amount\":\"100.00\",\"amount\":\"1.00\"}\n",
            "{\"channel\":\"credit_card\",\"amount\":\"100.00\"}\n",
        ),
    );
    assert_eq!(o.status.code(), Some(1));
    let lines: Vec<&str> = std::str::from_utf8(&o.stdout).unwrap().lines().collect();
    assert_eq!(
        lines[0],
        r#"{"error":"field `amount` appears twice in the record","record":1}"#
    );
    assert!(lines[1].starts_with(r#"{"fee":"0.60""#), "{}", lines[1]);
}

#[test]
fn csv_and_json_lines_number_records_alike_and_answer_blank_lines() {
    let jsonl = concat!(
        "{\"channel\":\"wechat\",\"amount\":\"800.00\"}\n",
        "\n",
        "{\"channel\":\"bitcoin\",\"amount\":\"1.00\"}\n",
        "{\"channel\":\"wechat\",\"amount\":\"5.00\"}\n",
    );
    let csv = "channel,amount\nwechat,800.00\n\nbitcoin,1.00\nwechat,5.00\n";
    let j = common::tollgate_stdin(&["eval", "policies/fees/lakala.toll"], jsonl);
    let c = common::tollgate_stdin(
        &["eval", "policies/fees/lakala.toll", "--input-format", "csv"],
        csv,
    );
    assert_eq!(j.status.code(), Some(1));
    assert_eq!(c.status.code(), Some(1));
    let (j, c) = (stdout(&j), stdout(&c));
    assert_eq!(j.lines().count(), 4, "{j}");
    let csv_lines: Vec<serde_json::Value> = c
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(csv_lines.len(), 4, "{c}");
    assert_eq!(csv_lines[1]["record"], 2);
    assert_eq!(csv_lines[1]["error"], "blank line: no record");
    assert_eq!(csv_lines[2]["record"], 3);
    let json_lines: Vec<serde_json::Value> = j
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(json_lines[2]["record"], 3);
    assert_eq!(csv_lines[2]["error"], json_lines[2]["error"]);
    assert_eq!(csv_lines[3]["fee"], json_lines[3]["fee"]);
}

#[test]
fn check_and_lint_read_the_policy_from_stdin() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/diagnostics/E0103_unknown_variant.toll"),
    )
    .unwrap();
    for command in ["check", "lint"] {
        let o = common::tollgate_stdin(&[command, "-"], &text);
        assert_eq!(o.status.code(), Some(1), "{command}");
        let out = stdout(&o);
        assert!(out.contains("[E0103]"), "{command}: {out}");
        assert!(out.contains("<stdin>:"), "{command} names stdin: {out}");
        let o = common::tollgate_stdin(&[command, "--format", "json", "-"], &text);
        let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(doc["diagnostics"][0]["file"], "<stdin>");
    }
    let clean = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/fees/lakala.toll"),
    )
    .unwrap();
    let o = common::tollgate_stdin(&["check", "-"], &clean);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o).trim(), "checked 1 file: 0 errors, 0 warnings");
    // The size limit holds for standard input too.
    let huge = format!("{clean}{}", "#".repeat(9 << 20));
    let o = common::tollgate_stdin(&["check", "-"], &huge);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("larger than the limit"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn unknown_fields_are_refused_unless_ignored_and_kept_fields_join_output_to_input() {
    let input = concat!(
        "{\"txn_id\":\"T1\",\"merchant\":\"m9\",\"channel\":\"wechat\",\"amount\":\"800.00\",\"terminal_sn\":\"X\"}\n",
        "{\"txn_id\":\"T2\",\"channel\":\"bitcoin\",\"amount\":\"1.00\"}\n",
        "{\"txn_id\":7,\"merchant\":\"m9\",\"channel\":\"wechat\",\"amount\":\"5.00\"}\n",
    );
    // Strict by default: the undeclared fields are errors.
    let o = common::tollgate_stdin(&["eval", "policies/fees/lakala.toll"], input);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("unknown field `txn_id`"),
        "{}",
        stdout(&o)
    );
    let o = common::tollgate_stdin(
        &[
            "eval",
            "policies/fees/lakala.toll",
            "--ignore-unknown",
            "--keep",
            "txn_id,merchant",
        ],
        input,
    );
    assert_eq!(o.status.code(), Some(1), "record 2 is still bad");
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["fee"], "3.04");
    assert_eq!(
        lines[0]["input"],
        serde_json::json!({"txn_id": "T1", "merchant": "m9"})
    );
    assert_eq!(lines[1]["record"], 2);
    assert_eq!(
        lines[1]["input"],
        serde_json::json!({"txn_id": "T2", "merchant": null}),
        "error lines carry the kept fields too"
    );
    assert_eq!(
        lines[2]["input"]["txn_id"], 7,
        "values are copied as written"
    );
    // A kept field is known without --ignore-unknown; others still are not.
    let o = common::tollgate_stdin(
        &["eval", "policies/fees/lakala.toll", "--keep", "txn_id"],
        "{\"txn_id\":\"T1\",\"channel\":\"wechat\",\"amount\":\"800.00\"}\n",
    );
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    // CSV: the same, with cells as strings.
    let o = common::tollgate_stdin(
        &[
            "eval",
            "policies/fees/lakala.toll",
            "--input-format",
            "csv",
            "--ignore-unknown",
            "--keep",
            "txn_id",
        ],
        "txn_id,channel,amount,note\nT1,wechat,800.00,x\n",
    );
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let line: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(line["input"], serde_json::json!({"txn_id": "T1"}));
    // Notifications too.
    let o = common::tollgate_stdin(
        &[
            "eval",
            "policies/notifications/merchant_messages.toll",
            "--keep",
            "msg_id",
        ],
        "{\"msg_id\":\"A\",\"kind\":\"security\",\"merchant\":\"m1\",\"terminal\":\"t1\",\"at\":\"2026-11-25T12:00:00+08:00\"}\n",
    );
    assert_eq!(
        stdout(&o).trim(),
        r#"{"decision":"deliver","input":{"msg_id":"A"}}"#
    );
}

#[test]
fn summary_line_on_stderr_when_asked() {
    let input = "{\"channel\":\"wechat\",\"amount\":\"800.00\"}\n\n";
    let quiet = common::tollgate_stdin(&["eval", "policies/fees/lakala.toll"], input);
    assert!(
        quiet.stderr.is_empty(),
        "no summary when stderr is not a terminal"
    );
    let o = common::tollgate_stdin(&["eval", "policies/fees/lakala.toll", "--summary"], input);
    let err = String::from_utf8_lossy(&o.stderr);
    let line = err.trim();
    assert!(
        line.starts_with("evaluated 2 records: 1 error, ") && line.ends_with("s elapsed"),
        "{line}"
    );
    assert_eq!(
        stdout(&o),
        stdout(&quiet),
        "the summary changes no output line"
    );
}

/// One number grammar for records (docs/records.md): JSON's, in a JSON
/// number, a JSON string and a CSV cell alike; integers are whole values in
/// 64 bits.
#[test]
fn numbers_in_records_follow_one_grammar_in_json_and_csv() {
    let dir = common::scratch("numbers");
    let policy = dir.join("numbers.toll");
    std::fs::write(
        &policy,
        "policy numbers version 1\nkind fees\nrounding half_up\nfield n: integer default 0\nfield amount: money\n\
         schedule mdr {\n  hit first\n  rule many when n > 5 => 1%\n  otherwise => 0.5%\n}\n",
    )
    .unwrap();
    let policy = policy.to_str().unwrap();
    // (field, text, Some(fee) or None for an error)
    let cases: &[(&str, &str, Option<&str>)] = &[
        ("amount", "100.00", Some("0.50")),
        ("amount", "1e3", Some("5.00")),
        ("amount", "1.5E2", Some("0.75")),
        ("amount", "0.5", Some("0.00")),
        ("amount", " 100", None),
        ("amount", "100 ", None),
        ("amount", "+100", None),
        ("amount", "0100", None),
        ("amount", ".5", None),
        ("amount", "5.", None),
        ("amount", "1_000", None),
        ("amount", "1,000.00", None),
        ("amount", "1e999", None),
        ("amount", "0x10", None),
        ("n", "6", Some("1.00")),
        ("n", "6.0", Some("1.00")),
        ("n", "6e0", Some("1.00")),
        ("n", "1e1", Some("1.00")),
        ("n", "6.5", None),
        ("n", "9223372036854775807", Some("1.00")),
        ("n", "9223372036854775808", None),
        ("n", "-9223372036854775809", None),
        ("n", "99999999999999999999", None),
    ];
    for &(field, text, want) in cases {
        let other = if field == "n" {
            ("amount", "100.00")
        } else {
            ("n", "0")
        };
        let json_string = format!(
            "{{\"{field}\":\"{text}\",\"{}\":\"{}\"}}\n",
            other.0, other.1
        );
        let csv = format!("{field},{}\n\"{text}\",{}\n", other.0, other.1);
        let mut inputs = vec![
            ("json string", json_string, vec!["eval", policy]),
            ("csv", csv, vec!["eval", policy, "--input-format", "csv"]),
        ];
        // Texts that are JSON numbers are tried as JSON numbers too.
        if serde_json::from_str::<serde_json::Number>(text).is_ok() && !text.contains(' ') {
            let json_number = format!("{{\"{field}\":{text},\"{}\":\"{}\"}}\n", other.0, other.1);
            inputs.push(("json number", json_number, vec!["eval", policy]));
        }
        for (how, input, args) in inputs {
            let o = common::tollgate_stdin(&args, &input);
            let line: serde_json::Value = serde_json::from_str(stdout(&o).trim())
                .unwrap_or_else(|_| panic!("{how} {text}: {}", stdout(&o)));
            match want {
                Some(fee) => assert_eq!(line["fee"], fee, "{how} `{text}`: {line}"),
                None => assert!(
                    line["error"].as_str().is_some_and(|e| e.contains(field)),
                    "{how} `{text}` must be refused: {line}"
                ),
            }
        }
    }
    // A byte-order mark at the start of the input is ignored, in both formats.
    let o = common::tollgate_stdin(&["eval", policy], "\u{feff}{\"amount\":\"100.00\"}\n");
    assert!(stdout(&o).starts_with(r#"{"fee":"0.50""#), "{}", stdout(&o));
    let o = common::tollgate_stdin(
        &["eval", policy, "--input-format", "csv"],
        "\u{feff}amount\n100.00\n",
    );
    assert!(stdout(&o).starts_with(r#"{"fee":"0.50""#), "{}", stdout(&o));
}

#[test]
fn crlf_and_whitespace_only_csv_lines_are_blank_lines_like_json_lines() {
    let csv = "channel,amount\r\nwechat,800.00\r\n\r\n  \r\n\t\nwechat,5.00\r\n";
    let o = common::tollgate_stdin(
        &["eval", "policies/fees/lakala.toll", "--input-format", "csv"],
        csv,
    );
    assert_eq!(o.status.code(), Some(1));
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 5, "{lines:?}");
    assert_eq!(lines[0]["fee"], "3.04");
    for (i, line) in lines.iter().enumerate().take(4).skip(1) {
        assert_eq!(line["record"], i + 1);
        assert_eq!(line["error"], "blank line: no record");
    }
    assert_eq!(lines[4]["fee"], "0.02");
}

#[test]
fn keep_refuses_empty_or_padded_field_names() {
    for bad in ["", ",", "txn_id,", " txn_id", "txn_id ,merchant"] {
        let o = common::tollgate_stdin(
            &["eval", "policies/fees/lakala.toll", "--keep", bad],
            "{\"channel\":\"wechat\",\"amount\":\"800.00\"}\n",
        );
        assert_eq!(o.status.code(), Some(2), "--keep {bad:?}");
        assert!(o.stdout.is_empty(), "--keep {bad:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("--keep"), "--keep {bad:?}: {err}");
        assert!(err.contains("field name"), "--keep {bad:?}: {err}");
    }
}
