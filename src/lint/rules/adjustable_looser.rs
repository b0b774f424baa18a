//! L0205 `adjustable-looser`: merchant-adjustable caps whose upper bound is
//! above the policy's own limit (the field's default). Documented in
//! `docs/codes/L0205.md`.

use crate::diagnostic::{Code, Diagnostic};
use crate::lint::facts::RuleFacts;
use crate::lint::finding;
use crate::lint::registry::{Check, Lint};
use crate::model::{Action, CapAmount, Constant};

/// The lint.
pub const LINT: Lint = Lint {
    code: Code::L0205,
    checks: &[Check::Rules(check)],
};

fn check(f: &RuleFacts<'_>, out: &mut Vec<Diagnostic>) {
    let fields = &f.policy.fields;
    for r in &f.rules.rules {
        let Action::Limit {
            max: CapAmount::Field { field, high, .. },
            ..
        } = r.action
        else {
            continue;
        };
        // A bound of 0 is `zero-cap`'s finding.
        if high == 0 {
            continue;
        }
        let default = fields.get(field).and_then(|f| f.default.as_ref());
        let Some(Constant::Integer(d)) = default else {
            continue;
        };
        if i64::from(high) > *d {
            let name = fields.get(field).map_or("?", |f| f.name.as_str());
            out.push(
                finding(
                    Code::L0205,
                    format!(
                        "rule `{}` lets a merchant raise `{name}` to {high}, above the policy's own {d}",
                        r.name
                    ),
                    r.span,
                    format!("up to {high}"),
                )
                .with_help(format!("bound it by the default: `within LOW..{d}`, or raise the default if {high} is the policy")),
            );
        }
    }
}
