//! The parts of a fee (rate, fixed, minimum, cap), how a value of each is
//! written, and the ranges a schedule declares for them (`expect`) beside
//! its rules: `outside-declared-range` checks the declared ranges, and
//! `implausible-value` the parts no declared range covers.

use super::space::Space;
use super::table::{boxes, rows_by_owner};
use crate::model::{Cond, FeePart, Schedule};
use rust_decimal::Decimal;
use tollgate_runtime::fee::FeeFormula;
use tollgate_runtime::table::FieldSpec;

/// Every part, in the order of [`index`].
pub const PARTS: [FeePart; 4] = [FeePart::Rate, FeePart::Fixed, FeePart::Min, FeePart::Cap];

/// The position of `part` in [`PARTS`].
pub fn index(part: FeePart) -> usize {
    match part {
        FeePart::Rate => 0,
        FeePart::Fixed => 1,
        FeePart::Min => 2,
        FeePart::Cap => 3,
    }
}

/// The values of `part` that `fee` sets: one rate per band of a tiered
/// fee; a minimum (cap) of the percentage part and one of the whole fee
/// (`total min`, `total cap`), those written.
pub fn values(fee: &FeeFormula, part: FeePart) -> Vec<Decimal> {
    match part {
        FeePart::Rate if fee.tiers.is_empty() => vec![fee.rate],
        FeePart::Rate => fee.tiers.iter().map(|b| b.rate).collect(),
        FeePart::Fixed => vec![fee.fixed],
        FeePart::Min => fee.min.into_iter().chain(fee.total_min).collect(),
        FeePart::Cap => fee.cap.into_iter().chain(fee.total_cap).collect(),
    }
}

/// A rate fraction as a percentage: 0.0051 → `0.51%`.
pub fn percent(r: Decimal) -> String {
    let mut p = (r * Decimal::ONE_HUNDRED).normalize();
    if p.scale() < 2 {
        p.rescale(2);
    }
    format!("{p}%")
}

/// `v` written as the part is written in a policy: a rate as a
/// percentage, an amount with at least `dp` decimals (the currency's minor
/// unit: `3.00` in CNY, `3` in JPY).
pub fn show(part: FeePart, v: Decimal, dp: u32) -> String {
    match part {
        FeePart::Rate => percent(v),
        _ => crate::compile::print::amount(v, dp),
    }
}

/// A schedule's declared ranges and its rules, as boxes of one space.
#[derive(Debug)]
pub struct Declared {
    /// The boxes of the ranges' conditions, then of the rules'.
    pub space: Space,
    /// Per `expect` line of the schedule, its rows that admit something.
    pub expect_rows: Vec<Vec<u32>>,
    /// Per rule, its rows that admit something.
    pub rule_rows: Vec<Vec<u32>>,
}

impl Declared {
    /// The ranges schedule `s` declares, beside its rules.
    pub fn new(s: &Schedule, fields: &[FieldSpec]) -> Declared {
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
        let mut expect_rows = rows_by_owner(&space, &owners, conds.len());
        let rule_rows = expect_rows.split_off(s.expects.len().min(expect_rows.len()));
        Declared {
            space,
            expect_rows,
            rule_rows,
        }
    }

    /// Per rule of `s`, which parts (in [`PARTS`] order) a declared range
    /// covers: a range of that part meets some record the rule matches.
    pub fn covered(&self, s: &Schedule) -> Vec<[bool; 4]> {
        let mut covered = vec![[false; 4]; s.rules.len()];
        for (e, expect_rows) in s.expects.iter().zip(&self.expect_rows) {
            let part = index(e.part);
            for (rule_rows, parts) in self.rule_rows.iter().zip(&mut covered) {
                let Some(c) = parts.get_mut(part) else {
                    continue;
                };
                if !*c && self.space.meeting(expect_rows, rule_rows).is_some() {
                    *c = true;
                }
            }
        }
        covered
    }
}
