//! Diagnostics as JSON, for editors and CI: the same data the renderer uses.

use super::{Code, Diagnostic, Label, Severity};
use crate::span::{LineIndex, Span};
use serde::Serialize;

/// One diagnostic as it appears in `--format json` output.
#[derive(Debug, Serialize)]
pub struct JsonDiagnostic<'a> {
    /// The file, as given on the command line.
    pub file: &'a str,
    /// The stable code.
    pub code: Code,
    /// `error` or `warning`.
    pub severity: Severity,
    /// The one-line message.
    pub message: &'a str,
    /// 1-based line of the main span.
    pub line: usize,
    /// 1-based column (in characters) of the main span.
    pub column: usize,
    /// Byte span of the main label.
    pub span: Span,
    /// Every label, the main one first.
    pub labels: &'a [Label],
    /// How to fix it, if known.
    pub help: Option<&'a str>,
    /// Further facts (a failed test's record and answers); left out when
    /// there are none.
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub notes: &'a [String],
}

/// Converts `d`, found in the file `path` with text `source`.
pub fn to_json<'a>(d: &'a Diagnostic, path: &'a str, source: &str) -> JsonDiagnostic<'a> {
    to_json_indexed(d, path, &LineIndex::new(source))
}

/// Converts `d` with the file's lines already indexed (for many
/// diagnostics of one file).
pub fn to_json_indexed<'a>(
    d: &'a Diagnostic,
    path: &'a str,
    lines: &LineIndex<'_>,
) -> JsonDiagnostic<'a> {
    let span = d.span();
    let (line, column) = lines.line_col(span.start);
    JsonDiagnostic {
        file: path,
        code: d.code,
        severity: d.severity,
        message: &d.message,
        line,
        column,
        span,
        labels: &d.labels,
        help: d.help.as_deref(),
        notes: &d.notes,
    }
}
