//! L0108 `unused-field`: declared fields nothing reads. Documented in
//! `docs/codes/L0108.md`.

use crate::diagnostic::{Code, Diagnostic};
use crate::lint::facts::Declarations;
use crate::lint::finding;
use crate::lint::registry::{Check, Lint};

/// The lint.
pub const LINT: Lint = Lint {
    code: Code::L0108,
    checks: &[Check::Declarations(check)],
};

fn check(d: &Declarations<'_>, out: &mut Vec<Diagnostic>) {
    for (i, f) in d.policy.fields.iter().enumerate() {
        if !d.read.contains(&i) {
            out.push(
                finding(
                    Code::L0108,
                    format!("field `{}` is read by no rule", f.name),
                    f.span,
                    "never read",
                )
                .with_help(
                    "remove it from the schema, or add the condition that was meant to read it",
                ),
            );
        }
    }
}
