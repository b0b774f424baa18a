//! L0111 `undecided`: where the table analyses stopped before deciding
//! everything: a rule too large to expand, or a budget spent. The analyses
//! raise it themselves, with the findings built here. Documented in
//! `docs/codes/L0111.md`.

use crate::diagnostic::{Code, Diagnostic};
use crate::lint::budget::Budget;
use crate::lint::finding;
use crate::lint::registry::Lint;
use crate::lint::table::LINT_MAX_ROWS_PER_RULE;
use crate::span::Span;

/// The lint.
pub const LINT: Lint = Lint {
    code: Code::L0111,
    checks: &[],
};

/// The finding for rule `name`, whose condition (at `span`) is too large
/// to analyse.
pub fn rule_too_large(name: &str, span: Span) -> Diagnostic {
    finding(
        Code::L0111,
        format!(
            "rule `{name}` is too large for the linter: its condition expands to more than {LINT_MAX_ROWS_PER_RULE} rows"
        ),
        span,
        "not analysed",
    )
    .with_help("the linter could not decide whether this rule can apply, which rules it overlaps or shadows, or which variants it selects, and reports none of these; write the condition so that it expands less (a field that carries the combined fact), or allow the lint")
}

/// The finding for rules whose analysis the budget stopped: `what` names
/// them (`schedule `mdr``, `the notification rules`).
pub fn unfinished(what: &str, span: Span, budget: &Budget) -> Diagnostic {
    finding(
        Code::L0111,
        format!(
            "the analysis of {what} was not completed within the linter's budget of {} units",
            budget.limit()
        ),
        span,
        "not fully analysed",
    )
    .with_help("findings that need the whole analysis (a rule never reached) are not reported for it, and gaps, overlaps or other findings may be missing; raise the budget with `tollgate lint --budget UNITS` or a `lint budget UNITS` line in the file, or write conditions that expand less (each `or` inside an `and` multiplies the rows)")
}
