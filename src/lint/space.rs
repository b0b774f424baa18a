//! The input space of a decision table, cut into finitely many pieces, and
//! the sweep that visits every distinct way rows can match.
//!
//! Each column's values are split into *segments* at every bound any row
//! mentions: for a number column the points and the open intervals between
//! them (an open interval with no integer in it is dropped on an integer
//! column); for an enum its variants; for a bool its two values; for a
//! string column each string a row names, plus one segment for every other
//! string. Within a segment no row can tell two values apart, so a row is a
//! box of segments and every question about the table is a question about
//! finitely many boxes.
//!
//! The sweep splits the space column by column. At each step it holds the
//! rows that match everywhere in the current region (the *active* rows),
//! splits the next column where any active row's cell starts or ends, and
//! recurses into each piece with the rows active there. Pieces with the
//! same active rows are visited once, and a subproblem met again (same
//! depth, same active rows) is not explored twice: its answer cannot
//! differ. The analysis is exact: every region is either visited or proven
//! to repeat one that was. `docs/lint-algorithm.md` describes it.

use super::budget::{Budget, OutOfBudget};
use rust_decimal::Decimal;
use std::collections::{BTreeSet, HashMap, HashSet};
use tollgate_runtime::table::{Bound, Cell, FieldKind, Interval};

/// One segment of a number column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seg {
    /// Exactly this value.
    Point(Decimal),
    /// The values strictly between two points (`None`: unbounded).
    Open(Option<Decimal>, Option<Decimal>),
}

/// How a column's values are cut.
#[derive(Debug, Clone)]
pub enum Axis {
    /// A number column: its segments in increasing order.
    Range {
        /// The segments, in order.
        segs: Vec<Seg>,
        /// Whether only whole numbers occur.
        integer: bool,
    },
    /// A column of discrete values: `names[i]` is segment i; for a string
    /// column the last segment stands for every string not named.
    Set {
        /// What each segment is, as written in a condition.
        names: Vec<String>,
        /// Whether the last segment is "any other string".
        other: bool,
    },
}

/// Zero and above.
const NOT_NEGATIVE: Interval = Interval {
    lo: Bound::Incl(Decimal::ZERO),
    hi: Bound::Unbounded,
};

impl Axis {
    /// Drops a number column's values below zero: its first segment becomes
    /// the point zero.
    fn floor_at_zero(&mut self) {
        let Axis::Range { segs, .. } = self else {
            return;
        };
        let mut kept: Vec<Seg> = Vec::with_capacity(segs.len() + 2);
        kept.push(Seg::Point(Decimal::ZERO));
        let mut prev = Decimal::ZERO;
        for s in segs.iter() {
            match *s {
                Seg::Point(p) if p > Decimal::ZERO => {
                    kept.push(Seg::Open(Some(prev), Some(p)));
                    kept.push(Seg::Point(p));
                    prev = p;
                }
                _ => {}
            }
        }
        kept.push(Seg::Open(Some(prev), None));
        *segs = kept;
    }

    /// How many segments the column has.
    pub fn len(&self) -> usize {
        match self {
            Axis::Range { segs, .. } => segs.len(),
            Axis::Set { names, .. } => names.len(),
        }
    }

    /// Whether it has none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A row's cell in segment terms.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SegCell {
    /// Segments `from..to` of a number column.
    Span(u32, u32),
    /// These segments (sorted) of a set column.
    Only(Vec<u32>),
    /// Every segment but these (sorted) of a set column.
    AllBut(Vec<u32>),
}

impl SegCell {
    /// Whether the cell admits nothing.
    pub fn is_empty(&self, axis: &Axis) -> bool {
        match self {
            SegCell::Span(a, b) => a >= b,
            SegCell::Only(ids) => ids.is_empty(),
            SegCell::AllBut(ids) => ids.len() >= axis.len(),
        }
    }

    /// Whether the cell admits every value of the column.
    pub fn is_full(&self, axis: &Axis) -> bool {
        match self {
            SegCell::Span(a, b) => *a == 0 && *b as usize >= axis.len(),
            SegCell::Only(ids) => ids.len() >= axis.len(),
            SegCell::AllBut(ids) => ids.is_empty(),
        }
    }

    /// Whether segment `s` is inside.
    pub fn contains(&self, s: u32) -> bool {
        match self {
            SegCell::Span(a, b) => *a <= s && s < *b,
            SegCell::Only(ids) => ids.binary_search(&s).is_ok(),
            SegCell::AllBut(ids) => ids.binary_search(&s).is_err(),
        }
    }

    /// How many of the column's segments the cell takes.
    pub fn size(&self, axis: &Axis) -> usize {
        match self {
            SegCell::Span(a, b) => b.saturating_sub(*a) as usize,
            SegCell::Only(ids) => ids.len(),
            SegCell::AllBut(ids) => axis.len().saturating_sub(ids.len()),
        }
    }

    /// A segment inside, if any (the first).
    pub fn first(&self, axis: &Axis) -> Option<u32> {
        match self {
            SegCell::Span(a, b) => (a < b).then_some(*a),
            SegCell::Only(ids) => ids.first().copied(),
            SegCell::AllBut(ids) => (0..axis.len() as u32).find(|s| ids.binary_search(s).is_err()),
        }
    }

    /// A segment outside, if any (the first).
    pub fn first_outside(&self, axis: &Axis) -> Option<u32> {
        let n = axis.len() as u32;
        match self {
            SegCell::Span(a, b) => {
                if *a > 0 {
                    Some(0)
                } else if *b < n {
                    Some(*b)
                } else {
                    None
                }
            }
            SegCell::Only(ids) => (0..n).find(|s| ids.binary_search(s).is_err()),
            SegCell::AllBut(ids) => ids.first().copied(),
        }
    }
}

/// A table's rows over its columns, in segment terms.
#[derive(Debug, Clone)]
pub struct Space {
    /// Field index of each column.
    pub fields: Vec<usize>,
    /// How each column is cut.
    pub axes: Vec<Axis>,
    /// Per row, one cell per column.
    pub rows: Vec<Vec<SegCell>>,
}

impl Space {
    /// The space of `rows` (each one cell per column of `fields`, typed by
    /// `kinds`).
    pub fn new(fields: Vec<usize>, kinds: &[&FieldKind], rows: &[&[Cell]]) -> Space {
        Space::with_floors(fields, kinds, &[], rows)
    }

    /// The space of `rows`, where a column whose `floors` entry is true
    /// holds no value below zero (money that does not accept refunds).
    pub fn with_floors(
        fields: Vec<usize>,
        kinds: &[&FieldKind],
        floors: &[bool],
        rows: &[&[Cell]],
    ) -> Space {
        let floored = |c: usize| floors.get(c).copied().unwrap_or(false);
        let axes: Vec<Axis> = kinds
            .iter()
            .enumerate()
            .map(|(c, kind)| {
                let mut a = axis(kind, rows.iter().filter_map(|r| r.get(c)));
                if floored(c) {
                    a.floor_at_zero();
                }
                a
            })
            .collect();
        let rows = rows
            .iter()
            .map(|r| {
                axes.iter()
                    .enumerate()
                    .map(|(c, a)| {
                        let cell = r.get(c).unwrap_or(&Cell::Any);
                        match cell {
                            Cell::Range(iv) if floored(c) => {
                                let iv = iv.intersect(&NOT_NEGATIVE);
                                if iv.is_empty() {
                                    SegCell::Span(0, 0)
                                } else {
                                    seg_cell(a, &Cell::Range(iv))
                                }
                            }
                            _ => seg_cell(a, cell),
                        }
                    })
                    .collect()
            })
            .collect();
        Space { fields, axes, rows }
    }

    /// Whether row `r` admits nothing.
    pub fn row_empty(&self, r: usize) -> bool {
        self.rows
            .get(r)
            .is_none_or(|cells| cells.iter().zip(&self.axes).any(|(c, a)| c.is_empty(a)))
    }

    /// A row of `xs` and a row of `ys` that admit a common input, if any.
    pub fn meeting(&self, xs: &[u32], ys: &[u32]) -> Option<(u32, u32)> {
        xs.iter().find_map(|&x| {
            ys.iter()
                .find(|&&y| self.rows_meet(x as usize, y as usize))
                .map(|&y| (x, y))
        })
    }

    /// Whether rows `a` and `b` admit a common input.
    pub fn rows_meet(&self, a: usize, b: usize) -> bool {
        let (Some(x), Some(y)) = (self.rows.get(a), self.rows.get(b)) else {
            return false;
        };
        x.iter()
            .zip(y)
            .zip(&self.axes)
            .all(|((p, q), axis)| meet(p, q, axis))
    }
}

/// Whether two cells of one column share a segment.
pub fn meet(p: &SegCell, q: &SegCell, axis: &Axis) -> bool {
    use SegCell::*;
    match (p, q) {
        (Span(a, b), Span(c, d)) => a.max(c) < b.min(d),
        (Only(x), Only(y)) => x.iter().any(|s| y.binary_search(s).is_ok()),
        (Only(x), AllBut(y)) | (AllBut(y), Only(x)) => {
            x.iter().any(|s| y.binary_search(s).is_err())
        }
        (AllBut(x), AllBut(y)) => {
            // Both miss few: they meet unless together they exclude all.
            let mut excluded: Vec<u32> = x.iter().chain(y).copied().collect();
            excluded.sort_unstable();
            excluded.dedup();
            excluded.len() < axis.len()
        }
        _ => false,
    }
}

/// The segments of a column, from the cells rows give it.
fn axis<'a>(kind: &FieldKind, cells: impl Iterator<Item = &'a Cell>) -> Axis {
    match kind {
        FieldKind::Enum(variants) => Axis::Set {
            names: variants.clone(),
            other: false,
        },
        FieldKind::Bool => Axis::Set {
            names: vec!["false".into(), "true".into()],
            other: false,
        },
        FieldKind::Money | FieldKind::Decimal | FieldKind::Integer => {
            let integer = *kind == FieldKind::Integer;
            let mut points: Vec<Decimal> = Vec::new();
            for c in cells {
                if let Cell::Range(iv) = c {
                    points.extend(iv.lo.value().map(|v| v.normalize()));
                    points.extend(iv.hi.value().map(|v| v.normalize()));
                }
            }
            points.sort_unstable();
            points.dedup();
            // Integers are 64-bit signed: no integer lies below i64::MIN or
            // above i64::MAX, so the open ends past them are no segments.
            let (min, max) = (Decimal::from(i64::MIN), Decimal::from(i64::MAX));
            let mut segs = Vec::with_capacity(points.len() * 2 + 1);
            let mut prev: Option<Decimal> = None;
            for p in points {
                let gap_has_value = match prev {
                    None => !integer || p > min,
                    Some(q) => !integer || p - q > Decimal::ONE,
                };
                if gap_has_value {
                    segs.push(Seg::Open(prev, Some(p)));
                }
                segs.push(Seg::Point(p));
                prev = Some(p);
            }
            if !integer || prev.is_none_or(|p| p < max) {
                segs.push(Seg::Open(prev, None));
            }
            Axis::Range { segs, integer }
        }
        FieldKind::String | FieldKind::Timestamp => {
            let mut names: Vec<String> = Vec::new();
            for c in cells {
                if let Cell::StrIn(set) | Cell::StrNotIn(set) = c {
                    names.extend(set.iter().cloned());
                }
            }
            names.sort_unstable();
            names.dedup();
            names.push(String::new());
            Axis::Set { names, other: true }
        }
    }
}

/// The position of point `v` among `segs`.
fn point_at(segs: &[Seg], v: Decimal) -> u32 {
    let v = v.normalize();
    let i = segs.partition_point(|s| match s {
        Seg::Point(p) => *p < v,
        Seg::Open(_, Some(hi)) => *hi <= v,
        Seg::Open(_, None) => false,
    });
    i as u32
}

/// A cell in segment terms.
fn seg_cell(axis: &Axis, cell: &Cell) -> SegCell {
    match (axis, cell) {
        (Axis::Range { segs, .. }, Cell::Range(iv)) => span_of(segs, iv),
        (Axis::Range { segs, .. }, Cell::Any) => SegCell::Span(0, segs.len() as u32),
        (Axis::Range { .. }, _) => SegCell::Span(0, 0),
        (Axis::Set { .. }, Cell::Any) => SegCell::AllBut(Vec::new()),
        (Axis::Set { names, .. }, Cell::Enum(set)) => SegCell::Only(
            set.iter()
                .take_while(|&i| (i as usize) < names.len())
                .collect(),
        ),
        (Axis::Set { .. }, Cell::Bool(b)) => SegCell::Only(vec![u32::from(*b)]),
        (Axis::Set { names, other: true }, Cell::StrIn(set)) => SegCell::Only(ids_of(names, set)),
        (Axis::Set { names, other: true }, Cell::StrNotIn(set)) => {
            SegCell::AllBut(ids_of(names, set))
        }
        (Axis::Set { .. }, _) => SegCell::Only(Vec::new()),
    }
}

/// The segments of the named strings (the last name is "other").
fn ids_of(names: &[String], set: &[String]) -> Vec<u32> {
    let named = names.get(..names.len().saturating_sub(1)).unwrap_or(&[]);
    let mut ids: Vec<u32> = set
        .iter()
        .filter_map(|s| named.binary_search(s).ok().map(|i| i as u32))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// The segments an interval covers.
fn span_of(segs: &[Seg], iv: &Interval) -> SegCell {
    let n = segs.len() as u32;
    let from = match iv.lo {
        Bound::Unbounded => 0,
        Bound::Incl(v) => point_at(segs, v),
        Bound::Excl(v) => point_at(segs, v) + 1,
    };
    let to = match iv.hi {
        Bound::Unbounded => n,
        Bound::Incl(v) => point_at(segs, v) + 1,
        Bound::Excl(v) => point_at(segs, v),
    };
    SegCell::Span(from.min(n), to.min(n))
}

/// A part of one column: where a sweep step put the region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Segments `from..to` of a number column.
    Span(u32, u32),
    /// These segments of a set column.
    Ids(Vec<u32>),
    /// Every segment of a set column but these (sorted), one of which is
    /// the second value: a string column's thousands of unnamed strings
    /// stay one short piece.
    AllBut(Vec<u32>, u32),
}

impl Piece {
    /// A segment of the piece.
    pub fn first(&self) -> Option<u32> {
        match self {
            Piece::Span(a, b) => (a < b).then_some(*a),
            Piece::Ids(ids) => ids.first().copied(),
            Piece::AllBut(_, member) => Some(*member),
        }
    }
}

/// A region the sweep reached: a piece for each of the first columns in
/// sweep order (`columns[i]` is the column `pieces[i]` belongs to); every
/// value of the other columns.
#[derive(Debug, Clone, Copy)]
pub struct Region<'a> {
    /// Column indices, in sweep order.
    pub columns: &'a [usize],
    /// The pieces chosen so far.
    pub pieces: &'a [Piece],
}

impl Region<'_> {
    /// The piece chosen for `column`, if the sweep has split it.
    pub fn piece(&self, column: usize) -> Option<&Piece> {
        self.columns
            .iter()
            .position(|&c| c == column)
            .and_then(|i| self.pieces.get(i))
    }
}

/// What a sweep reports.
pub trait Visitor {
    /// No row matches anywhere in `region`.
    fn gap(&mut self, region: Region<'_>);
    /// `active` (rows in priority order) match in `region`: with `exact`,
    /// every one of them matches every input of the region; otherwise the
    /// first matches all of it and each of the others matches somewhere in
    /// it.
    fn leaf(&mut self, active: &[u32], exact: bool, region: Region<'_>);
}

/// How much the sweep may shorten.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Every region with at least two rows is split until their matches are
    /// exact (for `unique` schedules, where every pair matters).
    Exact,
    /// A region the first active row covers entirely is not split further
    /// (for `first` schedules, where that row decides it).
    First,
    /// As [`Mode::Exact`], but a subproblem met again is explored again:
    /// every region is reported, not only every distinct set of active rows
    /// (for `tollgate diff`, which describes regions, not rules).
    Every,
}

/// Units charged for remembering one visited subproblem, besides its rows.
const MEMO_ENTRY: usize = 4;

/// Sweeps `space`, considering only `rows` (indices into it, in priority
/// order), and reports to `visitor`, spending `budget`. On
/// [`OutOfBudget`] the sweep stopped part way: what it reported holds
/// (each leaf and gap is exact), but regions were left unvisited.
pub fn sweep(
    space: &Space,
    rows: &[u32],
    mode: Mode,
    visitor: &mut impl Visitor,
    budget: &mut Budget,
) -> Result<(), OutOfBudget> {
    // The full-column masks and the column scores: a few units per row.
    budget.spend_n(rows.len().saturating_mul(space.axes.len().max(1)))?;
    let order = column_order(space, rows);
    let full: Vec<u64> = space
        .rows
        .iter()
        .map(|cells| {
            cells
                .iter()
                .zip(&space.axes)
                .enumerate()
                .filter(|(i, (c, a))| *i < 64 && c.is_full(a))
                .fold(0u64, |m, (i, _)| m | (1u64 << i))
        })
        .collect();
    let mut s = Sweep {
        space,
        order,
        full,
        mode,
        seen: HashSet::new(),
        pieces: Vec::new(),
        budget: *budget,
    };
    let live: Vec<u32> = rows
        .iter()
        .copied()
        .filter(|&r| !space.row_empty(r as usize))
        .collect();
    let result = s.node(0, live, visitor);
    *budget = s.budget;
    result
}

/// Columns in sweep order: those that cut the rows finest first, so that
/// active sets shrink quickly. A column's measure is how many rows stay
/// active, on average, in one of its segments: the sum over rows of the
/// share of the column's segments the row's cell takes (a row that does
/// not constrain the column counts whole). Fewest first; ties in column
/// order. (`channel == X` over four channels keeps a quarter of the rows;
/// `amount > N` at distinct amounts keeps half of them.)
fn column_order(space: &Space, rows: &[u32]) -> Vec<usize> {
    // (column, segments taken by the rows, segments of the column): the
    // average is the ratio of the two, compared without division.
    let mut score: Vec<(usize, u128, u128)> = space
        .axes
        .iter()
        .enumerate()
        .map(|(c, axis)| {
            let n = axis.len() as u128;
            let taken: u128 = rows
                .iter()
                .filter_map(|&r| space.rows.get(r as usize).and_then(|cells| cells.get(c)))
                .map(|cell| cell.size(axis) as u128)
                .sum();
            (c, taken, n.max(1))
        })
        .collect();
    score.sort_by(|&(c, t, n), &(d, u, m)| (t * m).cmp(&(u * n)).then(c.cmp(&d)));
    score.into_iter().map(|(c, _, _)| c).collect()
}

struct Sweep<'a> {
    space: &'a Space,
    order: Vec<usize>,
    /// Per row, a bit per column (below 64) whose cell is full.
    full: Vec<u64>,
    mode: Mode,
    seen: HashSet<(usize, Vec<u32>)>,
    pieces: Vec<Piece>,
    budget: Budget,
}

impl Sweep<'_> {
    /// Whether row `r` admits every value of the columns from `depth` on.
    fn full_from(&self, r: u32, depth: usize) -> bool {
        let mask = self.full.get(r as usize).copied().unwrap_or(0);
        self.order
            .iter()
            .skip(depth)
            .all(|&c| c < 64 && mask & (1u64 << c) != 0)
    }

    fn region(&self) -> Region<'_> {
        Region {
            columns: self.order.get(..self.pieces.len()).unwrap_or(&[]),
            pieces: &self.pieces,
        }
    }

    /// What a leaf with `n` active rows costs its visitor: every pair under
    /// [`Mode::Exact`] (a `unique` schedule's overlaps), else each row.
    fn leaf_cost(&self, n: usize, exact: bool) -> usize {
        if exact && self.mode == Mode::Exact {
            n.saturating_mul(n.saturating_add(1)) / 2
        } else {
            n
        }
    }

    fn node(
        &mut self,
        depth: usize,
        active: Vec<u32>,
        v: &mut impl Visitor,
    ) -> Result<(), OutOfBudget> {
        self.budget.spend(1)?;
        let Some(&first) = active.first() else {
            v.gap(self.region());
            return Ok(());
        };
        if depth >= self.order.len() || active.iter().all(|&r| self.full_from(r, depth)) {
            self.budget.spend_n(self.leaf_cost(active.len(), true))?;
            v.leaf(&active, true, self.region());
            return Ok(());
        }
        if active.len() == 1 || (self.mode == Mode::First && self.full_from(first, depth)) {
            self.budget.spend_n(self.leaf_cost(active.len(), false))?;
            v.leaf(&active, false, self.region());
            if active.len() == 1 {
                self.budget.spend_n(self.order.len())?;
                self.outside_one(depth, first, v);
            }
            return Ok(());
        }
        // Remembering the subproblem stores its rows.
        self.budget
            .spend_n(active.len().saturating_add(MEMO_ENTRY))?;
        if self.mode != Mode::Every && !self.seen.insert((depth, active.clone())) {
            return Ok(());
        }
        let Some(&column) = self.order.get(depth) else {
            return Ok(());
        };
        let cell = |r: u32| {
            self.space
                .rows
                .get(r as usize)
                .and_then(|cells| cells.get(column))
        };
        match self.space.axes.get(column) {
            Some(Axis::Range { segs, .. }) => {
                self.budget.spend_n(active.len())?;
                let mut split = RangeSplit::new(segs.len() as u32, &active, cell);
                // The pieces are made one at a time: only the current
                // one's rows are held, not every piece's at once.
                drop(active);
                while let Some((piece, rows)) = split.next(&mut self.budget)? {
                    self.pieces.push(piece);
                    let result = self.node(depth + 1, rows, v);
                    self.pieces.pop();
                    result?;
                }
            }
            Some(Axis::Set { names, .. }) => {
                let groups = split_set(names.len() as u32, &active, cell, &mut self.budget)?;
                drop(active);
                for (piece, rows) in groups {
                    self.pieces.push(piece);
                    let result = self.node(depth + 1, rows, v);
                    self.pieces.pop();
                    result?;
                }
            }
            None => {}
        }
        Ok(())
    }

    /// With one row active, the part of the region outside it is a gap:
    /// report it at the first column where the row is not full, as all
    /// that column's values outside the row's cell (on one side, for a
    /// range).
    fn outside_one(&mut self, depth: usize, r: u32, v: &mut impl Visitor) {
        let Some(cells) = self.space.rows.get(r as usize) else {
            return;
        };
        let pushed = self.pieces.len();
        for d in depth..self.order.len() {
            let Some(&c) = self.order.get(d) else { break };
            let (Some(cell), Some(axis)) = (cells.get(c), self.space.axes.get(c)) else {
                break;
            };
            let n = axis.len() as u32;
            let Some(out) = cell.first_outside(axis) else {
                // The row takes every value here: the whole column.
                self.pieces.push(match axis {
                    Axis::Range { .. } => Piece::Span(0, n),
                    Axis::Set { .. } => Piece::AllBut(Vec::new(), 0),
                });
                continue;
            };
            self.pieces.push(match cell {
                SegCell::Span(a, _) if *a > 0 => Piece::Span(0, *a),
                SegCell::Span(_, b) => Piece::Span(*b, n),
                SegCell::Only(ids) => Piece::AllBut(ids.clone(), out),
                SegCell::AllBut(ids) => Piece::Ids(ids.clone()),
            });
            v.gap(self.region());
            break;
        }
        self.pieces.truncate(pushed);
    }
}

/// The split of a number column where the active rows' cells start or
/// end, made piece by piece: between two cuts the active rows do not
/// change, and a sweep over the cuts keeps them in priority order. Pieces
/// with the same rows next to each other are one piece.
struct RangeSplit {
    /// (first segment, row) per active row, by segment.
    starts: Vec<(u32, u32)>,
    /// (segment past the end, row) per active row, by segment.
    ends: Vec<(u32, u32)>,
    /// Every start and end, and the column's two ends, sorted.
    cuts: Vec<u32>,
    /// The next window (`cuts[at]..cuts[at + 1]`) to make a piece of.
    at: usize,
    si: usize,
    ei: usize,
    /// The rows active at the current window.
    live: BTreeSet<u32>,
}

impl RangeSplit {
    fn new<'c>(n: u32, active: &[u32], cell: impl Fn(u32) -> Option<&'c SegCell>) -> RangeSplit {
        let mut starts: Vec<(u32, u32)> = Vec::with_capacity(active.len());
        let mut ends: Vec<(u32, u32)> = Vec::with_capacity(active.len());
        let mut cuts: Vec<u32> = vec![0, n];
        for &r in active {
            if let Some(SegCell::Span(a, b)) = cell(r) {
                if a < b {
                    starts.push((*a, r));
                    ends.push((*b, r));
                    cuts.push(*a);
                    cuts.push(*b);
                }
            }
        }
        starts.sort_unstable();
        ends.sort_unstable();
        cuts.sort_unstable();
        cuts.dedup();
        RangeSplit {
            starts,
            ends,
            cuts,
            at: 0,
            si: 0,
            ei: 0,
            live: BTreeSet::new(),
        }
    }

    /// Brings the active rows to the window starting at segment `a`.
    fn advance(&mut self, a: u32) {
        while let Some(&(_, r)) = self.ends.get(self.ei).filter(|(pos, _)| *pos <= a) {
            self.live.remove(&r);
            self.ei += 1;
        }
        while let Some(&(_, r)) = self.starts.get(self.si).filter(|(pos, _)| *pos <= a) {
            self.live.insert(r);
            self.si += 1;
        }
    }

    fn window(&self, i: usize) -> Option<(u32, u32)> {
        Some((*self.cuts.get(i)?, *self.cuts.get(i + 1)?))
    }

    /// The next piece and its rows, charging each row carried or compared.
    fn next(&mut self, budget: &mut Budget) -> Result<Option<(Piece, Vec<u32>)>, OutOfBudget> {
        let Some((a, mut b)) = self.window(self.at) else {
            return Ok(None);
        };
        self.advance(a);
        budget.spend_n(self.live.len().max(1))?;
        let rows: Vec<u32> = self.live.iter().copied().collect();
        self.at += 1;
        while let Some((c, d)) = self.window(self.at) {
            self.advance(c);
            budget.spend_n(self.live.len().max(1))?;
            if !self.live.iter().eq(rows.iter()) {
                break;
            }
            b = d;
            self.at += 1;
        }
        Ok(Some((Piece::Span(a, b), rows)))
    }
}

/// Splits a column of discrete values: the segments some active row
/// names, grouped by the rows active on them (in priority order), and one
/// piece for every segment no active row names, which all of them treat
/// alike.
fn split_set<'c>(
    n: u32,
    active: &[u32],
    cell: impl Fn(u32) -> Option<&'c SegCell>,
    budget: &mut Budget,
) -> Result<Vec<(Piece, Vec<u32>)>, OutOfBudget> {
    let mut named: Vec<u32> = Vec::new();
    for &r in active {
        if let Some(SegCell::Only(ids) | SegCell::AllBut(ids)) = cell(r) {
            named.extend(ids.iter().copied());
        }
    }
    named.sort_unstable();
    named.dedup();
    // The rows active on each named segment (and, last, on the unnamed
    // ones), in one pass over the rows: a row's cell lists the segments it
    // takes, or those it leaves out. Each row put in a list costs a unit.
    let slots = named.len() + 1;
    let cost: usize = active
        .iter()
        .map(|&r| match cell(r) {
            Some(SegCell::Only(ids)) => ids.len(),
            _ => slots,
        })
        .sum();
    budget.spend_n(cost.saturating_add(slots))?;
    let slot_of = |seg: &u32| named.binary_search(seg).ok();
    let mut at: Vec<Vec<u32>> = vec![Vec::new(); slots];
    for &r in active {
        match cell(r) {
            Some(SegCell::Only(ids)) => {
                for i in ids.iter().filter_map(slot_of) {
                    at.get_mut(i).into_iter().for_each(|v| v.push(r));
                }
            }
            Some(SegCell::AllBut(ids)) => {
                let mut out = ids.iter().filter_map(slot_of).peekable();
                for (i, v) in at.iter_mut().enumerate() {
                    if out.peek() == Some(&i) {
                        out.next();
                    } else {
                        v.push(r);
                    }
                }
            }
            // A range cell on a set column takes nothing.
            _ => {}
        }
    }
    let unnamed_rows = at.pop().unwrap_or_default();
    // Segments with the same rows are one piece, in segment order.
    let mut groups: Vec<(Piece, Vec<u32>)> = Vec::new();
    let mut group_of: HashMap<Vec<u32>, usize> = HashMap::new();
    for (&seg, rows) in named.iter().zip(at) {
        match group_of.get(&rows) {
            Some(&g) => {
                if let Some((Piece::Ids(ids), _)) = groups.get_mut(g) {
                    ids.push(seg);
                }
            }
            None => {
                group_of.insert(rows.clone(), groups.len());
                groups.push((Piece::Ids(vec![seg]), rows));
            }
        }
    }
    // Every segment no active row names is treated alike: one piece for
    // all of them, told by what it leaves out.
    let unnamed = (0..n).find(|s| named.binary_search(s).is_err());
    if let Some(r0) = unnamed {
        match group_of.get(&unnamed_rows).and_then(|&g| groups.get_mut(g)) {
            Some((piece, _)) => {
                let ids = match &*piece {
                    Piece::Ids(ids) => ids.clone(),
                    _ => Vec::new(),
                };
                let left_out = named
                    .iter()
                    .copied()
                    .filter(|s| ids.binary_search(s).is_err())
                    .collect();
                *piece = Piece::AllBut(left_out, r0);
            }
            None => groups.push((Piece::AllBut(named, r0), unnamed_rows)),
        }
    }
    Ok(groups)
}

/// A value as a record would write it: money with at least two places.
pub fn show(v: Decimal, kind: &FieldKind) -> String {
    let mut v = v;
    if *kind == FieldKind::Money && v.scale() < 2 {
        v.rescale(2);
    }
    v.to_string()
}

/// An interval's bounds, as text for messages: `> 1000.00`, `between 0 and 5.00`.
pub fn describe_interval(iv: &Interval, kind: &FieldKind) -> String {
    let show = |v: Decimal| show(v, kind);
    match (iv.lo, iv.hi) {
        (Bound::Unbounded, Bound::Unbounded) => "any value".into(),
        (Bound::Incl(a), Bound::Incl(b)) if a == b => format!("== {}", show(a)),
        (Bound::Incl(a), Bound::Incl(b)) => format!("between {} and {}", show(a), show(b)),
        (lo, hi) => {
            let l = match lo {
                Bound::Unbounded => None,
                Bound::Incl(a) => Some(format!(">= {}", show(a))),
                Bound::Excl(a) => Some(format!("> {}", show(a))),
            };
            let h = match hi {
                Bound::Unbounded => None,
                Bound::Incl(b) => Some(format!("<= {}", show(b))),
                Bound::Excl(b) => Some(format!("< {}", show(b))),
            };
            [l, h]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" and ")
        }
    }
}

/// The interval segments `from..to` of `segs` make up.
pub fn interval_of(segs: &[Seg], from: u32, to: u32) -> Interval {
    let lo = match segs.get(from as usize) {
        // The first segment is open below, or the floor of a column that
        // holds no value below it (money without refunds): no bound to say.
        _ if from == 0 => Bound::Unbounded,
        Some(Seg::Point(p)) => Bound::Incl(*p),
        Some(Seg::Open(Some(a), _)) => Bound::Excl(*a),
        _ => Bound::Unbounded,
    };
    let hi = match to.checked_sub(1).and_then(|i| segs.get(i as usize)) {
        Some(Seg::Point(p)) => Bound::Incl(*p),
        Some(Seg::Open(_, Some(b))) => Bound::Excl(*b),
        _ => Bound::Unbounded,
    };
    Interval { lo, hi }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(n: i64) -> Decimal {
        Decimal::from(n)
    }

    #[test]
    fn columns_past_the_64th_never_count_as_full() {
        // 65 bool columns. Row 0 needs column 63 true; rows 1 and 2 need
        // column 64 true and false. Column 64 is swept first (it splits
        // more rows); row 0 is full there, which must not make it look full
        // on column 63: where column 63 is false, rows 1 and 2 apply.
        let mut a = vec![Cell::Any; 65];
        a[63] = Cell::Bool(true);
        let mut b = vec![Cell::Any; 65];
        b[64] = Cell::Bool(true);
        let mut c = vec![Cell::Any; 65];
        c[64] = Cell::Bool(false);
        let rows: Vec<&[Cell]> = vec![&a, &b, &c];
        let kinds = vec![&FieldKind::Bool; 65];
        let s = Space::new((0..65).collect(), &kinds, &rows);
        struct Firsts(Vec<u32>);
        impl Visitor for Firsts {
            fn gap(&mut self, _: Region<'_>) {}
            fn leaf(&mut self, active: &[u32], _: bool, _: Region<'_>) {
                self.0.extend(active.first());
            }
        }
        let mut v = Firsts(Vec::new());
        sweep(&s, &[0, 1, 2], Mode::First, &mut v, &mut Budget::default()).unwrap();
        v.0.sort_unstable();
        v.0.dedup();
        assert_eq!(v.0, vec![0, 1, 2]);
    }

    #[test]
    fn integer_columns_end_at_the_64_bit_bounds() {
        let cells = [Cell::Range(Interval {
            lo: Bound::Incl(Decimal::from(i64::MIN)),
            hi: Bound::Incl(Decimal::from(i64::MAX)),
        })];
        let rows: Vec<&[Cell]> = vec![&cells];
        let s = Space::new(vec![0], &[&FieldKind::Integer], &rows);
        // The two points and the integers between them; nothing outside.
        let Axis::Range { segs, .. } = &s.axes[0] else {
            panic!("not a range")
        };
        assert_eq!(segs.len(), 3);
        assert_eq!(s.rows[0], vec![SegCell::Span(0, 3)]);
        let s = Space::new(vec![0], &[&FieldKind::Decimal], &rows);
        let Axis::Range { segs, .. } = &s.axes[0] else {
            panic!("not a range")
        };
        assert_eq!(segs.len(), 5);
    }

    #[test]
    fn integer_columns_drop_segments_without_integers() {
        let cells = [Cell::Range(Interval {
            lo: Bound::Excl(d(1)),
            hi: Bound::Excl(d(2)),
        })];
        let rows: Vec<&[Cell]> = vec![&cells];
        let s = Space::new(vec![0], &[&FieldKind::Integer], &rows);
        assert!(s.row_empty(0));
        let s = Space::new(vec![0], &[&FieldKind::Decimal], &rows);
        assert!(!s.row_empty(0));
    }
}
