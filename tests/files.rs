//! Files Tollgate reads and writes: every file it writes replaces the old
//! one whole or not at all, and every file it reads is read under a size
//! limit, so that no input (a device, a FIFO, a huge sparse file) can hang a
//! command or exhaust memory.

// A test fails by panicking; helpers here may unwrap and index freely.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;
use common::root;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const FEES: &str = "policies/fees/acquirer_2026.toll";
const NOTIFY: &str = "policies/notifications/merchant_messages.toll";

/// Runs `tollgate ARGS` under `sh` with the shell limits `limits` (e.g.
/// `ulimit -v 1000000`), stdin closed, killed if it runs longer than 60 s.
fn tollgate_limited(limits: &str, args: &[&str]) -> (Output, Duration) {
    let bin = env!("CARGO_BIN_EXE_tollgate");
    let quoted: Vec<String> = args.iter().map(|a| format!("'{a}'")).collect();
    let script = format!("{limits}; exec '{bin}' {}", quoted.join(" "));
    let started = Instant::now();
    let mut child = Command::new("sh")
        .args(["-c", &script])
        .current_dir(root())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    (out, started.elapsed())
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// What a command said: `check` and `lint` print diagnostics on stdout,
/// the others on stderr.
fn said(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The files in `dir` other than `keep`.
fn others(dir: &Path, keep: &[&str]) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !keep.contains(&n.as_str()))
        .collect();
    names.sort();
    names
}

#[test]
fn compile_on_a_full_disk_keeps_the_old_artifact() {
    let dir = common::scratch("full-disk");
    let artifact = dir.join("fees.tga");
    let target = artifact.to_str().unwrap();
    let (first, _) = tollgate_limited("true", &["compile", FEES, "-o", target]);
    assert!(first.status.success(), "{}", stderr(&first));
    let good = std::fs::read(&artifact).unwrap();
    assert!(good.len() > 1024, "the artifact should outgrow the limit");
    // A file-size limit of one 512-byte block stands in for a full disk:
    // writes past it fail (SIGXFSZ ignored, so the write returns an error).
    let (second, _) = tollgate_limited(
        "trap '' XFSZ; ulimit -f 1",
        &["compile", FEES, "-o", target],
    );
    assert_eq!(second.status.code(), Some(2), "{}", stderr(&second));
    assert!(
        stderr(&second).contains("cannot write"),
        "{}",
        stderr(&second)
    );
    let after = std::fs::read(&artifact).unwrap();
    assert!(
        after == good,
        "the old artifact was damaged: {} bytes now, {} before",
        after.len(),
        good.len()
    );
    assert_eq!(
        others(&dir, &["fees.tga"]),
        Vec::<String>::new(),
        "temporary files left"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn compile_to_a_missing_directory_fails_cleanly() {
    let dir = common::scratch("missing-dir");
    let target = dir.join("no/such/dir/fees.tga");
    let (out, _) = tollgate_limited("true", &["compile", FEES, "-o", target.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("cannot write"), "{}", stderr(&out));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn compile_writes_to_a_device_in_place() {
    // `-o /dev/stdout` writes the artifact to standard output; the device
    // is never replaced by a renamed file.
    let (out, _) = tollgate_limited("true", &["compile", FEES, "-o", "/dev/stdout"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(out.stdout.starts_with(b"TOLLGATE"), "no artifact on stdout");
}

/// Each command that reads a policy, given `path`.
fn policy_commands(path: &str) -> Vec<Vec<String>> {
    let input = root().join("examples/transactions.jsonl");
    let input = input.to_str().unwrap().to_string();
    let p = path.to_string();
    vec![
        vec!["check".into(), p.clone()],
        vec!["lint".into(), p.clone()],
        vec!["table".into(), p.clone()],
        vec!["compile".into(), p.clone(), "-o".into(), "/dev/null".into()],
        vec!["eval".into(), p.clone(), "--input".into(), input],
        vec!["fmt".into(), "--check".into(), p],
    ]
}

#[test]
fn a_device_as_policy_is_refused_at_once() {
    for args in policy_commands("/dev/zero") {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        // A gigabyte of address space: the old reading of the whole file
        // ran out of it.
        let (out, took) = tollgate_limited("ulimit -v 1000000", &args);
        let err = said(&out);
        assert!(
            matches!(out.status.code(), Some(1 | 2)),
            "{args:?}: {:?} {err}",
            out.status
        );
        assert!(err.contains("not a regular file"), "{args:?}: {err}");
        assert!(took < Duration::from_secs(30), "{args:?} took {took:?}");
    }
}

#[test]
fn a_fifo_as_policy_does_not_hang() {
    let dir = common::scratch("fifo");
    let fifo = dir.join("policy.toll");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    for args in policy_commands(fifo.to_str().unwrap()) {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (out, took) = tollgate_limited("true", &args);
        let err = said(&out);
        assert!(took < Duration::from_secs(30), "{args:?} hung");
        assert!(err.contains("not a regular file"), "{args:?}: {err}");
        assert!(
            err.contains('-'),
            "{args:?}: no hint to use standard input: {err}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A scratch directory `name` holding `huge.toll`, a sparse file of 2 GiB.
fn sparse_policy(name: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let dir = common::scratch(name);
    let path = dir.join("huge.toll");
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(2 << 30).unwrap();
    (dir, path)
}

#[test]
fn a_huge_sparse_policy_is_refused_without_reading_it() {
    let (dir, path) = sparse_policy("sparse");
    for args in policy_commands(path.to_str().unwrap()) {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (out, took) = tollgate_limited("ulimit -v 1000000", &args);
        let err = said(&out);
        assert!(matches!(out.status.code(), Some(1 | 2)), "{args:?}: {err}");
        assert!(err.contains("larger than the limit"), "{args:?}: {err}");
        // Reported as E0004, by every command alike (docs/files.md).
        assert!(err.contains("E0004"), "{args:?}: {err}");
        assert!(took < Duration::from_secs(30), "{args:?} took {took:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `tollgate test POLICY` reads the policy whether or not its tests exist:
/// an oversized one is E0004, worded as with its tests beside it, and
/// exit 2 (a policy that cannot be read, docs/testing.md).
#[test]
fn test_reports_an_oversized_policy_as_e0004_with_or_without_its_tests() {
    let (dir, path) = sparse_policy("sparse_test");
    let policy = path.to_str().unwrap();
    let e0004 = |out: &Output| {
        let said = said(out);
        let line = said
            .lines()
            .find(|l| l.contains("[E0004]"))
            .unwrap_or_else(|| panic!("no E0004: {said}"));
        assert!(line.contains("larger than the limit"), "{said}");
        line.to_string()
    };
    let (without, took) = tollgate_limited("ulimit -v 1000000", &["test", policy]);
    assert_eq!(without.status.code(), Some(2), "{}", said(&without));
    assert!(took < Duration::from_secs(30), "took {took:?}");
    std::fs::write(
        dir.join("huge.test.toll"),
        "tests for huge\n\ntest \"any\" {\n  record { amount: 1.00 }\n  expect fee 0.01\n}\n",
    )
    .unwrap();
    let (with, _) = tollgate_limited("ulimit -v 1000000", &["test", policy]);
    assert_eq!(with.status.code(), Some(2), "{}", said(&with));
    assert_eq!(e0004(&without), e0004(&with));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_device_as_state_is_refused_at_once() {
    let input = root().join("tests/notifications/promo_cap.jsonl");
    let (out, took) = tollgate_limited(
        "ulimit -v 1000000",
        &[
            "eval",
            NOTIFY,
            "--input",
            input.to_str().unwrap(),
            "--state",
            "/dev/zero",
        ],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("not a regular file"), "{err}");
    assert!(out.stdout.is_empty(), "decided before the state was read");
    assert!(took < Duration::from_secs(30), "took {took:?}");
}

#[test]
fn compile_to_standard_output_writes_only_the_artifact() {
    let dir = common::scratch("stdout");
    // Through a pipe: the artifact alone on stdout, the note on stderr.
    let (out, _) = tollgate_limited("true", &["compile", FEES, "-o", "/dev/stdout"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let piped = dir.join("piped.tga");
    std::fs::write(&piped, &out.stdout).unwrap();
    assert!(stderr(&out).contains("compiled"), "{}", stderr(&out));
    let (table, _) = tollgate_limited("true", &["table", piped.to_str().unwrap()]);
    assert!(table.status.success(), "{}", stderr(&table));
    // Into a file by the shell: the file gets the artifact, and the
    // `/dev/stdout` link stays a link.
    let file = dir.join("redirected.tga");
    let (out, _) = tollgate_limited(
        &format!("exec > '{}'", file.display()),
        &["compile", FEES, "-o", "/dev/stdout"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        std::fs::read(&file).unwrap(),
        std::fs::read(&piped).unwrap()
    );
    let dev = std::fs::symlink_metadata("/dev/stdout").unwrap();
    assert!(dev.file_type().is_symlink(), "/dev/stdout was replaced");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn compile_writes_through_a_link_and_never_over_its_input() {
    let dir = common::scratch("link");
    let target = dir.join("target.tga");
    let link = dir.join("link.tga");
    std::fs::write(&target, b"old").unwrap();
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let (out, _) = tollgate_limited("true", &["compile", FEES, "-o", link.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(std::fs::read(&target).unwrap().starts_with(b"TOLLGATE"));
    // The policy itself as the output: refused, the policy untouched.
    let policy = dir.join("p.toll");
    std::fs::copy(root().join(FEES), &policy).unwrap();
    let p = policy.to_str().unwrap();
    let (out, _) = tollgate_limited("true", &["compile", p, "-o", p]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("is the policy being compiled"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read(&policy).unwrap(),
        std::fs::read(root().join(FEES)).unwrap()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_directory_as_records_is_named_in_the_error() {
    let dir = common::scratch("input-dir");
    let (out, _) = tollgate_limited("true", &["eval", FEES, "--input", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains(dir.to_str().unwrap()) && err.contains("directory"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
