//! No input makes the front end panic, and every diagnostic points inside the
//! text: mutated and truncated versions of every reference policy, random
//! bytes, and pathological shapes.

// A test fails by panicking; helpers here may unwrap and index freely.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;
use proptest::prelude::*;
use std::path::Path;
use tollgate::diagnostic::Diagnostic;

fn reference_policies() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    tollgate::source::discover(&root)
        .unwrap()
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
}

/// Runs the whole front end on raw bytes, as `tollgate check` does.
fn diagnose(bytes: Vec<u8>) -> (String, Vec<Diagnostic>) {
    let (source, problem) = tollgate::source::from_bytes("fuzz.toll".into(), bytes);
    let diagnostics = match problem {
        Some(d) => vec![d],
        None => tollgate::pipeline::check(&source.text)
            .err()
            .unwrap_or_default(),
    };
    (source.text, diagnostics)
}

/// Either success, or diagnostics whose every span lies on character
/// boundaries inside the text; and rendering them works.
fn assert_well_formed(text: &str, diagnostics: &[Diagnostic]) {
    for d in diagnostics {
        assert!(!d.labels.is_empty(), "{d:?} has no label");
        for l in &d.labels {
            let s = l.span;
            assert!(
                s.start <= s.end && s.end <= text.len(),
                "span {s:?} outside text of {} bytes: {d:?}",
                text.len()
            );
            assert!(
                text.is_char_boundary(s.start) && text.is_char_boundary(s.end),
                "span {s:?} splits a character"
            );
        }
        assert!(!d.message.is_empty());
    }
    let rendered = tollgate::diagnostic::render::render(diagnostics, "fuzz.toll", text, false);
    assert_eq!(rendered.is_empty(), diagnostics.is_empty());
}

/// Fragments that are likely to reach deep into the grammar when spliced in.
const FRAGMENTS: &[&str] = &[
    "(",
    ")",
    "{",
    "}",
    ",",
    "=>",
    "..",
    "-",
    "+",
    ":",
    "%",
    "bp",
    "¥",
    "，",
    "：",
    "％",
    "\"",
    "\\",
    "#",
    "\n",
    " and ",
    " or ",
    " not ",
    " in ",
    "between",
    "when",
    "otherwise",
    "rule",
    "schedule",
    "field",
    "const",
    "condition",
    "tiered whole {",
    "up to",
    "above",
    "cap",
    "min",
    "of amount",
    "limit",
    "per",
    "calendar day",
    "quiet",
    "then",
    "defer",
    "dedup by",
    "within",
    "always deliver",
    "suppress \"opted out\"",
    "0.60%",
    "38bp",
    "25.00",
    "¥3.00",
    "3.00 USD",
    "10m",
    "24h",
    "0d",
    "11:00",
    "25:61",
    "-1",
    "99999999999999999999999999999999",
    "credit_card",
    "channel",
    "amount",
    "kind",
    "promo_cap",
    "拉卡拉",
    "\u{0}",
    "\u{feff}",
];

#[derive(Debug, Clone)]
enum Mutation {
    Truncate(usize),
    Delete(usize, usize),
    Insert(usize, usize),
    Duplicate(usize, usize),
    FlipByte(usize, u8),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), 1usize..40).prop_map(|(a, n)| Mutation::Delete(a, n)),
        (any::<usize>(), 0..FRAGMENTS.len()).prop_map(|(a, f)| Mutation::Insert(a, f)),
        (any::<usize>(), 1usize..80).prop_map(|(a, n)| Mutation::Duplicate(a, n)),
        (any::<usize>(), any::<u8>()).prop_map(|(a, b)| Mutation::FlipByte(a, b)),
    ]
}

fn apply(mut bytes: Vec<u8>, m: &Mutation) -> Vec<u8> {
    let len = bytes.len().max(1);
    match *m {
        Mutation::Truncate(at) => bytes.truncate(at % len),
        Mutation::Delete(at, n) => {
            let start = (at % len).min(bytes.len());
            let end = (start + n).min(bytes.len());
            bytes.drain(start..end);
        }
        Mutation::Insert(at, f) => {
            let at = (at % len).min(bytes.len());
            let frag = FRAGMENTS[f].as_bytes();
            bytes.splice(at..at, frag.iter().copied());
        }
        Mutation::Duplicate(at, n) => {
            let start = (at % len).min(bytes.len());
            let end = (start + n).min(bytes.len());
            let copy: Vec<u8> = bytes[start..end].to_vec();
            bytes.splice(end..end, copy);
        }
        Mutation::FlipByte(at, b) => {
            if let Some(x) = bytes.get_mut(at % len) {
                *x ^= b;
            }
        }
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig { cases: common::cases(3000), ..ProptestConfig::default() })]

    #[test]
    fn mutated_policies_never_panic(which in any::<usize>(), muts in prop::collection::vec(mutation(), 1..6)) {
        let policies = reference_policies();
        let mut bytes = policies[which % policies.len()].clone().into_bytes();
        for m in &muts {
            bytes = apply(bytes, m);
        }
        let (text, diagnostics) = diagnose(bytes);
        assert_well_formed(&text, &diagnostics);
        // The linter reads the same text without panicking, and what it
        // says is as well formed.
        assert_well_formed(&text, &tollgate::lint::lint_source(&text, &[]));
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let (text, diagnostics) = diagnose(bytes);
        assert_well_formed(&text, &diagnostics);
    }
}

#[test]
fn every_truncation_of_every_policy_is_handled() {
    for policy in reference_policies() {
        let bytes = policy.as_bytes();
        for end in 0..bytes.len() {
            let (text, diagnostics) = diagnose(bytes[..end].to_vec());
            assert_well_formed(&text, &diagnostics);
            assert_well_formed(&text, &tollgate::lint::lint_source(&text, &[]));
            // A cut policy is incomplete, except where the cut only drops
            // trailing comments and blank lines.
            if diagnostics.is_empty() {
                assert!(tollgate::pipeline::check(&text).is_ok());
            }
        }
    }
}

#[test]
fn pathological_shapes_are_refused_or_parsed_quickly() {
    let header =
        "policy p version 1\nkind fees\nfield amount: money\nfield channel: enum { a, b }\n";
    let shapes = [
        format!("{header}condition c = {}", "(".repeat(100_000)),
        format!(
            "{header}condition c = {}channel == a",
            "not ".repeat(100_000)
        ),
        format!(
            "{header}condition c = channel == a{}",
            " and channel == b".repeat(20_000)
        ),
        format!("{header}{}", "const x = 1\n".repeat(50_000)),
        format!(
            "{header}schedule s {{ hit first rounding half_up {} }}",
            "rule r when amount > 1 => 1% ".repeat(20_000)
        ),
        "#".repeat(900_000),
        "{".repeat(900_000),
        "\"".repeat(900_000),
    ];
    for text in shapes {
        let (text, diagnostics) = diagnose(text.into_bytes());
        assert_well_formed(&text, &diagnostics);
    }
}
