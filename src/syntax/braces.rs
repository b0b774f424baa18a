//! Finds the `{` a syntax error is really about: one that is never closed.
//!
//! pest reports an unclosed schedule where it gives up (at the next
//! `schedule`, or at the end of the file) with everything a schedule line
//! could start with. When the file has more `{` than `}` and the error stands
//! where the innermost open brace's construct cannot go on (a declaration
//! inside a schedule, a schedule line inside an enum, the end of the file),
//! the diagnostic points at that brace instead.

use crate::diagnostic::{Code, Diagnostic};
use crate::span::Span;

/// Words that start a top-level declaration and nothing inside a schedule.
const DECLARATIONS: &[&str] = &[
    "policy",
    "kind",
    "currency",
    "timezone",
    "clock",
    "field",
    "const",
    "condition",
    "schedule",
    "lint",
];

/// Words that start a line of a schedule.
const SCHEDULE_LINES: &[&str] = &["hit", "rounding", "expect", "rule", "otherwise"];

/// What a `{` opens, read from the words before it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Opens {
    /// `schedule NAME [on FIELD] {`.
    Schedule(String),
    /// `enum {`.
    Enum,
    /// `tiered NAME {`.
    Tiered,
    /// A set of values in a condition.
    Set,
}

impl Opens {
    /// Whether a line starting with `word` can stand inside this brace.
    fn admits(&self, word: &str) -> bool {
        match self {
            Opens::Schedule(_) => !DECLARATIONS.contains(&word),
            _ => !DECLARATIONS.contains(&word) && !SCHEDULE_LINES.contains(&word),
        }
    }

    /// "schedule `mdr`", "enum", ...
    fn describe(&self) -> String {
        match self {
            Opens::Schedule(name) => format!("schedule `{name}`"),
            Opens::Enum => "enum".into(),
            Opens::Tiered => "tiered fee".into(),
            Opens::Set => "set".into(),
        }
    }
}

/// The braces of `source` open just before `pos`, outermost first, and
/// whether the whole file leaves any brace open. Comments and strings are
/// skipped.
fn open_at(source: &str, pos: usize) -> (Vec<usize>, bool) {
    let mut stack = Vec::new();
    let mut at_pos = None;
    for (i, c) in super::limits::code_chars(source) {
        if i >= pos && at_pos.is_none() {
            at_pos = Some(stack.clone());
        }
        match c {
            '{' => stack.push(i),
            '}' => {
                stack.pop();
            }
            _ => {}
        }
    }
    let unclosed = !stack.is_empty();
    (at_pos.unwrap_or(stack), unclosed)
}

/// The words (names, keywords) before `pos`, nearest first, at most `n`.
fn words_before(source: &str, pos: usize, n: usize) -> Vec<&str> {
    source
        .get(..pos)
        .unwrap_or("")
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .rev()
        .filter(|w| !w.is_empty())
        .take(n)
        .collect()
}

/// What the brace at `pos` opens.
fn opens(source: &str, pos: usize) -> Opens {
    let before = source.get(..pos).unwrap_or("").trim_end();
    let words = words_before(source, pos, 4);
    let is_word_end = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    if !is_word_end(before.chars().last()) {
        return Opens::Set;
    }
    match words.as_slice() {
        ["enum", ..] => Opens::Enum,
        [_, "tiered", ..] => Opens::Tiered,
        [name, "schedule", ..] => Opens::Schedule((*name).to_string()),
        [_, "on", name, "schedule"] => Opens::Schedule((*name).to_string()),
        _ => Opens::Set,
    }
}

/// The next word or character at or after `pos`, past whitespace and
/// comments, with its offset; `None` at the end of the file.
fn next_token(source: &str, mut pos: usize) -> Option<(usize, &str)> {
    loop {
        let rest = source.get(pos..)?;
        let trimmed = rest.trim_start();
        pos += rest.len() - trimmed.len();
        if trimmed.starts_with('#') {
            pos += trimmed.find('\n').unwrap_or(trimmed.len());
            continue;
        }
        let first = trimmed.chars().next()?;
        let len = if first.is_alphanumeric() || first == '_' {
            trimmed
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(trimmed.len())
        } else {
            first.len_utf8()
        };
        return Some((pos, trimmed.get(..len).unwrap_or("")));
    }
}

/// The 1-based number of the last line before `pos` that holds more than
/// blanks and comments.
fn last_written_line(source: &str, pos: usize) -> usize {
    let before = source.get(..pos).unwrap_or("");
    before
        .lines()
        .enumerate()
        .filter(|(_, l)| {
            let l = l.trim();
            !l.is_empty() && !l.starts_with('#')
        })
        .map(|(i, _)| i + 1)
        .last()
        .unwrap_or(1)
}

/// The diagnostic for a syntax error at `pos` that a never-closed `{`
/// explains, if one does.
pub(super) fn unclosed(source: &str, pos: usize) -> Option<Diagnostic> {
    let (open, file_unclosed) = open_at(source, pos);
    if !file_unclosed {
        return None;
    }
    let &brace = open.last()?;
    let what = opens(source, brace);
    let next = next_token(source, pos);
    let (at, here) = match next {
        None => (
            Span::new(source.len(), source.len()),
            "the file ends before its `}`".to_string(),
        ),
        Some((at, word)) if !what.admits(word) => (
            Span::new(at, at + word.len()),
            format!("`{word}` starts here, before its `}}`"),
        ),
        Some(_) => return None,
    };
    let line = last_written_line(source, at.start);
    Some(
        Diagnostic::error(
            Code::E0001,
            format!("the {} is not closed", what.describe()),
            Span::new(brace, brace + 1),
            "this `{` is never closed",
        )
        .with_label(at, here)
        .with_help(format!("add `}}` after line {line}")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn braces_are_classified_by_the_words_before_them() {
        let text = "schedule mdr on amount { field c: enum { a } tiered whole { x in {";
        let at = |n: usize| text.match_indices('{').nth(n).map_or(0, |(i, _)| i);
        assert_eq!(opens(text, at(0)), Opens::Schedule("mdr".into()));
        assert_eq!(opens(text, at(1)), Opens::Enum);
        assert_eq!(opens(text, at(2)), Opens::Tiered);
        assert_eq!(opens(text, at(3)), Opens::Set);
        assert_eq!(opens("schedule s {", 11), Opens::Schedule("s".into()));
    }

    #[test]
    fn braces_in_comments_and_strings_do_not_count() {
        let text = "schedule s { # {\n rule r when m == \"{\" => 0 }";
        assert_eq!(open_at(text, text.len()), (vec![], false));
        assert_eq!(open_at(text, 13), (vec![11], false));
    }
}
