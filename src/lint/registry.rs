//! Every lint, in one list.
//!
//! A lint is a unit in [`rules`](super::rules): one file that owns its
//! detection, its messages and help, and points at its documentation
//! (`docs/codes/Lxxxx.md`, which `tollgate explain` prints). Its code,
//! kebab-case name, default level and title are its row of the code table
//! ([`Code`]). Adding a lint is:
//!
//! 1. a row in the code table (`src/diagnostic/codes.rs`);
//! 2. a unit in `src/lint/rules/`, with its [`Lint`] entry in [`LINTS`];
//! 3. its page `docs/codes/Lxxxx.md` and its row in `docs/lints.md`;
//! 4. a fixture that raises it, `tests/lints/Lxxxx_*.toll`, and a near miss
//!    that does not, `tests/lints/Lxxxx_ok_*.toll`, each with its snapshot.
//!
//! `tests/lints.rs` checks that these agree.

use super::budget::{Budget, OutOfBudget};
use super::facts::{Declarations, RuleFacts, ScheduleFacts, Text};
use super::rules::*;
use crate::diagnostic::{Code, Diagnostic};

/// One lint: its code and the checks that raise it.
#[derive(Debug, Clone, Copy)]
pub struct Lint {
    /// Its code; the code table gives its name, level and title.
    pub code: Code,
    /// Where the linter runs it. Empty for a lint that the analyses raise
    /// themselves (L0111: an analysis that stopped).
    pub checks: &'static [Check],
}

/// A check of a lint, and the facts it reads.
#[derive(Debug, Clone, Copy)]
pub enum Check {
    /// On the text, before it is parsed (a file that does not parse too).
    Text(fn(&Text<'_>, &mut Vec<Diagnostic>)),
    /// On each fee schedule, after the sweep of its decision table.
    Schedule(fn(&ScheduleFacts<'_>, &mut Vec<Diagnostic>)),
    /// On a notifications policy's rules.
    Rules(fn(&RuleFacts<'_>, &mut Vec<Diagnostic>)),
    /// On a notifications policy's rules, spending the analyses' budget.
    /// These run in the order of [`LINTS`], and none runs once the budget
    /// is spent.
    RulesWithin(fn(&RuleFacts<'_>, &mut Budget, &mut Vec<Diagnostic>) -> Result<(), OutOfBudget>),
    /// On the declarations of a checked policy, after every other check.
    Declarations(fn(&Declarations<'_>, &mut Vec<Diagnostic>)),
}

/// Every lint, in the order of its code but for the budgeted checks of the
/// notification rules: `exempt-from-cap` spends the budget before
/// `always-quiet` does, so which findings a spent budget leaves out stays
/// as it was.
pub const LINTS: &[Lint] = &[
    shadowed_rule::LINT,
    overlap::LINT,
    partly_shadowed::LINT,
    gap::LINT,
    duplicate_rule::LINT,
    unsatisfiable::LINT,
    mergeable_rules::LINT,
    unused_field::LINT,
    unused_variant::LINT,
    unused_name::LINT,
    undecided::LINT,
    outside_declared_range::LINT,
    fee_exceeds_amount::LINT,
    exempt_from_cap::LINT,
    always_quiet::LINT,
    zero_cap::LINT,
    adjustable_looser::LINT,
    implausible_value::LINT,
    confusable::LINT,
    full_width_punctuation::LINT,
    tab::LINT,
    trailing_whitespace::LINT,
];

/// The registered lint with `code`.
pub fn lint(code: Code) -> Option<&'static Lint> {
    LINTS.iter().find(|l| l.code == code)
}

/// Every check of every lint, in the order of [`LINTS`].
pub fn checks() -> impl Iterator<Item = &'static Check> {
    LINTS.iter().flat_map(|l| l.checks)
}
