//! Value checks on fee schedules: declared ranges (`expect`), the built-in
//! plausible ranges where none is declared, and fixed amounts that exceed
//! every transaction they are charged on.

use super::plausible::{self, percent};
use super::space::{Seg, SegCell, Space};
use super::table::{boxes, rows_by_owner};
use super::{example, finding};
use crate::diagnostic::{Code, Diagnostic};
use crate::model::{Cond, Expect, FeePart, FeeRule, Schedule};
use rust_decimal::Decimal;
use tollgate_runtime::fee::FeeFormula;
use tollgate_runtime::table::FieldSpec;

/// The value checks of one schedule, whose rules are `space` (`rule_rows`
/// gives each rule's rows).
pub fn schedule(
    s: &Schedule,
    space: &Space,
    rule_rows: &[Vec<u32>],
    fields: &[FieldSpec],
    out: &mut Vec<Diagnostic>,
) {
    let declared = if s.expects.is_empty() {
        vec![[false; 4]; s.rules.len()]
    } else {
        expects(s, fields, out)
    };
    let base_column = space.fields.iter().position(|&f| f == s.base);
    for ((r, rows), declared) in s.rules.iter().zip(rule_rows).zip(declared) {
        plausible::check(r, declared, out);
        exceeds_amount(r, space, rows, base_column, fields, out);
    }
}

/// Declared ranges: every rule that can match a record a range covers.
/// Returns, per rule, which parts (in [`plausible::PARTS`] order) a
/// declared range covers.
fn expects(s: &Schedule, fields: &[FieldSpec], out: &mut Vec<Diagnostic>) -> Vec<[bool; 4]> {
    // The expects' conditions own the first rows, the rules the rest.
    let conds: Vec<(u32, &Cond)> = s
        .expects
        .iter()
        .map(|e| &e.when)
        .chain(s.rules.iter().map(|r| &r.when))
        .enumerate()
        .map(|(i, c)| (i as u32, c))
        .collect();
    let (space, owners, _) = boxes(&conds, fields);
    let rows = rows_by_owner(&space, &owners, conds.len());
    let (expect_rows, rule_rows) = rows.split_at(s.expects.len().min(rows.len()));
    let mut declared = vec![[false; 4]; s.rules.len()];
    for (e, expect_rows) in s.expects.iter().zip(expect_rows) {
        let part = plausible::index(e.part);
        for ((r, rule_rows), covered) in s.rules.iter().zip(rule_rows).zip(&mut declared) {
            // A fee outside the range matters if the rule meets it; a fee
            // inside it only tells whether the part is covered.
            let problem = breach(e, &r.fee);
            let done = covered.get(part).copied().unwrap_or(true);
            if problem.is_none() && done {
                continue;
            }
            let Some((a, b)) = space.meeting(expect_rows, rule_rows) else {
                continue;
            };
            if let Some(c) = covered.get_mut(part) {
                *c = true;
            }
            let Some(problem) = problem else {
                continue;
            };
            let record = example::record_in_both(&space, a, b, fields);
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
    declared
}

/// How `fee` breaks the declared range, if it does.
fn breach(e: &Expect, fee: &FeeFormula) -> Option<String> {
    let inside = |v: Decimal| e.low <= v && v <= e.high;
    let range = |unit: fn(Decimal) -> String| format!("{} to {}", unit(e.low), unit(e.high));
    match e.part {
        FeePart::Rate => plausible::values(fee, e.part)
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
            let present = plausible::values(fee, e.part);
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

/// The largest amount a rule can be charged on, from its rows' cells on
/// the base field, and whether that amount itself is included; `None` when
/// some row leaves the amount open above.
fn largest_amount(
    space: &Space,
    rows: &[u32],
    base_column: Option<usize>,
) -> Option<(Decimal, bool)> {
    let column = base_column?;
    let Some(super::space::Axis::Range { segs, .. }) = space.axes.get(column) else {
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
    let part_floor = r.fee.fixed + r.fee.min.unwrap_or(Decimal::ZERO);
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
