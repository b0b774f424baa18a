//! `tollgate fmt PATH...`: rewrites policies in their canonical layout, or
//! with `--check` shows what would change.

use super::{out, EXIT_ERRORS, EXIT_OK, EXIT_USAGE};
use crate::diagnostic::render::render;
use crate::fsio::ReadError;
use crate::source;
use std::path::{Path, PathBuf};

/// What became of one policy.
enum Outcome {
    /// Already canonical.
    Same,
    /// Rewritten (or, with `--check`, would be).
    Changed,
    /// Not a policy that parses, or not readable.
    Failed,
}

/// Runs the command over `paths` (files, directories searched for
/// `*.toll`, or `-` for standard input).
pub fn run(paths: &[PathBuf], check: bool, color: bool) -> u8 {
    let mut io_failed = false;
    let mut outcomes = Vec::new();
    for file in files(paths, &mut io_failed) {
        if file == Path::new("-") {
            outcomes.push(stdin(check, color, &mut io_failed));
        } else {
            outcomes.push(one_file(&file, check, color, &mut io_failed));
        }
    }
    let changed = outcomes
        .iter()
        .filter(|o| matches!(o, Outcome::Changed))
        .count();
    let failed = outcomes
        .iter()
        .filter(|o| matches!(o, Outcome::Failed))
        .count();
    if check && changed > 0 {
        let files = if changed == 1 { "file" } else { "files" };
        eprintln!("{changed} {files} would be reformatted (run `tollgate fmt` on them)");
    }
    if io_failed {
        EXIT_USAGE
    } else if failed > 0 || (check && changed > 0) {
        EXIT_ERRORS
    } else {
        EXIT_OK
    }
}

/// The files `paths` name: files as given, directories searched for
/// policies and test files (`*.toll`, `*.test.toll`), `-` kept as is.
fn files(paths: &[PathBuf], io_failed: &mut bool) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for path in paths {
        if path == Path::new("-") || !path.is_dir() {
            out.push(path.clone());
            continue;
        }
        match (source::discover(path), source::discover_tests(path)) {
            (Ok(policies), Ok(tests)) => {
                let mut found: Vec<PathBuf> = policies.into_iter().chain(tests).collect();
                found.sort();
                if found.is_empty() {
                    eprintln!("warning: no .toll files under {}", path.display());
                }
                out.extend(found);
            }
            (Err(e), _) | (_, Err(e)) => {
                eprintln!("error: cannot read {e}");
                *io_failed = true;
            }
        }
    }
    out
}

/// Whether `text` is a test file rather than a policy: its first word is
/// `tests` (a policy's is `policy`).
fn is_tests(text: &str) -> bool {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .is_some_and(|l| l.split_whitespace().next() == Some("tests"))
}

/// Formats `text` named `name` (a policy, or a test file when its name
/// ends in `.test.toll` or, on standard input, it starts with `tests`);
/// diagnostics go to stderr.
fn formatted(name: &str, text: &str, color: bool) -> Option<String> {
    let tests =
        source::is_test_file(Path::new(name)) || (name == source::STDIN_NAME && is_tests(text));
    let result = if tests {
        crate::fmt::format_tests(text)
    } else {
        crate::fmt::format(text)
    };
    match result {
        Ok(t) => Some(t),
        Err(ds) => {
            eprint!("{}", render(&ds, name, text, color));
            eprintln!("error: {name} was not formatted: it does not parse");
            None
        }
    }
}

/// A policy on standard input: the formatted text on standard output, or
/// with `--check` the diff.
fn stdin(check: bool, color: bool, io_failed: &mut bool) -> Outcome {
    let (file, problem) = match source::load_stdin() {
        Ok(loaded) => loaded,
        Err(e) => {
            eprintln!("error: cannot read {e}");
            *io_failed = true;
            return Outcome::Failed;
        }
    };
    if let Some(d) = problem {
        eprint!("{}", render(&[d], &file.path, &file.text, color));
        return Outcome::Failed;
    }
    let Some(new) = formatted(&file.path, &file.text, color) else {
        return Outcome::Failed;
    };
    let same = new == file.text;
    let text = if check {
        if same {
            return Outcome::Same;
        }
        diff(&file.path, &file.text, &new)
    } else {
        new
    };
    if out::emit(&text, EXIT_OK) != EXIT_OK {
        *io_failed = true;
    }
    if same {
        Outcome::Same
    } else {
        Outcome::Changed
    }
}

/// A policy file: rewritten in place when its layout changes (whole or not
/// at all), or with `--check` its diff printed.
fn one_file(path: &Path, check: bool, color: bool, io_failed: &mut bool) -> Outcome {
    let name = path.display().to_string();
    let original = match crate::fsio::read_bounded(path, source::MAX_BYTES) {
        Ok(bytes) => bytes,
        // Over the limit: E0004, as every command reports it.
        Err(ReadError::TooLarge { size, .. }) => {
            let (file, problem) = source::too_large_file(name.clone(), Some(size));
            let diagnostics: Vec<_> = problem.into_iter().collect();
            eprint!("{}", render(&diagnostics, &name, &file.text, color));
            return Outcome::Failed;
        }
        Err(e) => {
            eprintln!("error: cannot read {name}: {e}");
            *io_failed = true;
            return Outcome::Failed;
        }
    };
    let (file, problem) = source::from_bytes(name.clone(), original.clone());
    if let Some(d) = problem {
        eprint!("{}", render(&[d], &name, &file.text, color));
        return Outcome::Failed;
    }
    let Some(new) = formatted(&name, &file.text, color) else {
        return Outcome::Failed;
    };
    if new.as_bytes() == original.as_slice() {
        return Outcome::Same;
    }
    if check {
        if out::emit(&diff(&name, &file.text, &new), EXIT_OK) != EXIT_OK {
            *io_failed = true;
        }
        return Outcome::Changed;
    }
    if let Err(e) = crate::fsio::write_atomic(path, new.as_bytes()) {
        eprintln!("error: cannot write {name}: {e}");
        *io_failed = true;
        return Outcome::Failed;
    }
    eprintln!("formatted {name}");
    Outcome::Changed
}

/// A unified diff from `old` to `new`, both named `name` (bounded in time
/// and length: see [`crate::fmt::udiff`]).
fn diff(name: &str, old: &str, new: &str) -> String {
    crate::fmt::udiff::unified(name, old, new)
}
