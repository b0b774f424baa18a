//! The analyses of a fee schedule's decision table: shadowed and partly
//! shadowed rules, overlaps, gaps, duplicates, unsatisfiable conditions and
//! mergeable neighbours. Each finding about inputs carries a record that
//! shows it.

use super::budget::{Budget, OutOfBudget};
use super::example;
use super::space::{
    describe_interval, interval_of, sweep, Axis, Mode, Region, SegCell, Space, Visitor,
};
use super::{finding, list};
use crate::compile::dnf;
use crate::diagnostic::{Code, Diagnostic};
use crate::model::{Cond, Hit, Schedule};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use tollgate_runtime::fee::FeeFormula;
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
    let columns: Vec<usize> = conjs
        .iter()
        .flat_map(|(_, c)| c.keys().copied())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    // The space holds a cell per row and column, twice while it is built.
    budget.spend_n(conjs.len().saturating_mul(columns.len()).saturating_mul(2))?;
    let cells: Vec<Vec<Cell>> = conjs
        .iter()
        .map(|(_, c)| {
            columns
                .iter()
                .map(|f| c.get(f).cloned().unwrap_or(Cell::Any))
                .collect()
        })
        .collect();
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

/// The finding for a rule whose condition is too large to analyse.
pub fn undecided(name: &str, span: crate::span::Span) -> Diagnostic {
    finding(
        Code::L0111,
        format!(
            "rule `{name}` is too large for the linter: its condition expands to more than {LINT_MAX_ROWS_PER_RULE} rows"
        ),
        span,
        "not analysed",
    )
    .with_help("the linter could not decide whether this rule can apply, which rules it overlaps or shadows, or which variants it selects, and reports none of these; write the condition so that it expands less (a field that carries the combined fact), or allow the lint")
}

/// The finding for rules whose analysis the budget stopped: `what` names
/// them (`schedule `mdr``, `the notification rules`).
pub fn unfinished(what: &str, span: crate::span::Span, budget: &Budget) -> Diagnostic {
    finding(
        Code::L0111,
        format!(
            "the analysis of {what} was not completed within the linter's budget of {} units",
            budget.limit()
        ),
        span,
        "not fully analysed",
    )
    .with_help("findings that need the whole analysis (a rule never reached) are not reported for it, and gaps, overlaps or other findings may be missing; raise the budget with `tollgate lint --budget UNITS` or a `lint budget UNITS` line in the file, or write conditions that expand less (each `or` inside an `and` multiplies the rows)")
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
/// miss some; [`schedule`] then reports only what holds.
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

/// The lints of one schedule, whose rules are `space`, from what
/// [`analyse`] found. When the sweep was not `complete`, only findings
/// that hold on their own are reported: not "never reached", which needs
/// every region.
pub fn schedule(
    s: &Schedule,
    space: &Space,
    found: &Found,
    complete: bool,
    fields: &[FieldSpec],
    out: &mut Vec<Diagnostic>,
) {
    let Found {
        rule_rows, unsat, ..
    } = found;
    let unique = s.hit == Hit::Unique;
    let n = s.rules.len();

    // Unsatisfiable conditions.
    for (i, r) in s.rules.iter().enumerate() {
        if unsat.get(i) == Some(&true) && !r.otherwise {
            out.push(
                finding(
                    Code::L0106,
                    format!(
                        "rule `{}` can never apply: no record meets its condition",
                        r.name
                    ),
                    r.when.span,
                    "no record meets this",
                )
                .with_help("check for `and` written for `or`, or bounds that cross"),
            );
        }
    }

    // Duplicates: same rows and same fee as an earlier rule.
    let signature = |i: usize| -> Vec<&Vec<SegCell>> {
        let mut rows: Vec<&Vec<SegCell>> = rule_rows
            .get(i)
            .into_iter()
            .flatten()
            .filter_map(|&r| space.rows.get(r as usize))
            .collect();
        rows.sort();
        rows.dedup();
        rows
    };
    let mut first_with: HashMap<(Vec<&Vec<SegCell>>, &FeeFormula), usize> = HashMap::new();
    let mut duplicate_of: Vec<Option<usize>> = vec![None; n];
    for (i, r) in s.rules.iter().enumerate() {
        if unsat.get(i) == Some(&true) || r.otherwise {
            continue;
        }
        let key = (signature(i), &r.fee);
        match first_with.get(&key) {
            Some(&j) => {
                if let (Some(d), Some(q)) = (duplicate_of.get_mut(i), s.rules.get(j)) {
                    *d = Some(j);
                    out.push(
                        finding(
                            Code::L0105,
                            format!(
                                "rule `{}` repeats rule `{}`: same condition, same fee",
                                r.name, q.name
                            ),
                            r.span,
                            "the repeat",
                        )
                        .with_label(q.span, "first written here")
                        .with_help("delete one of them"),
                    );
                }
            }
            None => {
                first_with.insert(key, i);
            }
        }
    }

    // Gaps.
    let has_otherwise = s.rules.iter().any(|r| r.otherwise);
    if !has_otherwise {
        if let Some((record, region)) = found.gaps.first() {
            let more: Vec<String> = found
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
    }

    // Shadowed, partly shadowed, overlapping. Under `first`, the rules
    // that apply where a later rule matches: its covering rules.
    let mut covering: Vec<Vec<usize>> = vec![Vec::new(); n];
    for &(a, b) in found.pairs.keys() {
        if let Some(c) = covering.get_mut(b as usize) {
            c.push(a as usize);
        }
    }
    if !unique && complete {
        for (i, r) in s.rules.iter().enumerate() {
            let reached = found.wins.get(i) == Some(&true);
            if reached
                || unsat.get(i) == Some(&true)
                || duplicate_of.get(i).is_some_and(Option::is_some)
            {
                continue;
            }
            let cover = covering.get(i).map_or(&[][..], Vec::as_slice);
            let names: Vec<String> = cover
                .iter()
                .filter_map(|&j| s.rules.get(j).map(|q| format!("`{}`", q.name)))
                .collect();
            let what = if r.otherwise {
                "`otherwise` is never reached".to_string()
            } else {
                format!("rule `{}` is never reached", r.name)
            };
            let mut d = finding(
                Code::L0101,
                format!(
                    "{what}: earlier rules {} match every record it matches",
                    list(&names)
                ),
                r.span,
                "shadowed",
            );
            for &j in cover {
                if let Some(q) = s.rules.get(j) {
                    d = d.with_label(q.span, "covers part of it");
                }
            }
            if let Some(example) = cover
                .first()
                .and_then(|&j| found.pairs.get(&(j as u32, i as u32)))
            {
                d = d.with_help(format!(
                    "for example {example} matches it but takes `{}`; move the rule up or delete it",
                    cover.first().and_then(|&j| s.rules.get(j)).map_or("?", |q| q.name.as_str())
                ));
            }
            out.push(d);
        }
    }
    for (&(a, b), example) in &found.pairs {
        let (Some(ra), Some(rb)) = (s.rules.get(a as usize), s.rules.get(b as usize)) else {
            continue;
        };
        if unique {
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
        } else {
            let reached = found.wins.get(b as usize) == Some(&true);
            if !reached || rb.otherwise || ra.fee == rb.fee {
                continue;
            }
            out.push(
                finding(
                    Code::L0103,
                    format!("rule `{}` is partly shadowed by `{}`, which charges another fee", rb.name, ra.name),
                    rb.span,
                    "some of its records take the earlier rule",
                )
                .with_label(ra.span, "applies first")
                .with_help(format!(
                    "for example {example} matches both and takes `{}`; if that is intended, exclude those records from `{}`",
                    ra.name, rb.name
                )),
            );
        }
    }

    mergeable(s, space, rule_rows, unsat, &duplicate_of, fields, out);
}

/// Neighbouring rules with the same fee whose single rows differ in one
/// column, where the two cells together are one cell.
fn mergeable(
    s: &Schedule,
    space: &Space,
    rule_rows: &[Vec<u32>],
    unsat: &[bool],
    duplicate_of: &[Option<usize>],
    fields: &[FieldSpec],
    out: &mut Vec<Diagnostic>,
) {
    for i in 1..s.rules.len() {
        let (Some(a), Some(b)) = (s.rules.get(i - 1), s.rules.get(i)) else {
            continue;
        };
        if a.otherwise || b.otherwise || a.fee != b.fee {
            continue;
        }
        if unsat.get(i) == Some(&true)
            || unsat.get(i - 1) == Some(&true)
            || duplicate_of.get(i).is_some_and(Option::is_some)
        {
            continue;
        }
        let (Some([ra]), Some([rb])) = (
            rule_rows.get(i - 1).map(Vec::as_slice),
            rule_rows.get(i).map(Vec::as_slice),
        ) else {
            continue;
        };
        let (Some(x), Some(y)) = (space.rows.get(*ra as usize), space.rows.get(*rb as usize))
        else {
            continue;
        };
        let differ: Vec<usize> = (0..x.len()).filter(|&c| x.get(c) != y.get(c)).collect();
        let [c] = differ.as_slice() else { continue };
        let (Some(p), Some(q), Some(axis)) = (x.get(*c), y.get(*c), space.axes.get(*c)) else {
            continue;
        };
        let Some(merged) = union(p, q) else { continue };
        let field = space.fields.get(*c).and_then(|&f| fields.get(f));
        let name = field.map_or("?", |f| f.name.as_str());
        let merged_text = describe_cell(axis, &merged, field)
            .map_or_else(|| format!("no condition on `{name}`"), |t| format!("`{t}`"));
        out.push(
            finding(
                Code::L0107,
                format!(
                    "rules `{}` and `{}` charge the same fee and differ only in `{name}`",
                    a.name, b.name
                ),
                b.span,
                "could be merged with the rule above",
            )
            .with_label(a.span, "same fee")
            .with_help(format!(
                "one rule with {merged_text} in place of the two says the same"
            )),
        );
    }
}

/// Two cells of one column as one, when they make one.
fn union(p: &SegCell, q: &SegCell) -> Option<SegCell> {
    use SegCell::*;
    Some(match (p, q) {
        (Span(a, b), Span(c, d)) => {
            if a.max(c) > b.min(d) {
                return None;
            }
            Span(*a.min(c), *b.max(d))
        }
        (Only(x), Only(y)) => {
            let mut ids: Vec<u32> = x.iter().chain(y).copied().collect();
            ids.sort_unstable();
            ids.dedup();
            Only(ids)
        }
        (AllBut(x), AllBut(y)) => AllBut(
            x.iter()
                .copied()
                .filter(|s| y.binary_search(s).is_ok())
                .collect(),
        ),
        (Only(o), AllBut(e)) | (AllBut(e), Only(o)) => AllBut(
            e.iter()
                .copied()
                .filter(|s| o.binary_search(s).is_err())
                .collect(),
        ),
        _ => return None,
    })
}
