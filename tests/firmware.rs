//! The C ABI (`crates/ffi`) from C: the header in the repository is what
//! cbindgen generates from the crate, and the C99 example
//! (`examples/firmware/firmware.c`) built against the static and the shared
//! library answers every transaction and message as `tollgate eval` does,
//! across a "reboot" that saves and restores its state, checks every error
//! path of the header, and runs clean under valgrind (no error, no leak).

// A test fails by panicking; helpers here may unwrap and index freely.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;
use common::root;

use chrono::{FixedOffset, TimeZone};
use rust_decimal::Decimal;
use serde_json::{json, Value as Json};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The header cbindgen generates from the crate's source now.
fn generated_header() -> String {
    let krate = root().join("crates/ffi");
    let config = cbindgen::Config::from_file(krate.join("cbindgen.toml")).unwrap();
    let mut out = Vec::new();
    cbindgen::Builder::new()
        .with_crate(&krate)
        .with_config(config)
        .generate()
        .unwrap()
        .write(&mut out);
    String::from_utf8(out).unwrap()
}

#[test]
fn the_header_is_what_cbindgen_generates() {
    let path = root().join("crates/ffi/include/tollgate.h");
    let now = generated_header();
    if std::env::var_os("TOLLGATE_UPDATE_HEADER").is_some() {
        std::fs::write(&path, &now).unwrap();
    }
    let kept = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        kept == now,
        "crates/ffi/include/tollgate.h is stale: regenerate it with \
         `TOLLGATE_UPDATE_HEADER=1 cargo test --test suite_cli firmware::the_header`"
    );
}

/// Builds the C library (debug: the fastest to build and run here).
fn build_library() -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let target = root().join("target/ffi");
    let out = Command::new(cargo)
        .args(["build", "--locked", "--manifest-path"])
        .arg(root().join("crates/ffi/Cargo.toml"))
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "building crates/ffi failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    target.join("debug")
}

/// Compiles the example `examples/firmware/NAME.c` (`name` up to its first
/// `-`) with the system C compiler against `library`
/// (extra arguments: how to link it).
fn build_example(dir: &Path, name: &str, link: &[&std::ffi::OsStr]) -> PathBuf {
    let exe = dir.join(name);
    let out = Command::new("cc")
        .args(["-std=c99", "-Wall", "-Wextra", "-Werror", "-g", "-I"])
        .arg(root().join("crates/ffi/include"))
        .arg(root().join(format!(
            "examples/firmware/{}.c",
            name.split('-').next().unwrap_or(name)
        )))
        .args(link)
        .arg("-o")
        .arg(&exe)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cc failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    exe
}

fn compile(policy: &Path, out: &Path) {
    let status = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .arg("compile")
        .arg(policy)
        .arg("-o")
        .arg(out)
        .output()
        .unwrap();
    assert!(status.status.success(), "{status:?}");
}

/// `tollgate eval` on JSON Lines: one JSON value per record.
fn eval(artifact: &Path, input: &Path) -> Vec<Json> {
    let out = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .arg("eval")
        .arg(artifact)
        .arg("--input")
        .arg(input)
        .output()
        .unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A small deterministic generator (the same inputs every run).
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

const CHANNELS: [&str; 7] = [
    "credit_card",
    "debit_card",
    "wechat",
    "alipay",
    "unionpay_qr",
    "cloud_quickpass",
    "bitcoin",
];

/// Transactions: the C program's lines and `eval`'s JSON records.
fn transactions() -> (String, String) {
    let mut r = Lcg(7);
    let (mut lines, mut json) = (String::new(), String::new());
    let amounts = [
        "0.01", "5.00", "7.50", "800.00", "3000.00", "4000.00", "5000.00", "10000.00", "50000.00",
        "30580.00", "-5.00", "1,000",
    ];
    for i in 0..60 {
        let channel = CHANNELS[r.below(CHANNELS.len() as u64) as usize];
        let amount = amounts[r.below(amounts.len() as u64) as usize];
        let fen: Option<i64> = amount
            .parse::<Decimal>()
            .ok()
            .map(|d| (d * Decimal::ONE_HUNDRED).try_into().unwrap());
        // Every third record gives the amount in fen, as a terminal would.
        match fen {
            Some(f) if i % 3 == 0 => lines.push_str(&format!("{channel} fen:{f}\n")),
            _ => lines.push_str(&format!("{channel} {amount}\n")),
        }
        json.push_str(&format!(
            "{}\n",
            json!({ "channel": channel, "amount": amount })
        ));
    }
    (lines, json)
}

const KINDS: [&str; 5] = [
    "txn_success",
    "txn_failure",
    "promo",
    "network_status",
    "security",
];

/// Messages: the C program's lines and `eval`'s JSON records.
fn messages() -> (String, String) {
    let mut r = Lcg(11);
    let (mut lines, mut json) = (String::new(), String::new());
    let china = FixedOffset::east_opt(8 * 3600).unwrap();
    let mut t: i64 = 1_795_536_000_000; // 2026-11-25T08:00:00+08:00
    for i in 0..160 {
        t += [0, 1_000, 59_000, 300_000, 600_000, 900_000, 3_600_000][r.below(7) as usize];
        let kind = KINDS[r.below(5) as usize];
        let merchant = ["m1", "m2"][r.below(2) as usize];
        let terminal = ["t1", "t2", "t3"][r.below(3) as usize];
        let txn = match kind {
            "txn_success" | "txn_failure" => format!("x{}", r.below(6)),
            _ => "-".into(),
        };
        // Gateways retry: ids repeat now and then.
        let id = match r.below(4) {
            0 => "-".to_string(),
            1 => format!("g{}", i.max(1) - 1),
            _ => format!("g{i}"),
        };
        let cap = match r.below(5) {
            0 => "1".to_string(),
            1 => "5".to_string(),
            _ => "-".to_string(),
        };
        lines.push_str(&format!(
            "{kind} {merchant} {terminal} {txn} {id} {t} 28800 {cap}\n"
        ));
        let mut record = json!({
            "kind": kind,
            "merchant": merchant,
            "terminal": terminal,
            "at": china.timestamp_millis_opt(t).unwrap().to_rfc3339(),
        });
        for (name, value) in [("txn_id", &txn), ("msg_id", &id)] {
            if value != "-" {
                record[name] = json!(value);
            }
        }
        if cap != "-" {
            record["promo_cap"] = json!(cap.parse::<i64>().unwrap());
        }
        json.push_str(&format!("{record}\n"));
    }
    (lines, json)
}

fn fen(text: &str) -> i64 {
    let d: Decimal = text.parse().unwrap();
    (d * Decimal::ONE_HUNDRED).normalize().try_into().unwrap()
}

/// `eval`'s answer for a transaction, in the C program's words.
fn fee_line(j: &Json) -> String {
    if j.get("error").is_some() {
        return "error".into();
    }
    let total = j["fee"].as_str().unwrap();
    let mut line = format!("fee {total} {}", fen(total));
    for c in j["components"].as_array().unwrap() {
        let fee = c["fee"].as_str().unwrap();
        line.push_str(&format!(
            " {}/{}={fee}/{}",
            c["schedule"].as_str().unwrap(),
            c["rule"].as_str().unwrap(),
            fen(fee)
        ));
    }
    line
}

/// `eval`'s answer for a message, in the C program's words.
fn decision_line(j: &Json) -> String {
    if j.get("error").is_some() {
        return "error".into();
    }
    let rule = j.get("rule").and_then(Json::as_str).unwrap_or("");
    let mut line = match j["decision"].as_str().unwrap() {
        "deliver" => "deliver".to_string(),
        "suppress" => format!("suppress {rule}"),
        "defer" => {
            let until = chrono::DateTime::parse_from_rfc3339(j["until"].as_str().unwrap()).unwrap();
            format!("defer {rule} {}", until.timestamp_millis())
        }
        other => panic!("unknown decision {other}"),
    };
    // A clamped cap: on a delivery, `clamped`; on a reached cap, in the
    // reason's words.
    if let Some(c) = j.get("clamped") {
        line.push_str(&format!(
            " clamped {} {} {}",
            c["rule"].as_str().unwrap(),
            c["from"],
            c["to"]
        ));
    } else if let Some(rest) = j
        .get("reason")
        .and_then(Json::as_str)
        .and_then(|r| r.split_once("(the record asked for "))
    {
        let (from, to) = rest
            .1
            .trim_end_matches(')')
            .split_once(", clamped to ")
            .unwrap();
        line.push_str(&format!(" clamped {rule} {from} {to}"));
    }
    if j.get("repeat") == Some(&json!(true)) {
        line.push_str(" repeat");
    }
    line
}

/// The C program's answer lines, errors reduced to `error` unless
/// `expected` has the error's words: an error about a number the C program
/// set from text (`tg_record_set_number`) is in `eval`'s words, naming the
/// number as written; other errors are worded by the runtime builder, and
/// `eval`'s by the host reader.
fn answers(stdout: &[u8], expected: &[String]) -> Vec<String> {
    String::from_utf8_lossy(stdout)
        .lines()
        .enumerate()
        .map(|(i, l)| {
            let worded = expected.get(i).is_some_and(|e| e.starts_with("error "));
            if l.starts_with("error") && !worded {
                "error".to_string()
            } else {
                l.to_string()
            }
        })
        .collect()
}

/// `eval`'s error lines in its words where the C program's transaction
/// line sets the amount from text and names a channel the policy has: the
/// error is then about the number.
fn number_errors_in_words(expected: &mut [String], evaluated: &[Json], txn_lines: &str) {
    for ((e, j), line) in expected.iter_mut().zip(evaluated).zip(txn_lines.lines()) {
        let (channel, amount) = line.split_once(' ').unwrap();
        if let Some(error) = j.get("error").and_then(Json::as_str) {
            if channel != "bitcoin" && !amount.starts_with("fen:") {
                *e = format!("error {error}");
            }
        }
    }
}

#[test]
fn the_c_example_answers_as_eval_does_and_runs_clean_under_valgrind() {
    let dir = common::scratch("firmware");
    let lib = build_library();
    let fees = dir.join("lakala.tga");
    let msgs = dir.join("merchant_messages.tga");
    compile(&root().join("policies/fees/lakala.toll"), &fees);
    compile(
        &root().join("policies/notifications/merchant_messages.toll"),
        &msgs,
    );
    // A policy whose cap no terminal store can enforce exactly.
    let huge = dir.join("huge.toll");
    std::fs::write(
        &huge,
        "policy huge version 1\nkind notifications\ntimezone \"Asia/Shanghai\"\n\
         field terminal: string\nfield at: timestamp\n\
         rule flood when terminal != \"\" => limit 70000 per 1h by terminal\n",
    )
    .unwrap();
    let capacity = dir.join("huge.tga");
    compile(&huge, &capacity);
    // The messages policy in effect on 2026-11-25 only: `tg_decide` answers
    // a message of the day before or after with the statuses of the fee
    // side's route, TG_NOT_YET_EFFECTIVE and TG_EXPIRED.
    let windowed = dir.join("windowed.tga");
    tollgate_ok(&[
        "compile".as_ref(),
        root()
            .join("policies/notifications/merchant_messages.toll")
            .as_os_str(),
        "-o".as_ref(),
        windowed.as_os_str(),
        "--effective-from".as_ref(),
        "2026-11-25T00:00:00+08:00".as_ref(),
        "--until".as_ref(),
        "2026-11-26T00:00:00+08:00".as_ref(),
    ]);

    let (txn_lines, txn_json) = transactions();
    let (msg_lines, msg_json) = messages();
    let files = [
        ("txns.txt", txn_lines),
        ("txns.jsonl", txn_json),
        ("msgs.txt", msg_lines),
        ("msgs.jsonl", msg_json),
    ];
    for (name, text) in &files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    let priced = eval(&fees, &dir.join("txns.jsonl"));
    let mut expected: Vec<String> = priced.iter().map(fee_line).collect();
    number_errors_in_words(&mut expected, &priced, &files[0].1);
    for written in ["(`-5.00`)", "`1,000`"] {
        assert!(
            expected.iter().any(|l| l.contains(written)),
            "no number error naming {written}: {expected:?}"
        );
    }
    expected.extend(
        eval(&msgs, &dir.join("msgs.jsonl"))
            .iter()
            .map(decision_line),
    );
    assert!(expected.iter().any(|l| l.starts_with("defer")));
    assert!(expected.iter().any(|l| l.starts_with("suppress")));
    assert!(expected.iter().any(|l| l.ends_with("repeat")));
    assert!(expected.iter().any(|l| l == "error"));

    let args: Vec<PathBuf> = vec![
        fees.clone(),
        msgs.clone(),
        dir.join("txns.txt"),
        dir.join("msgs.txt"),
        capacity.clone(),
        windowed.clone(),
    ];
    let statically = build_example(
        &dir,
        "firmware",
        &[lib.join("libtollgate_ffi.a").as_os_str()],
    );
    let rpath = format!("-Wl,-rpath,{}", lib.display());
    let shared = build_example(
        &dir,
        "firmware-shared",
        &[
            std::ffi::OsStr::new("-L"),
            lib.as_os_str(),
            std::ffi::OsStr::new("-ltollgate_ffi"),
            std::ffi::OsStr::new(&rpath),
        ],
    );
    for exe in [&statically, &shared] {
        let out = Command::new(exe).args(&args).output().unwrap();
        assert!(
            out.status.success(),
            "{} failed its checks:\n{}",
            exe.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let got = answers(&out.stdout, &expected);
        assert_eq!(got.len(), expected.len(), "one answer per input line");
        for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
            assert_eq!(g, e, "line {} of the answers", i + 1);
        }
    }

    let valgrind = Command::new("valgrind").arg("--version").output();
    if valgrind.is_err() {
        eprintln!(
            "\n!!! SKIPPED: valgrind is not installed, so the C example was NOT checked \
             for memory errors and leaks (.ci/run installs it) !!!\n"
        );
        return;
    }
    let out = Command::new("valgrind")
        .args([
            "--error-exitcode=1",
            "--leak-check=full",
            "--errors-for-leak-kinds=all",
            "--quiet",
        ])
        .arg(&statically)
        .args(&args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "valgrind found errors or leaks:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(answers(&out.stdout, &expected), expected);
}

/// Writes the C-form vectors of `policy` into `dir`; returns them with the
/// artifact they certify.
fn vectors(policy: &str, dir: &Path) -> (PathBuf, PathBuf) {
    let stem = Path::new(policy).file_stem().unwrap().to_str().unwrap();
    let (jsonl, c_form, artifact) = (
        dir.join(format!("{stem}.vectors.jsonl")),
        dir.join(format!("{stem}.vectors.txt")),
        dir.join(format!("{stem}.tga")),
    );
    let text = std::fs::read_to_string(root().join(policy)).unwrap();
    let pack = tollgate::vectors::generate(&tollgate_oracle::reference::Interpreters, &text, None)
        .unwrap_or_else(|e| panic!("{policy}: {e:?}"));
    std::fs::write(&jsonl, pack.jsonl()).unwrap();
    std::fs::write(&c_form, pack.c_form().unwrap()).unwrap();
    compile(&root().join(policy), &artifact);
    (artifact, c_form)
}

#[test]
fn the_c_example_replays_the_conformance_vectors_and_catches_a_broken_artifact() {
    let dir = common::scratch("firmware_vectors");
    let lib = build_library();
    let exe = build_example(
        &dir,
        "firmware",
        &[lib.join("libtollgate_ffi.a").as_os_str()],
    );
    let packs = [
        vectors("policies/fees/lakala.toll", &dir),
        vectors("policies/notifications/merchant_messages.toll", &dir),
    ];
    let valgrind = Command::new("valgrind").arg("--version").output().is_ok();
    for (artifact, c_form) in &packs {
        let out = Command::new(&exe)
            .arg("--vectors")
            .arg(artifact)
            .arg(c_form)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "{}:\n{stdout}", c_form.display());
        assert!(
            stdout.trim_end().ends_with(" vectors, 0 mismatches"),
            "{stdout}"
        );
        if !valgrind {
            eprintln!("\n!!! SKIPPED: valgrind is not installed; the vectors replay was NOT checked for memory errors !!!\n");
            continue;
        }
        let out = Command::new("valgrind")
            .args([
                "--error-exitcode=1",
                "--leak-check=full",
                "--errors-for-leak-kinds=all",
                "--quiet",
            ])
            .arg(&exe)
            .arg("--vectors")
            .arg(artifact)
            .arg(c_form)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "valgrind found errors or leaks:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout), stdout);
    }
    // The fee artifact rounding half-even where the policy says half-up.
    let (artifact, c_form) = &packs[0];
    let bytes = std::fs::read(artifact).unwrap();
    let Ok(tollgate_runtime::artifact::Compiled::Fees(table)) =
        tollgate_runtime::artifact::decode_any(&bytes)
    else {
        panic!("not a fee artifact")
    };
    let table = common::rounded_as(&table, tollgate_runtime::rounding::RoundingMode::HalfEven);
    let broken = dir.join("lakala-half-even.tga");
    std::fs::write(&broken, tollgate_runtime::artifact::encode(&table)).unwrap();
    let out = Command::new(&exe)
        .arg("--vectors")
        .arg(&broken)
        .arg(c_form)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("MISMATCH"), "{stdout}");
}

/// Hex of a public key's text form (`tollgate-ed25519-public:BASE64`).
fn key_hex(public: &str) -> String {
    use base64::Engine;
    let b64 = public.strip_prefix("tollgate-ed25519-public:").unwrap();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn a_terminal_installs_only_signed_updates_and_never_rolls_back() {
    let dir = std::env::temp_dir().join(format!("tollgate-trusted-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let library = build_library();
    let exe = dir.join("trusted_update");
    let out = Command::new("cc")
        .args(["-std=c99", "-Wall", "-Wextra", "-Werror", "-g", "-I"])
        .arg(root().join("crates/ffi/include"))
        .arg(root().join("examples/firmware/trusted_update.c"))
        .arg(library.join("libtollgate_ffi.a"))
        .arg("-o")
        .arg(&exe)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cc failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let tollgate = tollgate_ok;
    let key = dir.join("release.key");
    let keygen = tollgate(&["keygen".as_ref(), "--out".as_ref(), key.as_os_str()]);
    let public = keygen
        .lines()
        .find_map(|l| l.strip_prefix("public key: "))
        .unwrap();
    let source = std::fs::read_to_string(root().join("tests/fees/jpy.toll")).unwrap();
    let build = |name: &str, text: &str, sign: bool| {
        let src = dir.join(format!("{name}.toll"));
        std::fs::write(&src, text).unwrap();
        let bin = dir.join(format!("{name}.bin"));
        let mut args: Vec<&std::ffi::OsStr> = vec![
            "compile".as_ref(),
            src.as_os_str(),
            "-o".as_ref(),
            bin.as_os_str(),
        ];
        if sign {
            args.extend(["--sign".as_ref(), key.as_os_str()]);
        }
        tollgate(&args);
        bin
    };
    let v1 = build("v1", &source, true);
    let v2 = build("v2", &source.replace("version 1", "version 2"), true);
    let v2_changed = build(
        "v2_changed",
        &source
            .replace("version 1", "version 2")
            .replace("3.24%", "3.25%"),
        true,
    );
    let unsigned = build(
        "v3_unsigned",
        &source.replace("version 1", "version 3"),
        false,
    );
    let mut tampered = std::fs::read(&v2).unwrap();
    tampered[40] ^= 0x10;
    let tampered_path = dir.join("tampered.bin");
    std::fs::write(&tampered_path, tampered).unwrap();

    let floor = dir.join("floor");
    let run = Command::new(&exe)
        .arg(key_hex(public))
        .arg(&floor)
        .args([&v1, &v2, &v1, &v2_changed, &unsigned, &tampered_path, &v2])
        .output()
        .unwrap();
    assert!(run.status.success(), "{run:?}");
    let lines: Vec<String> = String::from_utf8(run.stdout)
        .unwrap()
        .lines()
        .map(|l| l.split(':').next().unwrap().to_string())
        .collect();
    assert_eq!(
        lines,
        [
            "installed yen_card 1",
            "installed yen_card 2",
            "refused TG_ROLLBACK",
            "refused TG_VERSION_REUSED",
            "refused TG_UNSIGNED",
            "refused TG_BAD_SIGNATURE",
            "installed yen_card 2",
        ]
    );
    // The floor persisted across the runs ("reboots") is version 2's.
    let kept = std::fs::read_to_string(&floor).unwrap();
    assert!(kept.starts_with("yen_card 2 "), "{kept}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A scratch directory and the example `NAME` built in it against the
/// static library.
fn static_example(name: &str) -> (PathBuf, PathBuf) {
    let dir = common::scratch(name);
    let library = build_library();
    let exe = build_example(&dir, name, &[library.join("libtollgate_ffi.a").as_os_str()]);
    (dir, exe)
}

/// Runs `tollgate ARGS`, which must succeed; its standard output.
fn tollgate_ok(args: &[&std::ffi::OsStr]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// A new signing key in `dir`: its file and public key.
fn signing_key(dir: &Path) -> (PathBuf, String) {
    let key = dir.join("release.key");
    let keygen = tollgate_ok(&["keygen".as_ref(), "--out".as_ref(), key.as_os_str()]);
    let public = keygen
        .lines()
        .find_map(|l| l.strip_prefix("public key: "))
        .unwrap()
        .to_string();
    (key, public)
}

/// Compiles `text` (written to `dir/NAME.toll`) to `at/NAME.bin`, signed
/// with `key`.
fn compile_signed(dir: &Path, at: &Path, name: &str, text: &str, key: &Path) -> PathBuf {
    let src = dir.join(format!("{name}.toll"));
    std::fs::write(&src, text).unwrap();
    let bin = at.join(format!("{name}.bin"));
    tollgate_ok(&[
        "compile".as_ref(),
        src.as_os_str(),
        "-o".as_ref(),
        bin.as_os_str(),
        "--sign".as_ref(),
        key.as_os_str(),
    ]);
    bin
}

/// Runs `exe ARGS < input`, under valgrind (errors and leaks fail it) when
/// `valgrind`.
fn run_example(
    exe: &Path,
    args: &[&std::ffi::OsStr],
    input: &str,
    valgrind: bool,
) -> std::process::Output {
    let mut command = Command::new(if valgrind { "valgrind".as_ref() } else { exe });
    if valgrind {
        command
            .args([
                "--error-exitcode=1",
                "--leak-check=full",
                "--errors-for-leak-kinds=all",
                "--quiet",
            ])
            .arg(exe);
    }
    let mut child = command
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// The lines `exe ARGS < input` writes; it must succeed.
fn lines_out(exe: &Path, args: &[&std::ffi::OsStr], input: &str) -> Vec<String> {
    let out = run_example(exe, args, input, false);
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

/// Runs the example under valgrind (unless it is not installed, said
/// loudly): no error, no leak, and `lines` lines out.
fn assert_clean_under_valgrind(
    name: &str,
    exe: &Path,
    args: &[&std::ffi::OsStr],
    input: &str,
    lines: usize,
) {
    if Command::new("valgrind").arg("--version").output().is_err() {
        eprintln!("\n!!! SKIPPED: valgrind is not installed, so {name} was NOT checked !!!\n");
        return;
    }
    let out = run_example(exe, args, input, true);
    assert!(
        out.status.success(),
        "valgrind found errors or leaks:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().lines().count(),
        lines
    );
}

/// `examples/firmware/staged_update.c`: a signed successor staged beside
/// the running schedule takes effect at midnight; each transaction is
/// priced by the version in effect at its instant (as `tollgate eval`
/// prices it with that version), late ones by the old schedule for an hour
/// and then refused; an older artifact is refused as a rollback; every
/// error path of the terminal functions answers its status; and the run is
/// clean under valgrind.
#[test]
fn a_staged_update_takes_effect_at_midnight_and_a_rollback_is_refused() {
    let (dir, exe) = static_example("staged_update");
    let (key, public) = signing_key(&dir);
    let build = |name: &str, text: &str| compile_signed(&dir, &dir, name, text, &key);
    let source = std::fs::read_to_string(root().join("tests/fees/jpy.toll")).unwrap();
    let window = |w: &str| source.replacen("kind fees", &format!("kind fees\n{w}"), 1);
    let v1 = build(
        "v1",
        &window("effective from 2026-01-01T00:00:00+08:00 until 2027-01-01T00:00:00+08:00"),
    );
    let v2 = build(
        "v2",
        &window("effective from 2027-01-01T00:00:00+08:00")
            .replace("version 1", "version 2")
            .replace("3.24%", "2.99%"),
    );
    let v0 = build("v0", &source.replace("version 1", "version 0"));
    let other_name = build(
        "other",
        &source.replace("policy yen_card version 1", "policy yen_qr version 5"),
    );
    let other_kind = build(
        "other_kind",
        "policy yen_card version 9\nkind notifications\n\nfield at: timestamp\nfield terminal: string\n\n\
         rule cap when terminal == \"t\" => limit 1 per 1h\n",
    );
    // Transactions around midnight, new year 2027 in Shanghai.
    let midnight: i64 = 1_798_732_800_000;
    let minute = 60_000;
    let txns: Vec<(i64, &str, &str)> = vec![
        (midnight - 1000, "credit_card", "10000"),
        (midnight, "credit_card", "10000"),
        (midnight - 30 * 1000, "credit_card", "5000"), // late, within the hour
        (midnight + 5 * minute, "qr", "777"),
        (midnight + 61 * minute, "credit_card", "10000"), // the old schedule dropped
        (midnight - 2000, "credit_card", "10000"),        // too late now
    ];
    let input: String = txns
        .iter()
        .map(|(at, ch, amt)| format!("{at} {ch} {amt}\n"))
        .collect();
    // What eval charges for each with the version in effect at its instant.
    let fee_by = |bin: &Path, ch: &str, amt: &str| {
        let rec = dir.join("one.jsonl");
        std::fs::write(
            &rec,
            format!("{{\"channel\":\"{ch}\",\"amount\":\"{amt}\"}}\n"),
        )
        .unwrap();
        eval(bin, &rec)[0]["fee"].as_str().unwrap().to_string()
    };
    let mut expected = vec![
        "installed yen_card 1".to_string(),
        format!("staged 2 from {midnight}"),
        "refused TG_ROLLBACK".to_string(),
    ];
    for (i, (_, ch, amt)) in txns.iter().enumerate() {
        expected.push(match i {
            0 | 2 => format!("v1 {}", fee_by(&v1, ch, amt)),
            5 => "refused TG_NOT_YET_EFFECTIVE".to_string(),
            _ => format!("v2 {}", fee_by(&v2, ch, amt)),
        });
    }
    assert_ne!(
        expected[3], expected[4],
        "the two versions charge differently"
    );
    for check in [
        "swap-nothing-staged TG_EMPTY_SLOT",
        "held-empty TG_EMPTY_SLOT",
        "policy-empty TG_EMPTY_SLOT",
        "stage-same TG_NOT_NEWER",
        "stage-other-name TG_OTHER_POLICY",
        "stage-other-kind TG_WRONG_KIND",
        "stage-null TG_NULL_POINTER reason",
        "stage-bad-handle TG_BAD_HANDLE reason",
        "route-null TG_NULL_POINTER",
        "held-null TG_NULL_POINTER",
        "policy-null TG_NULL_POINTER",
        "bad-handle TG_BAD_HANDLE",
        "swap-null TG_NULL_POINTER",
        "new-no-keys TG_OUT_OF_RANGE reason",
        "new-null TG_NULL_POINTER reason",
        "new-rollback TG_ROLLBACK reason",
    ] {
        expected.push(format!("check {check}"));
    }
    let floor = dir.join("floor");
    let args: Vec<&std::ffi::OsStr> = vec![
        "".as_ref(), // the key, below
        floor.as_os_str(),
        v1.as_os_str(),
        v2.as_os_str(),
        v0.as_os_str(),
        other_name.as_os_str(),
        other_kind.as_os_str(),
    ];
    let hex = key_hex(&public);
    let mut args = args;
    args[0] = hex.as_ref();
    let _ = std::fs::remove_file(&floor);
    assert_eq!(lines_out(&exe, &args, &input), expected);
    // The floor persisted is the successor's, once it took over.
    let kept = std::fs::read_to_string(&floor).unwrap();
    assert!(kept.starts_with("yen_card 2 "), "{kept}");
    let _ = std::fs::remove_file(&floor);
    assert_clean_under_valgrind("staged_update", &exe, &args, &input, expected.len());
}

/// `examples/firmware/staged_messages.c`: a terminal holding version 1 of
/// a notifications policy and a signed successor that takes effect at
/// midnight decides each message with the version in effect at its
/// instant, the throttle state kept by the terminal and carried across the
/// swap, exactly as `tollgate eval DIR` decides the same stream (the
/// server's staged terminal); every error path of `tg_terminal_decide` and
/// of making and staging a notifications terminal answers its status; and
/// the run is clean under valgrind.
#[test]
fn messages_across_a_midnight_swap_are_decided_as_eval_decides_them() {
    let (dir, exe) = static_example("staged_messages");
    let (key, public) = signing_key(&dir);
    let versions = dir.join("versions");
    std::fs::create_dir_all(&versions).unwrap();
    let build = |at: &Path, name: &str, text: &str| compile_signed(&dir, at, name, text, &key);
    let read = |rel: &str| std::fs::read_to_string(root().join(rel)).unwrap();
    let v2_source = read("tests/activation/messages_v2.toll");
    let v1 = build(&versions, "v1", &read("tests/activation/messages_v1.toll"));
    let v2 = build(&versions, "v2", &v2_source);
    let too_big = build(
        &dir,
        "v3",
        &v2_source
            .replace("version 2", "version 3")
            .replace("limit 1 per 1h", "limit 60000 per 1h"),
    );
    let fees = build(&dir, "fees", &read("tests/fees/jpy.toll"));
    // Messages from 40 minutes before midnight (new year 2027 in Shanghai)
    // to 40 minutes after, one in four up to 30 minutes late.
    let midnight: i64 = 1_798_732_800_000;
    let china = FixedOffset::east_opt(8 * 3600).unwrap();
    let mut r = Lcg(29);
    let (mut lines, mut json) = (String::new(), String::new());
    let mut newest = midnight - 40 * 60_000;
    for _ in 0..80 {
        newest += r.below(120) as i64 * 1000;
        let late = if r.below(4) == 0 {
            r.below(30 * 60) as i64 * 1000
        } else {
            0
        };
        let at = newest - late;
        let terminal = ["t1", "t2", "t3"][r.below(3) as usize];
        let kind = ["promo", "promo", "promo", "security"][r.below(4) as usize];
        lines.push_str(&format!("{at} {terminal} {kind}\n"));
        let stamp = china.timestamp_millis_opt(at).unwrap().to_rfc3339();
        json.push_str(&format!(
            "{}\n",
            json!({"at": stamp, "terminal": terminal, "kind": kind})
        ));
    }
    let input = dir.join("messages.jsonl");
    std::fs::write(&input, &json).unwrap();
    let eval_out = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .arg("eval")
        .arg(&versions)
        .arg("--input")
        .arg(&input)
        .output()
        .unwrap();
    let mut expected: Vec<String> = String::from_utf8(eval_out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let j: Json = serde_json::from_str(l).unwrap();
            format!("v{} {}", j["version"], decision_line(&j))
        })
        .collect();
    assert_eq!(expected.len(), 80);
    for v in [
        "v1 deliver",
        "v2 deliver",
        "v1 suppress promo_cap",
        "v2 suppress promo_cap",
    ] {
        assert!(expected.iter().any(|l| l == v), "no `{v}` in {expected:?}");
    }
    for check in [
        "decide-misrouted TG_MISROUTED",
        "decide-previous-record TG_WRONG_POLICY",
        "decide-staged TG_EMPTY_SLOT",
        "decide-null TG_NULL_POINTER",
        "decide-bad-record TG_BAD_HANDLE",
        "decide-other-handle TG_WRONG_POLICY",
        "stage-capacity TG_CAPACITY",
        "stage-capacity-staged-nothing TG_EMPTY_SLOT",
        "new-no-sizes TG_NULL_POINTER reason",
        "new-bad-when-full TG_OUT_OF_RANGE reason",
        "new-capacity TG_CAPACITY reason",
        "new-no-keys TG_OUT_OF_RANGE reason",
        "new-no-ids-needed TG_OK",
        "new-fees-no-sizes TG_OK",
        "decide-fees TG_WRONG_KIND",
        "decide-not-yet-effective TG_NOT_YET_EFFECTIVE",
        "route-expired TG_EXPIRED",
        "decide-expired TG_EXPIRED",
        "decide-expired-security TG_OK deliver",
    ] {
        expected.push(format!("check {check}"));
    }
    let hex = key_hex(&public);
    let args: Vec<&std::ffi::OsStr> = vec![
        hex.as_ref(),
        v1.as_os_str(),
        v2.as_os_str(),
        too_big.as_os_str(),
        fees.as_os_str(),
    ];
    assert_eq!(lines_out(&exe, &args, &lines), expected);
    assert_clean_under_valgrind("staged_messages", &exe, &args, &lines, expected.len());
}
