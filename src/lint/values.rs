//! Value checks on fee schedules: declared ranges (`expect`), and fixed
//! amounts that can exceed the transaction they are charged on.

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
    if !s.expects.is_empty() {
        expects(s, fields, out);
    }
    let base_column = space.fields.iter().position(|&f| f == s.base);
    for (r, rows) in s.rules.iter().zip(rule_rows) {
        exceeds_amount(r, space, rows, base_column, fields, out);
    }
}

/// Declared ranges: every rule that can match a record a range covers.
fn expects(s: &Schedule, fields: &[FieldSpec], out: &mut Vec<Diagnostic>) {
    // The expects' conditions own the first rows, the rules the rest.
    let conds: Vec<(u32, &Cond)> = s
        .expects
        .iter()
        .map(|e| &e.when)
        .chain(s.rules.iter().map(|r| &r.when))
        .enumerate()
        .map(|(i, c)| (i as u32, c))
        .collect();
    let (space, owners) = boxes(&conds, fields);
    let rows = rows_by_owner(&space, &owners, conds.len());
    let (expect_rows, rule_rows) = rows.split_at(s.expects.len().min(rows.len()));
    for (e, expect_rows) in s.expects.iter().zip(expect_rows) {
        for (r, rule_rows) in s.rules.iter().zip(rule_rows) {
            // Only a fee outside the range matters, if the rule meets it.
            let Some(problem) = breach(e, &r.fee) else {
                continue;
            };
            let Some((a, b)) = space.meeting(expect_rows, rule_rows) else {
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
}

/// How `fee` breaks the declared range, if it does.
fn breach(e: &Expect, fee: &FeeFormula) -> Option<String> {
    let inside = |v: Decimal| e.low <= v && v <= e.high;
    let range = |unit: fn(Decimal) -> String| format!("{} to {}", unit(e.low), unit(e.high));
    match e.part {
        FeePart::Rate => {
            let rates: Vec<Decimal> = if fee.tiers.is_empty() {
                vec![fee.rate]
            } else {
                fee.tiers.iter().map(|b| b.rate).collect()
            };
            rates.into_iter().find(|&r| !inside(r)).map(|r| {
                format!(
                    "charges a rate of {}, outside {}",
                    percent(r),
                    range(percent)
                )
            })
        }
        FeePart::Fixed => (!inside(fee.fixed)).then(|| {
            format!(
                "adds a fixed {}, outside {}",
                fee.fixed,
                range(|d| d.to_string())
            )
        }),
        FeePart::Min | FeePart::Cap => {
            let (value, word) = match e.part {
                FeePart::Min => (fee.min, "minimum"),
                _ => (fee.cap, "cap"),
            };
            match value {
                None => Some(format!(
                    "has no {word}; one from {} is declared",
                    range(|d| d.to_string())
                )),
                Some(v) if !inside(v) => Some(format!(
                    "has a {word} of {v}, outside {}",
                    range(|d| d.to_string())
                )),
                Some(_) => None,
            }
        }
    }
}

/// A rate fraction as a percentage: 0.0051 → `0.51%`.
fn percent(r: Decimal) -> String {
    let mut p = (r * Decimal::ONE_HUNDRED).normalize();
    if p.scale() < 2 {
        p.rescale(2);
    }
    format!("{p}%")
}

/// The smallest amount a rule can be charged on, from its rows' cells on
/// the base field (0.01 when a row leaves the amount open below).
fn smallest_amount(space: &Space, rows: &[u32], base_column: Option<usize>) -> Option<Decimal> {
    let cent = Decimal::new(1, 2);
    rows.iter()
        .map(|&r| {
            let cell = base_column.and_then(|c| space.rows.get(r as usize)?.get(c));
            let segs = base_column.and_then(|c| match space.axes.get(c) {
                Some(super::space::Axis::Range { segs, .. }) => Some(segs),
                _ => None,
            });
            match (cell, segs) {
                (Some(SegCell::Span(a, _)), Some(segs)) => match segs.get(*a as usize) {
                    Some(Seg::Point(p)) => *p,
                    Some(Seg::Open(Some(lo), _)) => *lo + Decimal::new(1, lo.scale().max(2)),
                    _ => cent,
                },
                _ => cent,
            }
        })
        .map(|x| x.max(cent))
        .min()
}

/// A fixed amount or minimum larger than the smallest amount the rule is
/// charged on.
fn exceeds_amount(
    r: &FeeRule,
    space: &Space,
    rows: &[u32],
    base_column: Option<usize>,
    fields: &[FieldSpec],
    out: &mut Vec<Diagnostic>,
) {
    let floor = r.fee.fixed + r.fee.min.unwrap_or(Decimal::ZERO);
    if floor <= Decimal::ZERO {
        return;
    }
    let Some(smallest) = smallest_amount(space, rows, base_column) else {
        return;
    };
    if floor <= smallest {
        return;
    }
    let base = base_column
        .and_then(|c| space.fields.get(c))
        .and_then(|&f| fields.get(f))
        .map_or("amount", |f| f.name.as_str());
    out.push(
        finding(
            Code::L0202,
            format!(
                "rule `{}` charges at least {floor}, more than the smallest {base} it applies to ({smallest})",
                r.name
            ),
            r.span,
            format!("at least {floor} on any {base}"),
        )
        .with_help(format!(
            "on every {base} below {floor} the fee exceeds the payment; change the fee or the rule's {base} range, or allow the lint with a comment where this is the published fee"
        )),
    );
}
