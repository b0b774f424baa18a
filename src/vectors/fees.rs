//! Vectors of a fees policy: a record in every region of each schedule's
//! decision table (the linter's sweep finds them), then, with each region's
//! record, amounts at and one minor unit around every bound (the amount
//! conditions' bounds, tier bounds, where the rate reaches a minimum or a
//! cap) and rounding midpoints (amounts whose exact fee is half a rounding
//! step: one whose half-even rounding goes up and one where it goes down).
//! Each answer is the [`Reference`]'s.

use super::{object, Group, Record, Reference, Vector};
use crate::lint::budget::Budget;
use crate::lint::example;
use crate::lint::space::{sweep, Axis, Mode, Region, Seg, Space, Visitor};
use crate::model::{Body, Policy, Schedule};
use rust_decimal::Decimal;
use serde_json::{json, Map, Value as Json};
use std::collections::BTreeSet;
use tollgate_runtime::eval::Component;
use tollgate_runtime::exact;
use tollgate_runtime::fee::FeeFormula;
use tollgate_runtime::rounding::Rounding;
use tollgate_runtime::table::{FieldSpec, Table};

/// Amounts tried for rounding midpoints: 1 to this many minor units.
const MIDPOINT_SEARCH: i64 = 100_000;

/// The most vectors one policy gets (its regions come first).
const MAX_VECTORS: usize = 20_000;

/// The vectors of a fees policy, in one group (every record stands alone).
///
/// # Errors
/// A sentence when the decision tables are too large to sweep.
pub fn groups<R: Reference>(
    reference: &R,
    policy: &Policy,
    table: &Table,
) -> Result<Vec<Group>, String> {
    let Body::Fees(schedules) = &policy.body else {
        return Ok(Vec::new());
    };
    let fields = crate::compile::field_specs(policy);
    let dp = crate::currency::display_decimals(table.currency());
    let unit = Decimal::new(1, dp);
    let mut records: Vec<Map<String, Json>> = Vec::new();
    let mut seen = BTreeSet::new();
    let mut push = |r: Map<String, Json>, records: &mut Vec<Map<String, Json>>| {
        if records.len() < MAX_VECTORS && seen.insert(Json::Object(r.clone()).to_string()) {
            records.push(r);
        }
    };
    for s in schedules {
        let regions = regions(s, &fields)?;
        let refunds = fields.get(s.base).is_some_and(|f| f.refunds);
        let base = fields
            .get(s.base)
            .map(|f| f.name.clone())
            .unwrap_or_default();
        let bounds = condition_bounds(s, &fields, unit);
        for (record, rule) in &regions {
            push(record.clone(), &mut records);
            let formula = rule.and_then(|r| s.rules.get(r)).map(|r| &r.fee);
            let mut amounts = bounds.clone();
            if let Some(f) = formula {
                amounts.extend(formula_bounds(f, unit));
                amounts.extend(midpoints(reference, f, &s.rounding, unit));
            }
            for a in amounts {
                if a < Decimal::ZERO && !refunds {
                    continue;
                }
                let mut r = record.clone();
                r.insert(
                    base.clone(),
                    json!(crate::compile::print::amount(a.round_dp(dp), dp)),
                );
                push(r, &mut records);
            }
        }
    }
    let vectors = records
        .into_iter()
        .enumerate()
        .map(|(i, record)| {
            let expect = answer(reference, policy, table, &record, i + 1);
            Vector { record, expect }
        })
        .collect();
    Ok(vec![Group {
        about: "fees: every region of each schedule, bounds, rounding midpoints".into(),
        vectors,
    }])
}

/// A record in each region of schedule `s` and the rule that decides it
/// (none in a gap).
fn regions(s: &Schedule, fields: &[FieldSpec]) -> Result<Vec<(Record, Option<usize>)>, String> {
    let (space, owners, _) = crate::lint::table::rule_space(s, fields);
    let rows: Vec<u32> = (0..space.rows.len() as u32).collect();
    let mut v = Regions {
        space: &space,
        owners: &owners,
        fields,
        found: Vec::new(),
    };
    sweep(&space, &rows, Mode::Every, &mut v, &mut Budget::default()).map_err(|_| {
        format!(
            "schedule `{}` has too many regions to sweep within the analysis budget",
            s.name
        )
    })?;
    Ok(v.found)
}

/// The sweep's visitor: one record per region.
struct Regions<'a> {
    space: &'a Space,
    owners: &'a [u32],
    fields: &'a [FieldSpec],
    found: Vec<(Map<String, Json>, Option<usize>)>,
}

impl Visitor for Regions<'_> {
    fn gap(&mut self, region: Region<'_>) {
        let record = example::record(self.space, region, None, self.fields);
        self.found.push((object(&record), None));
    }

    fn leaf(&mut self, active: &[u32], _exact: bool, region: Region<'_>) {
        let first = active.first().copied();
        let record = example::record(self.space, region, first, self.fields);
        let rule = first
            .and_then(|r| self.owners.get(r as usize))
            .map(|&o| o as usize);
        self.found.push((object(&record), rule));
    }
}

/// Every bound the schedule's conditions put on its amount, and one minor
/// unit either side.
fn condition_bounds(s: &Schedule, fields: &[FieldSpec], unit: Decimal) -> Vec<Decimal> {
    let (space, _, _) = crate::lint::table::rule_space(s, fields);
    let Some(column) = space.fields.iter().position(|&f| f == s.base) else {
        return Vec::new();
    };
    let mut points = BTreeSet::new();
    if let Some(Axis::Range { segs, .. }) = space.axes.get(column) {
        for seg in segs {
            match *seg {
                Seg::Point(p) => {
                    points.insert(p);
                }
                Seg::Open(lo, hi) => points.extend(lo.into_iter().chain(hi)),
            }
        }
    }
    around(points, unit)
}

/// Each point and one `unit` either side.
fn around(points: impl IntoIterator<Item = Decimal>, unit: Decimal) -> Vec<Decimal> {
    let mut out = BTreeSet::new();
    for p in points {
        out.insert(p);
        out.extend(exact::sub(p, unit).ok());
        out.extend(exact::add(p, unit).ok());
    }
    out.into_iter().collect()
}

/// The amounts where a formula's shape changes: tier bounds, and where the
/// rate alone reaches the minimum or the cap of the percentage part or of
/// the whole fee (rounded to the minor unit), each with a unit either side.
fn formula_bounds(f: &FeeFormula, unit: Decimal) -> Vec<Decimal> {
    let mut points: Vec<Decimal> = f.tiers.iter().filter_map(|b| b.up_to).collect();
    let rate = f.rate;
    if !rate.is_zero() {
        let reach = |bound: Decimal| {
            bound
                .checked_div(rate)
                .map(|a| a.round_dp(unit.scale()))
                .filter(|a| *a >= Decimal::ZERO)
        };
        let part = [f.min, f.cap].into_iter().flatten();
        let whole = [f.total_min, f.total_cap]
            .into_iter()
            .flatten()
            .filter_map(|b| exact::sub(b, f.fixed).ok());
        points.extend(part.chain(whole).filter_map(reach));
    }
    around(points, unit)
}

/// Amounts (whole minor units) whose exact fee before rounding is half a
/// rounding step: the first whose half-even rounding goes up and the first
/// where it goes down, so that half-up and half-even differ on one of them.
fn midpoints<R: Reference>(
    reference: &R,
    f: &FeeFormula,
    rounding: &Rounding,
    unit: Decimal,
) -> Vec<Decimal> {
    let half = Decimal::new(5, 1);
    let (mut odd, mut even) = (None, None);
    for m in 1..=MIDPOINT_SEARCH {
        let amount = Decimal::new(m, unit.scale());
        let Some(raw) = reference.unrounded(f, amount, rounding) else {
            continue;
        };
        let Some(steps) = raw.checked_div(rounding.step) else {
            continue;
        };
        if steps.fract() != half {
            continue;
        }
        let slot = if steps.trunc() % Decimal::TWO == Decimal::ZERO {
            &mut even
        } else {
            &mut odd
        };
        slot.get_or_insert(amount);
        if odd.is_some() && even.is_some() {
            break;
        }
    }
    odd.into_iter().chain(even).collect()
}

/// The line `tollgate eval` prints for `record`, the `n`th of its input,
/// as the reference answers it.
fn answer<R: Reference>(
    reference: &R,
    policy: &Policy,
    table: &Table,
    record: &Map<String, Json>,
    n: usize,
) -> String {
    let text = Json::Object(record.clone()).to_string();
    let error = |message: String| json!({ "error": message, "record": n }).to_string();
    let values = match crate::record::from_json(&text, table.fields()) {
        Ok(v) => v,
        Err(e) => return error(e),
    };
    match reference.price(policy, &values) {
        Ok((components, total)) => line(policy, table, &components, total),
        Err(e) => error(crate::cli::eval::describe_error(table, &e)),
    }
}

/// A priced record's line: the fee and each schedule's component.
fn line(policy: &Policy, table: &Table, components: &[Component], total: Decimal) -> String {
    let dp = crate::currency::display_decimals(table.currency());
    let money = |d: Decimal| crate::compile::print::amount(d, dp);
    let Body::Fees(schedules) = &policy.body else {
        return String::new();
    };
    let components: Vec<Json> = components
        .iter()
        .map(|c| {
            let s = schedules.get(c.schedule.get() as usize);
            let rule = s.and_then(|s| s.rules.get(c.rule.get() as usize));
            json!({
                "schedule": s.map_or("?", |s| s.name.as_str()),
                "rule": rule.map_or("?", |r| r.name.as_str()),
                "fee": money(c.fee.total),
            })
        })
        .collect();
    json!({ "fee": money(total), "components": components }).to_string()
}
