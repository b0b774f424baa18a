//! The names of a file's tests: each one printable on one line, non-empty,
//! and unique in its file (`E0606`).

use super::ast::TestCase;
use crate::diagnostic::{Code, Diagnostic};

/// Test names are shown on one line of every report and name a JUnit test
/// case: each is non-empty, free of control characters (and of characters
/// that split a line or reverse text), and unique in its file (`E0606`).
///
/// The problems of each test's name, one entry per test in order (empty
/// for a good name): a test whose name has a problem is an error and is
/// not run; of tests named alike, the first keeps its name and runs.
pub fn check_names(tests: &[TestCase]) -> Vec<Vec<Diagnostic>> {
    let mut all = Vec::with_capacity(tests.len());
    let mut seen: std::collections::HashMap<&str, crate::span::Span> =
        std::collections::HashMap::new();
    for t in tests {
        let mut out = Vec::new();
        let bad = |message: String, label: &str, help: &str| {
            Diagnostic::error(Code::E0606, message, t.name_span, label).with_help(help)
        };
        if t.name.trim().is_empty() {
            out.push(bad(
                "a test needs a name".to_string(),
                "empty name",
                "say in a few words what the test checks: `test \"debit is capped\" { ... }`",
            ));
        } else if let Some(c) = t
            .name
            .chars()
            .find(|&c| c.is_control() || crate::check::unsafe_in_a_line(c))
        {
            out.push(bad(
                format!(
                    "a test name contains the control character U+{:04X}",
                    u32::from(c)
                ),
                "control character",
                "a test name is printed on one line of every report: write it as plain text, \
                 with spaces",
            ));
        }
        if let Some(&first) = seen.get(t.name.as_str()) {
            out.push(
                bad(
                    format!("two tests are named `{}`", t.name),
                    "second test of this name",
                    "give each test of a file its own name, as reports and CI systems tell tests \
                     apart by name",
                )
                .with_label(first, "first named here"),
            );
        } else {
            seen.insert(&t.name, t.name_span);
        }
        all.push(out);
    }
    all
}
