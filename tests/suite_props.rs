//! The laws of the engine and their property tests, as one test binary (one
//! link instead of one per file; see docs/testing-the-project.md): the
//! evaluator against the reference interpreter, the linter and `diff` against
//! brute force, typing, money, throttling, and parsing that never panics.
//! A test is named for its file: `cargo test --test suite_props oracle::`.

// Each file was written as a test crate of its own; here it is one module of
// this crate, and several include the shared helpers of tests/common.
#![allow(clippy::duplicate_mod)]

#[path = "diff_brute.rs"]
mod diff_brute;
#[path = "large_enum.rs"]
mod large_enum;
#[path = "large_sheets.rs"]
mod large_sheets;
#[path = "lint_brute.rs"]
mod lint_brute;
#[path = "lint_budget.rs"]
mod lint_budget;
#[path = "money.rs"]
mod money;
#[path = "notify_props.rs"]
mod notify_props;
#[path = "oracle.rs"]
mod oracle;
#[path = "record_builder.rs"]
mod record_builder;
#[path = "record_numbers.rs"]
mod record_numbers;
#[path = "robustness.rs"]
mod robustness;
#[path = "staged.rs"]
mod staged;
#[path = "typed_reader.rs"]
mod typed_reader;
#[path = "typing_paths.rs"]
mod typing_paths;
