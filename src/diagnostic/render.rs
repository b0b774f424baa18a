//! The one place diagnostics become text for people, with ariadne.

use super::{Diagnostic, Severity};
use crate::span::line_col;
use ariadne::{Config, IndexType, Label, Report, ReportKind, Source};
use std::fmt::Write as _;

/// At most this many diagnostics are drawn per file; the rest are counted.
/// (`--format json` always carries all of them.)
pub const MAX_SHOWN: usize = 100;

/// Source lines longer than this are not drawn; the diagnostic is printed in
/// a compact form with its line and column instead.
pub const MAX_DRAWN_LINE: usize = 400;

/// Renders `diagnostics` about the file `path` whose text is `source`.
///
/// With `color` off the output is plain text, as the snapshot tests see it.
pub fn render(diagnostics: &[Diagnostic], path: &str, source: &str, color: bool) -> String {
    let mut out = Vec::new();
    // Indexing the text's lines is linear in its size: do it once per file.
    let indexed = Source::from(source);
    for d in diagnostics.iter().take(MAX_SHOWN) {
        if d.labels
            .iter()
            .any(|l| line_len_at(source, l.span.start) > MAX_DRAWN_LINE)
        {
            out.extend_from_slice(compact(d, path, source).as_bytes());
            continue;
        }
        let kind = match d.severity {
            Severity::Error => ReportKind::Error,
            Severity::Warning => ReportKind::Warning,
        };
        let span = clamp(d.span().range(), source);
        let config = Config::default()
            .with_color(color)
            .with_index_type(IndexType::Byte);
        let mut report = Report::build(kind, (path, span))
            .with_config(config)
            .with_code(d.code)
            .with_message(&d.message);
        for (i, label) in d.labels.iter().enumerate() {
            let mut l =
                Label::new((path, clamp(label.span.range(), source))).with_message(&label.message);
            if i == 0 {
                l = l.with_priority(1);
            }
            report = report.with_label(l);
        }
        if let Some(help) = &d.help {
            report = report.with_help(help);
        }
        for note in &d.notes {
            report = report.with_note(note);
        }
        if report.finish().write((path, &indexed), &mut out).is_err() {
            // Writing to a Vec fails only on a formatting bug; fall back.
            out.extend_from_slice(compact(d, path, source).as_bytes());
        }
    }
    if let Some(hidden) = diagnostics.len().checked_sub(MAX_SHOWN).filter(|n| *n > 0) {
        out.extend_from_slice(
            format!("... and {hidden} more in {path} (use --format json to see every one)\n")
                .as_bytes(),
        );
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// One diagnostic without a drawing of the source.
fn compact(d: &Diagnostic, path: &str, source: &str) -> String {
    let (line, column) = line_col(source, d.span().start);
    let mut s = format!(
        "[{}] {}: {}\n  at {path}:{line}:{column}",
        d.code,
        severity_word(d.severity),
        d.message
    );
    for l in &d.labels {
        let (line, column) = line_col(source, l.span.start);
        let _ = write!(s, "\n  {line}:{column}: {}", l.message);
    }
    if let Some(help) = &d.help {
        let _ = write!(s, "\n  help: {help}");
    }
    for note in &d.notes {
        let _ = write!(s, "\n  note: {note}");
    }
    s.push('\n');
    s
}

/// The length in bytes of the line holding `offset`.
fn line_len_at(source: &str, offset: usize) -> usize {
    let offset = offset.min(source.len());
    let start = source
        .as_bytes()
        .get(..offset)
        .and_then(|b| b.iter().rposition(|&c| c == b'\n'))
        .map_or(0, |i| i + 1);
    let end = source
        .as_bytes()
        .get(offset..)
        .and_then(|b| b.iter().position(|&c| c == b'\n'))
        .map_or(source.len(), |i| offset + i);
    end - start
}

fn severity_word(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// Keeps a span inside the text and on character boundaries.
fn clamp(range: std::ops::Range<usize>, source: &str) -> std::ops::Range<usize> {
    let fix = |mut i: usize| {
        i = i.min(source.len());
        while !source.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let start = fix(range.start);
    let end = fix(range.end).max(start);
    start..end
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Code;
    use crate::span::Span;

    #[test]
    fn long_lines_and_many_diagnostics_stay_small() {
        let source = format!("policy p version 1\n{}", "x ".repeat(10_000));
        let d = Diagnostic::error(Code::E0001, "unexpected `x`", Span::new(19, 20), "here");
        let many = vec![d; 5_000];
        let out = render(&many, "p.toll", &source, false);
        assert!(out.len() < 50_000, "{} bytes", out.len());
        assert!(out.contains("[E0001] error: unexpected `x`\n  at p.toll:2:1"));
        assert!(out.ends_with("... and 4900 more in p.toll (use --format json to see every one)\n"));
    }
}
