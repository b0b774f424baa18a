//! `tollgate diff OLD NEW --input HISTORY [--by FIELDS]`, `--notice` and
//! `--html`: the replay's figures are checked against `tollgate eval` run
//! on each version and summed here, the text and JSON are snapshots, the
//! HTML report is self-contained, escapes what it shows and prints the
//! JSON's numbers.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use proptest::prelude::*;
use rust_decimal::Decimal;
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;

fn tollgate(args: &[&str]) -> (String, String, i32) {
    let out = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
        out.status.code().unwrap_or(-1),
    )
}

const OLD: &str = "tests/replay/shop.old.toll";
const NEW: &str = "tests/replay/shop.new.toll";
const HISTORY: &str = "tests/replay/shop.history.jsonl";

/// A scratch directory of this test process.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "tollgate-diff-replay-{}-{name}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn dec(v: &Json) -> Decimal {
    Decimal::from_str(v.as_str().unwrap()).unwrap()
}

/// What one version charges each line of `history` according to `tollgate
/// eval` (`None`: the line is an error), for the lines that are not blank.
fn eval_fees(policy: &str, history: &str) -> Vec<(u64, Option<Decimal>)> {
    let (out, _, _) = tollgate(&["eval", policy, "--input", history]);
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(history)).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let answers: Vec<Json> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(answers.len(), lines.len(), "one answer per line");
    lines
        .iter()
        .zip(answers)
        .enumerate()
        .filter(|(_, (l, _))| !l.trim().is_empty())
        .map(|(i, (_, a))| (i as u64 + 1, a.get("fee").map(dec)))
        .collect()
}

/// The group of a history line: the `by` fields' values as written.
fn group_of(line: &str, by: &[&str]) -> Vec<String> {
    let Ok(Json::Object(m)) = serde_json::from_str::<Json>(line) else {
        return by.iter().map(|_| "(not a record)".to_string()).collect();
    };
    by.iter()
        .map(|f| match m.get(*f) {
            Some(Json::String(s)) => s.clone(),
            Some(v) => v.to_string(),
            None => "(absent)".to_string(),
        })
        .collect()
}

#[derive(Default, Debug, PartialEq)]
struct Sums {
    records: u64,
    changed: u64,
    old_errors: u64,
    new_errors: u64,
    old: Decimal,
    new: Decimal,
}

/// Checks the replay JSON of `old` -> `new` on `history` against `eval`.
fn check_against_eval(old: &str, new: &str, history: &str, by: &[&str]) -> Json {
    let mut args = vec!["diff", old, new, "--input", history, "--format", "json"];
    let joined = by.join(",");
    if !by.is_empty() {
        args.extend(["--by", &joined]);
    }
    let (out, err, _) = tollgate(&args);
    assert!(err.is_empty(), "{err}");
    let doc: Json = serde_json::from_str(&out).unwrap();
    let replay = &doc["replay"];
    let (a, b) = (eval_fees(old, history), eval_fees(new, history));
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(history)).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mut total = Sums::default();
    let mut groups: BTreeMap<Vec<String>, Sums> = BTreeMap::new();
    let mut changes: Vec<(u64, Decimal, Decimal)> = Vec::new();
    for ((line, fa), (line_b, fb)) in a.iter().zip(&b) {
        assert_eq!(line, line_b);
        let key = group_of(lines[*line as usize - 1], by);
        for s in [&mut total, groups.entry(key).or_default()] {
            s.records += 1;
            s.changed += u64::from(fa != fb);
            s.old_errors += u64::from(fa.is_none());
            s.new_errors += u64::from(fb.is_none());
            s.old += fa.unwrap_or_default();
            s.new += fb.unwrap_or_default();
        }
        if let (Some(x), Some(y)) = (fa, fb) {
            if x != y {
                changes.push((*line, *x, *y));
            }
        }
    }
    let sums = |j: &Json| Sums {
        records: j["records"].as_u64().unwrap(),
        changed: j["changed"].as_u64().unwrap(),
        old_errors: j["refused"]["old"].as_u64().unwrap(),
        new_errors: j["refused"]["new"].as_u64().unwrap(),
        old: dec(&j["old"]),
        new: dec(&j["new"]),
    };
    assert_eq!(sums(&replay["total"]), total, "{old} -> {new} on {history}");
    assert_eq!(dec(&replay["total"]["difference"]), total.new - total.old);
    let got: BTreeMap<Vec<String>, Sums> = replay["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            let key = by
                .iter()
                .map(|f| g["group"][*f].as_str().unwrap().to_string())
                .collect();
            (key, sums(g))
        })
        .collect();
    if by.is_empty() {
        assert_eq!(got.len(), 1);
    } else {
        assert_eq!(got, groups);
    }
    // The ten largest: by the size of the change, then by line.
    changes.sort_by(|x, y| {
        (y.2 - y.1)
            .abs()
            .cmp(&(x.2 - x.1).abs())
            .then(x.0.cmp(&y.0))
    });
    changes.truncate(10);
    let largest: Vec<(u64, Decimal, Decimal)> = replay["largest"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            assert_eq!(dec(&c["change"]), dec(&c["new"]) - dec(&c["old"]));
            (c["line"].as_u64().unwrap(), dec(&c["old"]), dec(&c["new"]))
        })
        .collect();
    assert_eq!(largest, changes);
    doc
}

#[test]
fn replay_totals_groups_and_largest_are_those_of_eval() {
    let doc = check_against_eval(OLD, NEW, HISTORY, &["merchant_class", "channel"]);
    // The hand-made history's known figures.
    let t = &doc["replay"]["total"];
    assert_eq!(t["records"], 19);
    assert_eq!(t["changed"], 13);
    assert_eq!(t["refused"]["old"], 3);
    assert_eq!(t["refused"]["new"], 2);
    assert_eq!(t["old"], "142.89");
    assert_eq!(t["new"], "137.88");
    assert_eq!(t["difference"], "-5.01");
    // Ties (four debit payments at the cap) in the order of their lines.
    let lines: Vec<u64> = doc["replay"]["largest"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [1, 7, 13, 17, 14, 15, 20, 18, 16, 4]);
    // The other way round, the new version's refusals are the old one's.
    check_against_eval(NEW, OLD, HISTORY, &["channel"]);
    check_against_eval(OLD, NEW, HISTORY, &[]);
    check_against_eval(
        "tests/diff/acquirer_2027.old.toll",
        "tests/diff/acquirer_2027.new.toll",
        "examples/transactions.jsonl",
        &["merchant_class"],
    );
}

#[test]
fn replay_text_and_json_snapshots() {
    let (text, err, code) = tollgate(&[
        "diff",
        OLD,
        NEW,
        "--input",
        HISTORY,
        "--by",
        "merchant_class,channel",
    ]);
    assert!(err.is_empty(), "{err}");
    insta::assert_snapshot!("replay_text", format!("{text}exit code {code}\n"));
    let (json, _, json_code) = tollgate(&[
        "diff",
        OLD,
        NEW,
        "--input",
        HISTORY,
        "--by",
        "merchant_class,channel",
        "--format",
        "json",
    ]);
    assert_eq!(json_code, 1);
    let doc: Json = serde_json::from_str(&json).unwrap();
    insta::assert_snapshot!(
        "replay_json",
        serde_json::to_string_pretty(&doc["replay"]).unwrap()
    );
}

#[test]
fn the_acquirer_review_on_the_sample_transactions() {
    let args = [
        "diff",
        "tests/diff/acquirer_2027.old.toll",
        "tests/diff/acquirer_2027.new.toll",
        "--input",
        "examples/transactions.jsonl",
        "--by",
        "merchant_class",
    ];
    let (json, _, code) = tollgate(&[&args[..], &["--format", "json"]].concat());
    assert_eq!(code, 1);
    let doc: Json = serde_json::from_str(&json).unwrap();
    let t = &doc["replay"]["total"];
    assert_eq!(
        (t["records"].as_u64(), t["changed"].as_u64()),
        (Some(40), Some(12))
    );
    assert_eq!(
        (t["old"].as_str(), t["new"].as_str()),
        (Some("2710.36"), Some("2726.56"))
    );
    let (notice, err, code) = tollgate(&[&args[..], &["--notice"]].concat());
    assert!(err.is_empty(), "{err}");
    assert_eq!(code, 1);
    assert!(notice.contains("from the date the new version takes effect"));
    insta::assert_snapshot!("notice", notice);
    let (json, _, _) = tollgate(&[&args[..], &["--notice", "--format", "json"]].concat());
    let doc: Json = serde_json::from_str(&json).unwrap();
    assert_eq!(doc["notice"].as_str(), Some(notice.as_str()));
}

#[test]
fn a_notice_without_history_speaks_of_the_regions() {
    let (notice, _, code) = tollgate(&[
        "diff",
        "tests/diff/cap_lowered.old.toll",
        "tests/diff/cap_lowered.new.toll",
        "--notice",
    ]);
    assert_eq!(code, 1);
    insta::assert_snapshot!("notice_without_history", notice);
    let p = "policies/fees/lakala.toll";
    let (notice, _, code) = tollgate(&["diff", p, p, "--notice"]);
    assert_eq!(code, 0);
    assert!(notice.contains("do not change"), "{notice}");
}

#[test]
fn a_notice_names_the_instant_the_new_version_declares() {
    // The new version says `effective from 2027-01-01T00:00:00+08:00`.
    let (notice, err, code) = tollgate(&[
        "diff",
        "tests/diff/cap_lowered.old.toll",
        "tests/diff/cap_lowered_dated.new.toll",
        "--notice",
    ]);
    assert!(err.is_empty(), "{err}");
    assert_eq!(code, 1);
    assert!(
        notice.contains(
            "Your fees change on 1 January 2027 at 00:00 (UTC+08:00). Until then you are charged as before."
        ),
        "{notice}"
    );
    assert!(!notice.contains("from the date the new version takes effect"));
}

/// A line that writes a field twice is not a record: `--by` files it
/// under `(not a record)`, not under one of its two values.
#[test]
fn a_line_with_a_repeated_field_is_not_grouped_by_it() {
    let history =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(HISTORY)).unwrap();
    let first = history.lines().next().unwrap();
    let twice = first.replacen('{', "{\"channel\":\"nowhere\",", 1);
    assert!(twice.contains("\"channel\":\"nowhere\"") && twice.matches("\"channel\"").count() == 2);
    let path = scratch("repeated").join("history.jsonl");
    std::fs::write(&path, format!("{first}\n{twice}\n")).unwrap();
    let (out, err, _) = tollgate(&[
        "diff",
        OLD,
        NEW,
        "--input",
        path.to_str().unwrap(),
        "--by",
        "channel",
        "--format",
        "json",
    ]);
    assert!(err.is_empty(), "{err}");
    let doc: Json = serde_json::from_str(&out).unwrap();
    let groups: Vec<(String, u64)> = doc["replay"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["group"]["channel"].as_str().unwrap().to_string(),
                g["records"].as_u64().unwrap(),
            )
        })
        .collect();
    assert!(
        groups.iter().any(|(c, n)| c == "(not a record)" && *n == 1),
        "{groups:?}"
    );
    assert!(!groups.iter().any(|(c, _)| c == "nowhere"), "{groups:?}");
}

#[test]
fn replay_errors_are_clear() {
    let (_, err, code) = tollgate(&["diff", OLD, NEW, "--input", "no/such/history.jsonl"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("--input no/such/history.jsonl: cannot read it"),
        "{err}"
    );
    let (_, err, code) = tollgate(&["diff", OLD, NEW, "--input", "tests/replay"]);
    assert_eq!(code, 2);
    assert!(err.contains("is a directory"), "{err}");
    let (_, err, code) = tollgate(&["diff", OLD, NEW, "--input", HISTORY, "--by", "chanel"]);
    assert_eq!(code, 2);
    assert!(err.contains("did you mean `channel`?"), "{err}");
    let (_, err, code) = tollgate(&["diff", OLD, NEW, "--by", "channel"]);
    assert_eq!(code, 2, "--by needs --input: {err}");
    let (_, err, code) = tollgate(&[
        "diff",
        "tests/diff/notify_window.old.toll",
        "tests/diff/notify_window.new.toll",
        "--notice",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("notifications policies"), "{err}");
}

#[test]
fn versions_with_different_fields_each_read_records_as_eval_does() {
    let dir = scratch("fields");
    let new = dir.join("shop.terminal.toll");
    let source = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(OLD)).unwrap();
    let source = source.replace("version 1", "version 2").replace(
        "field amount: money",
        "field amount: money\nfield terminal: enum { pos, mobile } default pos",
    );
    std::fs::write(&new, source).unwrap();
    let history = dir.join("history.jsonl");
    std::fs::write(
        &history,
        "{\"merchant_class\": \"standard\", \"channel\": \"wechat\", \"amount\": \"100.00\"}\n\
         {\"merchant_class\": \"standard\", \"channel\": \"wechat\", \"amount\": \"100.00\", \"terminal\": \"mobile\"}\n",
    )
    .unwrap();
    let (new, history) = (new.display().to_string(), history.display().to_string());
    let (json, err, code) = tollgate(&[
        "diff", OLD, &new, "--input", &history, "--by", "terminal", "--format", "json",
    ]);
    assert!(err.is_empty(), "{err}");
    assert_eq!(code, 1, "a record one version refuses is a change");
    let doc: Json = serde_json::from_str(&json).unwrap();
    let r = &doc["replay"];
    assert_eq!(r["total"]["changed"], 1);
    assert_eq!(r["total"]["refused"]["old"], 1);
    assert_eq!(r["total"]["refused"]["new"], 0);
    // The record without the field is grouped under the field's default.
    let groups: Vec<&str> = r["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["group"]["terminal"].as_str().unwrap())
        .collect();
    assert_eq!(groups, ["mobile", "pos"]);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_csv_history_replays_like_json_lines() {
    let p = "policies/fees/lakala.toll";
    let (text, err, code) = tollgate(&[
        "diff",
        p,
        p,
        "--input",
        "examples/lakala.csv",
        "--by",
        "channel",
    ]);
    assert!(err.is_empty(), "{err}");
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("replay of examples/lakala.csv: 40 records, 0 change"),
        "{text}"
    );
    assert!(
        text.contains("refused: 0 by the old version, 0 by the new one"),
        "{text}"
    );
}

#[test]
fn notifications_replay_counts_changed_decisions() {
    let (text, err, code) = tollgate(&[
        "diff",
        "tests/diff/notify_window.old.toll",
        "tests/diff/notify_window.new.toll",
        "--input",
        "tests/replay/network.jsonl",
        "--by",
        "terminal",
    ]);
    assert!(err.is_empty(), "{err}");
    assert_eq!(code, 1);
    insta::assert_snapshot!("notify_replay", text);
}

/// The `<td>` texts of the table rows with class `class`.
fn rows(html: &str, class: &str) -> Vec<Vec<String>> {
    let open = format!("<tr class=\"{class}\">");
    html.split(&open)
        .skip(1)
        .map(|rest| {
            let row = &rest[..rest.find("</tr>").unwrap()];
            row.split("<td")
                .skip(1)
                .map(|cell| {
                    let body = &cell[cell.find('>').unwrap() + 1..cell.find("</td>").unwrap()];
                    body.replace("<code>", "").replace("</code>", "")
                })
                .collect()
        })
        .collect()
}

#[test]
fn the_html_report_is_self_contained_escapes_and_prints_the_json_numbers() {
    let dir = scratch("html");
    let history = dir.join("history.jsonl");
    let hostile = "<script>alert(1)</script> & co";
    let mut text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(HISTORY)).unwrap();
    text.push_str(&format!(
        "{{\"merchant_class\": \"standard\", \"channel\": {}, \"amount\": \"1.00\"}}\n",
        Json::String(hostile.to_string())
    ));
    std::fs::write(&history, text).unwrap();
    let report = dir.join("report.html");
    let (history, report_arg) = (history.display().to_string(), report.display().to_string());
    let args = [
        "diff",
        OLD,
        NEW,
        "--input",
        &history,
        "--by",
        "merchant_class,channel",
    ];
    let (_, err, code) = tollgate(&[&args[..], &["--html", &report_arg]].concat());
    assert!(err.is_empty(), "{err}");
    assert_eq!(code, 1);
    let html = std::fs::read_to_string(&report).unwrap();
    let lower = html.to_lowercase();
    for banned in [
        "http:",
        "https:",
        "<script",
        "@import",
        "@font-face",
        "<link",
        "<iframe",
        "<img",
    ] {
        assert!(!lower.contains(banned), "the report holds `{banned}`");
    }
    for (i, _) in lower.match_indices("url(") {
        assert!(lower[i + 4..]
            .trim_start_matches(['"', '\''])
            .starts_with("data:"));
    }
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; co"));
    assert!(html.contains("<svg"), "the charts are inline SVG");
    // Its numbers are the JSON's.
    let (json, _, _) = tollgate(&[&args[..], &["--format", "json"]].concat());
    let doc: Json = serde_json::from_str(&json).unwrap();
    let replay = &doc["replay"];
    let groups = rows(&html, "group");
    let expected: Vec<Vec<String>> = replay["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            let name = format!(
                "{}, {}",
                g["group"]["merchant_class"].as_str().unwrap(),
                g["group"]["channel"].as_str().unwrap()
            )
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;");
            vec![
                name,
                g["records"].to_string(),
                g["changed"].to_string(),
                g["old"].as_str().unwrap().to_string(),
                g["new"].as_str().unwrap().to_string(),
                g["difference"].as_str().unwrap().to_string(),
                g["refused"]["old"].to_string(),
                g["refused"]["new"].to_string(),
            ]
        })
        .collect();
    assert_eq!(groups, expected);
    let largest = rows(&html, "change");
    let expected: Vec<Vec<String>> = replay["largest"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            vec![
                c["line"].to_string(),
                c["old"].as_str().unwrap().to_string(),
                c["new"].as_str().unwrap().to_string(),
                c["change"].as_str().unwrap().to_string(),
            ]
        })
        .collect();
    let shown: Vec<Vec<String>> = largest.iter().map(|r| r[..4].to_vec()).collect();
    assert_eq!(shown, expected);
    let t = &replay["total"];
    for figure in [&t["old"], &t["new"]] {
        assert!(html.contains(&format!("<b class=\"\">{}</b>", figure.as_str().unwrap())));
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_readme_replay_step_works_on_the_bundled_data() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let main_copy = "/tmp/lakala.main.toll";
    let line = readme
        .lines()
        .find(|l| l.starts_with("tollgate diff ") && l.contains("--input"))
        .expect("the README's review workflow replays history");
    // In the README the old version is main's copy; here main's is the
    // working copy, so nothing changes and every record is priced.
    let line = line.replace(main_copy, "policies/fees/lakala.toll");
    let args: Vec<&str> = line.split_whitespace().skip(1).collect();
    let (text, err, code) = tollgate(&args);
    assert!(err.is_empty(), "{err}");
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("40 records, 0 change"), "{text}");
    assert!(
        text.contains("refused: 0 by the old version, 0 by the new one"),
        "{text}"
    );
}

/// The shop pair, compiled.
fn shop() -> (
    tollgate_runtime::table::Table,
    tollgate_runtime::table::Table,
) {
    let src =
        |p: &str| std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(p)).unwrap();
    let (_, a) = tollgate::compile_source(&src(OLD)).unwrap();
    let (_, b) = tollgate::compile_source(&src(NEW)).unwrap();
    (a, b)
}

/// A history line: a record of the shop (some with a channel one version
/// or both refuse, some with a negative amount), or a line that is not a
/// record.
fn line() -> impl Strategy<Value = String> {
    let class = prop_oneof![Just("standard"), Just("discount")];
    let channel = prop_oneof![
        Just("credit_card"),
        Just("debit_card"),
        Just("wechat"),
        Just("alipay"),
        Just("paypal")
    ];
    prop_oneof![
        10 => (class, channel, -100i64..1_500_000).prop_map(|(c, ch, fen)| {
            let amount = Decimal::new(fen, 2);
            format!("{{\"merchant_class\":\"{c}\",\"channel\":\"{ch}\",\"amount\":\"{amount}\"}}")
        }),
        1 => Just("not a record".to_string()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(common::cases(64)))]

    /// The replay's laws on generated histories: its totals, counts and
    /// largest changes are those of pricing each record with each version
    /// here, and the groups add up to the total.
    #[test]
    fn replay_sums_are_the_records_fees(lines in proptest::collection::vec(line(), 0..40)) {
        use tollgate::diff::{history::Kind, replay};
        let (a, b) = shop();
        let text = lines.join("\n");
        let input: Box<dyn std::io::BufRead> = Box::new(std::io::Cursor::new(text.clone().into_bytes()));
        let by = vec!["channel".to_string()];
        let r = replay::replay(&a, &b, input, Kind::Jsonl, &by).unwrap();
        let price = |t: &tollgate_runtime::table::Table, l: &str| {
            tollgate::record::from_json(l, t.fields()).ok().and_then(|rec| t.total(&rec).ok())
        };
        let (mut old, mut new, mut changed, mut errors) = (Decimal::ZERO, Decimal::ZERO, 0u64, (0u64, 0u64));
        let mut changes = Vec::new();
        for (i, l) in lines.iter().enumerate() {
            let (x, y) = (price(&a, l), price(&b, l));
            old += x.unwrap_or_default();
            new += y.unwrap_or_default();
            changed += u64::from(x != y);
            errors.0 += u64::from(x.is_none());
            errors.1 += u64::from(y.is_none());
            if let (Some(x), Some(y)) = (x, y) {
                if x != y {
                    changes.push((i as u64 + 1, x, y));
                }
            }
        }
        prop_assert_eq!(r.total.records, lines.len() as u64);
        prop_assert_eq!((r.total.old, r.total.new), (old, new));
        prop_assert_eq!(r.total.changed, changed);
        prop_assert_eq!((r.total.old_errors, r.total.new_errors), errors);
        // The groups add up to the total.
        let mut sum = replay::Sums::default();
        for g in r.groups.values() {
            sum.records += g.records;
            sum.changed += g.changed;
            sum.old_errors += g.old_errors;
            sum.new_errors += g.new_errors;
            sum.old += g.old;
            sum.new += g.new;
        }
        prop_assert_eq!(&sum, &r.total);
        // The ten largest, ties by line.
        changes.sort_by(|x, y| (y.2 - y.1).abs().cmp(&(x.2 - x.1).abs()).then(x.0.cmp(&y.0)));
        prop_assert_eq!(r.changes.len(), changes.len());
        changes.truncate(replay::LARGEST);
        let largest: Vec<(u64, Decimal, Decimal)> = r.largest.iter().map(|c| (c.line, c.old, c.new)).collect();
        prop_assert_eq!(largest, changes);
    }
}
