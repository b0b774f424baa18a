//! `tollgate lint --format sarif` validates against the official SARIF
//! 2.1.0 JSON schema (`tests/fixtures/sarif-schema-2.1.0.json`), on every
//! lint fixture and the reference policies, and carries the same findings
//! as `--format json`.

// A test fails by panicking; helpers here may unwrap and index freely.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use serde_json::Value;
use std::path::Path;
use std::process::Command;

fn lint(args: &[&str]) -> (Option<i32>, Value) {
    let o = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .arg("lint")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let doc = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&o.stdout)));
    (o.status.code(), doc)
}

/// The published pattern for `run.language` has a stray `]` that makes it
/// an invalid regular expression, so validators refuse the schema itself.
/// It is replaced (in memory, wherever it occurs) by the pattern it means;
/// Tollgate writes no `language`, so no result depends on it.
const BROKEN_LANGUAGE: &str = r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$""#;
const LANGUAGE: &str = r#""^[a-zA-Z]{2}(-[a-zA-Z]{2})?$""#;

fn validator() -> jsonschema::Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sarif-schema-2.1.0.json");
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(BROKEN_LANGUAGE));
    let schema: Value = serde_json::from_str(&text.replace(BROKEN_LANGUAGE, LANGUAGE)).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

fn assert_valid(v: &jsonschema::Validator, doc: &Value) {
    let errors: Vec<String> = v
        .iter_errors(doc)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "SARIF invalid:\n{}", errors.join("\n"));
}

#[test]
fn lint_output_is_valid_sarif_with_the_same_findings_as_json() {
    let v = validator();
    for paths in [
        vec!["tests/lints"],
        vec!["policies"],
        vec!["tests/lints/L0104_ok_closed.toll"],
    ] {
        let (code, sarif) = lint(&[&["--format", "sarif"][..], &paths[..]].concat());
        assert_valid(&v, &sarif);
        let (json_code, json) = lint(&[&["--format", "json"][..], &paths[..]].concat());
        assert_eq!(code, json_code);
        let results = sarif["runs"][0]["results"].as_array().unwrap();
        let diagnostics = json["diagnostics"].as_array().unwrap();
        assert_eq!(results.len(), diagnostics.len(), "{paths:?}");
        for (r, d) in results.iter().zip(diagnostics) {
            assert_eq!(r["ruleId"], d["code"]);
            assert_eq!(r["level"], d["severity"]);
            let region = &r["locations"][0]["physicalLocation"]["region"];
            assert_eq!(region["startLine"], d["line"]);
            assert_eq!(region["startColumn"], d["column"]);
            // Every result's rule is described in the driver.
            let index = r["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(
                sarif["runs"][0]["tool"]["driver"]["rules"][index]["id"],
                r["ruleId"]
            );
        }
    }
}

#[test]
fn the_schema_check_can_fail() {
    // A document the schema refuses, so that the test above means something.
    let v = validator();
    let (_, mut sarif) = lint(&[
        "--format",
        "sarif",
        "tests/lints/L0104_gap_at_the_boundary.toll",
    ]);
    assert_valid(&v, &sarif);
    sarif["runs"][0]["results"][0]["level"] = Value::from("fatal");
    assert!(!v.is_valid(&sarif));
}

#[test]
fn deny_warnings_fails_on_warnings_only() {
    let file = "tests/lints/L0107_mergeable.toll";
    let (code, _) = lint(&["--format", "json", file]);
    assert_eq!(code, Some(0));
    let (code, json) = lint(&["--format", "json", "--deny", "warnings", file]);
    assert_eq!(code, Some(1));
    assert_eq!(json["diagnostics"][0]["severity"], "error");
    let (code, _) = lint(&[
        "--format",
        "json",
        "--allow",
        "mergeable-rules",
        "--deny",
        "warnings",
        file,
    ]);
    assert_eq!(code, Some(0));
    let (code, json) = lint(&["--format", "json", "-D", "L0107", file]);
    assert_eq!((code, json["errors"].as_u64()), (Some(1), Some(1)));
    let o = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(["lint", "--allow", "mergeable-rule", file])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("did you mean `mergeable-rules`?"));
}

/// Whether `s` is a URI reference (RFC 3986): only unreserved, reserved
/// and percent-encoded characters.
fn is_uri_reference(s: &str) -> bool {
    let bytes = s.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = |j: usize| bytes.get(j).is_some_and(u8::is_ascii_hexdigit);
            if !(hex(i + 1) && hex(i + 2)) {
                return false;
            }
            i += 3;
            continue;
        }
        if !(b.is_ascii_alphanumeric() || b"-._~:/?#[]@!$&'()*+,;=".contains(&b)) {
            return false;
        }
        i += 1;
    }
    true
}

#[test]
fn a_policy_on_stdin_has_no_invalid_uri() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lints/L0104_gap_at_the_boundary.toll"),
    )
    .unwrap();
    let out = common::tollgate_stdin(&["lint", "--format", "sarif", "-"], &text);
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_valid(&validator(), &sarif);
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert!(!results.is_empty());
    for r in results {
        let locations = r["locations"].as_array().unwrap().iter();
        for loc in locations.chain(r["relatedLocations"].as_array().unwrap()) {
            let artifact = &loc["physicalLocation"]["artifactLocation"];
            assert!(artifact.is_object(), "{loc}");
            if let Some(uri) = artifact.get("uri") {
                let uri = uri.as_str().unwrap();
                assert!(is_uri_reference(uri), "not a URI reference: {uri}");
            }
        }
    }
    // A file name with characters a URI does not allow is percent-encoded.
    let dir = std::env::temp_dir().join(format!("tollgate-sarif-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("gap <2026> 100%.toll");
    std::fs::write(&path, &text).unwrap();
    let (_, sarif) = lint(&["--format", "sarif", path.to_str().unwrap()]);
    std::fs::remove_dir_all(&dir).unwrap();
    let uri = sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
        ["artifactLocation"]["uri"]
        .as_str()
        .unwrap();
    assert!(is_uri_reference(uri), "{uri}");
    assert!(uri.ends_with("gap%20%3C2026%3E%20100%25.toll"), "{uri}");
}
