//! Activation windows (`effective from A [until B]`): the source syntax
//! and its errors, the layout `fmt` gives it, the artifact that carries it
//! (format 4, decoded strictly), what `table` and `verify` print, and the
//! records outside it refused with E0701 and E0702 while always-deliver
//! messages are still delivered.

// A test fails by panicking; helpers here may unwrap and index freely.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;
use common::{root, tollgate};

use std::path::Path;
use tollgate_runtime::activation::{Outside, Placement, Stamp, Window};
use tollgate_runtime::artifact::{self, ArtifactErrorKind, Compiled};
use tollgate_runtime::notify::{MemoryState, NotifyError};
use tollgate_runtime::value::Value;

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const V1: &str = "tests/activation/messages_v1.toll";
const V2: &str = "tests/activation/messages_v2.toll";

/// 2027-01-01T00:00:00+08:00 in Unix ms.
const NEW_YEAR_MS: i64 = 1_798_732_800_000;

fn compiled(rel: &str) -> tollgate_runtime::notify::NotifyPolicy {
    common::notifications(&read(rel)).1
}

#[test]
fn the_source_window_reaches_the_compiled_policy() {
    let v1 = compiled(V1);
    assert_eq!(
        v1.window(),
        Window {
            from: Some(Stamp {
                unix_ms: NEW_YEAR_MS - 365 * 86_400_000,
                offset_secs: 8 * 3600
            }),
            until: Some(Stamp {
                unix_ms: NEW_YEAR_MS,
                offset_secs: 8 * 3600
            }),
        }
    );
    assert_eq!(v1.window().place(NEW_YEAR_MS - 1), Placement::Within);
    assert_eq!(v1.window().place(NEW_YEAR_MS), Placement::After);
    let v2 = compiled(V2);
    assert_eq!(v2.window().from_ms(), Some(NEW_YEAR_MS));
    assert_eq!(v2.window().until, None);
    // Seconds may be left out, and the offset may be Z.
    let short = read(V2).replace("2027-01-01T00:00:00+08:00", "2026-12-31T16:00Z");
    let (policy, _) = common::notifications(&short);
    assert_eq!(policy.window.from_ms(), Some(NEW_YEAR_MS));
}

#[test]
fn a_bad_window_is_an_error_with_a_code() {
    let codes = |src: &str| -> Vec<&'static str> {
        let errs = tollgate::pipeline::check(src).err().unwrap_or_default();
        errs.iter().map(|d| d.code.as_str()).collect()
    };
    let v1 = read(V1);
    // The end before (or at) the start.
    let backwards = v1.replace("until 2027-01-01", "until 2025-01-01");
    assert_eq!(codes(&backwards), ["E0203"]);
    let empty = v1.replace("until 2027-01-01", "until 2026-01-01");
    assert_eq!(codes(&empty), ["E0203"]);
    // A date that does not exist.
    let no_such_day = v1.replace("until 2027-01-01", "until 2027-02-30");
    assert_eq!(codes(&no_such_day), ["E0002"]);
    // Before 1970.
    let early = v1.replace("from 2026-01-01", "from 1969-01-01");
    assert_eq!(codes(&early), ["E0203"]);
    // Declared twice.
    let twice = v1.replace(
        "effective from",
        "effective from 2026-01-01T00:00:00+08:00\neffective from",
    );
    assert_eq!(codes(&twice), ["E0102"]);
    // No offset: the grammar wants one.
    let local = v1.replace("2027-01-01T00:00:00+08:00", "2027-01-01T00:00:00");
    assert_eq!(codes(&local), ["E0001"]);
    // `effective` and `from` are keywords only where they stand.
    let named = v1
        .replace("field terminal", "field from")
        .replace("by terminal", "by from");
    assert_eq!(codes(&named), Vec::<&str>::new());
}

#[test]
fn fmt_lays_the_window_out_on_one_header_line() {
    let v1 = read(V1);
    assert_eq!(
        tollgate::fmt::format(&v1).unwrap(),
        v1,
        "the file is canonical"
    );
    let scrambled = v1.replace(
        "effective from 2026-01-01T00:00:00+08:00 until",
        "effective\n   from   2026-01-01T00:00:00+08:00\n\n until  ",
    );
    assert_ne!(scrambled, v1);
    assert_eq!(tollgate::fmt::format(&scrambled).unwrap(), v1);
}

#[test]
fn the_artifact_carries_the_window_in_format_4() {
    for rel in [V1, V2] {
        let policy = compiled(rel);
        let bytes = artifact::encode_notify(&policy);
        assert_eq!(bytes[8..10], artifact::FORMAT_VERSION.to_le_bytes());
        assert_eq!(artifact::window_of(&bytes).unwrap(), policy.window());
        let Compiled::Notifications(back) = artifact::decode_any(&bytes).unwrap() else {
            panic!("a notifications artifact")
        };
        assert_eq!(back, policy);
    }
    // Without a window: format 3, byte for byte as before.
    let plain = tollgate::compile_source(&read("policies/fees/lakala.toll"))
        .unwrap()
        .1;
    let bytes = artifact::encode(&plain);
    assert_eq!(bytes[8..10], artifact::PLAIN_VERSION.to_le_bytes());
    assert_eq!(artifact::window_of(&bytes).unwrap(), Window::ALWAYS);
}

/// Rewrites the body of a format-4 artifact (the window's presence byte
/// and what follows) and reseals it, so the damage reaches the decoder.
fn resealed(bytes: &[u8], edit: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut body = bytes[16..bytes.len() - 12].to_vec();
    edit(&mut body);
    let mut out = bytes[..16].to_vec();
    out[12..16].copy_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&body);
    out.extend_from_slice(&artifact::content_hash(&body).to_le_bytes());
    let crc = common::crc32(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

#[test]
fn a_damaged_window_is_refused() {
    let bytes = artifact::encode_notify(&compiled(V1));
    assert!(artifact::decode_any(&resealed(&bytes, |_| {})).is_ok());
    // The presence byte (after the kind byte): none, or an unknown bit.
    for flags in [0u8, 4, 0x83] {
        let e = artifact::decode_any(&resealed(&bytes, |b| b[1] = flags)).unwrap_err();
        assert_eq!(e.kind, ArtifactErrorKind::BadTag, "flags {flags}");
    }
    // The end moved before the start.
    let e = artifact::decode_any(&resealed(&bytes, |b| {
        let from = b[2..10].to_vec();
        b[14..22].copy_from_slice(&from);
    }))
    .unwrap_err();
    assert_eq!(
        e.kind,
        ArtifactErrorKind::Invalid("the activation window ends before it starts")
    );
    // An offset of a day.
    let e = artifact::decode_any(&resealed(&bytes, |b| {
        b[10..14].copy_from_slice(&86_400i32.to_le_bytes())
    }))
    .unwrap_err();
    assert_eq!(
        e.kind,
        ArtifactErrorKind::Invalid("an activation instant is out of range")
    );
    // A format-3 header over a format-4 body: the presence byte is read
    // as the policy's name length.
    let mut old = bytes.clone();
    old[8..10].copy_from_slice(&artifact::PLAIN_VERSION.to_le_bytes());
    assert!(artifact::decode_any(&resealed(&old, |_| {})).is_err());
}

fn record(at_ms: i64, kind: u32) -> Vec<Value> {
    vec![
        Value::Time {
            unix_ms: at_ms,
            offset_secs: 8 * 3600,
        },
        Value::Str("t1".into()),
        Value::Enum(kind),
    ]
}

#[test]
fn records_outside_the_window_are_refused_but_always_deliver_delivers() {
    let v1 = compiled(V1);
    let (security, promo) = (0, 1);
    let mut state = MemoryState::new();
    assert!(v1
        .decide(&record(NEW_YEAR_MS - 1, promo), &mut state)
        .is_ok());
    assert_eq!(
        v1.decide(&record(NEW_YEAR_MS, promo), &mut state),
        Err(NotifyError::Expired {
            until_ms: NEW_YEAR_MS
        })
    );
    let start = v1.window().from_ms().unwrap();
    assert_eq!(
        v1.decide(&record(start - 1, promo), &mut state),
        Err(NotifyError::NotYetEffective { from_ms: start })
    );
    for at in [start - 1, NEW_YEAR_MS, NEW_YEAR_MS + 86_400_000] {
        assert!(matches!(
            v1.decide(&record(at, security), &mut state),
            Ok(tollgate_runtime::notify::Decision::Deliver { .. })
        ));
    }
}

#[test]
fn eval_prints_e0701_and_e0702_lines_and_goes_on() {
    let input = [
        r#"{"at":"2026-12-31T23:59:00+08:00","terminal":"t1","kind":"promo"}"#,
        r#"{"at":"2027-01-01T00:00:00+08:00","terminal":"t1","kind":"promo"}"#,
        r#"{"at":"2027-01-01T00:00:00+08:00","terminal":"t1","kind":"security"}"#,
        r#"{"at":"2025-12-31T23:59:59+08:00","terminal":"t1","kind":"promo"}"#,
    ]
    .join("\n");
    let out = common::tollgate_stdin(&["eval", V1], &input);
    assert_eq!(out.status.code(), Some(1));
    let lines: Vec<String> = text(&out.stdout).lines().map(str::to_string).collect();
    assert_eq!(lines.len(), 4, "{lines:?}");
    assert_eq!(lines[0], r#"{"decision":"deliver"}"#);
    assert!(lines[1].starts_with(r#"{"error":"E0701: "#), "{}", lines[1]);
    assert!(
        lines[1].contains("stopped deciding at 2027-01-01T00:00:00+08:00"),
        "{}",
        lines[1]
    );
    assert_eq!(lines[2], r#"{"decision":"deliver"}"#);
    assert!(lines[3].starts_with(r#"{"error":"E0702: "#), "{}", lines[3]);
    assert!(
        lines[3].contains("takes effect at 2026-01-01T00:00:00+08:00"),
        "{}",
        lines[3]
    );
    // The corpus: every record of tests/activation/E07xx_*.jsonl gets an
    // error line with that code.
    let mut files = 0;
    for entry in std::fs::read_dir(root().join("tests/activation")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        let Some(code) = name
            .strip_suffix(".jsonl")
            .and_then(|n| n.split('_').next())
        else {
            continue;
        };
        files += 1;
        let input = read(&format!("tests/activation/{name}"));
        let out = common::tollgate_stdin(&["eval", V1], &input);
        assert_eq!(out.status.code(), Some(1), "{name}");
        let want = format!(r#"{{"error":"{code}: "#);
        let lines = text(&out.stdout);
        assert_eq!(lines.lines().count(), input.lines().count(), "{name}");
        for line in lines.lines() {
            assert!(line.starts_with(&want), "{name}: {line}");
        }
    }
    assert_eq!(files, 2);
    // Each code is documented.
    for code in ["E0701", "E0702"] {
        let out = tollgate(&["explain", code]);
        assert_eq!(out.status.code(), Some(0));
        assert!(text(&out.stdout).contains(code));
    }
}

#[test]
fn table_and_verify_print_the_window() {
    let out = tollgate(&["table", V1]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout)
        .contains("\neffective from 2026-01-01T00:00:00+08:00 until 2027-01-01T00:00:00+08:00\n"));
    let dir = common::scratch("activation_verify");
    let key = dir.join("release.key");
    let made = tollgate(&["keygen", "--out", key.to_str().unwrap()]);
    assert_eq!(made.status.code(), Some(0), "{}", text(&made.stderr));
    let public = text(&made.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("public key: ").map(str::to_string))
        .unwrap();
    let bin = dir.join("v2.bin");
    let out = tollgate(&[
        "compile",
        V2,
        "-o",
        bin.to_str().unwrap(),
        "--sign",
        key.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = tollgate(&["verify", bin.to_str().unwrap(), "--key", &public]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).ends_with("\neffective from 2027-01-01T00:00:00+08:00\n"));
    let out = tollgate(&["table", bin.to_str().unwrap()]);
    assert!(text(&out.stdout).contains("\neffective from 2027-01-01T00:00:00+08:00\n"));
}

#[test]
fn eval_on_a_directory_of_versions_decides_each_record_by_the_version_of_its_instant() {
    let input = [
        r#"{"at":"2026-12-31T23:30:00+08:00","terminal":"t1","kind":"promo"}"#,
        r#"{"at":"2026-12-31T23:40:00+08:00","terminal":"t1","kind":"promo"}"#,
        // Midnight: version 2 (one an hour) sees version 1's two deliveries.
        r#"{"at":"2027-01-01T00:00:00+08:00","terminal":"t1","kind":"promo"}"#,
        // Late: version 1 decides; version 2 counts its delivery.
        r#"{"at":"2026-12-31T23:50:00+08:00","terminal":"t2","kind":"promo"}"#,
        r#"{"at":"2027-01-01T00:10:00+08:00","terminal":"t2","kind":"promo"}"#,
        r#"{"at":"2027-01-01T02:00:00+08:00","terminal":"t2","kind":"promo"}"#,
        // Past the lateness: version 1 is gone.
        r#"{"at":"2026-12-31T23:00:00+08:00","terminal":"t3","kind":"promo"}"#,
    ]
    .join("\n");
    let out = common::tollgate_stdin(&["eval", "tests/activation"], &input);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let got: Vec<(String, Option<u64>)> = lines
        .iter()
        .map(|l| {
            let what = l["decision"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| l["error"].as_str().unwrap()[..5].to_string());
            (what, l["version"].as_u64())
        })
        .collect();
    let want: Vec<(String, Option<u64>)> = [
        ("deliver", Some(1)),
        ("deliver", Some(1)),
        ("suppress", Some(2)),
        ("deliver", Some(1)),
        ("suppress", Some(2)),
        ("deliver", Some(2)),
        ("E0702", None),
    ]
    .iter()
    .map(|(w, v)| (w.to_string(), *v))
    .collect();
    assert_eq!(got, want);
    // What a directory cannot be.
    let two = common::scratch("eval_dir_two");
    std::fs::copy(root().join(V1), two.join("a.toll")).unwrap();
    std::fs::copy(root().join(V1), two.join("b.toll")).unwrap();
    let out = common::tollgate_stdin(&["eval", two.to_str().unwrap()], &input);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("version 1 of `messages` twice"));
}

#[test]
fn compile_flags_set_the_window_in_place_of_the_source() {
    let dir = common::scratch("activation_flags");
    let bin = dir.join("v.bin");
    let bin_s = bin.to_str().unwrap();
    let window_of = |path: &Path| artifact::window_of(&std::fs::read(path).unwrap()).unwrap();
    // --until added to a source with a start only.
    let out = tollgate(&[
        "compile",
        V2,
        "-o",
        bin_s,
        "--until",
        "2028-01-01T00:00:00+08:00",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let w = window_of(&bin);
    assert_eq!(w.from_ms(), Some(NEW_YEAR_MS));
    assert_eq!(w.until_ms(), Some(NEW_YEAR_MS + 365 * 86_400_000));
    let first = std::fs::read(&bin).unwrap();
    // The same options give the same bytes.
    let out = tollgate(&[
        "compile",
        V2,
        "-o",
        bin_s,
        "--until",
        "2028-01-01T00:00:00+08:00",
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(std::fs::read(&bin).unwrap(), first);
    // The flag wins over the source's line.
    let out = tollgate(&[
        "compile",
        V1,
        "-o",
        bin_s,
        "--effective-from",
        "2026-06-01T00:00:00Z",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let w = window_of(&bin);
    assert_eq!(w.from_ms(), Some(1_780_272_000_000));
    assert_eq!(w.from.unwrap().offset_secs, 0);
    assert_eq!(w.until_ms(), Some(NEW_YEAR_MS));
    // A source without a window gets one.
    let out = tollgate(&[
        "compile",
        "policies/fees/lakala.toll",
        "-o",
        bin_s,
        "--effective-from",
        "2027-01-01T00:00:00+08:00",
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(window_of(&bin).from_ms(), Some(NEW_YEAR_MS));
    // An end before the start, or a malformed instant: usage errors.
    let out = tollgate(&[
        "compile",
        V2,
        "-o",
        bin_s,
        "--until",
        "2026-01-01T00:00:00+08:00",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("ends before it starts"),
        "{}",
        text(&out.stderr)
    );
    let out = tollgate(&["compile", V2, "-o", bin_s, "--until", "2026-01-01"]);
    assert_eq!(out.status.code(), Some(2));
}

const FEES_V1: &str = "tests/activation_fees/card_v1.toll";

/// The fee and version of each line, or the first five characters of its
/// error (its code).
fn fee_answers(stdout: &[u8]) -> Vec<(String, Option<u64>)> {
    text(stdout)
        .lines()
        .map(|l| {
            let l: serde_json::Value = serde_json::from_str(l).unwrap();
            let what = l["fee"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| l["error"].as_str().unwrap()[..5].to_string());
            (what, l["version"].as_u64())
        })
        .collect()
}

fn owned(want: &[(&str, Option<u64>)]) -> Vec<(String, Option<u64>)> {
    want.iter().map(|(w, v)| (w.to_string(), *v)).collect()
}

/// A fees policy with a window checks each record's instant (its one
/// timestamp field): before the start E0702, from the end on E0701, the
/// rest priced; the line says why in words.
#[test]
fn a_fee_record_outside_the_window_is_refused_by_its_timestamp() {
    let input = [
        r#"{"channel":"credit_card","amount":"1000.00","at":"2025-12-31T23:59:59+08:00"}"#,
        r#"{"channel":"credit_card","amount":"1000.00","at":"2026-01-01T00:00:00+08:00"}"#,
        r#"{"channel":"credit_card","amount":"1000.00","at":"2026-12-31T23:59:59+08:00"}"#,
        r#"{"channel":"credit_card","amount":"1000.00","at":"2027-01-01T00:00:00+08:00"}"#,
    ]
    .join("\n");
    let out = common::tollgate_stdin(&["eval", FEES_V1], &input);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(
        fee_answers(&out.stdout),
        owned(&[
            ("E0702", None),
            ("6.00", None),
            ("6.00", None),
            ("E0701", None)
        ])
    );
    let lines = text(&out.stdout);
    assert!(
        lines.contains("policy `card_fees` version 1 stopped pricing at 2027-01-01T00:00:00+08:00"),
        "{lines}"
    );
    assert!(
        lines.contains("takes effect at 2026-01-01T00:00:00+08:00"),
        "{lines}"
    );
    // The same through the other paths of eval: --explain, --keep, CSV
    // input, --output fee, one job.
    for extra in [
        &["--explain"][..],
        &["--keep", "channel"],
        &["--output", "fee"],
        &["--jobs", "1"],
    ] {
        let mut args = vec!["eval", FEES_V1];
        args.extend_from_slice(extra);
        let out = common::tollgate_stdin(&args, &input);
        let lines = text(&out.stdout);
        let codes: Vec<&str> = lines
            .lines()
            .map(|l| {
                if l.contains("E0702") {
                    "E0702"
                } else if l.contains("E0701") {
                    "E0701"
                } else {
                    "ok"
                }
            })
            .collect();
        assert_eq!(codes, ["E0702", "ok", "ok", "E0701"], "{extra:?}: {lines}");
    }
    let csv = "channel,amount,at\ncredit_card,1000.00,2027-01-01T00:00:00+08:00\n";
    let out = common::tollgate_stdin(&["eval", FEES_V1, "--input-format", "csv"], csv);
    assert!(text(&out.stdout).contains("E0701"), "{}", text(&out.stdout));
}

/// A fees policy whose records carry no instant is checked at the instant
/// `--at` gives; without one the window is not checked; `--at` is refused
/// for notifications (their records carry their own).
#[test]
fn eval_at_gives_fee_records_without_an_instant_theirs() {
    let dir = common::scratch("activation_fees_at");
    let source = std::fs::read_to_string(root().join(FEES_V1))
        .unwrap()
        .replace("field at: timestamp\n", "");
    let policy = dir.join("no_clock.toll");
    std::fs::write(&policy, source).unwrap();
    let policy = policy.to_str().unwrap();
    let record = r#"{"channel":"debit_card","amount":"1000.00"}"#;
    let priced = |args: &[&str]| {
        let mut all = vec!["eval", policy];
        all.extend_from_slice(args);
        fee_answers(&common::tollgate_stdin(&all, record).stdout)
    };
    assert_eq!(priced(&[]), owned(&[("5.00", None)]));
    assert_eq!(
        priced(&["--at", "2026-06-01T12:00:00+08:00"]),
        owned(&[("5.00", None)])
    );
    assert_eq!(
        priced(&["--at", "2027-06-01T12:00:00+08:00"]),
        owned(&[("E0701", None)])
    );
    assert_eq!(
        priced(&["--at", "2025-06-01T12:00:00Z"]),
        owned(&[("E0702", None)])
    );
    let out = common::tollgate_stdin(&["eval", policy, "--at", "yesterday"], record);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("not an RFC 3339 instant"),
        "{}",
        text(&out.stderr)
    );
    let out = common::tollgate_stdin(&["eval", V1, "--at", "2026-06-01T12:00:00Z"], "");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--at applies to fees policies"));
}

/// The runtime decides which field places a fee record in time: the
/// schema's one `timestamp` field; with none, or with two (which one would
/// be ambiguous), the caller's instant applies, and without one the window
/// is not checked.
#[test]
fn a_fee_record_is_placed_in_time_by_the_one_timestamp_field() {
    let table = |source: &str| match common::compiled(source).1 {
        Compiled::Fees(t) => t,
        Compiled::Notifications(_) => panic!("not a fees policy"),
    };
    let one = read(FEES_V1);
    let none = one.replace("field at: timestamp\n", "");
    let two = one.replace(
        "field at: timestamp\n",
        "field at: timestamp\nfield settled: timestamp\n",
    );
    let (one, none, two) = (table(&one), table(&none), table(&two));
    assert_eq!(one.clock_field(), Some(2));
    assert_eq!(none.clock_field(), None);
    assert_eq!(two.clock_field(), None);

    let at = |ms: i64| Value::Time {
        unix_ms: ms,
        offset_secs: 8 * 3600,
    };
    let debit = Value::Enum(1);
    let amount = Value::Num(1000.into());
    let stamped = [debit.clone(), amount.clone(), at(NEW_YEAR_MS)];
    assert_eq!(one.instant_of(&stamped, Some(5)), Some(NEW_YEAR_MS));
    assert_eq!(
        one.admit(&stamped, None)
            .err()
            .map(|o| matches!(o, Outside::After { .. })),
        Some(true)
    );
    assert_eq!(one.instant_of(&stamped[..2], Some(5)), Some(5));
    assert_eq!(none.instant_of(&stamped[..2], None), None);
    assert!(none.admit(&stamped[..2], None).is_ok());
    let both = [debit, amount, at(NEW_YEAR_MS), at(NEW_YEAR_MS)];
    assert_eq!(two.instant_of(&both, None), None);
    assert_eq!(two.instant_of(&both, Some(7)), Some(7));
}

/// `eval DIR` on the versions of a fees policy prices each record with the
/// version in effect at its instant, the old one for late records within
/// the hour; a record with no instant is an error line.
#[test]
fn eval_on_a_directory_of_fee_versions_prices_each_record_by_its_instant() {
    let input = [
        r#"{"channel":"credit_card","amount":"1000.00","at":"2026-12-31T23:59:00+08:00"}"#,
        r#"{"channel":"credit_card","amount":"1000.00","at":"2027-01-01T00:00:00+08:00"}"#,
        // Late, within the hour: version 1.
        r#"{"channel":"credit_card","amount":"1000.00","at":"2026-12-31T23:30:00+08:00"}"#,
        r#"{"channel":"debit_card","amount":"9000.00","at":"2027-01-01T01:30:00+08:00"}"#,
        // Past the hour: version 1 is gone.
        r#"{"channel":"credit_card","amount":"1000.00","at":"2026-12-31T23:45:00+08:00"}"#,
    ]
    .join("\n");
    let out = common::tollgate_stdin(&["eval", "tests/activation_fees"], &input);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(
        fee_answers(&out.stdout),
        owned(&[
            ("6.00", Some(1)),
            ("5.50", Some(2)),
            ("6.00", Some(1)),
            ("25.00", Some(2)),
            ("E0702", None),
        ])
    );
    // Versions whose records carry no instant: `--at` gives it; without
    // it a record is an error line.
    let bare = common::scratch("eval_dir_bare");
    for v in ["card_v1", "card_v2"] {
        let source =
            std::fs::read_to_string(root().join(format!("tests/activation_fees/{v}.toll")))
                .unwrap()
                .replace("field at: timestamp\n", "");
        std::fs::write(bare.join(format!("{v}.toll")), source).unwrap();
    }
    let bare = bare.to_str().unwrap();
    let record = r#"{"channel":"credit_card","amount":"1000.00"}"#;
    let at = |instant: &str| {
        fee_answers(&common::tollgate_stdin(&["eval", bare, "--at", instant], record).stdout)
    };
    assert_eq!(at("2026-12-31T23:00:00+08:00"), owned(&[("6.00", Some(1))]));
    assert_eq!(at("2027-01-01T00:00:00+08:00"), owned(&[("5.50", Some(2))]));
    let out = common::tollgate_stdin(&["eval", bare], record);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("no instant to pick a version by"),
        "{}",
        text(&out.stdout)
    );
    // Mixed kinds under one name are refused.
    let mixed = common::scratch("eval_dir_mixed");
    std::fs::copy(root().join(FEES_V1), mixed.join("a.toll")).unwrap();
    std::fs::write(
        mixed.join("b.toll"),
        std::fs::read_to_string(root().join(V2))
            .unwrap()
            .replace("policy messages", "policy card_fees"),
    )
    .unwrap();
    let out = common::tollgate_stdin(&["eval", mixed.to_str().unwrap()], &input);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("different kinds"),
        "{}",
        text(&out.stderr)
    );
}

/// `eval DIR` takes `--explain` (the deciding version's trace), `--keep`,
/// `--output fee|csv` (fees) and `--jobs 1` as one policy does; it refuses
/// `--state`, `--jobs` above 1 and CSV input, each with its reason.
#[test]
fn eval_on_a_directory_takes_the_options_that_mean_something_there() {
    let messages = [
        r#"{"at":"2026-12-31T23:30:00+08:00","terminal":"t1","kind":"promo"}"#,
        r#"{"at":"2027-01-01T00:10:00+08:00","terminal":"t1","kind":"promo"}"#,
    ]
    .join("\n");
    let lines = |args: &[&str], input: &str| -> Vec<serde_json::Value> {
        let out = common::tollgate_stdin(args, input);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            text(&out.stderr)
        );
        text(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let explained = lines(
        &[
            "eval",
            "tests/activation",
            "--explain",
            "--keep",
            "terminal",
        ],
        &messages,
    );
    assert_eq!(explained.len(), 2);
    for (line, version) in explained.iter().zip([1, 2]) {
        assert_eq!(line["version"], version, "{line}");
        assert!(line["explain"].is_array(), "{line}");
        assert_eq!(line["input"]["terminal"], "t1", "{line}");
    }
    // The second promotion is capped by version 2, which counted version
    // 1's delivery: its trace says so.
    assert_eq!(explained[1]["decision"], "suppress");
    assert!(explained[1]["explain"].to_string().contains("promo_cap"));
    let fees = [
        r#"{"channel":"credit_card","amount":"1000.00","at":"2026-12-31T23:59:00+08:00","id":"a"}"#,
        r#"{"channel":"credit_card","amount":"1000.00","at":"2027-01-01T00:00:00+08:00","id":"b"}"#,
        r#"{"channel":"debit_card","amount":"1000.00","at":"2025-01-01T00:00:00+08:00","id":"c"}"#,
    ]
    .join("\n");
    let dir = "tests/activation_fees";
    let plain = |args: &[&str]| text(&common::tollgate_stdin(args, &fees).stdout);
    assert_eq!(
        plain(&["eval", dir, "--output", "fee", "--ignore-unknown"])
            .lines()
            .take(2)
            .collect::<Vec<_>>(),
        ["6.00", "5.50"]
    );
    let csv = plain(&[
        "eval",
        dir,
        "--output",
        "csv",
        "--keep",
        "id",
        "--ignore-unknown",
    ]);
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows[..3], ["id,fee,error", "a,6.00,", "b,5.50,"], "{csv}");
    assert!(rows[3].starts_with("c,,\"E0702: "), "{csv}");
    let explained = lines(
        &["eval", dir, "--explain", "--ignore-unknown", "--jobs", "1"],
        &fees[..fees.rfind('\n').unwrap()],
    );
    assert!(
        explained
            .iter()
            .all(|l| l["components"][0]["explain"].is_object() && l["version"].is_u64()),
        "{explained:?}"
    );
    // What a directory refuses, and why.
    let dir_state = common::scratch("eval_dir_state");
    let state = dir_state.join("s.state");
    for (args, why) in [
        (
            vec!["--state", state.to_str().unwrap()],
            "a saved state belongs to one version",
        ),
        (vec!["--jobs", "2"], "runs on one thread"),
        (
            vec!["--input-format", "csv"],
            "give the records as JSON Lines",
        ),
    ] {
        let mut all = vec!["eval", "tests/activation"];
        all.extend(args.iter().copied());
        let out = common::tollgate_stdin(&all, &messages);
        assert_eq!(out.status.code(), Some(2), "{all:?}");
        assert!(
            text(&out.stderr).contains(why),
            "{all:?}: {}",
            text(&out.stderr)
        );
    }
    let out = common::tollgate_stdin(&["eval", "tests/activation", "--output", "fee"], &messages);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("applies to fees policies"));
}
