//! L0103 `partly-shadowed`: a rule of a `hit first` schedule that some
//! records reach and others do not, because an earlier rule with another
//! fee takes them. Documented in `docs/codes/L0103.md`.

use crate::diagnostic::{Code, Diagnostic};
use crate::lint::facts::ScheduleFacts;
use crate::lint::finding;
use crate::lint::registry::{Check, Lint};
use crate::model::Hit;

/// The lint.
pub const LINT: Lint = Lint {
    code: Code::L0103,
    checks: &[Check::Schedule(check)],
};

/// Every pair the sweep found under `first` whose later rule is reached
/// elsewhere and charges another fee, shown by a record the earlier rule
/// takes.
fn check(f: &ScheduleFacts<'_>, out: &mut Vec<Diagnostic>) {
    let s = f.schedule;
    if s.hit == Hit::Unique {
        return;
    }
    for (&(a, b), example) in &f.found.pairs {
        let (Some(ra), Some(rb)) = (s.rules.get(a as usize), s.rules.get(b as usize)) else {
            continue;
        };
        let reached = f.found.wins.get(b as usize) == Some(&true);
        if !reached || rb.otherwise || ra.fee == rb.fee {
            continue;
        }
        out.push(
            finding(
                Code::L0103,
                format!(
                    "rule `{}` is partly shadowed by `{}`, which charges another fee",
                    rb.name, ra.name
                ),
                rb.span,
                "some of its records take the earlier rule",
            )
            .with_label(ra.span, "applies first")
            .with_help(format!(
                "for example {example} matches both and takes `{}`; if that is intended, exclude those records from `{}`",
                ra.name, rb.name
            )),
        );
    }
}
