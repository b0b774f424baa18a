//! The region-by-region diff of two fees policies' compiled tables.
//!
//! Per schedule (matched by name), the rows of both versions go into one
//! input space, cut at the union of both tables' bounds, and the linter's
//! sweep visits every region in which the same rows match. In each region
//! each version's rule is known (the first of its rows that matches, or
//! none, or a refusal: a variant it does not declare), and the amount is
//! the only thing left free; [`super::amounts`] decides exactly how the
//! fee changes over the region's amounts.

use super::amounts::{self, Change, Fee, Grid};
use super::schema::{Schema, Version};
use crate::compile::print::fee_text;
use crate::lint::budget::Budget;
use crate::lint::example;
use crate::lint::space::{interval_of, sweep, Axis, Mode, Piece, Region, SegCell, Space, Visitor};
use crate::lint::table::describe_cell;
use rust_decimal::Decimal;
use tollgate_runtime::fee::FeeFormula;
use tollgate_runtime::rounding::Rounding;
use tollgate_runtime::table::{Bound, Cell, FieldKind, Hit, Schedule, Table};

/// The diff of two fees policies.
#[derive(Debug, Clone)]
pub struct FeeDiff {
    /// The old policy's name and version.
    pub old: (String, u32),
    /// The new policy's name and version.
    pub new: (String, u32),
    /// The currency's decimals.
    pub dp: u32,
    /// Changes to the record schema, in words.
    pub schema: Vec<String>,
    /// Per schedule, in the new version's order, then removed ones.
    pub schedules: Vec<ScheduleDiff>,
}

impl FeeDiff {
    /// Whether any fee changes.
    pub fn changed(&self) -> bool {
        self.schedules.iter().any(|s| !s.regions.is_empty())
    }
}

/// One schedule's diff.
#[derive(Debug, Clone)]
pub struct ScheduleDiff {
    /// Its name.
    pub name: String,
    /// Whether it is in both versions, or added, or removed.
    pub presence: Presence,
    /// The regions where the fee changes for some record.
    pub regions: Vec<RegionDiff>,
    /// How many regions charge the same in both versions.
    pub unchanged: usize,
}

/// Which versions have a schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// Both.
    Both,
    /// Only the new one: a component added (the old version charges nothing for it).
    Added,
    /// Only the old one: a component removed.
    Removed,
}

/// A region where the fee changes.
#[derive(Debug, Clone)]
pub struct RegionDiff {
    /// The region, as a condition: `channel == debit_card and amount > 4000.00`.
    pub condition: String,
    /// What the old version does there.
    pub old: Outcome,
    /// What the new version does there.
    pub new: Outcome,
    /// How the fee changes (when both versions charge a fee there).
    pub change: Option<Change>,
    /// A record of the region whose fee changes the most (or at all).
    pub example: String,
    /// The region as cells over the joined schema's fields (index, cell):
    /// a record is in the region when every cell admits its value.
    pub cells: Vec<(usize, Cell)>,
}

impl RegionDiff {
    /// Whether `record` (values in the joined schema's field order) lies in
    /// the region.
    pub fn contains(&self, record: &[tollgate_runtime::value::Value]) -> bool {
        self.cells
            .iter()
            .all(|(f, cell)| record.get(*f).is_some_and(|v| cell.admits(v)))
    }
}

/// What one version does with the records of a region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A rule charges this fee.
    Rule {
        /// The rule's name (`otherwise` for the default).
        rule: String,
        /// The fee, in the language's notation.
        fee: String,
    },
    /// The schedule is not in this version: no component.
    Absent,
    /// No rule matches: the record is an error.
    NoRule,
    /// Two rules of a `unique` schedule match: the record is an error.
    Ambiguous(String, String),
    /// The version refuses the record (a variant or a refund it does not take).
    Refused,
}

/// Why two policies could not be compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffError(pub String);

impl std::fmt::Display for DiffError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The diff of two compiled fees policies.
///
/// # Errors
/// [`DiffError`] when the versions cannot be compared (another currency, a
/// field of another type, a schedule charging another field) or the
/// analysis is too large.
pub fn diff(old: &Table, new: &Table) -> Result<FeeDiff, DiffError> {
    if old.currency() != new.currency() {
        return Err(DiffError(format!(
            "the old version charges in {} and the new one in {}: the versions cannot be compared",
            old.currency(),
            new.currency()
        )));
    }
    let dp = crate::currency::minor_unit(new.currency()).unwrap_or(2);
    let schema = Schema::join(old, new).map_err(DiffError)?;
    let mut schedules = Vec::new();
    for s in new.schedules() {
        let before = old.schedules().iter().find(|o| o.name() == s.name());
        schedules.push(schedule(&schema, old, new, before, Some(s), dp)?);
    }
    for o in old.schedules() {
        if !new.schedules().iter().any(|s| s.name() == o.name()) {
            schedules.push(schedule(&schema, old, new, Some(o), None, dp)?);
        }
    }
    Ok(FeeDiff {
        old: (old.name().to_string(), old.version()),
        new: (new.name().to_string(), new.version()),
        dp,
        schema: schema.notes.clone(),
        schedules,
    })
}

/// What a row of the joined space stands for.
#[derive(Debug, Clone, Copy)]
enum RowKind {
    /// The version refuses the records.
    Refusal(Version),
    /// A row of this version's rule.
    Rule(Version, u32),
}

impl RowKind {
    fn version(self) -> Version {
        match self {
            RowKind::Refusal(v) | RowKind::Rule(v, _) => v,
        }
    }
}

/// One schedule's diff.
fn schedule(
    schema: &Schema,
    old_t: &Table,
    new_t: &Table,
    old: Option<&Schedule>,
    new: Option<&Schedule>,
    dp: u32,
) -> Result<ScheduleDiff, DiffError> {
    let name = new
        .or(old)
        .map(|s| s.name().to_string())
        .unwrap_or_default();
    let base_of = |s: Option<&Schedule>, v: Version| {
        s.and_then(|s| schema.joined(v, s.base().get() as usize))
    };
    let base_old = base_of(old, Version::Old);
    let base_new = base_of(new, Version::New);
    let base = match (base_old, base_new) {
        (Some(a), Some(b)) if a != b => {
            return Err(DiffError(format!(
                "schedule `{name}` charges on `{}` in the old version and on `{}` in the new one: not compared",
                field_name(schema, a),
                field_name(schema, b)
            )))
        }
        (Some(a), _) | (None, Some(a)) => a,
        (None, None) => return Err(DiffError(format!("schedule `{name}` has no amount field"))),
    };
    // The rows of both versions over the joined columns: refusals first,
    // then each version's rows in priority order.
    let mut kinds: Vec<RowKind> = Vec::new();
    let mut rows: Vec<Vec<(usize, Cell)>> = Vec::new();
    for (version, table, sched) in [(Version::Old, old_t, old), (Version::New, new_t, new)] {
        if sched.is_none() {
            continue;
        }
        for (j, cell) in schema.refused(version, table) {
            kinds.push(RowKind::Refusal(version));
            rows.push(vec![(j, cell)]);
        }
        for row in sched.map_or(&[][..], |s| s.rows()) {
            let Some(s) = sched else { break };
            let cells = row
                .cells
                .iter()
                .zip(s.columns())
                .filter_map(|(cell, &f)| {
                    let j = schema.joined(version, f.get() as usize)?;
                    Some((j, schema.cell(version, table, f.get() as usize, cell)))
                })
                .collect();
            kinds.push(RowKind::Rule(version, row.rule.get()));
            rows.push(cells);
        }
    }
    let mut columns: Vec<usize> = rows.iter().flatten().map(|(j, _)| *j).collect();
    columns.push(base);
    columns.sort_unstable();
    columns.dedup();
    let grid_cells: Vec<Vec<Cell>> = rows
        .iter()
        .map(|r| {
            columns
                .iter()
                .map(|c| {
                    r.iter()
                        .find(|(j, _)| j == c)
                        .map_or(Cell::Any, |(_, cell)| cell.clone())
                })
                .collect()
        })
        .collect();
    let field_kinds: Vec<&FieldKind> = columns
        .iter()
        .filter_map(|&c| schema.fields.get(c).map(|f| &f.kind))
        .collect();
    let floors: Vec<bool> = columns
        .iter()
        .map(|&c| {
            schema
                .fields
                .get(c)
                .is_some_and(|f| f.kind == FieldKind::Money && !f.refunds)
        })
        .collect();
    let refs: Vec<&[Cell]> = grid_cells.iter().map(Vec::as_slice).collect();
    let space = Space::with_floors(columns.clone(), &field_kinds, &floors, &refs);
    let order: Vec<u32> = (0..rows.len() as u32).collect();
    let mut v = Collect {
        space: &space,
        schema,
        kinds: &kinds,
        sides: [old.map(|s| (s, old_t)), new.map(|s| (s, new_t))],
        base,
        base_column: columns.iter().position(|&c| c == base),
        grid: Grid { dp },
        dp,
        regions: Vec::new(),
        unchanged: 0,
        error: None,
    };
    sweep(&space, &order, Mode::Every, &mut v, &mut Budget::default()).map_err(|_| {
        DiffError(format!(
            "schedule `{name}` is too large to compare within the analysis budget"
        ))
    })?;
    if let Some(e) = v.error {
        return Err(DiffError(format!("schedule `{name}`: {e}")));
    }
    let presence = match (old, new) {
        (Some(_), Some(_)) => Presence::Both,
        (None, _) => Presence::Added,
        (_, None) => Presence::Removed,
    };
    Ok(ScheduleDiff {
        name: name.to_string(),
        presence,
        regions: v.regions,
        unchanged: v.unchanged,
    })
}

fn field_name(schema: &Schema, j: usize) -> &str {
    schema.fields.get(j).map_or("?", |f| f.name.as_str())
}

/// The visitor that turns the sweep's leaves into regions.
struct Collect<'a> {
    space: &'a Space,
    schema: &'a Schema,
    kinds: &'a [RowKind],
    /// The old and the new schedule, with their tables.
    sides: [Option<(&'a Schedule, &'a Table)>; 2],
    base: usize,
    base_column: Option<usize>,
    grid: Grid,
    dp: u32,
    regions: Vec<RegionDiff>,
    unchanged: usize,
    error: Option<String>,
}

/// What one version decides in a region: a fee formula and rounding, or
/// the outcome that charges none.
enum Decided<'a> {
    Fee(Outcome, &'a FeeFormula, Rounding),
    Not(Outcome),
}

impl<'a> Collect<'a> {
    fn side(&self, v: Version) -> Option<(&'a Schedule, &'a Table)> {
        match v {
            Version::Old => self.sides.first().copied().flatten(),
            Version::New => self.sides.get(1).copied().flatten(),
        }
    }

    /// What version `v` does where `active` rows match.
    fn decide(&self, v: Version, active: &[u32]) -> Decided<'a> {
        let Some((s, _)) = self.side(v) else {
            return Decided::Not(Outcome::Absent);
        };
        let mine: Vec<RowKind> = active
            .iter()
            .filter_map(|&r| self.kinds.get(r as usize).copied())
            .filter(|k| k.version() == v)
            .collect();
        let Some(&first) = mine.first() else {
            return Decided::Not(Outcome::NoRule);
        };
        let rule = match first {
            RowKind::Refusal(_) => return Decided::Not(Outcome::Refused),
            RowKind::Rule(_, rule) => rule,
        };
        let name = |i: u32| s.rules().get(i as usize).map_or("?", |r| r.name.as_str());
        if s.hit() == Hit::Unique {
            let is_otherwise = |i: u32| s.rules().get(i as usize).is_some_and(|r| r.otherwise);
            let other = mine.iter().find_map(|k| match k {
                RowKind::Rule(_, r) if *r != rule && !is_otherwise(*r) && !is_otherwise(rule) => {
                    Some(*r)
                }
                _ => None,
            });
            if let Some(other) = other {
                return Decided::Not(Outcome::Ambiguous(
                    name(rule).to_string(),
                    name(other).to_string(),
                ));
            }
        }
        let Some(r) = s.rules().get(rule as usize) else {
            return Decided::Not(Outcome::NoRule);
        };
        Decided::Fee(
            Outcome::Rule {
                rule: r.name.clone(),
                fee: fee_text(&r.fee, self.dp),
            },
            &r.fee,
            s.rounding(),
        )
    }

    /// The region's cell on every column: the sweep's piece, the single
    /// row's cell where the sweep left a column free, or every value.
    fn cells(&self, region: Region<'_>, within: Option<u32>) -> Vec<SegCell> {
        self.space
            .axes
            .iter()
            .enumerate()
            .map(|(c, axis)| match region.piece(c) {
                Some(Piece::Span(a, b)) => SegCell::Span(*a, *b),
                Some(Piece::Ids(ids)) => {
                    let mut ids = ids.clone();
                    ids.sort_unstable();
                    SegCell::Only(ids)
                }
                Some(Piece::AllBut(out, _)) => SegCell::AllBut(out.clone()),
                None => within
                    .and_then(|r| self.space.rows.get(r as usize))
                    .and_then(|cells| cells.get(c))
                    .cloned()
                    .unwrap_or_else(|| full(axis)),
            })
            .collect()
    }

    /// The region's amounts as steps of the grid (`None`: open), or `None`
    /// when the region holds no whole amount.
    fn steps(&self, cells: &[SegCell]) -> Option<(Option<i128>, Option<i128>)> {
        let refunds = self.schema.fields.get(self.base).is_some_and(|f| f.refunds);
        let floor = if refunds { None } else { Some(0) };
        let iv = match (
            self.base_column,
            self.base_column.and_then(|c| cells.get(c)),
        ) {
            (Some(c), Some(SegCell::Span(a, b))) => match self.space.axes.get(c) {
                Some(Axis::Range { segs, .. }) => interval_of(segs, *a, *b),
                _ => return Some((floor, None)),
            },
            _ => return Some((floor, None)),
        };
        let g = self.grid;
        let lo = match iv.lo {
            Bound::Unbounded => floor,
            Bound::Incl(v) => Some(g.step_of(v, true)?),
            Bound::Excl(v) => Some(g.step_of(v, false)?.checked_add(1)?),
        };
        let lo = match (lo, floor) {
            (Some(l), Some(f)) => Some(l.max(f)),
            (l, _) => l,
        };
        let hi = match iv.hi {
            Bound::Unbounded => None,
            Bound::Incl(v) => Some(g.step_of(v, false)?),
            Bound::Excl(v) => Some(g.step_of(v, true)?.checked_sub(1)?),
        };
        if let (Some(l), Some(h)) = (lo, hi) {
            if l > h {
                return None;
            }
        }
        Some((lo, hi))
    }

    /// The region's cells as the runtime's cells, per joined field; the
    /// columns it leaves whole are left out.
    fn runtime_cells(&self, cells: &[SegCell]) -> Vec<(usize, Cell)> {
        let mut out = Vec::new();
        for ((cell, axis), &f) in cells.iter().zip(&self.space.axes).zip(&self.space.fields) {
            if cell.is_full(axis) {
                continue;
            }
            let kind = self.schema.fields.get(f).map(|x| &x.kind);
            let c = match (axis, cell) {
                (Axis::Range { segs, .. }, SegCell::Span(a, b)) => {
                    Cell::Range(interval_of(segs, *a, *b))
                }
                (Axis::Set { names, other }, SegCell::Only(ids) | SegCell::AllBut(ids)) => {
                    let negated = matches!(cell, SegCell::AllBut(_));
                    match kind {
                        Some(FieldKind::Enum(vs)) => {
                            let keep: Vec<u32> = (0..vs.len() as u32)
                                .filter(|i| ids.binary_search(i).is_ok() != negated)
                                .collect();
                            super::schema::variants(&keep, vs.len())
                        }
                        Some(FieldKind::Bool) => {
                            let t = ids.binary_search(&1).is_ok() != negated;
                            let f = ids.binary_search(&0).is_ok() != negated;
                            match (t, f) {
                                (true, false) => Cell::Bool(true),
                                (false, true) => Cell::Bool(false),
                                _ => continue,
                            }
                        }
                        _ => {
                            // Strings: the named ones, and "any other" as the last segment.
                            let last = names.len().saturating_sub(1) as u32;
                            let named: Vec<String> = (0..last)
                                .filter(|i| ids.binary_search(i).is_ok() != negated)
                                .filter_map(|i| names.get(i as usize).cloned())
                                .collect();
                            let others = *other && (ids.binary_search(&last).is_ok() != negated);
                            if others {
                                let excluded: Vec<String> = (0..last)
                                    .filter(|i| ids.binary_search(i).is_ok() == negated)
                                    .filter_map(|i| names.get(i as usize).cloned())
                                    .collect();
                                Cell::StrNotIn(excluded)
                            } else {
                                Cell::StrIn(named)
                            }
                        }
                    }
                }
                _ => continue,
            };
            out.push((f, c));
        }
        out
    }

    fn describe(&self, cells: &[SegCell]) -> String {
        let parts: Vec<String> = cells
            .iter()
            .zip(&self.space.axes)
            .zip(&self.space.fields)
            .filter_map(|((cell, axis), &f)| describe_cell(axis, cell, self.schema.fields.get(f)))
            .collect();
        if parts.is_empty() {
            "every record".into()
        } else {
            parts.join(" and ")
        }
    }

    /// A record of the region, its amount set to `amount`.
    fn record(&self, region: Region<'_>, within: Option<u32>, amount: Option<Decimal>) -> String {
        let text = example::record(self.space, region, within, &self.schema.fields);
        let Some(a) = amount else { return text };
        let Ok(serde_json::Value::Object(mut map)) = serde_json::from_str(&text) else {
            return text;
        };
        let mut shown = a;
        if shown.scale() < self.dp {
            shown.rescale(self.dp);
        }
        if let Some(f) = self.schema.fields.get(self.base) {
            map.insert(f.name.clone(), serde_json::Value::String(shown.to_string()));
        }
        serde_json::Value::Object(map).to_string()
    }
}

fn full(axis: &Axis) -> SegCell {
    match axis {
        Axis::Range { segs, .. } => SegCell::Span(0, segs.len() as u32),
        Axis::Set { .. } => SegCell::AllBut(Vec::new()),
    }
}

impl Visitor for Collect<'_> {
    fn gap(&mut self, _region: Region<'_>) {
        // No row of either version: both refuse these records alike.
        self.unchanged += 1;
    }

    fn leaf(&mut self, active: &[u32], exact: bool, region: Region<'_>) {
        if self.error.is_some() {
            return;
        }
        let within = if exact { None } else { active.first().copied() };
        let cells = self.cells(region, within);
        let Some((lo, hi)) = self.steps(&cells) else {
            return;
        };
        let old = self.decide(Version::Old, active);
        let new = self.decide(Version::New, active);
        let zero = FeeFormula::zero();
        let rounding = |d: &Decided<'_>| match d {
            Decided::Fee(_, _, r) => Some(*r),
            Decided::Not(_) => None,
        };
        let fallback = rounding(&old)
            .or(rounding(&new))
            .unwrap_or_else(Rounding::half_up_fen);
        // A schedule one version lacks charges nothing there.
        let (old_o, old_f) = split(&old, &zero, fallback);
        let (new_o, new_f) = split(&new, &zero, fallback);
        let change = match (old_f, new_f) {
            (Some(o), Some(n)) => {
                if o.formula == n.formula && o.rounding == n.rounding {
                    self.unchanged += 1;
                    return;
                }
                match amounts::compare(o, n, self.grid, lo, hi) {
                    Ok(c) => {
                        if c.up.is_none() && c.down.is_none() {
                            self.unchanged += 1;
                            return;
                        }
                        Some(c)
                    }
                    Err(e) => {
                        self.error = Some(format!("in the region {}: {e}", self.describe(&cells)));
                        return;
                    }
                }
            }
            _ => {
                let same = !matches!(
                    (&old_o, &new_o),
                    (Outcome::Rule { .. }, _) | (_, Outcome::Rule { .. })
                );
                if same {
                    self.unchanged += 1;
                    return;
                }
                None
            }
        };
        let amount = match &change {
            Some(c) => c.up.or(c.down).map(|p| p.amount),
            None => lo.or(hi).and_then(|k| self.grid.amount(k)),
        };
        let example = self.record(region, within, amount);
        let condition = self.describe(&cells);
        let mut old_o = old_o;
        let mut new_o = new_o;
        if let (Some(o), Some(n)) = (rounding(&old), rounding(&new)) {
            if o != n {
                for (out, r) in [(&mut old_o, o), (&mut new_o, n)] {
                    if let Outcome::Rule { fee, .. } = out {
                        fee.push_str(&format!(
                            " (rounding {} to {})",
                            r.mode.name(),
                            crate::compile::print::amount(r.step, 0)
                        ));
                    }
                }
            }
        }
        let cells = self.runtime_cells(&cells);
        self.regions.push(RegionDiff {
            condition,
            old: old_o,
            new: new_o,
            change,
            example,
            cells,
        });
    }
}

/// An outcome and, when it charges (or the schedule is absent: nothing),
/// the fee to compare.
fn split<'b>(
    d: &Decided<'b>,
    zero: &'b FeeFormula,
    fallback: Rounding,
) -> (Outcome, Option<Fee<'b>>) {
    match d {
        Decided::Fee(o, f, r) => (
            o.clone(),
            Some(Fee {
                formula: f,
                rounding: *r,
            }),
        ),
        Decided::Not(Outcome::Absent) => (
            Outcome::Absent,
            Some(Fee {
                formula: zero,
                rounding: fallback,
            }),
        ),
        Decided::Not(o) => (o.clone(), None),
    }
}
