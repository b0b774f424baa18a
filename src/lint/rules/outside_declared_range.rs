//! L0201 `outside-declared-range`: fee values outside a range the
//! schedule declares (`expect`) for records the range covers. Documented in
//! `docs/codes/L0201.md`.

use crate::diagnostic::{Code, Diagnostic};
use crate::lint::facts::ScheduleFacts;
use crate::lint::ranges::{percent, values};
use crate::lint::registry::{Check, Lint};
use crate::lint::{example, finding};
use crate::model::{Expect, FeePart};
use rust_decimal::Decimal;
use tollgate_runtime::fee::FeeFormula;

/// The lint.
pub const LINT: Lint = Lint {
    code: Code::L0201,
    checks: &[Check::Schedule(check)],
};

/// Every rule that can match a record a declared range covers, and whose
/// fee breaks that range, shown by such a record.
fn check(f: &ScheduleFacts<'_>, out: &mut Vec<Diagnostic>) {
    let Some(declared) = &f.declared else {
        return;
    };
    let s = f.schedule;
    for (e, expect_rows) in s.expects.iter().zip(&declared.expect_rows) {
        for (r, rule_rows) in s.rules.iter().zip(&declared.rule_rows) {
            let Some(problem) = breach(e, &r.fee) else {
                continue;
            };
            let Some((a, b)) = declared.space.meeting(expect_rows, rule_rows) else {
                continue;
            };
            let record = example::record_in_both(&declared.space, a, b, f.fields);
            out.push(
                finding(
                    Code::L0201,
                    format!("rule `{}` {problem}", r.name),
                    r.span,
                    format!("outside the declared {} range", e.part.name()),
                )
                .with_label(e.span, "range declared here")
                .with_help(format!(
                    "it applies to records the range covers, for example {record}; fix the value, or narrow the range's `when`"
                )),
            );
        }
    }
}

/// How `fee` breaks the declared range, if it does.
fn breach(e: &Expect, fee: &FeeFormula) -> Option<String> {
    let inside = |v: Decimal| e.low <= v && v <= e.high;
    let range = |unit: fn(Decimal) -> String| format!("{} to {}", unit(e.low), unit(e.high));
    match e.part {
        FeePart::Rate => values(fee, e.part)
            .into_iter()
            .find(|&r| !inside(r))
            .map(|r| {
                format!(
                    "charges a rate of {}, outside {}",
                    percent(r),
                    range(percent)
                )
            }),
        FeePart::Fixed => (!inside(fee.fixed)).then(|| {
            format!(
                "adds a fixed {}, outside {}",
                fee.fixed,
                range(|d| d.to_string())
            )
        }),
        FeePart::Min | FeePart::Cap => {
            // Either bound meets a declared range: of the percentage part
            // or, with `total`, of the whole fee.
            let word = if e.part == FeePart::Min {
                "minimum"
            } else {
                "cap"
            };
            let present = values(fee, e.part);
            if present.is_empty() {
                return Some(format!(
                    "has no {word}; one from {} is declared",
                    range(|d| d.to_string())
                ));
            }
            present
                .into_iter()
                .find(|&v| !inside(v))
                .map(|v| format!("has a {word} of {v}, outside {}", range(|d| d.to_string())))
        }
    }
}
