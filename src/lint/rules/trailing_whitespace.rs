//! L0304 `trailing-whitespace`: spaces or tabs at the end of a line,
//! comments' lines too. Documented in `docs/codes/L0304.md`.

use crate::diagnostic::{Code, Diagnostic};
use crate::lint::facts::Text;
use crate::lint::finding;
use crate::lint::registry::{Check, Lint};
use crate::lint::tokens::Token;
use crate::span::Span;

/// The lint.
pub const LINT: Lint = Lint {
    code: Code::L0304,
    checks: &[Check::Text(check)],
};

/// Whitespace before a line break or the end of the text, and whitespace
/// that ends a comment.
fn check(t: &Text<'_>, out: &mut Vec<Diagnostic>) {
    for (i, &(tok, span)) in t.tokens.iter().enumerate() {
        match tok {
            Some(Token::Space) => {
                let at_end = matches!(t.tokens.get(i + 1), None | Some((Some(Token::Newline), _)));
                if at_end {
                    out.push(trailing(span));
                }
            }
            Some(Token::Comment) => {
                let text = t.slice(span);
                let kept = text.trim_end_matches([' ', '\t', '\r']);
                if kept.len() < text.len() {
                    out.push(trailing(Span::new(span.start + kept.len(), span.end)));
                }
            }
            _ => {}
        }
    }
}

fn trailing(span: Span) -> Diagnostic {
    finding(Code::L0304, "trailing whitespace", span, "here")
        .with_help("delete the spaces at the end of the line")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(source: &str) -> Vec<Code> {
        Text::codes(check, source)
    }

    #[test]
    fn whitespace_ending_a_line_or_a_comment_is_found() {
        assert_eq!(codes("x => 1  \n# note \n"), vec![Code::L0304, Code::L0304]);
        assert_eq!(codes("x => 1 # note\n"), vec![]);
    }
}
