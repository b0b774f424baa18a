//! The `tollgate-vectors` program: it writes the pack the library builds
//! with the interpreters' answers (JSON Lines, and the C form), says what
//! it wrote, and refuses bad input clearly (exit 1 for a policy with
//! errors, 2 for usage), writing nothing then. That the runtime replays the
//! vectors byte for byte is `tests/vectors.rs` of the `tollgate` package.

// A test fails by panicking; helpers here may unwrap and index freely.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use tollgate_oracle::reference::Interpreters;

/// The repository root, where the policies are.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A fresh directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("vectors_cli_{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn vectors(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tollgate-vectors"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

#[test]
fn the_program_writes_the_interpreters_pack() {
    let dir = scratch("pack");
    for (policy, years) in [
        ("policies/fees/lakala.toll", None),
        ("tests/notifications/new_york.toll", Some((2026, 2035))),
    ] {
        let (jsonl, c_form) = (dir.join("v.jsonl"), dir.join("v.txt"));
        let mut args = vec![
            policy,
            "-o",
            jsonl.to_str().unwrap(),
            "--c-output",
            c_form.to_str().unwrap(),
        ];
        if years.is_some() {
            args.extend(["--zone-years", "2026..2035"]);
        }
        let o = vectors(&args);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        let text = std::fs::read_to_string(root().join(policy)).unwrap();
        let pack = tollgate::vectors::generate(&Interpreters, &text, years).unwrap();
        assert_eq!(std::fs::read_to_string(&jsonl).unwrap(), pack.jsonl());
        assert_eq!(
            std::fs::read_to_string(&c_form).unwrap(),
            pack.c_form().unwrap()
        );
        let said = String::from_utf8(o.stdout).unwrap();
        let want = format!(
            "wrote {} vectors in {} groups for {} version {} (artifact content hash {:016x}) to {}\n",
            pack.len(),
            pack.groups.len(),
            pack.policy,
            pack.version,
            pack.hash,
            jsonl.display()
        );
        assert_eq!(said, want);
    }
}

#[test]
fn vectors_refuse_bad_input_clearly() {
    let dir = scratch("errors");
    let out = dir.join("v.jsonl");
    let o = vectors(&[
        "policies/fees/lakala.toll",
        "-o",
        out.to_str().unwrap(),
        "--zone-years",
        "2026..2030",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr)
        .contains("--zone-years applies to notifications policies"));
    let o = vectors(&[
        "tests/diagnostics/E0101_unknown_field.toll",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("E0101"));
    assert!(!out.exists());
    // The policy itself is never overwritten.
    let o = vectors(&[
        "policies/fees/lakala.toll",
        "-o",
        "policies/fees/lakala.toll",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("is the policy"));
    let o = vectors(&["policies/fees/lakala.toll"]);
    assert_eq!(o.status.code(), Some(2), "no --output is a usage error");
}
