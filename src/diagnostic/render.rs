//! The one place diagnostics become text for people, with ariadne.

use super::{Diagnostic, Severity};
use ariadne::{Config, IndexType, Label, Report, ReportKind, Source};

/// Renders `diagnostics` about the file `path` whose text is `source`.
///
/// With `color` off the output is plain text, as the snapshot tests see it.
pub fn render(diagnostics: &[Diagnostic], path: &str, source: &str, color: bool) -> String {
    let mut out = Vec::new();
    for d in diagnostics {
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
            let mut l = Label::new((path, clamp(label.span.range(), source))).with_message(&label.message);
            if i == 0 {
                l = l.with_priority(1);
            }
            report = report.with_label(l);
        }
        if let Some(help) = &d.help {
            report = report.with_help(help);
        }
        if report
            .finish()
            .write((path, Source::from(source)), &mut out)
            .is_err()
        {
            // Writing to a Vec fails only on a formatting bug; fall back to one line.
            out.extend_from_slice(format!("{}[{}]: {}\n", severity_word(d.severity), d.code, d.message).as_bytes());
        }
    }
    String::from_utf8_lossy(&out).into_owned()
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
