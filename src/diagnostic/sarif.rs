//! Diagnostics as SARIF 2.1.0, for code scanning in CI: the same data the
//! renderer and the JSON output use. `tests/sarif.rs` validates the output
//! against the official schema.

use super::codes::Level;
use super::{Code, Diagnostic, Severity};
use crate::span::{LineIndex, Span};
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// One file's diagnostics: its path as given, its text, its findings.
pub struct FileReport<'a> {
    /// The path, as given on the command line.
    pub path: &'a str,
    /// The text the spans point into.
    pub text: &'a str,
    /// The findings.
    pub diagnostics: &'a [Diagnostic],
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

fn default_level(code: Code) -> &'static str {
    match code.default_level() {
        Level::Allow => "none",
        Level::Warn => "warning",
        Level::Deny => "error",
    }
}

/// The region of `span` in `text`: 1-based lines and columns in characters,
/// the end exclusive.
fn region(lines: &LineIndex<'_>, span: Span) -> Value {
    let (start_line, start_column) = lines.line_col(span.start);
    let (end_line, end_column) = lines.line_col(span.end.max(span.start));
    json!({
        "startLine": start_line,
        "startColumn": start_column,
        "endLine": end_line,
        "endColumn": end_column.max(if end_line == start_line { start_column } else { 1 }),
    })
}

/// Where a file is: its path as a URI reference; a policy read from
/// standard input has no URI, so it is described instead (SARIF allows an
/// artifact location without `uri`).
fn artifact(path: &str) -> Value {
    if path == crate::source::STDIN_NAME {
        json!({ "description": { "text": "standard input" } })
    } else {
        json!({ "uri": uri(path) })
    }
}

fn location(path: &str, lines: &LineIndex<'_>, span: Span, message: Option<&str>) -> Value {
    let mut loc = json!({
        "physicalLocation": {
            "artifactLocation": artifact(path),
            "region": region(lines, span),
        }
    });
    if let (Some(m), Some(obj)) = (message, loc.as_object_mut()) {
        obj.insert("message".into(), json!({ "text": m }));
    }
    loc
}

/// A path as a URI reference (RFC 3986): forward slashes, and every byte
/// but the unreserved characters, `/` and the sub-delimiters
/// percent-encoded (spaces, `%`, `#`, `?`, `<`, non-ASCII letters...).
fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        match b {
            b'\\' | b'/' => out.push('/'),
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' => out.push(char::from(b)),
            b'-' | b'.' | b'_' | b'~' | b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+'
            | b',' | b';' | b'=' | b'@' => out.push(char::from(b)),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The SARIF log for `files`.
pub fn log(files: &[FileReport<'_>]) -> Value {
    let used: BTreeSet<Code> = files
        .iter()
        .flat_map(|f| f.diagnostics.iter().map(|d| d.code))
        .chain(Code::LINTS.iter().copied())
        .collect();
    let used: Vec<Code> = used.into_iter().collect();
    let rules: Vec<Value> = used
        .iter()
        .map(|&c| {
            let doc = c.explanation();
            json!({
                "id": c.as_str(),
                "name": c.lint_name().unwrap_or(c.title()),
                "shortDescription": { "text": c.title() },
                "fullDescription": { "text": c.title() },
                "help": { "text": doc, "markdown": doc },
                "defaultConfiguration": { "level": default_level(c) },
            })
        })
        .collect();
    let mut results = Vec::new();
    for f in files {
        let lines = LineIndex::new(f.text);
        for d in f.diagnostics {
            let index = used.iter().position(|c| *c == d.code).unwrap_or(0);
            let mut text = d.message.clone();
            if let Some(help) = &d.help {
                text.push_str("\nhelp: ");
                text.push_str(help);
            }
            let mut result = json!({
                "ruleId": d.code.as_str(),
                "ruleIndex": index,
                "level": level(d.severity),
                "message": { "text": text },
                "locations": [location(f.path, &lines, d.span(), None)],
            });
            let related: Vec<Value> = d
                .labels
                .iter()
                .enumerate()
                .map(|(i, l)| {
                    let mut loc = location(f.path, &lines, l.span, Some(&l.message));
                    if let Some(obj) = loc.as_object_mut() {
                        obj.insert("id".into(), json!(i));
                    }
                    loc
                })
                .collect();
            if let Some(obj) = result.as_object_mut() {
                obj.insert("relatedLocations".into(), Value::Array(related));
            }
            results.push(result);
        }
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "tollgate",
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": rules,
                }
            },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    })
}
