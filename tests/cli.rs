//! The `tollgate` binary as a user runs it: exit codes, output formats, and
//! bad input of every kind.

// A test fails by panicking; helpers here may unwrap and index freely.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn tollgate(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A scratch directory under the target directory, fresh for each test.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn clean_policies_exit_zero() {
    let o = tollgate(&["check", "policies"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert_eq!(stdout(&o).trim(), "checked 3 files: 0 errors, 0 warnings");
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
    assert_eq!(files as usize, corpus + 3);
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
        assert!(stdout(&o).starts_with(&format!("# {code}: ")));
        assert!(stdout(&o).contains("## How to fix"));
    }
    assert_eq!(tollgate(&["explain", "E9999"]).status.code(), Some(2));
}

#[test]
fn hostile_files_are_diagnosed_not_crashed_on() {
    let dir = scratch("hostile");
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
    let dir = scratch("tree");
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
