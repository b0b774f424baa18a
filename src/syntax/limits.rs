//! Limits checked before parsing, so that no input can exhaust the stack or
//! make the parser run for long.

use crate::diagnostic::{Code, Diagnostic};
use crate::span::Span;

/// The largest policy file accepted, in bytes (8 MiB): hand-written policies
/// are a few KiB, generated rate sheets of 10,000 rules about 2 MiB.
pub const MAX_SOURCE_BYTES: usize = 8 << 20;

/// The deepest nesting of parentheses accepted in a condition.
pub const MAX_NESTING: usize = 64;

/// The characters of `source` outside comments and strings, with their
/// byte offsets (a comment runs from `#` to the end of the line; a string
/// from `"` to the next unescaped `"` or the end of the line).
pub(super) fn code_chars(source: &str) -> impl Iterator<Item = (usize, char)> + '_ {
    let mut chars = source.char_indices();
    core::iter::from_fn(move || loop {
        let (i, c) = chars.next()?;
        match c {
            '#' => {
                for (_, c) in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            '"' => {
                let mut escaped = false;
                for (_, c) in chars.by_ref() {
                    match c {
                        '\\' if !escaped => escaped = true,
                        '"' | '\n' if !escaped => break,
                        _ => escaped = false,
                    }
                }
            }
            _ => return Some((i, c)),
        }
    })
}

/// Checks size and nesting; comments and strings are skipped.
pub fn check(source: &str) -> Result<(), Diagnostic> {
    if source.len() > MAX_SOURCE_BYTES {
        return Err(too_large(source.len(), Span::new(0, 0)));
    }
    let mut depth = 0usize;
    for (i, c) in code_chars(source) {
        match c {
            '(' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(Diagnostic::error(
                        Code::E0004,
                        format!("parentheses are nested more than {MAX_NESTING} deep"),
                        Span::new(i, i + 1),
                        "too deep from here",
                    )
                    .with_help(
                        "name part of the condition with `condition NAME = ...` and use the name",
                    ));
                }
            }
            ')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// The diagnostic for a file of `len` bytes, over the limit.
pub fn too_large(len: usize, span: Span) -> Diagnostic {
    Diagnostic::error(
        Code::E0004,
        format!("policy file is {len} bytes; the limit is {MAX_SOURCE_BYTES}"),
        span,
        "file too large",
    )
    .with_help("split the policy into smaller files")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_in_comments_and_strings_does_not_count() {
        let deep = "(".repeat(MAX_NESTING + 1);
        assert!(check(&format!("# {deep}\n")).is_ok());
        assert!(check(&format!("\"{deep}\"")).is_ok());
        assert!(check(&deep).is_err());
        assert!(check(&"()".repeat(1000)).is_ok());
    }

    #[test]
    fn size_limit() {
        let big = " ".repeat(MAX_SOURCE_BYTES + 1);
        assert_eq!(check(&big).map_err(|d| d.code), Err(Code::E0004));
    }
}
