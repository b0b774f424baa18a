//! L0206 `exempt-from-cap`: messages an `always deliver` rule exempts that
//! another rule (a limit, de-duplication, quiet or `suppress`) also
//! covers: for those the other rule can never act. Documented in
//! `docs/codes/L0206.md`.

use crate::diagnostic::{Code, Diagnostic};
use crate::lint::budget::{Budget, OutOfBudget};
use crate::lint::facts::RuleFacts;
use crate::lint::registry::{Check, Lint};
use crate::lint::{example, finding};
use crate::model::Action;

/// The lint.
pub const LINT: Lint = Lint {
    code: Code::L0206,
    checks: &[Check::RulesWithin(check)],
};

/// Every pair of an always-deliver rule and another whose rows meet, shown
/// by a message both match. Each pair of rows compared costs a unit of
/// `budget`.
fn check(
    f: &RuleFacts<'_>,
    budget: &mut Budget,
    out: &mut Vec<Diagnostic>,
) -> Result<(), OutOfBudget> {
    let Some((space, _, _)) = f.boxes else {
        return Err(OutOfBudget);
    };
    let rules = &f.rules.rules;
    for (ra, rows_a) in rules.iter().zip(&f.rows) {
        if ra.action != Action::AlwaysDeliver {
            continue;
        }
        for (rb, rows_b) in rules.iter().zip(&f.rows) {
            if rb.action == Action::AlwaysDeliver {
                continue;
            }
            budget.spend_n(rows_a.len().saturating_mul(rows_b.len()))?;
            let Some((x, y)) = space.meeting(rows_a, rows_b) else {
                continue;
            };
            let record = example::record_in_both(space, x, y, &f.fields);
            out.push(
                finding(
                    Code::L0206,
                    format!(
                        "rule `{}` never acts on messages that `{}` always delivers",
                        rb.name, ra.name
                    ),
                    rb.span,
                    "inert for those messages",
                )
                .with_label(ra.span, "exempts them from every other rule")
                .with_help(format!(
                    "for example {record}; exclude those messages from `{}`, or drop them from `{}`",
                    rb.name, ra.name
                )),
            );
        }
    }
    Ok(())
}
