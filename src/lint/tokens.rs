//! A token stream of the whole text, comments and whitespace kept (the
//! formatter will reuse it), and the lints that read it: look-alike or
//! mixed-script names, full-width punctuation, tabs, trailing whitespace.
//!
//! The lexer is wider than the grammar on purpose: it accepts any Unicode
//! letter in a name, so that `саrd` with a Cyrillic `с` is one name the
//! lint can explain rather than a stray character.

use super::finding;
use crate::diagnostic::{Code, Diagnostic};
use crate::span::Span;
use logos::Logos;

/// One token.
#[derive(Logos, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Token {
    /// `# ...` to the end of the line.
    #[regex(r"#[^\n]*", allow_greedy = true)]
    Comment,
    /// A string in double quotes.
    #[regex(r#""([^"\\\n]|\\.)*""#)]
    Str,
    /// Spaces and tabs.
    #[regex(r"[ \t]+")]
    Space,
    /// A line break.
    #[regex(r"\r?\n")]
    Newline,
    /// A name: letters of any script, digits and `_`.
    #[regex(r"[\p{L}_][\p{L}\p{N}_]*")]
    Name,
    /// A number, with `%`, `bp` or a duration unit when written on it.
    #[regex(r"-?[0-9][0-9_]*(\.[0-9][0-9_]*)?")]
    Number,
    /// ASCII punctuation of the language, and the currency marks.
    #[regex(r"=>|==|!=|<=|>=|\.\.|[<>=(){}:,+\-%¥￥]")]
    Punct,
}

/// The tokens of `source` with their spans; a character no token takes is
/// `None`.
pub fn tokens(source: &str) -> Vec<(Option<Token>, Span)> {
    Token::lexer(source)
        .spanned()
        .map(|(t, r)| (t.ok(), Span::new(r.start, r.end)))
        .collect()
}

/// The token lints of `source`.
pub fn lint(source: &str) -> Vec<Diagnostic> {
    let toks = tokens(source);
    let mut out = Vec::new();
    for (i, &(tok, span)) in toks.iter().enumerate() {
        let text = source.get(span.range()).unwrap_or("");
        match tok {
            Some(Token::Name) if !text.is_ascii() => out.push(confusable(text, span)),
            Some(Token::Space) => {
                if let Some(at) = text.find('\t') {
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
                let at_end = matches!(toks.get(i + 1), None | Some((Some(Token::Newline), _)));
                if at_end {
                    out.push(trailing(span));
                }
            }
            Some(Token::Comment) => {
                let kept = text.trim_end_matches([' ', '\t', '\r']);
                if kept.len() < text.len() {
                    out.push(trailing(Span::new(span.start + kept.len(), span.end)));
                }
            }
            None => {
                if let Some(c) = text.chars().next() {
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
            _ => {}
        }
    }
    out
}

fn trailing(span: Span) -> Diagnostic {
    finding(Code::L0304, "trailing whitespace", span, "here")
        .with_help("delete the spaces at the end of the line")
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
            format!("name `{text}` mixes {} scripts", super::list(&scripts.iter().map(|s| s.to_string()).collect::<Vec<_>>())),
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
        lint(source).iter().map(|d| d.code).collect()
    }

    #[test]
    fn token_lints() {
        assert_eq!(codes("rule a when x == 1 => 0.60%\n"), vec![]);
        assert_eq!(codes("rule саrd\n"), vec![Code::L0301]);
        assert_eq!(codes("x => 0.60％\n"), vec![Code::L0302]);
        assert_eq!(codes("x\t=> 1\n"), vec![Code::L0303]);
        assert_eq!(codes("x => 1  \n# note \n"), vec![Code::L0304, Code::L0304]);
        // Inside strings and comments, other scripts are fine.
        assert_eq!(codes("x == \"商户，\" # 商户：ok\n"), vec![]);
        assert_eq!(codes("x == ￥20.00\n"), vec![]);
    }
}
