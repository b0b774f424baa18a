//! `tollgate test`: the fixtures in `tests/testing/` (a passing file, tests
//! that fail on purpose, and files that cannot run: an unknown field, a
//! malformed record, a test of the wrong kind, a missing policy, an unknown
//! rule), with snapshots of what the user sees as text, JSON and JUnit XML,
//! and the exit codes.

// A test fails by panicking; helpers here may unwrap and index freely.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;
use common::{stdout, tollgate};
use std::process::Command;

/// The exit code a fixture must give: 0 when it passes, 1 for a test that
/// fails on purpose (`E0605_*`), 2 for a file that cannot run.
fn expected_code(name: &str) -> i32 {
    if name.starts_with("passing") {
        0
    } else if name.starts_with("E0605") {
        1
    } else {
        2
    }
}

#[test]
fn fixtures_text_snapshots_and_exit_codes() {
    insta::glob!("testing/*.test.toll", |path| {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let rel = format!("tests/testing/{name}");
        let o = tollgate(&["test", "--color", "never", &rel]);
        let text = stdout(&o);
        assert_eq!(
            o.status.code(),
            Some(expected_code(&name)),
            "{name}:\n{text}"
        );
        if let Some(code) = name.split('_').next().filter(|c| c.starts_with('E')) {
            assert!(
                text.contains(&format!("[{code}]")),
                "{name} must report {code}:\n{text}"
            );
        }
        insta::assert_snapshot!(text);
    });
}

#[test]
fn a_test_that_fails_on_purpose_exits_one() {
    let o = tollgate(&["test", "tests/testing/E0605_fee.test.toll"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let o = tollgate(&["test", "tests/testing/E0605_stream.test.toll"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
}

#[test]
fn a_policy_path_runs_its_companion_file() {
    let o = tollgate(&["test", "policies/fees/lakala.toll"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).starts_with("policies/fees/lakala.test.toll (policy lakala)\n"));
    let o = tollgate(&["test", "tests/testing/alerts.toll"]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "a policy without tests is an error"
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("alerts.test.toll does not exist"));
}

#[test]
fn json_report() {
    let o = tollgate(&[
        "test",
        "--format",
        "json",
        "--coverage",
        "tests/testing/passing.test.toll",
        "tests/testing/E0605_fee.test.toll",
        "tests/testing/E0602_unknown_field.test.toll",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(
        (
            &doc["tests"],
            &doc["passed"],
            &doc["failed"],
            &doc["errors"]
        ),
        (&9.into(), &6.into(), &2.into(), &1.into())
    );
    insta::assert_snapshot!(serde_json::to_string_pretty(&doc).unwrap());
}

#[test]
fn junit_report() {
    let o = tollgate(&["test", "--format", "junit", "tests/testing"]);
    assert_eq!(o.status.code(), Some(2));
    let xml = stdout(&o);
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites "));
    // One suite per test file.
    let files =
        std::fs::read_dir(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/testing"))
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .ends_with(".test.toll")
            })
            .count();
    assert_eq!(xml.matches("<testsuite name=").count(), files);
    // Quotes and markup in names and reports are escaped.
    assert!(xml.contains("testcase name=\"scan&apos;s components\""));
    assert!(!xml.contains("=> deliver"));
    insta::assert_snapshot!(xml);
}

#[test]
fn coverage_lists_what_no_test_exercised() {
    let o = tollgate(&["test", "--coverage", "tests/testing/passing.test.toll"]);
    assert_eq!(o.status.code(), Some(0));
    let text = stdout(&o);
    assert!(text.contains("coverage of shop (tests/testing/shop.toll): 6 of 9 exercised"));
    assert!(text.contains("the `otherwise` of schedule `mdr`"));
    assert!(
        !text.contains("rule `mdr.card`"),
        "the card rule was exercised"
    );
    insta::assert_snapshot!(text);
}

#[test]
fn coverage_comes_from_what_the_engine_did() {
    // A test that names the cap in its title but never reaches it does
    // not cover the cap; a stream whose promotion lands outside the quiet
    // window does not cover the window.
    let dir = common::scratch("engine");
    std::fs::copy(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/testing/shop.toll"),
        dir.join("shop.toll"),
    )
    .unwrap();
    std::fs::write(
        dir.join("shop.test.toll"),
        "tests for shop\ntest \"card cap 20.00\" {\n  record { channel: card, amount: 100.00 CNY }\n  expect fee 0.60 CNY\n}\n",
    )
    .unwrap();
    let o = tollgate(&[
        "test",
        "--coverage",
        dir.join("shop.toll").to_str().unwrap(),
    ]);
    let text = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{text}");
    assert!(text.contains("  min 0.10 of `mdr.card`\n"), "{text}");
    assert!(text.contains("  cap 20.00 of `mdr.card`\n"), "{text}");
    assert!(!text.contains("  rule `mdr.card`\n"), "{text}");
}

#[test]
fn notification_coverage_counts_only_rules_the_engine_consulted() {
    // An opted-out promotion is suppressed before any quiet window or cap
    // is looked at, and a security alert is delivered by its always-deliver
    // rule alone: the quiet rules and the caps were never consulted.
    let o = tollgate(&[
        "test",
        "--coverage",
        "tests/test_cmd/covnotify/merchant_messages.test.toll",
    ]);
    let text = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{text}");
    for rule in ["peak_hours", "night", "promo_cap", "terminal_cap"] {
        assert!(
            text.contains(&format!("  rule `{rule}`\n")),
            "{rule}: {text}"
        );
    }
    for rule in ["opted_out", "security_always"] {
        assert!(
            !text.contains(&format!("  rule `{rule}`\n")),
            "{rule}: {text}"
        );
    }
    // A promotion held by a quiet window at lunch: the window decided, the
    // caps after it were not consulted.
    let dir = common::scratch("lunch");
    std::fs::copy(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/test_cmd/covnotify/merchant_messages.toll"),
        dir.join("merchant_messages.toll"),
    )
    .unwrap();
    std::fs::write(
        dir.join("merchant_messages.test.toll"),
        "tests for merchant_messages\ntest \"lunch promo\" {\n  message at 2026-11-25T12:00:00+08:00 { kind: promo, merchant: \"g\", terminal: \"t1\" }\n      => defer until 2026-11-25T13:00:00+08:00 by peak_hours\n}\n",
    )
    .unwrap();
    let o = tollgate(&[
        "test",
        "--coverage",
        dir.join("merchant_messages.test.toll").to_str().unwrap(),
    ]);
    let text = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{text}");
    assert!(!text.contains("  rule `peak_hours`\n"), "{text}");
    for rule in ["night", "promo_cap", "terminal_cap"] {
        assert!(
            text.contains(&format!("  rule `{rule}`\n")),
            "{rule}: {text}"
        );
    }
}

#[test]
fn a_test_file_found_beside_a_policy_must_test_that_policy() {
    // `lakala.test.toll` says `tests for unionpay_classes`: asked for the
    // tests of lakala.toll, that is an error, not a run of other tests.
    let o = tollgate(&["test", "tests/test_cmd/mismatch/lakala.toll"]);
    let text = stdout(&o);
    assert_eq!(o.status.code(), Some(2), "{text}");
    assert!(text.contains("E0601"), "{text}");
    assert!(
        text.contains("found beside `lakala.toll`, but it tests `unionpay_classes`"),
        "{text}"
    );
    assert!(!text.contains("ok x"), "{text}");
}

#[test]
fn json_money_is_a_string() {
    let o = tollgate(&[
        "test",
        "--format",
        "json",
        "tests/test_cmd/jsonmoney/lakala.test.toll",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(
        doc["files"][0]["tests"][0]["record"]["amount"],
        serde_json::json!("12345678901234567.89")
    );
}

#[test]
fn a_test_file_named_twice_runs_once() {
    let o = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args([
            "test",
            "--coverage",
            ".",
            "lakala.test.toll",
            "./lakala.toll",
        ])
        .current_dir(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/test_cmd/multi"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let text = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{text}");
    assert!(text.contains("tested 2 files: 2 tests"), "{text}");
    assert_eq!(text.matches("coverage of lakala").count(), 1, "{text}");
}

#[test]
fn coverage_lists_an_untested_policy_that_fails_to_check() {
    let o = tollgate(&["test", "--coverage", "tests/test_cmd/brokenuntested"]);
    let text = stdout(&o);
    assert!(
        text.contains(
            "coverage of tests/test_cmd/brokenuntested/broken.toll (no tests): does not check"
        ),
        "{text}"
    );
    assert!(text.contains("E0302"), "{text}");
    let o = tollgate(&[
        "test",
        "--coverage",
        "--format",
        "json",
        "tests/test_cmd/brokenuntested",
    ]);
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let listed = doc["coverage"].as_array().unwrap();
    let broken = listed
        .iter()
        .find(|c| c["file"] == "tests/test_cmd/brokenuntested/broken.toll")
        .unwrap();
    assert_eq!(broken["tested"], false);
    assert!(broken["error"].as_str().unwrap().contains("E0302"));
}

#[test]
fn test_names_are_plain_unique_and_not_empty() {
    let dir = common::scratch("names");
    std::fs::copy(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/test_cmd/multi/lakala.toll"),
        dir.join("lakala.toll"),
    )
    .unwrap();
    let body = "  record { channel: debit_card, amount: 8000.00 CNY }\n  expect fee 25.00 CNY\n";
    let cases = [
        ("bell \u{7} and \u{1b}[31mred", "control character U+0007"),
        ("tab\\there", "control character U+0009"),
        ("new\\nline", "control character U+000A"),
        ("", "a test needs a name"),
    ];
    for (name, message) in cases {
        std::fs::write(
            dir.join("lakala.test.toll"),
            format!("tests for lakala\n\ntest \"{name}\" {{\n{body}}}\n"),
        )
        .unwrap();
        let o = tollgate(&["test", dir.join("lakala.test.toll").to_str().unwrap()]);
        let text = stdout(&o);
        assert_eq!(o.status.code(), Some(2), "{text}");
        assert!(text.contains("E0606"), "{text}");
        assert!(text.contains(message), "{message}: {text}");
    }
    std::fs::write(
        dir.join("lakala.test.toll"),
        format!("tests for lakala\n\ntest \"same\" {{\n{body}}}\n\ntest \"same\" {{\n{body}}}\n"),
    )
    .unwrap();
    let o = tollgate(&["test", dir.join("lakala.test.toll").to_str().unwrap()]);
    let text = stdout(&o);
    assert_eq!(o.status.code(), Some(2), "{text}");
    assert!(text.contains("two tests are named `same`"), "{text}");
}

#[test]
fn every_problem_of_a_test_is_reported() {
    let file = "tests/testing/E0602_every_problem.test.toll";
    let o = tollgate(&["test", "--color", "never", file]);
    assert_eq!(o.status.code(), Some(2));
    let text = stdout(&o);
    for problem in [
        "[E0602] Error: unknown field `chanel`",
        "[E0603] Error: missing required field `channel`",
        "[E0603] Error: `amount` is negative",
        "[E0604] Error: the policy has no rule `cards`",
        "[E0603] Error: `channel`: `bank` is not one of",
    ] {
        assert!(text.contains(problem), "{problem} missing from:\n{text}");
    }
    // JSON: every diagnostic of each test, the first also as `diagnostic`.
    let o = tollgate(&["test", "--format", "json", file]);
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let tests = &doc["files"][0]["tests"];
    let codes = |t: &serde_json::Value| -> Vec<String> {
        t["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["code"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(codes(&tests[0]), ["E0602", "E0603", "E0603", "E0604"]);
    assert_eq!(tests[0]["diagnostic"], tests[0]["diagnostics"][0]);
    assert_eq!(codes(&tests[1]), ["E0603"]);
    // JUnit: one error per test, with all its diagnostics.
    let o = tollgate(&["test", "--format", "junit", file]);
    let xml = stdout(&o);
    assert_eq!(xml.matches("<error ").count(), 2, "{xml}");
    assert!(xml.contains("unknown field `chanel` (did you mean `channel`?) (and 3 more)"));
    assert!(xml.contains("the policy has no rule `cards`"), "{xml}");
    // A stream: every message is checked before any is decided.
    let o = tollgate(&[
        "test",
        "--color",
        "never",
        "tests/testing/E0602_every_problem_stream.test.toll",
    ]);
    let text = stdout(&o);
    for code in ["[E0602]", "[E0603]", "[E0604]"] {
        assert!(text.contains(code), "{code} missing from:\n{text}");
    }
    assert!(text.contains("is not an instant"), "{text}");
}

#[test]
fn components_that_differ_are_named() {
    let o = tollgate(&[
        "test",
        "--color",
        "never",
        "tests/testing/E0605_components.test.toll",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let text = stdout(&o);
    assert!(
        text.contains("the components differ: expected mdr.card 9.80, got mdr.scan 9.80"),
        "{text}"
    );
    assert!(
        text.contains("the components differ: mdr.card: expected 5.00, got 6.00"),
        "{text}"
    );
    // The same component expected twice is a mistake in the test, shown at
    // the second line.
    let o = tollgate(&[
        "test",
        "--color",
        "never",
        "tests/testing/E0102_component_twice.test.toll",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let text = stdout(&o);
    assert!(
        text.contains("E0102_component_twice.test.toll:9:3"),
        "{text}"
    );
    assert!(text.contains("first expected here"), "{text}");
}

#[test]
fn a_missing_path_or_an_empty_directory_is_an_error() {
    for missing in ["tests/testing/nonexistdir", "tests/testing/nonexist.toll"] {
        let o = tollgate(&["test", missing]);
        assert_eq!(o.status.code(), Some(2));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains(&format!("error: {missing}: no such file or directory")),
            "{err}"
        );
    }
    // A directory with no test file: a typo in a CI path must not pass.
    let dir = common::scratch("empty");
    let empty = dir.to_str().unwrap();
    let o = tollgate(&["test", empty]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("error: no .test.toll files under"), "{err}");
    assert!(err.contains("--allow-empty"), "{err}");
    let o = tollgate(&["test", "--allow-empty", empty]);
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stderr).contains("warning: no .test.toll files under"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn instants_are_shown_in_the_policys_zone() {
    let o = tollgate(&[
        "test",
        "--color",
        "never",
        "tests/testing/E0605_zone.test.toll",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let text = stdout(&o);
    assert!(
        text.contains(r#""at":"2026-11-25T11:00:00+08:00""#),
        "{text}"
    );
    assert!(!text.contains("+00:00"), "{text}");
}

#[test]
fn a_failed_repeat_says_it_is_one() {
    let o = tollgate(&[
        "test",
        "--color",
        "never",
        "tests/testing/E0605_repeat.test.toll",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let text = stdout(&o);
    assert!(
        text.contains(
            "repeat of message id `g-1`, first decided at 2026-11-25T10:00:00+08:00 (message 1)"
        ),
        "{text}"
    );
    assert!(text.contains("add `repeat` to the expectation"), "{text}");
    assert!(
        !text.contains("rule `notices` saw"),
        "no rule was consulted:\n{text}"
    );
    // `eval --explain` says the same of a repeat.
    let input = concat!(
        r#"{"kind":"notice","terminal":"t1","msg_id":"g-1","at":"2026-11-25T10:00:00+08:00"}"#,
        "\n",
        r#"{"kind":"notice","terminal":"t1","msg_id":"g-1","at":"2026-11-25T10:02:00+08:00"}"#,
        "\n"
    );
    let o = common::tollgate_stdin(
        &[
            "eval",
            "tests/testing/alerts.toll",
            "--explain",
            "--input",
            "-",
        ],
        input,
    );
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert_eq!(
        lines[1]["repeat_of"],
        serde_json::json!({ "message_id": "g-1", "decided_at": "2026-11-25T10:00:00+08:00" }),
        "{out}"
    );
    assert_eq!(lines[1]["explain"], serde_json::json!([]), "{out}");
}

#[test]
fn tiered_fees_are_explained_band_by_band() {
    let o = tollgate(&[
        "test",
        "--color",
        "never",
        "tests/testing/E0605_tiers.test.toll",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let text = stdout(&o);
    assert!(
        text.contains("1000.00 × 0.38% + 1000.00 × 0.60% = 9.80, half_up to 0.01 → 9.80"),
        "{text}"
    );
    // `eval --explain`: the bands of a marginal fee, the band of a whole one.
    let record = r#"{"channel":"scan","amount":"2000.00"}"#;
    let o = common::tollgate_stdin(
        &[
            "eval",
            "tests/testing/shop.toll",
            "--explain",
            "--input",
            "-",
        ],
        record,
    );
    let line: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        line["components"][0]["explain"]["bands"],
        serde_json::json!([
            { "part": "1000.00", "rate": "0.38%" },
            { "part": "1000.00", "rate": "0.60%" }
        ]),
        "{line}"
    );
    let record = r#"{"merchant_class":"standard","channel":"unionpay_qr","amount":"2000.00","settlement":"t1","onboarded_days":400,"suspected_cashout":false}"#;
    let o = common::tollgate_stdin(
        &[
            "eval",
            "policies/fees/acquirer_2026.toll",
            "--explain",
            "--input",
            "-",
        ],
        record,
    );
    let line: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let mdr = line["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["schedule"] == "mdr")
        .unwrap();
    assert_eq!(mdr["explain"]["band"], "above 1000.00", "{line}");
    assert_eq!(mdr["explain"]["rate"], "0.60%", "{line}");
}

#[test]
fn a_policy_named_otherwise_than_its_file_is_told_to_rename_the_file() {
    // `lakala.toll` says `policy lakala_v2`: only renaming the file (and its
    // tests) makes it testable, so the help must say so.
    let dir = common::scratch("renamed");
    let policy = std::fs::read_to_string("policies/fees/lakala.toll")
        .unwrap()
        .replace("policy lakala version", "policy lakala_v2 version");
    std::fs::write(dir.join("lakala.toll"), policy).unwrap();
    let tests = std::fs::read_to_string("policies/fees/lakala.test.toll").unwrap();
    std::fs::write(dir.join("lakala.test.toll"), &tests).unwrap();
    let o = tollgate(&[
        "test",
        "--color",
        "never",
        dir.join("lakala.test.toll").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let text = format!("{}{}", stdout(&o), String::from_utf8_lossy(&o.stderr));
    assert!(text.contains("E0601"), "{text}");
    assert!(
        text.contains("rename `lakala.toll` to `lakala_v2.toll`"),
        "{text}"
    );
    assert!(text.contains("`lakala_v2.test.toll`"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn junit_carries_the_coverage_it_was_asked_for() {
    let args = [
        "test",
        "--format",
        "junit",
        "tests/testing/passing.test.toll",
    ];
    let without = stdout(&tollgate(&args));
    assert!(!without.contains("coverage"), "{without}");
    let o = tollgate(&[&args[..], &["--coverage"]].concat());
    assert_eq!(o.status.code(), Some(0));
    let xml = stdout(&o);
    // A suite of its own with no tests: the figures as properties, the
    // report in words as its output.
    assert!(
        xml.contains(r#"<testsuite name="coverage" tests="0" failures="0" errors="0">"#),
        "{xml}"
    );
    assert!(
        xml.contains(r#"<property name="coverage.shop" value="6 of 9 exercised"/>"#),
        "{xml}"
    );
    assert_eq!(
        xml.matches(r#"<property name="coverage.shop.not_exercised" "#)
            .count(),
        3,
        "{xml}"
    );
    assert!(
        xml.contains("<system-out>coverage of shop (tests/testing/shop.toll): 6 of 9 exercised")
    );
    assert!(xml.contains("the `otherwise` of schedule `mdr`"));
}
