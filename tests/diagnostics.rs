//! The diagnostic corpus: every file in `tests/diagnostics/` is a policy that
//! fails, named after the code it must raise (`E0101_unknown_field.toll`).
//! Its snapshot is the rendered diagnostic, exactly as a user sees it.
//! Adding a case is adding a file (then `cargo insta review`).

// A test fails by panicking; helpers here may unwrap and index freely.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::BTreeSet;
use std::path::Path;
use tollgate::diagnostic::{render::render, Code, Diagnostic};

/// Loads a corpus file the way `tollgate check` does and returns its findings.
fn diagnose(path: &Path) -> (String, String, Vec<Diagnostic>) {
    let bytes = std::fs::read(path).unwrap();
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let (source, problem) = tollgate::source::from_bytes(name.clone(), bytes);
    let diagnostics = match problem {
        Some(d) => vec![d],
        None => tollgate::pipeline::check(&source.text)
            .err()
            .unwrap_or_default(),
    };
    (name, source.text, diagnostics)
}

#[test]
fn corpus_snapshots() {
    insta::glob!("diagnostics/*.toll", |path| {
        let (name, text, diagnostics) = diagnose(path);
        let expected = name.split('_').next().unwrap();
        assert!(
            diagnostics.iter().any(|d| d.code.as_str() == expected),
            "{name} must raise {expected}, got {:?}",
            diagnostics.iter().map(|d| d.code).collect::<Vec<_>>()
        );
        insta::assert_snapshot!(render(&diagnostics, &name, &text, false));
    });
}

#[test]
fn every_code_has_a_failing_case() {
    // Policies in tests/diagnostics; test files (the E06xx codes of
    // `tollgate test`) in tests/testing, with their snapshots in testing.rs;
    // records `eval` refuses (E07xx) in tests/activation, run by
    // activation.rs.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let covered: BTreeSet<String> = ["tests/diagnostics", "tests/testing", "tests/activation"]
        .iter()
        .flat_map(|d| std::fs::read_dir(root.join(d)).unwrap())
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter_map(|n| n.split('_').next().map(str::to_string))
        .collect();
    let missing: Vec<&str> = Code::ALL
        .iter()
        .filter(|c| !c.is_lint())
        .map(|c| c.as_str())
        .filter(|c| !covered.contains(*c))
        .collect();
    assert!(
        missing.is_empty(),
        "codes without a corpus file: {missing:?}"
    );
}

#[test]
fn json_carries_the_same_data() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/diagnostics/E0101_unknown_field.toll");
    let (name, text, diagnostics) = diagnose(&path);
    let d = diagnostics.first().unwrap();
    let json = serde_json::to_value(tollgate::diagnostic::json::to_json(d, &name, &text)).unwrap();
    assert_eq!(json["code"], "E0101");
    assert_eq!(json["severity"], "error");
    assert_eq!(json["line"], 8);
    assert_eq!(json["column"], 20);
    let start = json["span"]["start"].as_u64().unwrap() as usize;
    let end = json["span"]["end"].as_u64().unwrap() as usize;
    assert_eq!(&text[start..end], "chanel");
    assert_eq!(json["help"], "did you mean `channel`?");
}

/// The first diagnostic of `text`, checked as `tollgate check` does.
fn first_of(text: &str) -> Diagnostic {
    tollgate::pipeline::check(text)
        .err()
        .and_then(|d| d.into_iter().next())
        .unwrap()
}

#[test]
fn an_unclosed_brace_is_pointed_at() {
    let header = "policy p version 1\nkind fees\nrounding half_up\nfield amount: money\n";
    // A schedule left open before the next schedule, and at the end of file.
    for tail in ["schedule b {\n  hit first\n  otherwise => 0\n}\n", ""] {
        let text = format!("{header}schedule a {{\n  hit first\n  otherwise => 1%\n\n{tail}");
        let d = first_of(&text);
        assert_eq!(d.code, Code::E0001);
        let brace = text.find('{').unwrap();
        assert_eq!(d.span().start, brace, "{d:?}");
        assert_eq!(d.labels[0].message, "this `{` is never closed");
        assert!(!d.message.contains("expected"), "{}", d.message);
    }
    // An enum's brace left open before the next declaration.
    let text = "policy p version 1\nkind fees\nrounding half_up\n\
                field channel: enum { card, scan\nfield amount: money\n";
    let d = first_of(text);
    assert_eq!(d.span().start, text.find('{').unwrap(), "{d:?}");
    // A balanced file with a misplaced line is not about braces.
    let text = format!("{header}schedule a {{\n  hit first\n  field x: money\n}}\n");
    let d = first_of(&text);
    assert_ne!(d.labels[0].message, "this `{` is never closed");
}

#[test]
fn a_dollar_amount_gets_a_hint() {
    let text = "policy p version 1\nkind fees\ncurrency USD\nrounding half_up\n\
                field amount: money\nschedule a {\n  hit first\n  otherwise => 2.9% + $0.30\n}\n";
    let d = first_of(text);
    assert_eq!(d.code, Code::E0001);
    let help = d.help.unwrap_or_default();
    assert!(
        help.contains("`0.30`") && help.contains("`0.30 USD`"),
        "{help}"
    );
    let without = text.replace("currency USD\n", "");
    let help = first_of(&without).help.unwrap_or_default();
    assert!(
        help.contains("`0.30`") && help.contains("`0.30 CNY`"),
        "{help}"
    );
}

#[test]
fn the_yen_sign_is_the_policys_yen_or_yuan_and_ambiguous_elsewhere() {
    let policy = |currency: &str| {
        format!(
            "policy p version 1\nkind fees\ncurrency {currency}\nrounding half_up\n\
             field amount: money\nschedule a {{\n  hit first\n  otherwise => 1% of amount + ¥30 min ￥5\n}}\n"
        )
    };
    assert!(tollgate::pipeline::check(&policy("JPY")).is_ok());
    assert!(tollgate::pipeline::check(&policy("CNY")).is_ok());
    let d = first_of(&policy("USD"));
    assert_eq!(d.code, Code::E0206);
    assert!(
        d.message.contains("yen (JPY) or yuan (CNY)"),
        "{}",
        d.message
    );
    let help = d.help.unwrap_or_default();
    assert!(help.contains("`30`") && help.contains("`30 USD`"), "{help}");
}

#[test]
fn the_rounding_step_help_names_the_currencys_own_minor_unit() {
    let policy = |currency: &str| {
        format!(
            "policy p version 1\nkind fees\ncurrency {currency}\nrounding half_up to 0\n\
             field amount: money\nschedule a {{\n  hit first\n  otherwise => 1%\n}}\n"
        )
    };
    for (currency, wanted) in [
        ("KWD", "one minor unit of KWD with `to 0.001`"),
        ("JPY", "one minor unit of JPY with `to 1`"),
        ("CNY", "the fen with `to 0.01`"),
    ] {
        let help = first_of(&policy(currency)).help.unwrap_or_default();
        assert!(help.contains(wanted), "{currency}: {help}");
        if currency != "CNY" {
            assert!(!help.contains("fen"), "{currency}: {help}");
        }
    }
}

#[test]
fn a_second_total_gets_a_hint_with_the_bounds_joined() {
    for (bounds, joined) in [
        ("total min 1 total cap 2", "`total min 1 cap 2`"),
        ("total min 1.00 total cap 2.00", "`total min 1.00 cap 2.00`"),
        (
            "total min ¥1 total cap ¥2 # whole fee",
            "`total min ¥1 cap ¥2`",
        ),
    ] {
        let text = format!(
            "policy p version 1\nkind fees\nrounding half_up\nfield amount: money\n\
             schedule a {{\n  hit first\n  otherwise => 0.6% {bounds}\n}}\n"
        );
        let d = first_of(&text);
        assert_eq!(d.code, Code::E0001);
        let help = d.help.unwrap_or_default();
        assert!(help.contains(joined), "{bounds}: {help}");
    }
}

#[test]
fn a_control_character_in_a_suppress_reason_is_refused_by_name() {
    for (written, named) in [
        ("\\t", "U+0009"),
        ("\t", "U+0009"),
        ("\u{7}", "U+0007"),
        ("\u{1b}[31m", "U+001B"),
        ("\u{85}", "U+0085"),
        ("\r", "U+000D"),
    ] {
        let text = format!(
            "policy p version 1\nkind notifications\nfield kind: enum {{ promo }}\n\
             field at: timestamp\nrule out when kind == promo => suppress \"opted{written}out\"\n"
        );
        let d = first_of(&text);
        assert_eq!(d.code, Code::E0203, "{written:?}: {d:?}");
        assert!(
            d.message.contains(named) && d.message.contains("control character"),
            "{written:?}: {}",
            d.message
        );
    }
}

#[test]
fn a_line_separator_or_direction_override_in_a_suppress_reason_is_refused() {
    // Not control characters to Unicode, but each breaks a log line or
    // reorders the text a merchant or an operator reads.
    for (written, named) in [
        ("\u{2028}", "U+2028"),
        ("\u{2029}", "U+2029"),
        ("\u{202e}", "U+202E"),
        ("\u{2066}", "U+2066"),
        ("\u{200f}", "U+200F"),
    ] {
        let text = format!(
            "policy p version 1\nkind notifications\nfield kind: enum {{ promo }}\n\
             field at: timestamp\nrule out when kind == promo => suppress \"opted{written}out\"\n"
        );
        let d = first_of(&text);
        assert_eq!(d.code, Code::E0203, "{written:?}: {d:?}");
        assert!(d.message.contains(named), "{written:?}: {}", d.message);
    }
}

#[test]
fn an_iso_code_without_a_minor_unit_is_named_as_such() {
    for code in ["XAU", "XDR", "XTS"] {
        let text = format!(
            "policy p version 1\nkind fees\ncurrency {code}\nrounding half_up\n\
             field amount: money\nschedule s {{\n  hit first\n  otherwise => 1%\n}}\n"
        );
        let d = first_of(&text);
        assert_eq!(d.code, Code::E0206, "{code}: {d:?}");
        assert!(
            d.message.contains("without a minor unit") && !d.message.contains("not an ISO"),
            "{code}: {}",
            d.message
        );
    }
}

#[test]
fn a_policy_wide_expect_is_reported_once() {
    // Held by every schedule, checked in each: one finding, not one per
    // schedule.
    let text = "policy p version 1\nkind fees\nrounding half_up\n\
                expect colour between 1% and 2%\nfield amount: money\n\
                schedule a {\n  hit first\n  otherwise => 1%\n}\n\
                schedule b {\n  hit first\n  otherwise => 1%\n}\n";
    let ds = tollgate::pipeline::check(text).err().unwrap_or_default();
    assert_eq!(
        ds.iter().map(|d| d.code).collect::<Vec<_>>(),
        vec![Code::E0101],
        "{ds:?}"
    );
}
