//! `tollgate check PATH...`.

use super::{Format, EXIT_ERRORS, EXIT_OK, EXIT_USAGE};
use crate::diagnostic::{json, render, sarif, Diagnostic, Severity};
use crate::source::{self, SourceFile};
use crate::span::LineIndex;
use std::fmt::Write as _;
use std::path::PathBuf;

/// One checked file and what was found in it.
pub struct Checked {
    /// The file.
    pub source: SourceFile,
    /// Its diagnostics; empty when clean.
    pub diagnostics: Vec<Diagnostic>,
}

/// Loads one file (`-`: standard input) and diagnoses its text with
/// `diagnose`.
///
/// # Errors
/// [`source::LoadError`] when the file can't be read.
pub fn check_file(
    path: &std::path::Path,
    diagnose: &dyn Fn(&str) -> Vec<Diagnostic>,
) -> Result<Checked, source::LoadError> {
    let (source, load_problem) = if path == std::path::Path::new("-") {
        source::load_stdin()?
    } else {
        source::load(path)?
    };
    let diagnostics = match load_problem {
        Some(d) => vec![d],
        None => diagnose(&source.text),
    };
    Ok(Checked {
        source,
        diagnostics,
    })
}

/// What `tollgate check` finds in a text: the errors of the first stage
/// that fails.
pub fn check_text(text: &str) -> Vec<Diagnostic> {
    match crate::pipeline::check(text) {
        Ok(_) => Vec::new(),
        Err(ds) => ds,
    }
}

/// Checks every policy under `paths` and prints the findings.
pub fn run(paths: &[PathBuf], format: Format, color: bool) -> u8 {
    report(paths, format, color, &check_text, "checked")
}

/// Diagnoses every policy under `paths` with `diagnose`, prints the
/// findings, and returns the exit code.
pub fn report(
    paths: &[PathBuf],
    format: Format,
    color: bool,
    diagnose: &dyn Fn(&str) -> Vec<Diagnostic>,
    verb: &str,
) -> u8 {
    let mut io_failed = false;
    let mut results = Vec::new();
    for file in super::policy_paths(paths, &mut io_failed) {
        match check_file(&file, diagnose) {
            Ok(c) => results.push(c),
            Err(e) => {
                eprintln!("error: cannot read {e}");
                io_failed = true;
            }
        }
    }
    let errors = count(&results, Severity::Error);
    let warnings = count(&results, Severity::Warning);
    let mut text = String::new();
    match format {
        Format::Text => {
            for r in &results {
                text.push_str(&render::render(
                    &r.diagnostics,
                    &r.source.path,
                    &r.source.text,
                    color,
                ));
            }
            let _ = writeln!(text, "{}", summary(verb, results.len(), errors, warnings));
        }
        Format::Json => {
            let diagnostics: Vec<_> = results
                .iter()
                .flat_map(|r| {
                    let lines = LineIndex::new(&r.source.text);
                    r.diagnostics
                        .iter()
                        .map(move |d| json::to_json_indexed(d, &r.source.path, &lines))
                        .collect::<Vec<_>>()
                })
                .collect();
            let doc = serde_json::json!({
                "files": results.len(),
                "errors": errors,
                "warnings": warnings,
                "diagnostics": diagnostics,
            });
            let _ = writeln!(text, "{doc}");
        }
        Format::Sarif => {
            let files: Vec<sarif::FileReport<'_>> = results
                .iter()
                .map(|r| sarif::FileReport {
                    path: &r.source.path,
                    text: &r.source.text,
                    diagnostics: &r.diagnostics,
                })
                .collect();
            let _ = writeln!(text, "{}", sarif::log(&files));
        }
    }
    let code = if io_failed {
        EXIT_USAGE
    } else if errors > 0 {
        EXIT_ERRORS
    } else {
        EXIT_OK
    };
    super::out::emit(&text, code)
}

fn count(results: &[Checked], severity: Severity) -> usize {
    results
        .iter()
        .flat_map(|r| &r.diagnostics)
        .filter(|d| d.severity == severity)
        .count()
}

fn summary(verb: &str, files: usize, errors: usize, warnings: usize) -> String {
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    format!(
        "{verb} {}: {}, {}",
        plural(files, "file"),
        plural(errors, "error"),
        plural(warnings, "warning")
    )
}
