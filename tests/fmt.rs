//! The formatter's laws, over every policy and fixture in the repository
//! and over generated policies: formatting twice changes nothing; the
//! formatted policy compiles to the identical table; no comment is lost;
//! a copy with its whitespace scrambled formats to the same bytes.

// A test fails by panicking; helpers here may unwrap and index freely.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use proptest::prelude::*;
use std::path::{Path, PathBuf};
use tollgate::lint::tokens::{tokens, Token};
use tollgate_oracle::generate::{self, Shape};

/// Every `.toll` file under `dir`, recursively.
fn toll_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            toll_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "toll") {
            out.push(p);
        }
    }
}

/// The repository's policies and fixtures that parse.
fn corpus() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    toll_files(&root.join("policies"), &mut files);
    toll_files(&root.join("tests"), &mut files);
    files.sort();
    files
        .into_iter()
        .filter_map(|p| {
            let text = String::from_utf8(std::fs::read(&p).ok()?).ok()?;
            let text = text.strip_prefix('\u{feff}').unwrap_or(&text).to_string();
            parses(&text).then_some(())?;
            Some((p.display().to_string(), text))
        })
        .collect()
}

/// Whether `text` is a policy's syntax (it may still fail to check).
fn parses(text: &str) -> bool {
    let options = tollgate::pipeline::Options::default();
    tollgate::pipeline::run(text, &options, tollgate::pipeline::Goal::Parse)
        .file
        .is_some()
}

/// The comments of a text, in order.
fn comment_texts(text: &str) -> Vec<String> {
    tokens(text)
        .into_iter()
        .filter(|(t, _)| *t == Some(Token::Comment))
        .map(|(_, s)| text[s.range()].trim_end().to_string())
        .collect()
}

/// What a policy compiles to, as comparable bytes: the artifact of a fee
/// table, the decision structure of a notifications policy; the
/// diagnostics' codes when it does not compile.
fn compiled(text: &str) -> String {
    use tollgate_runtime::artifact::{encode, Compiled};
    match tollgate::pipeline::compile(text, &tollgate::pipeline::Options::default()) {
        Err(ds) => format!("{:?}", ds.iter().map(|d| d.code).collect::<Vec<_>>()),
        Ok(out) => match out.compiled {
            Compiled::Fees(t) => format!("{:?}", encode(&t)),
            Compiled::Notifications(p) => format!("{p:?}"),
        },
    }
}

/// A tiny deterministic generator for scrambling.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn pick<'a>(&mut self, options: &[&'a str]) -> &'a str {
        options[(self.next() % options.len() as u64) as usize]
    }
}

/// `text` with every run of whitespace between tokens replaced by another:
/// spaces, tabs and line breaks at random, blank lines added or removed,
/// indentation changed. A comment keeps its place: one that had a line of
/// its own still has, one that followed code still does, and every comment
/// still ends its line. The space inside `20.00 CNY` stays spaces.
fn scramble(text: &str, seed: u64) -> String {
    let toks = tokens(text);
    let mut r = Lcg(seed);
    let mut out = String::new();
    let mut i = 0;
    while i < toks.len() {
        let (tok, span) = toks[i];
        if !matches!(tok, Some(Token::Space | Token::Newline)) {
            out.push_str(&text[span.range()]);
            i += 1;
            continue;
        }
        // One run of whitespace: tokens i..j.
        let mut j = i;
        let mut had_newline = false;
        while j < toks.len() && matches!(toks[j].0, Some(Token::Space | Token::Newline)) {
            had_newline |= toks[j].0 == Some(Token::Newline);
            j += 1;
        }
        let before = i.checked_sub(1).map(|k| toks[k]);
        let after = toks.get(j).copied();
        let after_comment = before.is_some_and(|(t, _)| t == Some(Token::Comment));
        let before_own_line_comment =
            had_newline && after.is_some_and(|(t, _)| t == Some(Token::Comment));
        let in_money = before.is_some_and(|(t, _)| t == Some(Token::Number))
            && after.is_some_and(|(t, s)| {
                t == Some(Token::Name)
                    && text[s.range()].len() == 3
                    && text[s.range()].chars().all(|c| c.is_ascii_uppercase())
            });
        let run = if in_money {
            r.pick(&[" ", "  ", "   "]).to_string()
        } else if after_comment || before_own_line_comment {
            // A line break must stay; blank lines and indentation may move.
            format!(
                "{}\n{}",
                r.pick(&["", " ", "\t"]),
                r.pick(&["", "\n", "  ", "\t\t", "\n    "])
            )
        } else if after.is_some_and(|(t, _)| t == Some(Token::Comment)) {
            // Before a comment that followed code: no line break.
            r.pick(&[" ", "  ", "\t", "      "]).to_string()
        } else {
            r.pick(&[" ", "\n", "\t", "  \n\n   ", "\n\t", " \r\n "])
                .to_string()
        };
        out.push_str(&run);
        i = j;
    }
    out
}

/// Every law for one policy text.
fn laws(name: &str, text: &str, seed: u64) {
    let once = tollgate::fmt::format(text)
        .unwrap_or_else(|e| panic!("{name}: does not format: {:?}", e[0].message));
    let twice = tollgate::fmt::format(&once).unwrap();
    assert_eq!(once, twice, "{name}: formatting twice changed it");
    assert_eq!(
        comment_texts(text),
        comment_texts(&once),
        "{name}: comments lost or moved out of order"
    );
    assert_eq!(
        compiled(text),
        compiled(&once),
        "{name}: the formatted policy compiles differently"
    );
    for k in 0..3 {
        let scrambled = scramble(text, seed.wrapping_add(k));
        let again = tollgate::fmt::format(&scrambled).unwrap_or_else(|e| {
            panic!(
                "{name}: scrambled copy does not parse: {:?}\n{scrambled}",
                e[0].message
            )
        });
        assert_eq!(once, again, "{name}: a scrambled copy formats differently");
    }
}

#[test]
fn every_policy_and_fixture_obeys_the_laws() {
    let corpus = corpus();
    assert!(corpus.len() > 50, "only {} files", corpus.len());
    for (i, (name, text)) in corpus.iter().enumerate() {
        laws(name, text, i as u64);
    }
}

#[test]
fn the_reference_policies_are_formatted() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    toll_files(&root.join("policies"), &mut files);
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        // The policies' test files (`NAME.test.toll`) too.
        let formatted = if tollgate::source::is_test_file(&file) {
            tollgate::fmt::format_tests(&text).unwrap()
        } else {
            tollgate::fmt::format(&text).unwrap()
        };
        assert!(
            formatted == text,
            "{} is not formatted: run `tollgate fmt policies`",
            file.display()
        );
    }
}

/// Comments spliced into a generated policy: own-line ones before some
/// lines, trailing ones after others.
fn with_comments(text: &str, seed: u64) -> String {
    let mut r = Lcg(seed);
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        match r.next() % 6 {
            0 => out.push_str(&format!("# note {i}\n{line}\n")),
            1 if !line.trim().is_empty() => out.push_str(&format!("{line} # why {i}\n")),
            _ => out.push_str(&format!("{line}\n")),
        }
    }
    out
}

/// Comments spliced in around the commas of a text (of enums, sets, key
/// lists, records): before some commas one on a line of its own, after
/// some one that follows the comma, around others both.
fn with_comments_around_commas(text: &str, seed: u64) -> String {
    let mut r = Lcg(seed);
    let mut out = String::new();
    for (i, (tok, span)) in tokens(text).into_iter().enumerate() {
        let t = &text[span.range()];
        if tok != Some(Token::Punct) || t != "," {
            out.push_str(t);
            continue;
        }
        let (before, after) = match r.next() % 4 {
            0 => (false, false),
            1 => (true, false),
            2 => (false, true),
            _ => (true, true),
        };
        if before {
            out.push_str(&format!("\n# before comma {i}\n"));
        }
        out.push(',');
        if after {
            out.push_str(&format!(" # after comma {i}\n"));
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(common::cases(24)))]

    #[test]
    fn generated_policies_obey_the_laws(seed in 0u64..1_000_000, rules in 1usize..12, schedules in 1usize..3, unique: bool, specific: bool) {
        let text = generate::policy(seed, Shape { rules, schedules, unique, specific });
        laws("generated", &text, seed);
        laws("generated with comments", &with_comments(&text, seed), seed);
        laws("generated with comments around commas", &with_comments_around_commas(&text, seed), seed);
    }

    #[test]
    fn generated_sheets_obey_the_laws(seed in 0u64..1_000_000, rules in 1usize..60) {
        laws("sheet", &with_comments(&generate::rate_sheet(seed, rules), seed), seed);
        laws("unique sheet", &generate::unique_sheet(seed, rules), seed);
        let large = generate::large_enum_policy(seed, 150, rules.min(8), 1);
        laws("large enum", &large, seed);
        laws("large enum with comments around commas", &with_comments_around_commas(&large, seed), seed);
    }
}

// ---------------------------------------------------------------------------
// The command.

const UNTIDY: &str = "policy   tidy version 1\nkind fees\nfield amount: money\n\n\n  schedule s {hit first\n   # why\n otherwise => 0.60%}\n";

fn tollgate(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn fmt_on_standard_input_prints_the_formatted_policy() {
    let out = common::tollgate_stdin(&["fmt", "-"], UNTIDY);
    assert_eq!(out.status.code(), Some(0));
    insta::assert_snapshot!(String::from_utf8(out.stdout).unwrap());
}

#[test]
fn fmt_check_prints_a_diff_and_exits_one() {
    let dir = common::scratch("check");
    let path = dir.join("tidy.toll");
    std::fs::write(&path, UNTIDY).unwrap();
    let out = tollgate(&["fmt", "--check", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        UNTIDY,
        "--check changed the file"
    );
    let diff = String::from_utf8(out.stdout)
        .unwrap()
        .replace(path.to_str().unwrap(), "tidy.toll");
    insta::assert_snapshot!(diff);
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 file would be reformatted"));
    // Formatted in place, then nothing more to do.
    let out = tollgate(&["fmt", dir.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = tollgate(&["fmt", "--check", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "temporary files left: {names:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn fmt_leaves_a_policy_that_does_not_parse_alone() {
    let dir = common::scratch("broken");
    let path = dir.join("broken.toll");
    let broken = "policy broken version 1\nkind fees\nfield amount money\n";
    std::fs::write(&path, broken).unwrap();
    let out = tollgate(&["fmt", "--color", "never", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("E0001"), "{err}");
    assert!(err.contains("was not formatted"), "{err}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), broken);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn fmt_of_a_missing_file_is_a_usage_error() {
    let out = tollgate(&["fmt", "no/such/policy.toll"]);
    assert_eq!(out.status.code(), Some(2));
}

/// Every test file (`*.test.toll`) of the repository.
fn test_files() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    toll_files(&root.join("policies"), &mut files);
    toll_files(&root.join("tests"), &mut files);
    files.sort();
    files
        .into_iter()
        .filter(|p| tollgate::source::is_test_file(p))
        .map(|p| {
            (
                p.display().to_string(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect()
}

/// A test file's tokens but its commas (the formatter drops a trailing
/// comma on one line and writes one after each field of a record laid out
/// over lines): what must not change.
fn test_tokens(text: &str) -> Vec<String> {
    let tree = tollgate::syntax::concrete::concrete_tests(text).unwrap();
    tree.leaves()
        .into_iter()
        .filter(|l| l.kind != tollgate::syntax::concrete::NodeKind::punct_comma)
        .map(|l| {
            text[l.span.range()]
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

/// `text` with its spaces and line breaks between tokens changed at random
/// (none inside strings; a comment still ends its line, and one that
/// followed code still does; an amount and its currency stay on one line).
fn scramble_lines(text: &str, seed: u64) -> String {
    let mut r = Lcg(seed);
    let mut out = String::new();
    let (mut in_string, mut in_comment) = (false, false);
    for (at, c) in text.char_indices() {
        // A line break before a comment says the comment has a line of its
        // own: the one thing about whitespace the layout keeps.
        let before_comment = c == '\n'
            && text[at + 1..]
                .trim_start_matches([' ', '\t'])
                .starts_with('#');
        match c {
            '"' if !in_comment => {
                in_string = !in_string;
                out.push(c);
            }
            '#' if !in_string => {
                in_comment = true;
                out.push(c);
            }
            '\n' if in_comment || (before_comment && !in_string) => {
                in_comment = false;
                out.push('\n');
            }
            // A space before a comment that follows code: no line break.
            ' ' if !in_string
                && !in_comment
                && text[at + 1..]
                    .trim_start_matches([' ', '\t'])
                    .starts_with('#') =>
            {
                out.push(' ');
            }
            // `25.00 CNY` is one token: spaces only after a digit.
            ' ' | '\n' if !in_string && !in_comment => {
                let after_digit = out
                    .trim_end()
                    .chars()
                    .last()
                    .is_some_and(|c| c.is_ascii_digit());
                match r.next() % 3 {
                    0 => out.push(' '),
                    1 => out.push_str("   "),
                    _ if after_digit => out.push_str("  "),
                    _ => out.push_str("\n    "),
                }
            }
            _ => out.push(c),
        }
    }
    out
}

#[test]
fn test_files_obey_the_laws() {
    let files = test_files();
    assert!(files.len() >= 10, "only {} test files", files.len());
    for (i, (name, text)) in files.iter().enumerate() {
        test_file_laws(name, text, i as u64);
        let commented = with_comments_around_commas(text, i as u64);
        test_file_laws(
            &format!("{name} with comments around commas"),
            &commented,
            i as u64,
        );
    }
}

/// Every law for one test file's text.
fn test_file_laws(name: &str, text: &str, i: u64) {
    let once = tollgate::fmt::format_tests(text)
        .unwrap_or_else(|e| panic!("{name}: does not format: {:?}", e[0].message));
    let twice = tollgate::fmt::format_tests(&once).unwrap();
    assert_eq!(once, twice, "{name}: formatting twice changed it");
    assert_eq!(
        comment_texts(text),
        comment_texts(&once),
        "{name}: comments lost"
    );
    assert_eq!(
        test_tokens(text),
        test_tokens(&once),
        "{name}: tokens changed"
    );
    for k in 0..3 {
        let scrambled = scramble_lines(text, i * 7 + k);
        let again = tollgate::fmt::format_tests(&scrambled)
            .unwrap_or_else(|e| panic!("{name}: scrambled copy: {:?}\n{scrambled}", e[0].message));
        assert_eq!(once, again, "{name}: a scrambled copy formats differently");
    }
}

/// Comments before and after the commas of an enum (between variants and
/// after the last), and of a test's record: `fmt -` keeps each where it
/// stood (before the comma on a line of its own, after the comma on its
/// line), and formatting its output changes nothing.
#[test]
fn comments_around_commas_keep_their_places() {
    let header = "policy p version 1\nkind fees\nrounding half_up\n";
    let rest = "field amount: money\nschedule s {\n  hit first\n  otherwise => 0\n}\n";
    let cases = [
        (
            "enum_between_variants",
            format!("{header}field ch: enum {{ a\n# x\n, # y\nb, c }}\n{rest}"),
        ),
        (
            "enum_after_the_last_variant",
            format!("{header}field ch: enum {{ a, b\n# x\n, # y\n}}\n{rest}"),
        ),
        (
            "set_before_its_brace",
            format!("{header}field ch: enum {{ a, b, c }}\n{rest}").replace(
                "otherwise => 0",
                "rule r when ch in {a, b\n# x\n, # y\n} => 1.00\n  otherwise => 0",
            ),
        ),
    ];
    let record = (
        "test_record",
        "tests for p\ntest \"r\" {\n  record { channel: credit_card\n# a\n, # b\namount: 100.00 CNY }\n  expect fee 0.60 CNY\n}\n".to_string(),
    );
    let mut shown = String::new();
    for (name, text) in cases.iter().chain([&record]) {
        let out = common::tollgate_stdin(&["fmt", "-"], text);
        assert_eq!(out.status.code(), Some(0), "{name}");
        let once = String::from_utf8(out.stdout).unwrap();
        let again = common::tollgate_stdin(&["fmt", "-"], &once);
        assert_eq!(
            String::from_utf8(again.stdout).unwrap(),
            once,
            "{name}: formatting twice changed it"
        );
        shown.push_str(&format!("== {name}\n{text}-- formatted\n{once}"));
    }
    insta::assert_snapshot!(shown);
}

#[test]
fn fmt_formats_test_files_found_in_directories_and_on_stdin() {
    let dir = common::scratch("test_files");
    std::fs::write(
        dir.join("shop.test.toll"),
        "tests for shop\ntest \"card\" { record { channel: card,\n amount: 100.00 CNY, }\n expect fee 0.60 CNY }\n",
    )
    .unwrap();
    let out = tollgate(&["fmt", dir.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("shop.test.toll")).unwrap(),
        "tests for shop\n\ntest \"card\" {\n  record { channel: card, amount: 100.00 CNY }\n  expect fee 0.60 CNY\n}\n"
    );
    let out = common::tollgate_stdin(&["fmt", "-"], "# tests\ntests   for shop\n");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "# tests\n\ntests for shop\n"
    );
}

/// A test file with one stream of `n` messages, each line longer than the
/// width, so that `fmt` rewraps every one.
fn long_stream(n: usize) -> String {
    let mut text = String::from(
        "tests for merchant_messages\n\ntest \"long stream\" {\n  start 2026-11-25T00:00:00+08:00\n",
    );
    for i in 0..n {
        text.push_str(&format!(
            "  message at +{}s {{ kind: txn_success, merchant: \"merchant\", terminal: \"t10000\", txn_id: \"{i}\" }} => deliver\n",
            10 * i
        ));
    }
    text.push_str("}\n");
    text
}

#[test]
fn fmt_check_on_thousands_of_changed_lines_prints_a_bounded_diff() {
    let dir = common::scratch("long");
    let path = dir.join("merchant_messages.test.toll");
    let text = long_stream(4_000);
    std::fs::write(&path, &text).unwrap();
    let out = tollgate(&["fmt", "--check", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "every line would change");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    let diff = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = diff.lines().collect();
    // The header, the hunks cut at the bound, and one line saying how much
    // was left out.
    let hunk_lines = lines
        .iter()
        .filter(|l| {
            l.starts_with([' ', '-', '+']) && !l.starts_with("--- ") && !l.starts_with("+++ ")
        })
        .count();
    assert_eq!(hunk_lines, tollgate::fmt::udiff::MAX_PRINTED_LINES);
    let last = lines.last().unwrap();
    assert!(
        last.starts_with("... ")
            && last.ends_with("more lines of this diff not shown (run `tollgate fmt` to apply it)"),
        "{last}"
    );
    // What is shown is the start of the whole diff.
    let formatted = tollgate::fmt::format_tests(&text).unwrap();
    let old: Vec<&str> = text.split_inclusive('\n').collect();
    let new: Vec<&str> = formatted.split_inclusive('\n').collect();
    let ops = tollgate::fmt::udiff::ops(&old, &new);
    let whole_lines: usize = similar::group_diff_ops(ops, 3)
        .iter()
        .flatten()
        .map(|op| match op {
            similar::DiffOp::Equal { len, .. } => *len,
            _ => op.old_range().len() + op.new_range().len(),
        })
        .sum();
    let left: usize = last.split(' ').nth(1).unwrap().parse().unwrap();
    assert_eq!(whole_lines, tollgate::fmt::udiff::MAX_PRINTED_LINES + left);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `new` rebuilt from `old` and the edit operations between them.
fn apply(old: &[&str], new: &[&str], ops: &[similar::DiffOp]) -> Vec<String> {
    let (mut at_old, mut at_new) = (0, 0);
    let mut out = Vec::new();
    for op in ops {
        let (tag, o, n) = op.as_tag_tuple();
        assert_eq!(
            (o.start, n.start),
            (at_old, at_new),
            "ops in order, no gaps"
        );
        if tag == similar::DiffTag::Equal {
            assert_eq!(&old[o.clone()], &new[n.clone()]);
            out.extend(old[o.clone()].iter().map(|s| s.to_string()));
        } else {
            out.extend(new[n.clone()].iter().map(|s| s.to_string()));
        }
        (at_old, at_new) = (o.end, n.end);
    }
    assert_eq!((at_old, at_new), (old.len(), new.len()), "ops cover both");
    out
}

/// `old` patched by the unified diff `diff` (every hunk printed).
fn patch(old: &str, diff: &str) -> String {
    let old: Vec<&str> = old.split_inclusive('\n').collect();
    let mut out = String::new();
    let mut at = 0;
    let mut last = ' ';
    for line in diff.split_inclusive('\n').skip(2) {
        let tag = line.chars().next().unwrap();
        if let Some(header) = line.strip_prefix("@@ -") {
            let range = header.split(' ').next().unwrap();
            let mut parts = range.split(',');
            let start: usize = parts.next().unwrap().parse().unwrap();
            let len: usize = parts.next().map_or(1, |l| l.parse().unwrap());
            let first = if len == 0 { start } else { start - 1 };
            out.extend(old[at..first].iter().copied());
            at = first;
        } else if tag == '\\' {
            if last != '-' {
                out.pop();
            }
            continue;
        } else if let Some(text) = line.strip_prefix(' ') {
            out.push_str(text);
            at += 1;
        } else if line.starts_with('-') {
            at += 1;
        } else if let Some(text) = line.strip_prefix('+') {
            out.push_str(text);
        }
        last = tag;
    }
    out.extend(old[at..].iter().copied());
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(common::cases(48)))]

    /// The bounded diff is a diff: its operations rebuild the new lines
    /// from the old, on stretches short and long (over the bound for a
    /// minimal diff), with few distinct lines and many.
    #[test]
    fn the_bounded_diff_rebuilds_the_new_text(
        old in prop::collection::vec(0u16..40, 0..2_500),
        edits in prop::collection::vec((0usize..2_500, 0u16..60, 0u8..3), 0..400),
    ) {
        let mut new = old.clone();
        for (at, v, kind) in edits {
            let at = at.min(new.len());
            match kind {
                0 => new.insert(at, v),
                1 if at < new.len() => { new.remove(at); }
                _ if at < new.len() => new[at] = v,
                _ => new.push(v),
            }
        }
        let old: Vec<String> = old.iter().map(|v| format!("line {v}\n")).collect();
        let new: Vec<String> = new.iter().map(|v| format!("line {v}\n")).collect();
        let old: Vec<&str> = old.iter().map(String::as_str).collect();
        let new: Vec<&str> = new.iter().map(String::as_str).collect();
        let ops = tollgate::fmt::udiff::ops(&old, &new);
        prop_assert_eq!(apply(&old, &new, &ops), new.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    }

    /// The printed diff, when nothing is left out, patches the old text
    /// into the new one, an old last line without a line break included
    /// (the new text, as `fmt` writes it, ends in one).
    #[test]
    fn the_printed_diff_patches_old_into_new(
        old in prop::collection::vec(0u16..12, 0..60),
        new in prop::collection::vec(0u16..12, 0..60),
        old_end: bool,
    ) {
        let join = |v: &[u16], end: bool| {
            let mut s: String = v.iter().map(|x| format!("l{x}\n")).collect();
            if !end { s.pop(); }
            s
        };
        let (old, new) = (join(&old, old_end), join(&new, true));
        let diff = tollgate::fmt::udiff::unified("x", &old, &new);
        prop_assert_eq!(diff.is_empty(), old == new);
        if !diff.is_empty() {
            prop_assert_eq!(patch(&old, &diff), new);
        }
    }
}

#[test]
fn a_tab_between_an_amount_and_its_currency_code_separates_them_like_a_space() {
    // docs/language.md: spaces (and tabs) separate words; an amount and its
    // code are two words on one line.
    let tests = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/fees/lakala.test.toll"),
    )
    .unwrap();
    let tabbed = tests.replace(" CNY", "\tCNY");
    assert_ne!(tabbed, tests);
    assert_eq!(tollgate::fmt::format_tests(&tabbed).unwrap(), tests);
    let policy = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/fees/lakala.toll"),
    )
    .unwrap();
    let coded = policy.replace("const debit_cap = 25.00\n", "const debit_cap = 25.00 CNY\n");
    assert_ne!(coded, policy);
    let tabbed = coded.replace("25.00 CNY", "25.00 \t CNY");
    assert_eq!(compiled(&tabbed), compiled(&coded));
    // Compiled bytes, not diagnostic codes.
    assert!(!compiled(&tabbed).contains('E'), "{}", compiled(&tabbed));
    assert_eq!(
        tollgate::fmt::format(&tabbed).unwrap(),
        tollgate::fmt::format(&coded).unwrap()
    );
}
