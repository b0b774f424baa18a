//! Diagnostics: what every stage reports, as data.
//!
//! Each stage returns [`Diagnostic`] values, collected rather than stopping at
//! the first. [`render`] turns them into the text a person reads (ariadne);
//! [`json`] turns the same values into JSON for tools.

pub mod codes;
pub mod json;
pub mod render;
pub mod sarif;

pub use codes::Code;

use crate::span::Span;
use serde::Serialize;

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth a look; does not fail a check.
    Warning,
    /// The policy can't be used as written.
    Error,
}

/// A span with a short message pointing at it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Label {
    /// What it points at.
    pub span: Span,
    /// What to say there.
    pub message: String,
}

/// One finding about one policy file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The stable code (`E0101`); `tollgate explain` prints its documentation.
    pub code: Code,
    /// Error or warning.
    pub severity: Severity,
    /// One line: lower case, no final period, user input in backticks.
    pub message: String,
    /// Where the problem is; the first label is the main one.
    pub labels: Vec<Label>,
    /// How to fix it, when there is something specific to say.
    pub help: Option<String>,
    /// Further facts, one a line, printed after the source (a failed
    /// test's record, expected and actual answer, and why).
    pub notes: Vec<String>,
}

impl Diagnostic {
    /// An error with `code` and `message`, pointing at `span` with `label`.
    pub fn error(
        code: Code,
        message: impl Into<String>,
        span: Span,
        label: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic {
            code,
            severity: Severity::Error,
            message: message.into(),
            labels: vec![Label {
                span,
                message: label.into(),
            }],
            help: None,
            notes: Vec::new(),
        }
    }

    /// Adds a note.
    pub fn with_note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }

    /// Adds a secondary label.
    pub fn with_label(mut self, span: Span, message: impl Into<String>) -> Diagnostic {
        self.labels.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    /// Sets the help line.
    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// Sets the help line when there is one.
    pub fn with_help_opt(mut self, help: Option<String>) -> Diagnostic {
        if help.is_some() {
            self.help = help;
        }
        self
    }

    /// The main span: the first label's.
    pub fn span(&self) -> Span {
        self.labels.first().map_or(Span::default(), |l| l.span)
    }
}

/// Whether any of `diagnostics` is an error.
pub fn has_errors(diagnostics: &[Diagnostic]) -> bool {
    diagnostics.iter().any(|d| d.severity == Severity::Error)
}
