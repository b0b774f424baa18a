//! Reading policy files from disk: bounded in size, with invalid UTF-8
//! reported as a diagnostic at the first bad byte.

use crate::diagnostic::{Code, Diagnostic};
use crate::span::Span;
use crate::syntax::limits::{too_large, MAX_SOURCE_BYTES};
use std::io::Read;
use std::path::{Path, PathBuf};

/// A policy file's name and text.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The path as the user gave it (or as found under a directory).
    pub path: String,
    /// The text; invalid UTF-8 is replaced by U+FFFD so it can be shown.
    pub text: String,
}

/// Reading a file failed before any policy text could be examined.
#[derive(Debug)]
pub struct LoadError {
    /// The path.
    pub path: PathBuf,
    /// What the system said.
    pub error: std::io::Error,
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.error)
    }
}

/// Reads `path` if it is a regular file of at most [`MAX_SOURCE_BYTES`]
/// (a larger one is refused from its size, unread).
///
/// # Errors
/// [`LoadError`] when the file can't be opened or read. A file that is too
/// large or not UTF-8 loads, with a diagnostic describing the problem.
pub fn load(path: &Path) -> Result<(SourceFile, Option<Diagnostic>), LoadError> {
    let err = |error| LoadError {
        path: path.to_path_buf(),
        error,
    };
    match crate::fsio::read_bounded(path, MAX_SOURCE_BYTES as u64) {
        Ok(bytes) => Ok(from_bytes(path.display().to_string(), bytes)),
        Err(crate::fsio::ReadError::TooLarge { size, .. }) => {
            Ok(too_large_file(path.display().to_string(), Some(size)))
        }
        Err(crate::fsio::ReadError::Io(e)) => Err(err(e)),
        Err(e) => Err(err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            e.to_string(),
        ))),
    }
}

/// The largest policy file read, in bytes.
pub const MAX_BYTES: u64 = MAX_SOURCE_BYTES as u64;

/// The name diagnostics give a policy read from standard input.
pub const STDIN_NAME: &str = "<stdin>";

/// Reads a policy from standard input (the path `-`), under the same size
/// bound as a file; it is named [`STDIN_NAME`].
///
/// # Errors
/// [`LoadError`] when standard input can't be read.
pub fn load_stdin() -> Result<(SourceFile, Option<Diagnostic>), LoadError> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .lock()
        .take(MAX_SOURCE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|error| LoadError {
            path: PathBuf::from(STDIN_NAME),
            error,
        })?;
    Ok(from_bytes(STDIN_NAME.to_string(), bytes))
}

/// An empty source file named `path` with the diagnostic of a policy of
/// `size` bytes, over the limit
/// (`None` when only part of it was read, as from standard input).
pub fn too_large_file(path: String, size: Option<u64>) -> (SourceFile, Option<Diagnostic>) {
    let d = too_large(
        size.map_or(MAX_SOURCE_BYTES + 1, |s| {
            usize::try_from(s).unwrap_or(usize::MAX)
        }),
        Span::new(0, 0),
    );
    let what = match size {
        Some(size) => format!("policy file of {size} bytes"),
        None => "policy file".to_string(),
    };
    let d = Diagnostic {
        message: format!("{what} is larger than the limit of {MAX_SOURCE_BYTES} bytes"),
        ..d
    };
    let text = String::new();
    (SourceFile { path, text }, Some(d))
}

/// Makes a source file from raw bytes, with a diagnostic if they are too many
/// or not UTF-8.
pub fn from_bytes(path: String, bytes: Vec<u8>) -> (SourceFile, Option<Diagnostic>) {
    if bytes.len() > MAX_SOURCE_BYTES {
        // Read under the limit: only the first bytes past it were seen.
        return too_large_file(path, None);
    }
    match String::from_utf8(bytes) {
        // A byte-order mark (as some Windows editors write) is not text.
        Ok(text) => match text.strip_prefix('\u{feff}') {
            Some(rest) => (
                SourceFile {
                    path,
                    text: rest.to_string(),
                },
                None,
            ),
            None => (SourceFile { path, text }, None),
        },
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
            let width = text
                .get(at..)
                .and_then(|s| s.chars().next())
                .map_or(0, char::len_utf8);
            let d = Diagnostic::error(
                Code::E0003,
                format!("policy file is not valid UTF-8 (first bad byte at offset {at})"),
                Span::new(at, at + width),
                "invalid UTF-8 here",
            )
            .with_help("save the file as UTF-8");
            (SourceFile { path, text }, Some(d))
        }
    }
}

/// Every policy file (`.toll`, but not a test file `.test.toll`) under
/// `path` (recursively, sorted), or `path` itself if it is a file.
///
/// # Errors
/// [`LoadError`] when a directory can't be read.
pub fn discover(path: &Path) -> Result<Vec<PathBuf>, LoadError> {
    walk(path, &|p| {
        p.extension().is_some_and(|e| e == "toll") && !is_test_file(p)
    })
}

/// Whether `path` names a test file (`NAME.test.toll`, docs/testing.md),
/// which holds tests, not a policy.
pub fn is_test_file(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.ends_with(".test.toll"))
}

/// Every test file (`*.test.toll`) under `path` (recursively, sorted), or
/// `path` itself if it is a file.
///
/// # Errors
/// [`LoadError`] when a directory can't be read.
pub fn discover_tests(path: &Path) -> Result<Vec<PathBuf>, LoadError> {
    walk(path, &is_test_file)
}

/// The files under `path` that `keep` admits, or `path` itself if it is a
/// file.
fn walk(path: &Path, keep: &dyn Fn(&Path) -> bool) -> Result<Vec<PathBuf>, LoadError> {
    let meta = std::fs::metadata(path).map_err(|error| LoadError {
        path: path.to_path_buf(),
        error,
    })?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut out = Vec::new();
    let mut stack = vec![path.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|error| LoadError {
            path: dir.clone(),
            error,
        })?;
        for entry in entries {
            let entry = entry.map_err(|error| LoadError {
                path: dir.clone(),
                error,
            })?;
            let p = entry.path();
            let ty = entry.file_type().map_err(|error| LoadError {
                path: p.clone(),
                error,
            })?;
            if ty.is_dir() {
                stack.push(p);
            } else if keep(&p) {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_leading_byte_order_mark_is_not_part_of_the_policy() {
        let policy = "policy p version 1\nkind fees\nrounding half_up\nfield amount: money\nschedule s {\n  hit first\n  otherwise => 0\n}\n";
        let mut bytes = "\u{feff}".as_bytes().to_vec();
        bytes.extend_from_slice(policy.as_bytes());
        let (file, diagnostic) = from_bytes("p.toll".into(), bytes);
        assert!(diagnostic.is_none());
        assert_eq!(file.text, policy);
        assert!(crate::pipeline::check(&file.text).is_ok());
    }
}
