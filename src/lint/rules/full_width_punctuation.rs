//! L0302 `full-width-punctuation`: full-width or CJK punctuation where
//! the ASCII mark is meant, outside strings and comments. Documented in
//! `docs/codes/L0302.md`.

use crate::diagnostic::{Code, Diagnostic};
use crate::lint::facts::Text;
use crate::lint::finding;
use crate::lint::registry::{Check, Lint};

/// The lint.
pub const LINT: Lint = Lint {
    code: Code::L0302,
    checks: &[Check::Text(check)],
};

/// Every character no token takes that stands for ASCII punctuation.
fn check(t: &Text<'_>, out: &mut Vec<Diagnostic>) {
    for &(tok, span) in &t.tokens {
        if tok.is_some() {
            continue;
        }
        let Some(c) = t.slice(span).chars().next() else {
            continue;
        };
        if let Some(ascii) = ascii_for_punct(c) {
            out.push(
                finding(
                    Code::L0302,
                    format!("full-width `{c}` where `{ascii}` is meant"),
                    span,
                    format!("U+{:04X}", u32::from(c)),
                )
                .with_help(format!(
                    "replace it with ASCII `{ascii}` (switch the input method to half-width)"
                )),
            );
        }
    }
}

/// The ASCII punctuation a full-width or CJK punctuation mark stands for.
fn ascii_for_punct(c: char) -> Option<char> {
    let u = u32::from(c);
    // Full-width forms of ASCII (U+FF01..U+FF5E) map by a fixed offset;
    // letters and digits among them are names' business.
    if (0xFF01..=0xFF5E).contains(&u) {
        let a = char::from_u32(u - 0xFEE0)?;
        return (!a.is_ascii_alphanumeric()).then_some(a);
    }
    Some(match c {
        '、' => ',',
        '。' => '.',
        '“' | '”' => '"',
        '‘' | '’' => '\'',
        '【' => '[',
        '】' => ']',
        '《' => '<',
        '》' => '>',
        '　' => ' ',
        '—' | '－' => '-',
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(source: &str) -> Vec<Code> {
        Text::codes(check, source)
    }

    #[test]
    fn full_width_marks_are_found_but_the_yuan_sign_is_syntax() {
        assert_eq!(codes("x => 0.60％\n"), vec![Code::L0302]);
        assert_eq!(codes("x == ￥20.00\n"), vec![]);
        assert_eq!(codes("x == \"商户，\" # 商户：ok\n"), vec![]);
    }
}
