//! One pipeline for every command: `tollgate check` reports every error
//! `tollgate compile` would, for both kinds of policy (the issue that
//! made the pipeline one function found a notifications policy that
//! passed `check` and failed later). Each failing policy of the
//! diagnostic corpus gets the same diagnostics from both commands, and
//! each reference policy passes both.

// A test fails by panicking; helpers here may unwrap and index freely.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;
use std::path::{Path, PathBuf};
use std::process::Output;

fn tollgate(args: &[&str]) -> Output {
    common::tollgate_stdin(args, "")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn toll_files(dir: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toll"))
        .collect();
    files.sort();
    files
}

/// What `check` prints for one failing file, without its closing count.
fn check_findings(path: &str) -> String {
    let out = tollgate(&["check", path]);
    assert_eq!(out.status.code(), Some(1), "check {path}");
    let printed = text(&out.stdout);
    let (findings, summary) = printed
        .trim_end()
        .rsplit_once('\n')
        .unwrap_or_else(|| panic!("check {path} printed no findings: {printed}"));
    assert!(summary.starts_with("checked 1 file: "), "{summary}");
    format!("{findings}\n")
}

/// What `compile` prints for one failing file (`args` after the path).
fn compile_findings(path: &str, args: &[&str], scratch: &Path) -> String {
    let artifact = scratch.join("out.tgc");
    let artifact = artifact.to_str().unwrap();
    let mut all = vec!["compile", path, "-o", artifact];
    all.extend(args);
    let out = tollgate(&all);
    assert_eq!(out.status.code(), Some(1), "compile {path} {args:?}");
    assert!(
        !Path::new(artifact).exists(),
        "compile {path} wrote an artifact"
    );
    text(&out.stdout) + &text(&out.stderr)
}

#[test]
fn check_reports_what_compile_would() {
    let scratch = common::scratch("check_reports_what_compile_would");
    let files = toll_files("tests/diagnostics");
    let mut notifications = 0;
    for file in &files {
        let path = file.to_str().unwrap();
        let checked = check_findings(path);
        assert_eq!(checked, compile_findings(path, &[], &scratch), "{path}");
        let source = std::fs::read(file).unwrap();
        if String::from_utf8_lossy(&source).contains("\nkind notifications") {
            // A zone built for fewer years changes nothing of what fails.
            let narrow = compile_findings(path, &["--zone-years", "2026..2027"], &scratch);
            assert_eq!(checked, narrow, "{path} --zone-years 2026..2027");
            notifications += 1;
        }
    }
    // Among them, notifications policies that check but fail to compile:
    // a rule of too many rows (E0401), rules of too many together (E0403).
    assert!(notifications >= 2, "{notifications} notifications cases");
    for code in ["E0401_notification", "E0403_notification"] {
        assert!(
            files
                .iter()
                .any(|f| f.file_name().unwrap().to_string_lossy().starts_with(code)),
            "no {code} case"
        );
    }
}

#[test]
fn reference_policies_pass_check_and_compile() {
    let scratch = common::scratch("reference_policies_pass_check_and_compile");
    for file in toll_files("policies") {
        let path = file.to_str().unwrap();
        let out = tollgate(&["check", path]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "check {path}: {}",
            text(&out.stdout)
        );
        let artifact = scratch.join("out.tgc");
        let out = tollgate(&["compile", path, "-o", artifact.to_str().unwrap()]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "compile {path}: {}",
            text(&out.stderr)
        );
        std::fs::remove_file(&artifact).unwrap();
    }
}
