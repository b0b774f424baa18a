//! L0204 `zero-cap`: `limit 0` rules, and merchant caps whose upper bound
//! is 0. Documented in `docs/codes/L0204.md`.

use crate::diagnostic::{Code, Diagnostic};
use crate::lint::facts::RuleFacts;
use crate::lint::finding;
use crate::lint::registry::{Check, Lint};
use crate::model::{Action, CapAmount};

/// The lint.
pub const LINT: Lint = Lint {
    code: Code::L0204,
    checks: &[Check::Rules(check)],
};

fn check(f: &RuleFacts<'_>, out: &mut Vec<Diagnostic>) {
    for r in &f.rules.rules {
        let Action::Limit { max, .. } = &r.action else {
            continue;
        };
        match *max {
            CapAmount::Fixed(0) => out.push(
                finding(
                    Code::L0204,
                    format!("rule `{}` allows 0 messages: every message it covers is suppressed", r.name),
                    r.span,
                    "cap of 0",
                )
                .with_help("if these messages must never be sent, say so in a comment and allow the lint; otherwise write the cap you mean"),
            ),
            CapAmount::Field { high: 0, .. } => out.push(
                finding(
                    Code::L0204,
                    format!("rule `{}` clamps every merchant's cap to 0: every message it covers is suppressed", r.name),
                    r.span,
                    "upper bound 0",
                )
                .with_help("raise the upper bound to the most a merchant may choose"),
            ),
            CapAmount::Fixed(_) | CapAmount::Field { .. } => {}
        }
    }
}
