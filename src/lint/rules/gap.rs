//! L0104 `gap`: records no rule of a schedule matches. Documented in
//! `docs/codes/L0104.md`.

use crate::diagnostic::{Code, Diagnostic};
use crate::lint::facts::ScheduleFacts;
use crate::lint::finding;
use crate::lint::registry::{Check, Lint};

/// The lint.
pub const LINT: Lint = Lint {
    code: Code::L0104,
    checks: &[Check::Schedule(check)],
};

/// The regions the sweep met with no rule (a few, each with a record),
/// unless the schedule has `otherwise`: one finding on the schedule.
fn check(f: &ScheduleFacts<'_>, out: &mut Vec<Diagnostic>) {
    let s = f.schedule;
    if s.rules.iter().any(|r| r.otherwise) {
        return;
    }
    let Some((record, region)) = f.found.gaps.first() else {
        return;
    };
    let more: Vec<String> = f
        .found
        .gaps
        .iter()
        .skip(1)
        .map(|(rec, region)| format!("{region} (e.g. {rec})"))
        .collect();
    let also = if more.is_empty() {
        String::new()
    } else {
        format!("; also {}", more.join("; "))
    };
    out.push(
        finding(
            Code::L0104,
            format!("some records reach no rule of schedule `{}`", s.name),
            s.name_span,
            format!("no rule matches {region}"),
        )
        .with_help(format!(
            "for example {record}{also}; add rules for these records, or `otherwise => FEE`"
        )),
    );
}
