//! L0106 `unsatisfiable`: rules (of fee schedules and of notification
//! policies) whose condition no input meets. Documented in
//! `docs/codes/L0106.md`.

use crate::diagnostic::{Code, Diagnostic};
use crate::lint::facts::{RuleFacts, ScheduleFacts};
use crate::lint::finding;
use crate::lint::registry::{Check, Lint};
use crate::span::Span;

/// The lint.
pub const LINT: Lint = Lint {
    code: Code::L0106,
    checks: &[Check::Schedule(fees), Check::Rules(notifications)],
};

/// Fee rules with no row left (`otherwise` has no condition to fail).
fn fees(f: &ScheduleFacts<'_>, out: &mut Vec<Diagnostic>) {
    for (i, r) in f.schedule.rules.iter().enumerate() {
        if f.unsat(i) && !r.otherwise {
            out.push(never(&r.name, "record", r.when.span));
        }
    }
}

/// Notification rules with no row left, of those whose rows are known.
fn notifications(f: &RuleFacts<'_>, out: &mut Vec<Diagnostic>) {
    for (i, (r, own)) in f.rules.rules.iter().zip(&f.rows).enumerate() {
        if f.analysed(i) && own.is_empty() {
            out.push(never(&r.name, "message", r.when.span));
        }
    }
}

/// The finding on rule `name`'s condition at `span`, which no `input`
/// (record, message) meets.
fn never(name: &str, input: &str, span: Span) -> Diagnostic {
    finding(
        Code::L0106,
        format!("rule `{name}` can never apply: no {input} meets its condition"),
        span,
        format!("no {input} meets this"),
    )
    .with_help("check for `and` written for `or`, or bounds that cross")
}
