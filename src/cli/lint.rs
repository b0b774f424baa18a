//! `tollgate lint PATH...`.

use super::{check, Format, EXIT_USAGE};
use crate::diagnostic::codes::Level;
use crate::diagnostic::{Code, Diagnostic, Severity};
use std::path::PathBuf;

/// The command line's lint levels: each lint named in `allow`, `warn` or
/// `deny` (names or codes); when a lint is named twice, the stricter level
/// wins. `warnings` in `deny` is not a lint: it makes every warning fail.
fn levels(
    allow: &[String],
    warn: &[String],
    deny: &[String],
) -> Result<(Vec<(Code, Level)>, bool), String> {
    let mut out = Vec::new();
    let mut strict = false;
    for (names, level) in [
        (allow, Level::Allow),
        (warn, Level::Warn),
        (deny, Level::Deny),
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

/// Lints every policy under `paths` and prints the findings.
pub fn run(
    paths: &[PathBuf],
    format: Format,
    color: bool,
    allow: &[String],
    warn: &[String],
    deny: &[String],
) -> u8 {
    let (overrides, strict) = match levels(allow, warn, deny) {
        Ok(l) => l,
        Err(message) => {
            eprintln!("{message}");
            return EXIT_USAGE;
        }
    };
    // `--deny warnings`: every warning is reported, and fails, as an error.
    let diagnose = move |text: &str| -> Vec<Diagnostic> {
        let mut ds = crate::lint::lint_source(text, &overrides);
        if strict {
            for d in &mut ds {
                d.severity = Severity::Error;
            }
        }
        ds
    };
    check::report(paths, format, color, &diagnose, "linted")
}
