//! The linter's work budget (`docs/lints.md`, L0111 `undecided`): a small
//! policy whose analysis explodes stops at the budget and says so; what is
//! reported at any budget is among what the complete analysis reports; and
//! the policies the linter is for are decided at the default budget.

// A test fails by panicking; helpers here may unwrap and index freely.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;
use proptest::prelude::*;
use std::fmt::Write as _;
use tollgate::diagnostic::{Code, Diagnostic};
use tollgate::lint::{lint_source, lint_source_within};
use tollgate_oracle::generate::{policy, Rng, Shape};

/// `rules` rules of a `hit first` schedule, each the `and` of twelve
/// `(x or y)` pairs over 24 bool fields (a different pairing per rule):
/// 4,096 overlapping boxes per rule, in a couple of kilobytes.
fn multiplying_ors(rules: usize) -> String {
    let mut s = String::from("policy flags version 1\nkind fees\nrounding half_up\n");
    for i in 0..24 {
        let _ = writeln!(s, "field f{i}: bool");
    }
    s.push_str("field amount: money\nschedule s {\n  hit first\n");
    let mut rng = Rng::new(7);
    for k in 0..rules {
        let mut fields: Vec<usize> = (0..24).collect();
        for i in (1..fields.len()).rev() {
            fields.swap(i, rng.below(i + 1));
        }
        let pairs: Vec<String> = fields
            .chunks(2)
            .map(|p| format!("(f{} or f{})", p[0], p[1]))
            .collect();
        let _ = writeln!(
            s,
            "  rule r{k} when {} => 0.{}%",
            pairs.join(" and "),
            k + 10
        );
    }
    s.push_str("  otherwise => 0.60%\n}\n");
    s
}

/// The large rate sheet of `tests/large_sheets.rs`: one rule per channel
/// and amount threshold, under `hit first`.
fn threshold_sheet(rules: usize) -> String {
    let channels = ["credit_card", "debit_card", "wechat", "alipay"];
    let mut s = String::from(
        "policy big version 1\nkind fees\nrounding half_up\n\
         field channel: enum { credit_card, debit_card, wechat, alipay }\n\
         field amount: money\nschedule mdr {\n  hit first\n",
    );
    for i in 0..rules {
        let _ = writeln!(
            s,
            "  rule r{i} when channel == {} and amount > {i}.00 => 0.{}%",
            channels[i % 4],
            i % 90 + 10
        );
    }
    s.push_str("  otherwise => 0.60%\n}\n");
    s
}

fn codes(found: &[Diagnostic]) -> Vec<Code> {
    found.iter().map(|d| d.code).collect()
}

#[test]
fn a_small_policy_of_multiplying_ors_stops_at_the_default_budget() {
    // The report's policy: 2.2 KB, eight rules of twelve `or` pairs over
    // 24 bools. It took 50 s and 5 GB to lint; `check` takes a moment.
    let text = multiplying_ors(8);
    assert!(text.len() < 2_400, "{}", text.len());
    let found = lint_source(&text, &[]);
    // Nothing but the finding that the analysis was not completed: no
    // "never reached" or "no rule matches" from a partial analysis.
    assert_eq!(codes(&found), vec![Code::L0111], "{found:?}");
    let d = &found[0];
    assert!(d.message.contains("schedule `s`"), "{}", d.message);
    assert!(
        d.message.contains("budget of 100000000 units"),
        "{}",
        d.message
    );
    let help = d.help.as_deref().unwrap_or("");
    assert!(help.contains("--budget"), "{help}");
}

#[test]
fn the_command_line_budget_beats_the_files_and_the_files_beats_the_default() {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/lints/L0111_budget_spent.toll"),
    )
    .unwrap();
    // The file's `lint budget 20000` stops the analysis...
    assert_eq!(codes(&lint_source(&text, &[])), vec![Code::L0111]);
    // ...the command line's budget wins over it...
    assert_eq!(
        codes(&lint_source_within(&text, &[], Some(10_000_000))),
        vec![]
    );
    // ...and without the line the default is enough.
    let without = text.replace("lint budget 20000\n", "");
    assert_ne!(without, text);
    assert_eq!(codes(&lint_source(&without, &[])), vec![]);
    // A budget of nothing stops even the smallest policy, which then
    // reports nothing else.
    let lakala = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/fees/lakala.toll"),
    )
    .unwrap();
    assert_eq!(
        codes(&lint_source_within(&lakala, &[], Some(0))),
        vec![Code::L0111]
    );
}

#[test]
fn the_command_line_takes_a_budget() {
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_tollgate"))
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap();
        (out.status.code(), String::from_utf8(out.stdout).unwrap())
    };
    let policy = "policies/fees/lakala.toll";
    // An analysis that did not finish fails the run (L0111 is deny).
    let (code, out) = run(&["lint", "--budget", "10", "--color", "never", policy]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("L0111"), "{out}");
    assert!(out.contains("budget of 10 units"), "{out}");
    let (code, out) = run(&["lint", "--budget", "1000000", policy]);
    assert_eq!((code, out.contains("L0111")), (Some(0), false), "{out}");
    let (code, _) = run(&["lint", "--budget", "lots", policy]);
    assert_eq!(code, Some(2));
}

#[test]
fn rate_sheets_of_ten_thousand_rules_are_decided_at_the_default_budget() {
    for text in [
        threshold_sheet(10_000),
        tollgate_oracle::generate::rate_sheet(1, 10_000),
    ] {
        let found = lint_source(&text, &[]);
        assert!(
            !found.iter().any(|d| d.code == Code::L0111),
            "{:?}",
            found.iter().find(|d| d.code == Code::L0111)
        );
    }
}

#[test]
fn the_thirteen_clause_rule_is_decided_at_the_default_budget() {
    // 8,192 rows in one rule (the real-traffic semantics issue's case):
    // analysed to the end, and satisfiable; and it compiles, so `check`,
    // `compile` and `eval` accept what the linter analyses.
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/lints/L0106_ok_many_rows.toll"),
    )
    .unwrap();
    assert!(text.contains("(a12 or b12) =>"));
    assert_eq!(codes(&lint_source(&text, &[])), vec![]);
    assert!(tollgate::pipeline::check(&text).is_ok());
}

/// What a finding says, without its help (which lists up to three gaps:
/// a partial sweep may have seen fewer).
fn key(d: &Diagnostic) -> (Code, String, usize) {
    (d.code, d.message.clone(), d.span().start)
}

/// At `budget`, every finding but L0111 is one the complete analysis
/// makes, and without L0111 the findings are the complete ones.
fn within_is_among_complete(text: &str, budget: u64) {
    let complete = lint_source_within(text, &[], Some(u64::MAX));
    assert!(!complete.iter().any(|d| d.code == Code::L0111));
    let partial = lint_source_within(text, &[], Some(budget));
    let all: Vec<_> = complete.iter().map(key).collect();
    if partial.iter().any(|d| d.code == Code::L0111) {
        for d in partial.iter().filter(|d| d.code != Code::L0111) {
            assert!(all.contains(&key(d)), "at {budget}: {d:?}\nnot in {all:?}");
        }
    } else {
        assert_eq!(
            partial.iter().map(key).collect::<Vec<_>>(),
            all,
            "at {budget}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: common::cases(150), ..ProptestConfig::default() })]

    #[test]
    fn findings_within_a_budget_are_among_the_complete_ones(
        seed in any::<u64>(),
        rules in 1usize..9,
        unique in any::<bool>(),
        budget in 0u64..6_000,
    ) {
        let text = policy(seed, Shape { rules, schedules: 2, unique, specific: false });
        within_is_among_complete(&text, budget);
    }
}
