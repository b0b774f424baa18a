//! The lint fixtures: every file in `tests/lints/` is a policy named after
//! the lint it is about. `L0101_shadowed_by_three_rules.toll` must raise
//! L0101; a near miss, `L0101_ok_reordered.toll`, must not. Each snapshot
//! is the rendered output of `tollgate lint` on the file, exactly as a
//! product team sees it. Adding a case is adding a file.

// A test fails by panicking; helpers here may unwrap and index freely.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::BTreeSet;
use std::path::Path;
use tollgate::diagnostic::{render::render, Code};

#[test]
fn fixtures_raise_their_lint_and_near_misses_do_not() {
    insta::glob!("lints/*.toll", |path| {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(path).unwrap();
        let found = tollgate::lint::lint_source(&text, &[]);
        let code = name.split('_').next().unwrap();
        let near_miss = name.contains("_ok_");
        let raised = found.iter().any(|d| d.code.as_str() == code);
        assert_eq!(
            raised,
            !near_miss,
            "{name}: {code} {} expected, got {:?}",
            if near_miss { "not" } else { "" },
            found.iter().map(|d| d.code).collect::<Vec<_>>()
        );
        insta::assert_snapshot!(render(&found, &name, &text, false));
    });
}

/// The corpus of realistic policies: `ok_*.toll` files, written from price
/// lists and the domain notes, must lint clean at the default levels; every
/// other file is a known slip and must raise the lint it is named after.
#[test]
fn the_realistic_corpus_lints_clean_and_its_slips_are_caught() {
    let mut seen = (0, 0);
    insta::glob!("lints/corpus/*.toll", |path| {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(path).unwrap();
        let found = tollgate::lint::lint_source(&text, &[]);
        if name.starts_with("ok_") {
            assert!(
                found.is_empty(),
                "{name} must lint clean:\n{}",
                render(&found, &name, &text, false)
            );
            seen.0 += 1;
        } else {
            let code = name.split('_').next().unwrap();
            assert!(
                found.iter().any(|d| d.code.as_str() == code),
                "{name}: {code} expected, got {:?}",
                found.iter().map(|d| d.code).collect::<Vec<_>>()
            );
            seen.1 += 1;
        }
        insta::assert_snapshot!(render(&found, &name, &text, false));
    });
    assert!(seen.0 >= 6 && seen.1 >= 3, "{seen:?}");
}

/// The registry, the code table, the docs and the fixtures agree: every
/// lint of the code table is registered once; every registered lint has
/// its page in `docs/codes/` (the one `tollgate explain` prints, headed by
/// the table's code, name, title and default level), its row in
/// `docs/lints.md`, a fixture that raises it and a near miss that does not
/// (the fixtures test holds each to its name).
#[test]
fn every_lint_is_registered_documented_and_has_fixtures() {
    use tollgate::lint::registry::{self, LINTS};
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let fixtures: BTreeSet<String> = std::fs::read_dir(root.join("tests/lints"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let index = std::fs::read_to_string(root.join("docs/lints.md")).unwrap();
    for code in Code::LINTS {
        assert!(
            registry::lint(*code).is_some(),
            "{code} is in the code table, but no unit is registered for it"
        );
    }
    let mut seen = BTreeSet::new();
    for lint in LINTS {
        let c = lint.code;
        assert!(seen.insert(c), "{c} is registered twice");
        let name = c
            .lint_name()
            .unwrap_or_else(|| panic!("{c} is registered, but the code table has it as an error"));
        let level = c.default_level().name();
        let title = c.title();
        let page = std::fs::read_to_string(root.join(format!("docs/codes/{c}.md")))
            .unwrap_or_else(|e| panic!("{c} has no page docs/codes/{c}.md: {e}"));
        let heading = format!("# {c} {name}: {title}\n\nDefault level: {level}");
        assert!(
            page.starts_with(&heading),
            "{c}: its page must start with `{heading}`"
        );
        for section in ["## What it does", "## Why is this bad", "## Example"] {
            assert!(page.contains(section), "{c}: its page lacks `{section}`");
        }
        assert_eq!(
            c.explanation(),
            page,
            "{c}: `tollgate explain` prints its page"
        );
        let row = format!("| [{c}](codes/{c}.md) | `{name}` | {level} | {title} |");
        assert!(index.contains(&row), "docs/lints.md lacks the row `{row}`");
        let prefix = format!("{c}_");
        assert!(
            fixtures
                .iter()
                .any(|n| n.starts_with(&prefix) && !n.contains("_ok_") && n.ends_with(".toll")),
            "{c} has no fixture"
        );
        assert!(
            fixtures
                .iter()
                .any(|n| n.starts_with(&format!("{c}_ok_")) && n.ends_with(".toll")),
            "{c} has no near miss"
        );
    }
    let rows = index.lines().filter(|l| l.starts_with("| [L")).count();
    assert_eq!(
        rows,
        LINTS.len(),
        "docs/lints.md lists a lint that is not registered"
    );
}

#[test]
fn the_reference_policies_lint_clean() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    let mut seen = 0;
    for kind in ["fees", "notifications"] {
        for entry in std::fs::read_dir(dir.join(kind)).unwrap() {
            let path = entry.unwrap().path();
            if tollgate::source::is_test_file(&path) {
                // A policy's tests (`NAME.test.toll`), run by tests/policies.rs.
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let found = tollgate::lint::lint_source(&text, &[]);
            assert!(
                found.is_empty(),
                "{}:\n{}",
                path.display(),
                render(&found, &path.display().to_string(), &text, false)
            );
            seen += 1;
        }
    }
    assert!(seen >= 4);
}

#[test]
fn levels_come_from_the_file_then_the_command_line() {
    use tollgate::diagnostic::codes::Level;
    use tollgate::diagnostic::Severity;
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lints/L0107_mergeable.toll"),
    )
    .unwrap();
    let codes = |text: &str, cli: &[(Code, Level)]| -> Vec<(Code, Severity)> {
        tollgate::lint::lint_source(text, cli)
            .iter()
            .map(|d| (d.code, d.severity))
            .collect()
    };
    assert_eq!(codes(&text, &[]), vec![(Code::L0107, Severity::Warning)]);
    let allowed = text.replace(
        "rounding half_up\n",
        "rounding half_up\nlint allow mergeable-rules\n",
    );
    assert_eq!(codes(&allowed, &[]), vec![]);
    let denied = text.replace("rounding half_up\n", "rounding half_up\nlint deny L0107\n");
    assert_eq!(codes(&denied, &[]), vec![(Code::L0107, Severity::Error)]);
    // The command line wins over the file.
    assert_eq!(
        codes(&allowed, &[(Code::L0107, Level::Warn)]),
        vec![(Code::L0107, Severity::Warning)]
    );
    assert_eq!(codes(&text, &[(Code::L0107, Level::Allow)]), vec![]);
}

#[test]
fn gap_regions_are_described_whole() {
    // Past rule `b`, `m3` falls through at every amount up to 10.00 (not
    // only below it); the strings no rule names are one region, told by
    // what it leaves out.
    let text = "policy p version 1\nkind fees\nrounding half_up\nfield merchant: string\n\
                field amount: money\nschedule s {\n  hit first\n  \
                rule a when merchant in {\"m1\", \"m2\"} => 1%\n  \
                rule b when merchant == \"m3\" and amount > 10 => 2%\n}\n";
    let found = tollgate::lint::lint_source(text, &[]);
    let gap = found.iter().find(|d| d.code == Code::L0104).unwrap();
    assert_eq!(
        gap.labels[0].message,
        "no rule matches merchant == \"m3\" and amount <= 10.00"
    );
    let help = gap.help.as_deref().unwrap();
    assert!(
        help.contains("merchant not in {\"m1\", \"m2\", \"m3\"}"),
        "{help}"
    );
}

#[test]
fn an_expect_outside_schedules_holds_for_each_and_replaces_the_default() {
    let text = "policy p version 1\nkind fees\nrounding half_up\n\
                field channel: enum { card, scan }\nfield amount: money\n\
                schedule a {\n  hit unique\n  rule card when channel == card => 26%\n  \
                rule scan when channel == scan => 0.38%\n}\n\
                schedule b {\n  hit first\n  otherwise => 12%\n}\n";
    let codes = |text: &str| -> Vec<Code> {
        tollgate::lint::lint_source(text, &[])
            .iter()
            .map(|d| d.code)
            .collect()
    };
    assert_eq!(codes(text), vec![Code::L0207, Code::L0207]);
    let widened = text.replace(
        "field channel",
        "expect rate between 0% and 30%\nfield channel",
    );
    assert_eq!(codes(&widened), vec![]);
    let narrow = text.replace(
        "field channel",
        "expect rate between 0.3% and 15%\nfield channel",
    );
    let found = tollgate::lint::lint_source(&narrow, &[]);
    assert_eq!(
        found.iter().map(|d| d.code).collect::<Vec<_>>(),
        vec![Code::L0201]
    );
    assert!(found[0].message.contains("`card`"), "{}", found[0].message);
}

#[test]
fn whole_fee_bounds_count_as_minimums_and_caps() {
    let text = "policy p version 1\nkind fees\ncurrency USD\nrounding half_up to 0.01\n\
                field amount: money\nschedule s {\n  hit first\n  \
                expect min between 0.30 and 1.00\n  \
                rule micro when amount < 0.50 => 2.9% of amount + 0.10 total min 0.50\n  \
                otherwise => 2.9% of amount + 0.30 total min 0.50\n}\n";
    let found = tollgate::lint::lint_source(text, &[]);
    // `micro` charges at least 0.50 on payments below 0.50; the declared
    // minimum range is met by the whole fee's minimum.
    assert_eq!(
        found.iter().map(|d| d.code).collect::<Vec<_>>(),
        vec![Code::L0202],
        "{}",
        render(&found, "p.toll", text, false)
    );
    let wider = text.replace("amount < 0.50", "amount < 0.60");
    assert_eq!(tollgate::lint::lint_source(&wider, &[]), vec![]);
}
