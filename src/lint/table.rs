//! A decision table as boxes, and the sweep of a fee schedule's: which
//! rules some record reaches, which meet no record, which pairs of rules
//! both match some record and which records no rule matches, each with a
//! record that shows it. The lints of a schedule (`rules/`) are made of
//! these facts; compiling asks for a unique schedule's overlaps.

use super::budget::{Budget, OutOfBudget};
use super::example;
use super::space::{
    describe_interval, interval_of, sweep, Axis, Mode, Region, SegCell, Space, Visitor,
};
use crate::compile::dnf;
use crate::compile::rows::{self, Grid};
use crate::model::{Cond, Hit, Schedule};
use std::collections::{BTreeMap, BTreeSet};
use tollgate_runtime::table::{Cell, FieldKind, FieldSpec};

/// At most this many gap regions are described per schedule.
const GAP_EXAMPLES: usize = 3;

/// The most rows the linter expands one condition to (more than a
/// compiled table takes: notification rules are not compiled). A larger
/// condition is not analysed, and the linter says so (L0111).
pub const LINT_MAX_ROWS_PER_RULE: usize = 16_384;

/// Conditions as boxes: every owner's rows over the columns any of them
/// reads. Returns the space, per row its owner (rows in owner order), and
/// the owners whose condition expands to more than
/// [`LINT_MAX_ROWS_PER_RULE`] rows: those have no rows, and no finding may
/// rest on their absence.
pub fn boxes(conds: &[(u32, &Cond)], fields: &[FieldSpec]) -> (Space, Vec<u32>, Vec<u32>) {
    let mut unlimited = Budget::new(u64::MAX);
    match boxes_within(conds, fields, &mut unlimited) {
        Ok(b) => b,
        // Not reached: an unlimited budget does not run out.
        Err(OutOfBudget) => (Space::new(Vec::new(), &[], &[]), Vec::new(), Vec::new()),
    }
}

/// Units charged per row built, besides its cells.
const ROW_COST: usize = 4;

/// [`boxes`], charging every row and cell built to `budget`: when it runs
/// out, no space is built at all.
pub fn boxes_within(
    conds: &[(u32, &Cond)],
    fields: &[FieldSpec],
    budget: &mut Budget,
) -> Result<(Space, Vec<u32>, Vec<u32>), OutOfBudget> {
    let types: Vec<FieldKind> = fields.iter().map(|f| f.kind.clone()).collect();
    let mut conjs: Vec<(u32, dnf::Conj)> = Vec::new();
    let mut undecided = Vec::new();
    for (owner, cond) in conds {
        // Each row costs at least ROW_COST units: expand no more rows than
        // the budget left can pay for, so rows are never built unpaid.
        let affordable =
            usize::try_from(budget.remaining() / ROW_COST as u64).unwrap_or(usize::MAX);
        let limit = LINT_MAX_ROWS_PER_RULE.min(affordable);
        match dnf::rows_within(cond, &types, limit) {
            Err(dnf::TooManyRows) if limit < LINT_MAX_ROWS_PER_RULE => {
                // More rows than the budget left pays for: it runs out.
                budget.spend_n(limit.saturating_add(1).saturating_mul(ROW_COST))?;
                return Err(OutOfBudget);
            }
            Ok(rows) => {
                let cells: usize = rows.iter().map(|c| c.len() + ROW_COST).sum();
                budget.spend_n(cells)?;
                conjs.extend(rows.into_iter().map(|c| (*owner, c)));
            }
            Err(dnf::TooManyRows) => undecided.push(*owner),
        }
    }
    // The space holds a cell per row and column, twice while it is built:
    // paid for before it is laid out.
    let columns = conjs
        .iter()
        .flat_map(|(_, c)| c.keys())
        .collect::<BTreeSet<_>>()
        .len();
    budget.spend_n(conjs.len().saturating_mul(columns).saturating_mul(2))?;
    let Grid { columns, cells } = rows::grid(conjs.iter().map(|(_, c)| c));
    let kinds: Vec<&FieldKind> = columns
        .iter()
        .filter_map(|&c| fields.get(c).map(|f| &f.kind))
        .collect();
    // Money that does not accept refunds holds no value below zero.
    let floors: Vec<bool> = columns
        .iter()
        .map(|&c| {
            fields
                .get(c)
                .is_some_and(|f| f.kind == FieldKind::Money && !f.refunds)
        })
        .collect();
    let refs: Vec<&[Cell]> = cells.iter().map(Vec::as_slice).collect();
    let owners = conjs.iter().map(|(o, _)| *o).collect();
    Ok((
        Space::with_floors(columns, &kinds, &floors, &refs),
        owners,
        undecided,
    ))
}

/// What the sweep of one schedule found: the facts every table lint is
/// made of (the brute-force test checks them).
#[derive(Debug, Default)]
pub struct Found {
    /// Per rule, whether some input reaches it (it is the first match).
    pub wins: Vec<bool>,
    /// Per rule, whether no input meets its condition.
    pub unsat: Vec<bool>,
    /// Per rule, its non-empty rows.
    pub rule_rows: Vec<Vec<u32>>,
    /// (earlier rule, later rule) pairs that both match some input, with a
    /// record where both match. Under `first`, only pairs whose earlier
    /// rule is the first match there, and the record is such an input;
    /// under `unique`, every pair but those with `otherwise` (the default
    /// for records no other rule matches, which overlaps none).
    pub pairs: Pairs,
    /// Records no rule matches (at most a few), with the region each
    /// belongs to.
    pub gaps: Vec<(String, String)>,
}

struct Collect<'a> {
    space: &'a Space,
    owners: &'a [u32],
    fields: &'a [FieldSpec],
    unique: bool,
    /// The `otherwise` rule, if the schedule has one.
    otherwise: Option<u32>,
    /// At most this many pairs get an example record; the others are only
    /// counted in `more`.
    examples: usize,
    more: BTreeSet<(u32, u32)>,
    found: Found,
}

impl Visitor for Collect<'_> {
    fn gap(&mut self, region: Region<'_>) {
        if self.found.gaps.len() < GAP_EXAMPLES {
            let record = example::record(self.space, region, None, self.fields);
            let described = describe_region(self.space, region, self.fields);
            self.found.gaps.push((record, described));
        }
    }

    fn leaf(&mut self, active: &[u32], exact: bool, region: Region<'_>) {
        let owner = |r: u32| self.owners.get(r as usize).copied().unwrap_or(u32::MAX);
        let Some(&first) = active.first() else { return };
        if let Some(w) = self.found.wins.get_mut(owner(first) as usize) {
            *w = true;
        }
        let mut add = |a: u32, b: u32, found: &mut Found| {
            let (ra, rb) = (owner(a), owner(b));
            let by_default =
                self.unique && (Some(ra) == self.otherwise || Some(rb) == self.otherwise);
            let key = (ra.min(rb), ra.max(rb));
            if ra == rb || by_default || found.pairs.contains_key(&key) {
                return;
            }
            if found.pairs.len() < self.examples {
                let record = example::record(self.space, region, Some(b), self.fields);
                found.pairs.insert(key, record);
            } else {
                self.more.insert(key);
            }
        };
        if self.unique && exact {
            for (i, &a) in active.iter().enumerate() {
                for &b in active.iter().skip(i + 1) {
                    add(a, b, &mut self.found);
                }
            }
        } else {
            for &b in active.iter().skip(1) {
                add(first, b, &mut self.found);
            }
        }
    }
}

/// The region's split columns as conditions: `amount == 1000.00, channel == wechat`.
fn describe_region(space: &Space, region: Region<'_>, fields: &[FieldSpec]) -> String {
    let mut parts = Vec::new();
    for (&c, piece) in region.columns.iter().zip(region.pieces) {
        let (Some(axis), Some(&f)) = (space.axes.get(c), space.fields.get(c)) else {
            continue;
        };
        let cell = match piece {
            super::space::Piece::Span(a, b) => SegCell::Span(*a, *b),
            super::space::Piece::Ids(ids) => {
                let mut ids = ids.clone();
                ids.sort_unstable();
                if matches!(axis, Axis::Range { .. }) {
                    let a = ids.first().copied().unwrap_or(0);
                    SegCell::Span(a, a + 1)
                } else {
                    SegCell::Only(ids)
                }
            }
            super::space::Piece::AllBut(left_out, _) => SegCell::AllBut(left_out.clone()),
        };
        if let Some(text) = describe_cell(axis, &cell, fields.get(f)) {
            parts.push(text);
        }
    }
    if parts.is_empty() {
        "every record".into()
    } else {
        parts.join(" and ")
    }
}

/// A cell as a condition on its field; `None` when it admits every value.
pub fn describe_cell(axis: &Axis, cell: &SegCell, field: Option<&FieldSpec>) -> Option<String> {
    let name = field.map_or("?", |f| f.name.as_str());
    if cell.is_full(axis) {
        return None;
    }
    Some(match (axis, cell) {
        (Axis::Range { segs, .. }, SegCell::Span(a, b)) => {
            let iv = interval_of(segs, *a, *b);
            let kind = field.map_or(&FieldKind::Decimal, |f| &f.kind);
            format!("{name} {}", describe_interval(&iv, kind))
        }
        (Axis::Set { names, other }, SegCell::Only(ids) | SegCell::AllBut(ids)) => {
            let negated = matches!(cell, SegCell::AllBut(_));
            let is_bool = matches!(field.map(|f| &f.kind), Some(FieldKind::Bool));
            let word = |i: &u32| -> String {
                let n = names.get(*i as usize).map_or("?", String::as_str);
                if *other {
                    if *i as usize + 1 == names.len() {
                        "any other string".into()
                    } else {
                        format!("\"{n}\"")
                    }
                } else {
                    n.to_string()
                }
            };
            if is_bool {
                let v = ids.first() == Some(&1);
                return Some(if v != negated {
                    name.to_string()
                } else {
                    format!("not {name}")
                });
            }
            let words: Vec<String> = ids.iter().map(word).collect();
            match (negated, words.as_slice()) {
                (false, [one]) => format!("{name} == {one}"),
                (true, [one]) => format!("{name} != {one}"),
                (false, _) => format!("{name} in {{{}}}", words.join(", ")),
                (true, _) => format!("{name} not in {{{}}}", words.join(", ")),
            }
        }
        _ => format!("{name} (?)"),
    })
}

/// A schedule's rules as boxes: the space, each row's rule, and the rules
/// too large to analyse (none once `compile::validate` passed: it refuses
/// conditions above a compiled table's smaller limit).
pub fn rule_space(s: &Schedule, fields: &[FieldSpec]) -> (Space, Vec<u32>, Vec<u32>) {
    boxes(&conditions(s), fields)
}

/// [`rule_space`], within `budget`.
pub fn rule_space_within(
    s: &Schedule,
    fields: &[FieldSpec],
    budget: &mut Budget,
) -> Result<(Space, Vec<u32>, Vec<u32>), OutOfBudget> {
    boxes_within(&conditions(s), fields, budget)
}

/// Each rule's condition, with its index.
fn conditions(s: &Schedule) -> Vec<(u32, &Cond)> {
    s.rules
        .iter()
        .enumerate()
        .map(|(i, r)| (i as u32, &r.when))
        .collect()
}

/// Per owner (`0..n`), the rows of `space` it owns that admit something.
pub fn rows_by_owner(space: &Space, owners: &[u32], n: usize) -> Vec<Vec<u32>> {
    let mut rows: Vec<Vec<u32>> = vec![Vec::new(); n];
    for (r, &o) in owners.iter().enumerate() {
        if !space.row_empty(r) {
            if let Some(v) = rows.get_mut(o as usize) {
                v.push(r as u32);
            }
        }
    }
    rows
}

/// Sweeps one schedule's rules (`space`, rows owned as `owners` says).
pub fn analyse(s: &Schedule, space: &Space, owners: &[u32], fields: &[FieldSpec]) -> Found {
    analyse_with(
        s,
        space,
        owners,
        fields,
        usize::MAX,
        &mut Budget::new(u64::MAX),
    )
    .0
}

/// [`analyse`], within `budget`. On [`OutOfBudget`] what was found is
/// exact but partial: `wins` may miss rules, and `pairs` and `gaps` may
/// miss some; the lints then report only what holds.
pub fn analyse_within(
    s: &Schedule,
    space: &Space,
    owners: &[u32],
    fields: &[FieldSpec],
    budget: &mut Budget,
) -> (Found, Result<(), OutOfBudget>) {
    let (found, _, done) = analyse_with(s, space, owners, fields, usize::MAX, budget);
    (found, done)
}

/// How many pairs of rules of a unique schedule overlap beyond those
/// [`overlaps`] shows with an example.
pub type MoreOverlaps = usize;

/// Pairs of rules (earlier, later) that both match some record, each with
/// such a record.
pub type Pairs = BTreeMap<(u32, u32), String>;

/// The overlaps of a `unique` schedule (pairs of rules other than
/// `otherwise` that both match some record), by the linter's sweep: at
/// most `examples` of them, each with a record both match, how many more
/// there are, and whether the sweep finished. Every pair returned is
/// exact (its record matches both rules), also when the default budget
/// ran out before the sweep finished: then other pairs may overlap too.
/// `None` when nothing is proven: some rule is too large to analyse, or
/// the budget ran out before any overlap was found; the run-time check
/// then decides.
pub fn overlaps(
    s: &Schedule,
    fields: &[FieldSpec],
    examples: usize,
) -> Option<(Pairs, MoreOverlaps, Result<(), OutOfBudget>)> {
    let mut budget = Budget::default();
    let (space, owners, too_large) = rule_space_within(s, fields, &mut budget).ok()?;
    if !too_large.is_empty() {
        return None;
    }
    let (found, more, done) = analyse_with(s, &space, &owners, fields, examples, &mut budget);
    if done.is_err() && found.pairs.is_empty() {
        return None;
    }
    Some((found.pairs, more, done))
}

/// [`analyse`], with example records for at most `examples` pairs (the
/// others counted).
fn analyse_with(
    s: &Schedule,
    space: &Space,
    owners: &[u32],
    fields: &[FieldSpec],
    examples: usize,
    budget: &mut Budget,
) -> (Found, MoreOverlaps, Result<(), OutOfBudget>) {
    let n = s.rules.len();
    let unique = s.hit == Hit::Unique;
    let rule_rows = rows_by_owner(space, owners, n);
    let mut live: Vec<u32> = rule_rows.iter().flatten().copied().collect();
    live.sort_unstable();
    let mut c = Collect {
        space,
        owners,
        fields,
        unique,
        otherwise: s.rules.iter().position(|r| r.otherwise).map(|i| i as u32),
        examples,
        more: BTreeSet::new(),
        found: Found {
            wins: vec![false; n],
            ..Found::default()
        },
    };
    let done = sweep(
        space,
        &live,
        if unique { Mode::Exact } else { Mode::First },
        &mut c,
        budget,
    );
    let more = c.more.len();
    let mut found = c.found;
    found.unsat = rule_rows.iter().map(Vec::is_empty).collect();
    found.rule_rows = rule_rows;
    (found, more, done)
}
