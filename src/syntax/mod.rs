//! Source text to syntax tree. The only module that sees pest: its types never
//! leave here (the grammar's rule list leaves only as [`concrete::NodeKind`],
//! for the formatter), and its rule names are reworded before a user sees them.

mod braces;
pub mod concrete;
mod expected;
mod grammar;
pub mod keywords;
pub mod limits;
mod lower;
mod test_file;

use crate::ast::File;
use crate::diagnostic::Diagnostic;
use grammar::{Rule, TollgateParser};
use pest::Parser;

/// Parser steps allowed per byte of the largest policy accepted. A rate
/// sheet of one-line rules takes about 13 steps per byte; the margin is for
/// denser text.
pub const STEPS_PER_BYTE: usize = 64;

/// Upper bound on parser steps, so that no input can make parsing run
/// away: enough for any realistic policy up to the size limit. (pest's
/// limit is process-wide, so it is one constant, not one per file.)
pub const STEP_LIMIT: usize = limits::MAX_SOURCE_BYTES * STEPS_PER_BYTE;

/// Parses one policy file.
///
/// # Errors
/// Diagnostics for a resource limit (`E0004`, also when parsing takes more
/// than [`STEP_LIMIT`] steps), a syntax error (`E0001`, the first one found)
/// or malformed literals (`E0002`, all of them).
pub(crate) fn parse(source: &str) -> Result<File, Vec<Diagnostic>> {
    limits::check(source).map_err(|d| vec![d])?;
    pest::set_call_limit(std::num::NonZeroUsize::new(STEP_LIMIT));
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

/// Parses one test file (`NAME.test.toll`, docs/testing.md): the grammar's
/// `test_file` rule, under the same limits as a policy.
///
/// # Errors
/// As a policy's parse: `E0004`, `E0001` (the first syntax error) or `E0002`.
pub fn parse_tests(source: &str) -> Result<crate::testing::ast::TestFile, Vec<Diagnostic>> {
    limits::check(source).map_err(|d| vec![d])?;
    pest::set_call_limit(std::num::NonZeroUsize::new(STEP_LIMIT));
    let mut pairs = TollgateParser::parse(Rule::test_file, source)
        .map_err(|e| vec![expected::syntax_error(&e, source)])?;
    let mut lowerer = lower::Lowerer::default();
    let file = pairs.next().and_then(|p| test_file::file(&mut lowerer, &p));
    match file {
        Some(f) if lowerer.errors.is_empty() => Ok(f),
        _ if !lowerer.errors.is_empty() => Err(lowerer.errors),
        _ => Err(vec![test_file::shape_error()]),
    }
}
