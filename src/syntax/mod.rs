//! Source text to syntax tree. The only module that sees pest: its types never
//! leave here, and its rule names are reworded before a user sees them.

mod braces;
mod expected;
mod grammar;
pub mod keywords;
pub mod limits;
mod lower;

use crate::ast::File;
use crate::diagnostic::Diagnostic;
use grammar::{Rule, TollgateParser};
use pest::Parser;

/// Upper bound on parser steps, so no input can make parsing run away.
const CALL_LIMIT: usize = 50_000_000;

/// Parses one policy file.
///
/// # Errors
/// Diagnostics for a resource limit (`E0004`), a syntax error (`E0001`, the
/// first one found) or malformed literals (`E0002`, all of them).
pub fn parse(source: &str) -> Result<File, Vec<Diagnostic>> {
    limits::check(source).map_err(|d| vec![d])?;
    pest::set_call_limit(std::num::NonZeroUsize::new(CALL_LIMIT));
    let mut pairs = TollgateParser::parse(Rule::file, source)
        .map_err(|e| vec![expected::syntax_error(&e, source)])?;
    let mut lowerer = lower::Lowerer::default();
    let file = pairs.next().and_then(|p| lowerer.file(p));
    match file {
        Some(f) if lowerer.errors.is_empty() => Ok(f),
        Some(_) => Err(lowerer.errors),
        None if lowerer.errors.is_empty() => Err(vec![Diagnostic::error(
            crate::diagnostic::Code::E0001,
            "internal error: the parser produced no policy",
            crate::span::Span::new(0, 0),
            "here",
        )]),
        None => Err(lowerer.errors),
    }
}
