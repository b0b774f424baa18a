//! Valid policies up to the size limit parse: the parser's step limit is
//! set for the largest policy accepted, so a large rate sheet is never
//! refused with a false syntax error. (An input that exhausts the limit
//! anyway is E0004, naming it: a unit test in `src/syntax/expected.rs`.)

// A test fails by panicking; helpers here may unwrap and index freely.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::fmt::Write as _;

/// A rate sheet of `rules` one-line rules, as generated sheets are written.
fn sheet(rules: usize) -> String {
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

#[test]
fn a_rate_sheet_of_sixty_thousand_rules_parses() {
    // About 4.2 MB, half the size limit: beyond the fixed step budget the
    // parser used to have, which refused it as `E0001 unexpected '>'`.
    let text = sheet(60_000);
    assert!(text.len() < tollgate::syntax::limits::MAX_SOURCE_BYTES);
    let options = tollgate::pipeline::Options::default();
    let stages = tollgate::pipeline::run(&text, &options, tollgate::pipeline::Goal::Parse);
    match stages.file {
        Some(file) => assert_eq!(file.name.name, "big"),
        None => panic!("{:?}", stages.diagnostics.first()),
    }
}
