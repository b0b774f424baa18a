//! L0301 `confusable`: names with characters outside ASCII: look-alikes
//! of Latin letters, or a mix of scripts. Documented in
//! `docs/codes/L0301.md`.

use crate::diagnostic::{Code, Diagnostic};
use crate::lint::facts::Text;
use crate::lint::registry::{Check, Lint};
use crate::lint::tokens::Token;
use crate::lint::{finding, list};
use crate::span::Span;

/// The lint.
pub const LINT: Lint = Lint {
    code: Code::L0301,
    checks: &[Check::Text(check)],
};

/// Every name token that is not ASCII (the lexer takes letters of any
/// script into a name, so that the lint can explain it).
fn check(t: &Text<'_>, out: &mut Vec<Diagnostic>) {
    for &(tok, span) in &t.tokens {
        let text = t.slice(span);
        if tok == Some(Token::Name) && !text.is_ascii() {
            out.push(confusable(text, span));
        }
    }
}

/// The ASCII letter a look-alike stands for.
fn ascii_for_letter(c: char) -> Option<char> {
    let u = u32::from(c);
    if (0xFF10..=0xFF5A).contains(&u) {
        let a = char::from_u32(u - 0xFEE0)?;
        return a.is_ascii_alphanumeric().then_some(a);
    }
    Some(match c {
        // Cyrillic.
        'а' => 'a',
        'в' => 'b',
        'е' => 'e',
        'і' => 'i',
        'ј' => 'j',
        'к' => 'k',
        'о' => 'o',
        'р' => 'p',
        'с' => 'c',
        'ѕ' => 's',
        'т' => 't',
        'у' => 'y',
        'х' => 'x',
        'һ' => 'h',
        'ԁ' => 'd',
        'ԛ' => 'q',
        'ԝ' => 'w',
        'А' => 'A',
        'В' => 'B',
        'Е' => 'E',
        'К' => 'K',
        'М' => 'M',
        'Н' => 'H',
        'О' => 'O',
        'Р' => 'P',
        'С' => 'C',
        'Т' => 'T',
        'Х' => 'X',
        // Greek.
        'α' => 'a',
        'ε' => 'e',
        'ι' => 'i',
        'κ' => 'k',
        'ν' => 'v',
        'ο' => 'o',
        'ρ' => 'p',
        'τ' => 't',
        'υ' => 'u',
        'χ' => 'x',
        'Α' => 'A',
        'Β' => 'B',
        'Ε' => 'E',
        'Ζ' => 'Z',
        'Η' => 'H',
        'Ι' => 'I',
        'Κ' => 'K',
        'Μ' => 'M',
        'Ν' => 'N',
        'Ο' => 'O',
        'Ρ' => 'P',
        'Τ' => 'T',
        'Υ' => 'Y',
        'Χ' => 'X',
        // Latin look-alikes.
        'ı' => 'i',
        'ℓ' => 'l',
        _ => return None,
    })
}

/// The script a letter belongs to, roughly: enough to tell a mix.
fn script(c: char) -> &'static str {
    match u32::from(c) {
        0x0000..=0x024F => "Latin",
        0x0370..=0x03FF => "Greek",
        0x0400..=0x052F => "Cyrillic",
        0x3040..=0x30FF => "Japanese kana",
        0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF => "Han",
        0xAC00..=0xD7AF => "Hangul",
        0xFF00..=0xFFEF => "full-width",
        _ => "other",
    }
}

/// The finding on name `text` at `span`, which is not ASCII.
fn confusable(text: &str, span: Span) -> Diagnostic {
    let skeleton: Option<String> = text
        .chars()
        .map(|c| {
            if c.is_ascii() {
                Some(c)
            } else {
                ascii_for_letter(c)
            }
        })
        .collect();
    // The first character that is not ASCII, for the label.
    let (at, c) = text
        .char_indices()
        .find(|(_, c)| !c.is_ascii())
        .unwrap_or((0, ' '));
    let char_span = Span::new(span.start + at, span.start + at + c.len_utf8());
    let mut scripts: Vec<&str> = text
        .chars()
        .filter(|c| c.is_alphabetic())
        .map(script)
        .collect();
    scripts.sort_unstable();
    scripts.dedup();
    let label = format!("U+{:04X}, {}", u32::from(c), script(c));
    match skeleton {
        Some(ascii) => finding(
            Code::L0301,
            format!("name `{text}` looks like `{ascii}` but is not ASCII"),
            char_span,
            label,
        )
        .with_help(format!("retype it as `{ascii}`; names in Tollgate are ASCII")),
        None if scripts.len() > 1 => finding(
            Code::L0301,
            format!("name `{text}` mixes {} scripts", list(&scripts.iter().map(|s| s.to_string()).collect::<Vec<_>>())),
            char_span,
            label,
        )
        .with_help("names in Tollgate are ASCII letters, digits and `_`; keep other scripts for comments and strings"),
        None => finding(
            Code::L0301,
            format!("name `{text}` is not ASCII"),
            char_span,
            label,
        )
        .with_help("names in Tollgate are ASCII letters, digits and `_`; keep other scripts for comments and strings"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(source: &str) -> Vec<Code> {
        Text::codes(check, source)
    }

    #[test]
    fn names_outside_ascii_are_found_outside_strings_and_comments() {
        assert_eq!(codes("rule a when x == 1 => 0.60%\n"), vec![]);
        assert_eq!(codes("rule саrd\n"), vec![Code::L0301]);
        assert_eq!(codes("x == \"商户，\" # 商户：ok\n"), vec![]);
    }
}
