//! L0303 `tab`: tab characters outside strings and comments. Documented
//! in `docs/codes/L0303.md`.

use crate::diagnostic::{Code, Diagnostic};
use crate::lint::facts::Text;
use crate::lint::finding;
use crate::lint::registry::{Check, Lint};
use crate::lint::tokens::Token;
use crate::span::Span;

/// The lint.
pub const LINT: Lint = Lint {
    code: Code::L0303,
    checks: &[Check::Text(check)],
};

/// The first tab of every run of whitespace.
fn check(t: &Text<'_>, out: &mut Vec<Diagnostic>) {
    for &(tok, span) in &t.tokens {
        if tok != Some(Token::Space) {
            continue;
        }
        if let Some(at) = t.slice(span).find('\t') {
            let start = span.start + at;
            out.push(
                finding(
                    Code::L0303,
                    "tab character",
                    Span::new(start, start + 1),
                    "a tab",
                )
                .with_help("indent and align with spaces"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(source: &str) -> Vec<Code> {
        Text::codes(check, source)
    }

    #[test]
    fn tabs_are_found_outside_comments() {
        assert_eq!(codes("x\t=> 1\n"), vec![Code::L0303]);
        assert_eq!(codes("x => 1 # a\tb\n"), vec![]);
    }
}
