//! L0202 `fee-exceeds-amount`: rules whose least fee is more than every
//! amount they are charged on. Documented in `docs/codes/L0202.md`.

use crate::diagnostic::{Code, Diagnostic};
use crate::lint::facts::ScheduleFacts;
use crate::lint::finding;
use crate::lint::registry::{Check, Lint};
use crate::lint::space::{Axis, Seg, SegCell, Space};
use crate::model::FeeRule;
use rust_decimal::Decimal;
use tollgate_runtime::table::FieldSpec;

/// The lint.
pub const LINT: Lint = Lint {
    code: Code::L0202,
    checks: &[Check::Schedule(check)],
};

fn check(f: &ScheduleFacts<'_>, out: &mut Vec<Diagnostic>) {
    let s = f.schedule;
    let base_column = f.space.fields.iter().position(|&i| i == s.base);
    for (r, rows) in s.rules.iter().zip(&f.found.rule_rows) {
        exceeds_amount(r, f.space, rows, base_column, f.fields, out);
    }
}

/// The largest amount a rule can be charged on, from its rows' cells on
/// the base field, and whether that amount itself is included; `None` when
/// some row leaves the amount open above.
fn largest_amount(
    space: &Space,
    rows: &[u32],
    base_column: Option<usize>,
) -> Option<(Decimal, bool)> {
    let column = base_column?;
    let Some(Axis::Range { segs, .. }) = space.axes.get(column) else {
        return None;
    };
    let mut largest: Option<(Decimal, bool)> = None;
    for &r in rows {
        let Some(SegCell::Span(_, to)) = space.rows.get(r as usize)?.get(column) else {
            return None;
        };
        let top = match segs.get((*to as usize).checked_sub(1)?)? {
            Seg::Point(p) => (*p, true),
            Seg::Open(_, Some(hi)) => (*hi, false),
            Seg::Open(_, None) => return None,
        };
        largest = Some(match largest {
            Some(l) if (l.0, l.1) >= (top.0, top.1) => l,
            _ => top,
        });
    }
    largest
}

/// A fixed amount plus minimum larger than every amount the rule is
/// charged on.
fn exceeds_amount(
    r: &FeeRule,
    space: &Space,
    rows: &[u32],
    base_column: Option<usize>,
    fields: &[FieldSpec],
    out: &mut Vec<Diagnostic>,
) {
    // The least fee the rule charges: the fixed amount plus the percentage
    // part's minimum, raised to the whole fee's minimum, held to its cap.
    // A sum past the largest decimal is no fee a record can be charged
    // (evaluating says so); `implausible-value` reports its parts.
    let Some(part_floor) = r.fee.fixed.checked_add(r.fee.min.unwrap_or(Decimal::ZERO)) else {
        return;
    };
    let mut floor = r.fee.total_min.map_or(part_floor, |m| part_floor.max(m));
    if let Some(cap) = r.fee.total_cap {
        floor = floor.min(cap);
    }
    if floor <= Decimal::ZERO {
        return;
    }
    let Some((largest, included)) = largest_amount(space, rows, base_column) else {
        return;
    };
    let above_all = if included {
        floor > largest
    } else {
        floor >= largest
    };
    if largest <= Decimal::ZERO || !above_all {
        return;
    }
    let base = base_column
        .and_then(|c| space.fields.get(c))
        .and_then(|&f| fields.get(f))
        .map_or("amount", |f| f.name.as_str());
    let bound = if included { "up to" } else { "below" };
    let mut largest = largest;
    if largest.scale() < 2 {
        largest.rescale(2);
    }
    out.push(
        finding(
            Code::L0202,
            format!(
                "rule `{}` charges at least {floor}, more than every {base} it applies to ({bound} {largest})",
                r.name
            ),
            r.span,
            format!("at least {floor} on {base}s {bound} {largest}"),
        )
        .with_help(format!(
            "the fee is more than the payment on every record this rule prices; fix the fee (a minimum or fixed amount in the wrong unit?) or the rule's {base} range"
        )),
    );
}
