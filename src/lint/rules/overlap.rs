//! L0102 `overlap`: pairs of rules of a `hit unique` schedule that both
//! match some record. Documented in `docs/codes/L0102.md`.

use crate::diagnostic::{Code, Diagnostic};
use crate::lint::facts::ScheduleFacts;
use crate::lint::finding;
use crate::lint::registry::{Check, Lint};
use crate::model::Hit;

/// The lint.
pub const LINT: Lint = Lint {
    code: Code::L0102,
    checks: &[Check::Schedule(check)],
};

/// Every pair the sweep found under `unique` (never with `otherwise`),
/// each shown by a record both rules match.
fn check(f: &ScheduleFacts<'_>, out: &mut Vec<Diagnostic>) {
    let s = f.schedule;
    if s.hit != Hit::Unique {
        return;
    }
    for (&(a, b), example) in &f.found.pairs {
        let (Some(ra), Some(rb)) = (s.rules.get(a as usize), s.rules.get(b as usize)) else {
            continue;
        };
        let same = if ra.fee == rb.fee {
            " (with the same fee)"
        } else {
            ""
        };
        out.push(
            finding(
                Code::L0102,
                format!(
                    "rules `{}` and `{}` of unique schedule `{}` both match some records{same}",
                    ra.name, rb.name, s.name
                ),
                rb.span,
                "overlaps",
            )
            .with_label(ra.span, "this rule matches them too")
            .with_help(format!(
                "for example {example}; make the conditions disjoint, or use `hit first`"
            )),
        );
    }
}
