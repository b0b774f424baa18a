//! `tollgate lint PATH...`.

use super::{check, Format, EXIT_USAGE};
use crate::diagnostic::codes::Level;
use crate::diagnostic::{Code, Diagnostic, Severity};
use std::path::PathBuf;

/// The lints the command line names at each level (names or codes).
#[derive(Debug, Clone, Copy)]
pub struct Levels<'a> {
    /// `--allow`: not reported.
    pub allow: &'a [String],
    /// `--warn`: reported as warnings.
    pub warn: &'a [String],
    /// `--deny`: reported as errors (`warnings`: every warning fails).
    pub deny: &'a [String],
}

/// The command line's lint levels: each lint named in `allow`, `warn` or
/// `deny` (names or codes); when a lint is named twice, the stricter level
/// wins. `warnings` in `deny` is not a lint: it makes every warning fail.
fn levels(named: &Levels<'_>) -> Result<(Vec<(Code, Level)>, bool), String> {
    let mut out = Vec::new();
    let mut strict = false;
    for (names, level) in [
        (named.allow, Level::Allow),
        (named.warn, Level::Warn),
        (named.deny, Level::Deny),
    ] {
        for name in names {
            if level == Level::Deny && name == "warnings" {
                strict = true;
                continue;
            }
            match Code::lint(name) {
                Some(code) => out.push((code, level)),
                None => {
                    let hint = crate::check::suggest::lint_help(name);
                    return Err(format!("error: `{name}` is not a lint; {hint}"));
                }
            }
        }
    }
    Ok((out, strict))
}

/// Lints every policy under `paths` and prints the findings; `budget`
/// (work units per schedule) beats each file's own and the default.
pub fn run(
    paths: &[PathBuf],
    format: Format,
    color: bool,
    named: &Levels<'_>,
    budget: Option<u64>,
) -> u8 {
    let (overrides, strict) = match levels(named) {
        Ok(l) => l,
        Err(message) => {
            eprintln!("{message}");
            return EXIT_USAGE;
        }
    };
    // `--deny warnings`: every warning is reported, and fails, as an error.
    let diagnose = move |text: &str| -> Vec<Diagnostic> {
        let mut ds = crate::lint::lint_source_within(text, &overrides, budget);
        if strict {
            for d in &mut ds {
                d.severity = Severity::Error;
            }
        }
        ds
    };
    check::report(paths, format, color, &diagnose, "linted")
}
