//! A token stream of the whole text, comments and whitespace kept: the
//! lints of the text read it (look-alike or mixed-script names, full-width
//! punctuation, tabs, trailing whitespace), and so does the formatter.
//!
//! The lexer is wider than the grammar on purpose: it accepts any Unicode
//! letter in a name, so that `саrd` with a Cyrillic `с` is one name the
//! lint can explain rather than a stray character.

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
