//! JUnit XML for CI systems: one `testsuite` per test file, one `testcase`
//! per test; a failed test carries a `failure`, a test (or file) that could
//! not run an `error`.

use std::fmt::Write as _;

/// One test file's suite (or the coverage report's, which has no tests).
#[derive(Default)]
pub struct Suite {
    /// The test file's path.
    pub name: String,
    /// Its tests.
    pub cases: Vec<Case>,
    /// `<property>` name/value pairs.
    pub properties: Vec<(String, String)>,
    /// Text for `<system-out>`.
    pub system_out: Option<String>,
}

/// One test.
pub struct Case {
    /// The test's name.
    pub name: String,
    /// The policy tested (JUnit's class name).
    pub classname: String,
    /// Why it failed, if it did.
    pub failure: Option<Problem>,
    /// Why it could not run, if it could not.
    pub error: Option<Problem>,
}

/// A failure or an error: a one-line message and the full report.
pub struct Problem {
    /// One line.
    pub message: String,
    /// The report as the text output shows it.
    pub text: String,
}

/// The XML document for `suites`.
pub fn xml(suites: &[Suite]) -> String {
    let count = |f: &dyn Fn(&Case) -> bool| -> usize {
        suites
            .iter()
            .flat_map(|s| &s.cases)
            .filter(|c| f(c))
            .count()
    };
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"tollgate test\" tests=\"{}\" failures=\"{}\" errors=\"{}\">",
        count(&|_| true),
        count(&|c| c.failure.is_some()),
        count(&|c| c.error.is_some())
    );
    for s in suites {
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\">",
            escape(&s.name),
            s.cases.len(),
            s.cases.iter().filter(|c| c.failure.is_some()).count(),
            s.cases.iter().filter(|c| c.error.is_some()).count()
        );
        if !s.properties.is_empty() {
            let _ = writeln!(out, "    <properties>");
            for (name, value) in &s.properties {
                let _ = writeln!(
                    out,
                    "      <property name=\"{}\" value=\"{}\"/>",
                    escape(name),
                    escape(value)
                );
            }
            let _ = writeln!(out, "    </properties>");
        }
        for c in &s.cases {
            let head = format!(
                "    <testcase name=\"{}\" classname=\"{}\"",
                escape(&c.name),
                escape(&c.classname)
            );
            match (&c.failure, &c.error) {
                (None, None) => {
                    let _ = writeln!(out, "{head}/>");
                }
                (failure, error) => {
                    let _ = writeln!(out, "{head}>");
                    for (tag, p) in [("failure", failure), ("error", error)] {
                        if let Some(p) = p {
                            let _ = writeln!(
                                out,
                                "      <{tag} message=\"{}\">{}</{tag}>",
                                escape(&p.message),
                                escape(&p.text)
                            );
                        }
                    }
                    let _ = writeln!(out, "    </testcase>");
                }
            }
        }
        if let Some(text) = &s.system_out {
            let _ = writeln!(out, "    <system-out>{}</system-out>", escape(text));
        }
        let _ = writeln!(out, "  </testsuite>");
    }
    out.push_str("</testsuites>\n");
    out
}

/// `text` as XML character data or an attribute value: markup characters
/// escaped, characters XML 1.0 cannot hold (control characters other than
/// tab, newline and carriage return) replaced by U+FFFD.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_and_control_characters_are_escaped() {
        assert_eq!(
            escape("a<b & \"c\" 'd'>\u{1}\n"),
            "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;\u{FFFD}\n"
        );
    }
}
