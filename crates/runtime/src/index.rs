//! The lookup index of a schedule: per column, the value read from the record
//! selects a bitset of the rows that admit it; the bitsets of all columns are
//! intersected word by word and the first set bit is the matching row.
//!
//! When the columns have few distinct segments (enum variants, booleans,
//! ranges between the table's bounds), the answer for every combination is
//! precomputed into a grid, and a lookup is one array access after locating
//! each value's segment. Small tables without a grid are scanned row by row,
//! which measures faster than intersecting bitsets (see
//! `docs/evaluator.md`); so are tables whose index would be too large.
//!
//! Wide tables searched by bitsets also keep, per bitset, a summary word of
//! which of its words are not empty (tables up to 4,096 rows), so that only
//! words where every column admits some row are intersected; and columns with
//! few segments are joined ([`joint`]): their bitsets intersected once per
//! combination of segments when the table is built, so that a lookup reads
//! one set for all of them.
//!
//! A schedule's bitsets are kept in one array, numbered by segment across
//! its columns, so that the search keeps one number per column; it locates
//! the segments kind by kind, without a `match` on the column's kind: the
//! joint's enums and booleans read as integers, numeric columns by their own
//! bound search ([`bounds`], bucketed for many bounds).

mod bounds;
mod joint;

use bounds::{search_decimals, Scaled};

use crate::position::{FieldIndex, RuleIndex};
use crate::table::{Bound, Cell, Row};
use crate::value::Value;
use crate::Decimal;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

/// Tables with fewer rows than this are scanned (measured; see the docs).
pub const SCAN_BELOW_ROWS: usize = 16;

/// The most 64-bit words an index may hold (64 MiB); above it, tables are scanned.
pub const MAX_INDEX_WORDS: usize = 8 << 20;

/// Schedules with more columns than this are searched by scanning (the
/// bitset search keeps its segments on the stack).
pub const STACK_COLUMNS: usize = 32;

/// The most entries a precomputed grid may hold (32 KiB: small enough for
/// a terminal's SRAM).
pub const MAX_GRID_ENTRIES: usize = 4096;

/// How a schedule finds its matching row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// Row by row, in priority order.
    Scan,
    /// Per-column bitsets, intersected word by word.
    Bitsets,
    /// A precomputed answer per combination of column segments.
    Grid,
}

/// No row, or no second rule.
const NONE: u32 = u32::MAX;

/// A schedule's lookup structure.
#[derive(Debug, Clone, Default)]
pub(crate) struct Index {
    /// Words per bitset; zero when no bitsets were built.
    words: usize,
    columns: Vec<ColumnIndex>,
    /// Every column's bitsets, back to back: the schedule's segments are
    /// numbered across its columns ([`ColumnIndex`]'s `first`), and
    /// segment `g`'s set is `sets[g * words..(g + 1) * words]`.
    sets: Vec<u64>,
    /// Whether lookups intersect the bitsets (else they scan, or use the grid).
    use_bitsets: bool,
    /// Columns in the order their bitsets are intersected: the sparsest
    /// first, so that a word is found empty after as few loads as possible.
    /// Columns that admit every row, and the joint's, are left out.
    order: Vec<usize>,
    /// Per segment (numbered as in `sets`): bit `w` is set when word `w` of
    /// the segment's bitset is not empty. Empty when `words` exceeds 64.
    summaries: Vec<u64>,
    /// The columns with few segments, intersected ahead of time.
    joint: Option<joint::Joint>,
    /// The numeric columns of `order` whose bounds fit 64 bits: located by
    /// their own search, without a `match` on the column's kind.
    ranges: Vec<RangeProbe>,
    /// The other columns of `order`, with their place in it.
    others: Vec<(usize, usize)>,
    grid: Option<Grid>,
}

/// A numeric column intersected by the bitset search, and what locating a
/// value among its bounds needs.
#[derive(Debug, Clone)]
struct RangeProbe {
    /// The column (its position among the schedule's columns).
    column: usize,
    /// Its place in the order of intersection.
    slot: usize,
    /// Its first segment (numbered as in [`Index::sets`]).
    first: usize,
    /// Its bounds as integers (moved here from the column).
    scaled: Scaled,
}

/// The answer for every combination of column segments.
#[derive(Debug, Clone)]
struct Grid {
    /// Per column, the multiplier of its segment number.
    strides: Vec<usize>,
    /// The first matching row's rule, and the first matching rule other
    /// than it ([`NONE`] for none).
    entries: Vec<(u32, u32)>,
}

/// One column's value → rows map. Each kind but `All` keeps `first`, the
/// number of its first segment among the schedule's, whose bitsets are in
/// [`Index::sets`].
#[derive(Debug, Clone)]
enum ColumnIndex {
    /// Admits every row whatever the value (all cells `Any`).
    All,
    /// Bitset per enum variant below `domain`, then one for every variant
    /// from `domain` up (no cell names those, so they all behave alike).
    Enum { first: usize, domain: usize },
    /// Bitsets for false and true.
    Bool { first: usize },
    /// Sorted distinct bounds; bitsets per segment: 2i is the open gap below
    /// point i, 2i+1 the point itself, 2k above the last.
    Num {
        points: Vec<Decimal>,
        /// The points as 64-bit integers at one common scale, when they all
        /// fit: searching integers is several times faster than decimals.
        /// (A column the bitset search intersects lends them to its
        /// [`RangeProbe`].)
        scaled: Option<Scaled>,
        first: usize,
    },
    /// Sorted distinct strings named by cells, a bitset each, then one for
    /// every other string.
    Str {
        keys: Vec<String>,
        /// Per key, its length and first eight bytes: a few keys are
        /// searched by comparing these, without a call to compare bytes.
        probes: Vec<(usize, u64)>,
        first: usize,
    },
}

/// Keys up to this many are searched one by one by their probes.
const PROBE_KEYS: usize = 16;

/// A string's length and first eight bytes (zero-padded), little-endian.
#[inline]
fn probe(s: &str) -> (usize, u64) {
    let bytes = s.as_bytes();
    let head = match bytes.first_chunk::<8>() {
        Some(head) => u64::from_le_bytes(*head),
        None => bytes
            .iter()
            .enumerate()
            .fold(0u64, |acc, (i, &b)| acc | u64::from(b) << (8 * i)),
    };
    (s.len(), head)
}

/// The position of `s` among sorted distinct `keys`, else `keys.len()`.
#[inline]
fn find_key(keys: &[String], probes: &[(usize, u64)], s: &str) -> usize {
    if keys.len() > PROBE_KEYS {
        return keys
            .binary_search_by(|k| k.as_str().cmp(s))
            .unwrap_or(keys.len());
    }
    let p = probe(s);
    probes
        .iter()
        .zip(keys)
        .position(|(&q, k)| q == p && (p.0 <= 8 || k == s))
        .unwrap_or(keys.len())
}

impl Index {
    /// Builds the lookup measured best for `rows`: a grid when one fits,
    /// else bitsets for large tables, else a scan.
    pub(crate) fn build(rows: &[Row], columns: usize) -> Index {
        let mut index = Index::bitsets(rows, columns);
        index.grid = index.build_grid(rows);
        index.use_bitsets = index.grid.is_none()
            && index.words > 0
            && rows.len() >= SCAN_BELOW_ROWS
            && columns <= STACK_COLUMNS;
        if index.use_bitsets {
            index.prepare_search();
        }
        index
    }

    /// Builds the lookup `choice` (when it is possible for these rows).
    pub(crate) fn build_as(rows: &[Row], columns: usize, choice: Lookup) -> Index {
        match choice {
            Lookup::Scan => Index::default(),
            Lookup::Bitsets => {
                let mut index = Index::bitsets(rows, columns);
                index.use_bitsets = index.words > 0 && columns <= STACK_COLUMNS;
                if index.use_bitsets {
                    index.prepare_search();
                }
                index
            }
            Lookup::Grid => {
                let mut index = Index::bitsets(rows, columns);
                index.grid = index.build_grid(rows);
                index
            }
        }
    }

    /// The lookup in use.
    pub(crate) fn lookup(&self) -> Lookup {
        if self.grid.is_some() {
            Lookup::Grid
        } else if self.use_bitsets {
            Lookup::Bitsets
        } else {
            Lookup::Scan
        }
    }

    /// The grid's answer for `record`: the first matching row and another
    /// matching rule. `None` when there is no grid.
    #[inline]
    pub(crate) fn grid_lookup(
        &self,
        record: &[Value],
        columns: &[FieldIndex],
    ) -> Option<(Option<RuleIndex>, Option<RuleIndex>)> {
        let grid = self.grid.as_ref()?;
        let mut at = 0usize;
        for ((col, stride), &f) in self.columns.iter().zip(&grid.strides).zip(columns) {
            let seg = col.segment(record.get(f.get() as usize)?)?;
            at += seg * stride;
        }
        let (first, second) = *grid.entries.get(at)?;
        Some((
            (first != NONE).then_some(RuleIndex::new(first)),
            (second != NONE).then_some(RuleIndex::new(second)),
        ))
    }

    fn build_grid(&self, rows: &[Row]) -> Option<Grid> {
        if self.words == 0 || self.columns.len() != rows.first().map_or(0, |r| r.cells.len()) {
            return None;
        }
        let mut strides = Vec::with_capacity(self.columns.len());
        let mut size = 1usize;
        for col in &self.columns {
            strides.push(size);
            size = size.checked_mul(col.segments())?;
            if size > MAX_GRID_ENTRIES {
                return None;
            }
        }
        let mut entries = Vec::with_capacity(size);
        let mut acc = vec![0u64; self.words];
        for at in 0..size {
            acc.iter_mut().for_each(|w| *w = u64::MAX);
            for (col, stride) in self.columns.iter().zip(&strides) {
                let seg = (at / stride) % col.segments().max(1);
                for (w, word) in acc.iter_mut().enumerate() {
                    *word &= col.set_word(&self.sets, seg, w, self.words);
                }
            }
            let mut first = NONE;
            let mut second = NONE;
            'words: for (w, word) in acc.iter().enumerate() {
                let mut bits = *word;
                while bits != 0 {
                    let row = w * 64 + bits.trailing_zeros() as usize;
                    bits &= bits - 1;
                    let Some(rule) = rows.get(row).map(|r| r.rule.get()) else {
                        break 'words;
                    };
                    if first == NONE {
                        first = rule;
                    } else if rule != first {
                        second = rule;
                        break 'words;
                    }
                }
            }
            entries.push((first, second));
        }
        Some(Grid { strides, entries })
    }

    /// Builds the per-column bitsets (none when too large or no rows).
    fn bitsets(rows: &[Row], columns: usize) -> Index {
        let words = rows.len().div_ceil(64);
        let mut out = Vec::with_capacity(columns);
        let mut arena = Arena {
            sets: Vec::new(),
            segments: 0,
            words,
        };
        for c in 0..columns {
            let cells = rows.iter().map(|r| r.cells.get(c).unwrap_or(&Cell::Any));
            let col = build_column(cells, &mut arena);
            match col {
                Some(col) => out.push(col),
                None => return Index::default(),
            }
        }
        let sets = arena.sets;
        // Average fraction of rows a segment admits, per column.
        let density = |col: &ColumnIndex| -> u64 {
            let ones: u64 = (0..col.segments())
                .flat_map(|seg| (0..words).map(move |w| (seg, w)))
                .map(|(seg, w)| u64::from(col.set_word(&sets, seg, w, words).count_ones()))
                .sum();
            ones * 1_000 / (col.segments().max(1) * rows.len().max(1)) as u64
        };
        let mut order: Vec<usize> = (0..out.len())
            .filter(|&c| !matches!(out.get(c), Some(ColumnIndex::All)))
            .collect();
        // By density, ties in column order (as a stable sort leaves them).
        let key = |c: usize| (out.get(c).map_or(u64::MAX, density), c);
        crate::sort::sort_by(&mut order, |&a, &b| key(a) < key(b));
        let summaries = if words <= 64 && words > 0 {
            sets.chunks(words)
                .map(|set| summary(set.iter().copied()))
                .collect()
        } else {
            Vec::new()
        };
        Index {
            words,
            columns: out,
            sets,
            use_bitsets: false,
            order,
            summaries,
            joint: None,
            ranges: Vec::new(),
            others: Vec::new(),
            grid: None,
        }
    }

    /// Readies the bitset search: joins the columns with few segments (see
    /// [`joint`]) and leaves them out of the per-record intersection, then
    /// sorts the rest by kind, each with its place in the order.
    fn prepare_search(&mut self) {
        if let Some(joint) = joint::Joint::build(&self.columns, &self.sets, self.words) {
            self.order.retain(|&c| !joint.covers(c));
            self.joint = Some(joint);
        }
        for (slot, &c) in self.order.iter().enumerate() {
            match self.columns.get_mut(c) {
                Some(ColumnIndex::Num { scaled, first, .. }) if scaled.is_some() => {
                    if let Some(scaled) = scaled.take() {
                        self.ranges.push(RangeProbe {
                            column: c,
                            slot,
                            first: *first,
                            scaled,
                        });
                    }
                }
                _ => self.others.push((c, slot)),
            }
        }
    }

    /// The first row at or after `from` that admits the record's values of
    /// `columns`. `None` when the index is not built: the caller scans.
    #[inline]
    pub(crate) fn first_from(
        &self,
        record: &[Value],
        columns: &[FieldIndex],
        from: usize,
    ) -> Option<Option<usize>> {
        if !self.use_bitsets {
            return None;
        }
        // Locate each value's segment and its bitset once, not once per
        // word. `candidates` gathers the summaries: the words where every
        // set is not empty (all words when there are no summaries).
        if self.columns.len() > STACK_COLUMNS || self.columns.len() != columns.len() {
            return None;
        }
        let value = |c: usize| columns.get(c).and_then(|f| record.get(f.get() as usize));
        let summarised = !self.summaries.is_empty();
        let mut candidates = u64::MAX;
        let mut joint_set: Option<&[u64]> = None;
        if let Some(joint) = &self.joint {
            let Some(cell) = joint.cell(&self.columns, value) else {
                return Some(None);
            };
            joint_set = Some(joint.set(cell, self.words));
            if summarised {
                candidates &= joint.summary(cell);
            }
        }
        // Per column of the order, its segment's number (as in `sets`).
        let mut segments = [0usize; STACK_COLUMNS];
        for p in &self.ranges {
            let Some(v @ Value::Num(x)) = value(p.column) else {
                return Some(None);
            };
            let seg = match p.scaled.search(x) {
                Some(Ok(i)) => 2 * i + 1,
                Some(Err(i)) => 2 * i,
                // More decimals than the bounds, or too large: decimals.
                None => match self.columns.get(p.column).and_then(|c| c.segment(v)) {
                    Some(seg) => seg,
                    None => return Some(None),
                },
            };
            let g = p.first + seg;
            if let Some(slot) = segments.get_mut(p.slot) {
                *slot = g;
            }
            if summarised {
                candidates &= self.summaries.get(g).copied().unwrap_or(0);
            }
        }
        for &(c, slot) in &self.others {
            let col = self.columns.get(c)?;
            let (Some(seg), Some(first)) = (value(c).and_then(|v| col.segment(v)), col.first())
            else {
                return Some(None);
            };
            let g = first + seg;
            if let Some(s) = segments.get_mut(slot) {
                *s = g;
            }
            if summarised {
                candidates &= self.summaries.get(g).copied().unwrap_or(0);
            }
        }
        let active = segments.get(..self.order.len()).unwrap_or(&[]);
        let words = self.words;
        let start_word = from / 64;
        // Blocks of 64 words: one when summarised (at most 64 words).
        for block in (start_word / 64)..words.div_ceil(64) {
            let mut cand = if summarised { candidates } else { u64::MAX };
            let in_block = words - block * 64;
            if in_block < 64 {
                cand &= (1u64 << in_block) - 1;
            }
            if block == start_word / 64 {
                cand &= u64::MAX << (start_word % 64);
            }
            while cand != 0 {
                let w = block * 64 + cand.trailing_zeros() as usize;
                cand &= cand - 1;
                let mut acc = match joint_set {
                    Some(set) => set.get(w).copied().unwrap_or(0),
                    None => u64::MAX,
                };
                if w == start_word {
                    acc &= u64::MAX << (from % 64);
                }
                for &g in active {
                    if acc == 0 {
                        break;
                    }
                    acc &= self.sets.get(g * words + w).copied().unwrap_or(0);
                }
                if acc != 0 {
                    return Some(Some(w * 64 + acc.trailing_zeros() as usize));
                }
            }
        }
        Some(None)
    }
}

/// Bit `w` set when word `w` is not empty (the first 64 words).
fn summary(words: impl Iterator<Item = u64>) -> u64 {
    words
        .take(64)
        .enumerate()
        .filter(|&(_, word)| word != 0)
        .fold(0, |acc, (w, _)| acc | (1u64 << w))
}

impl ColumnIndex {
    /// The segment a value falls in: a variant, a boolean, a gap or point
    /// between the column's bounds, a named string or any other. `None` for
    /// a value of the wrong type.
    #[inline(always)]
    fn segment(&self, value: &Value) -> Option<usize> {
        Some(match (self, value) {
            (ColumnIndex::All, _) => 0,
            (ColumnIndex::Enum { domain, .. }, Value::Enum(v)) => (*v as usize).min(*domain),
            (ColumnIndex::Bool { .. }, Value::Bool(b)) => usize::from(*b),
            (ColumnIndex::Num { points, scaled, .. }, Value::Num(x)) => {
                let found = match scaled {
                    Some(sc) => sc.search(x),
                    None => None,
                };
                match found.unwrap_or_else(|| search_decimals(points, x)) {
                    Ok(i) => 2 * i + 1,
                    Err(i) => 2 * i,
                }
            }
            (ColumnIndex::Str { keys, probes, .. }, Value::Str(s)) => find_key(keys, probes, s),
            _ => return None,
        })
    }

    /// How many segments the column has.
    fn segments(&self) -> usize {
        match self {
            ColumnIndex::All => 1,
            ColumnIndex::Enum { domain, .. } => domain + 1,
            ColumnIndex::Bool { .. } => 2,
            ColumnIndex::Num { points, .. } => 2 * points.len() + 1,
            ColumnIndex::Str { keys, .. } => keys.len() + 1,
        }
    }

    /// The number of its first segment among the schedule's (`None` for
    /// `All`, which has no bitsets).
    fn first(&self) -> Option<usize> {
        match self {
            ColumnIndex::All => None,
            ColumnIndex::Enum { first, .. }
            | ColumnIndex::Bool { first }
            | ColumnIndex::Num { first, .. }
            | ColumnIndex::Str { first, .. } => Some(*first),
        }
    }

    /// Word `w` of segment `seg`'s bitset, from the schedule's `sets`.
    #[inline]
    fn set_word(&self, sets: &[u64], seg: usize, w: usize, words: usize) -> u64 {
        match self.first() {
            None => u64::MAX,
            Some(first) => sets.get((first + seg) * words + w).copied().unwrap_or(0),
        }
    }
}

/// The schedule's bitsets as its columns are built.
struct Arena {
    sets: Vec<u64>,
    /// Segments allocated so far.
    segments: usize,
    words: usize,
}

impl Arena {
    /// `n` more segments' empty bitsets; the number of the first, or `None`
    /// past the size limit.
    fn alloc(&mut self, n: usize) -> Option<usize> {
        let total = self.sets.len().checked_add(n.checked_mul(self.words)?)?;
        if total > MAX_INDEX_WORDS {
            return None;
        }
        self.sets.resize(total, 0);
        let first = self.segments;
        self.segments += n;
        Some(first)
    }

    /// Admits `row` in segment `g`'s set.
    fn set_bit(&mut self, g: usize, row: usize) {
        if let Some(word) = self.sets.get_mut(g * self.words + row / 64) {
            *word |= 1u64 << (row % 64);
        }
    }
}

/// Builds one column's index and its bitsets in `arena`, or `None` when they
/// would exceed the size limit.
fn build_column<'a>(
    cells: impl Iterator<Item = &'a Cell> + Clone,
    arena: &mut Arena,
) -> Option<ColumnIndex> {
    match cells.clone().find(|c| !matches!(c, Cell::Any)) {
        Some(sample) => build_typed(cells, sample, arena),
        None => Some(ColumnIndex::All),
    }
}

fn build_typed<'a>(
    cells: impl Iterator<Item = &'a Cell> + Clone,
    sample: &Cell,
    arena: &mut Arena,
) -> Option<ColumnIndex> {
    match sample {
        Cell::Enum(_) => {
            // Variants above the highest one any cell names all behave alike:
            // one set stands for them (segment `domain`).
            let domain = cells
                .clone()
                .filter_map(|c| match c {
                    Cell::Enum(set) => Some(set.end()),
                    _ => None,
                })
                .max()
                .unwrap_or(0);
            let first = arena.alloc(domain + 1)?;
            for (row, cell) in cells.enumerate() {
                match cell {
                    Cell::Enum(set) => {
                        for v in set.iter() {
                            arena.set_bit(first + v as usize, row);
                        }
                    }
                    Cell::Any => {
                        for v in 0..=domain {
                            arena.set_bit(first + v, row);
                        }
                    }
                    _ => {}
                }
            }
            Some(ColumnIndex::Enum { first, domain })
        }
        Cell::Bool(_) => {
            let first = arena.alloc(2)?;
            for (row, cell) in cells.enumerate() {
                for b in [false, true] {
                    if cell.admits(&Value::Bool(b)) {
                        arena.set_bit(first + usize::from(b), row);
                    }
                }
            }
            Some(ColumnIndex::Bool { first })
        }
        Cell::Range(_) => {
            let mut points: Vec<Decimal> = Vec::new();
            for cell in cells.clone() {
                if let Cell::Range(iv) = cell {
                    points.extend(iv.lo.value());
                    points.extend(iv.hi.value());
                }
            }
            crate::sort::sort_stable(&mut points);
            points.dedup();
            let segments = 2 * points.len() + 1;
            let first = arena.alloc(segments)?;
            for (row, cell) in cells.enumerate() {
                match cell {
                    Cell::Any => {
                        for seg in 0..segments {
                            arena.set_bit(first + seg, row);
                        }
                    }
                    Cell::Range(iv) => {
                        for seg in 0..segments {
                            if admits_segment(iv.lo, iv.hi, &points, seg) {
                                arena.set_bit(first + seg, row);
                            }
                        }
                    }
                    _ => {}
                }
            }
            let scaled = Scaled::new(&points);
            Some(ColumnIndex::Num {
                points,
                scaled,
                first,
            })
        }
        Cell::StrIn(_) | Cell::StrNotIn(_) => {
            let mut keys: Vec<String> = Vec::new();
            for cell in cells.clone() {
                if let Cell::StrIn(s) | Cell::StrNotIn(s) = cell {
                    keys.extend(s.iter().cloned());
                }
            }
            crate::sort::sort(&mut keys);
            keys.dedup();
            let first = arena.alloc(keys.len() + 1)?;
            for (row, cell) in cells.enumerate() {
                for (k, key) in keys.iter().enumerate() {
                    if cell.admits(&Value::Str(key.clone())) {
                        arena.set_bit(first + k, row);
                    }
                }
                // Any string no cell names: admitted by Any and by every NotIn.
                if matches!(cell, Cell::Any | Cell::StrNotIn(_)) {
                    arena.set_bit(first + keys.len(), row);
                }
            }
            let probes = keys.iter().map(|k| probe(k)).collect();
            Some(ColumnIndex::Str {
                keys,
                probes,
                first,
            })
        }
        Cell::Any => Some(ColumnIndex::All),
    }
}

/// Whether an interval admits the values of segment `seg` over `points`
/// (all interval bounds are among the points, so a segment is all in or out).
fn admits_segment(lo: Bound, hi: Bound, points: &[Decimal], seg: usize) -> bool {
    let i = seg / 2;
    if seg % 2 == 1 {
        let Some(p) = points.get(i) else { return false };
        let iv = crate::table::Interval { lo, hi };
        return iv.contains(*p);
    }
    // The open gap between points[i-1] and points[i] (either may be missing).
    let below = if i == 0 {
        None
    } else {
        points.get(i - 1).copied()
    };
    let above = points.get(i).copied();
    let lo_ok = match (lo.value(), below) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(v), Some(b)) => v <= b,
    };
    let hi_ok = match (hi.value(), above) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(v), Some(a)) => v >= a,
    };
    lo_ok && hi_ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::Interval;
    use crate::variants::Variants;
    use alloc::string::ToString;

    /// A small deterministic generator (xorshift).
    struct Draw(u64);

    impl Draw {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % n
        }
    }

    /// Narrow rows over an enum, a flag, a string and an amount band (the
    /// first three joined), now and then a cell that admits everything.
    fn rate_rows(n: usize, draw: &mut Draw) -> Vec<Row> {
        let names = ["m1", "m2", "m3"];
        (0..n)
            .map(|i| {
                let lo = draw.below(40) as i64 * 100;
                let hi = lo + 99 + draw.below(300) as i64;
                let name = names[draw.below(3) as usize].to_string();
                let (variant, flag, named) =
                    (draw.below(6) as u32, draw.below(2) == 0, draw.below(2) == 0);
                let cells = vec![
                    Cell::Enum(Variants::single(variant)),
                    Cell::Bool(flag),
                    if named {
                        Cell::StrIn(vec![name])
                    } else {
                        Cell::StrNotIn(vec![name])
                    },
                    Cell::Range(Interval {
                        lo: Bound::Incl(Decimal::from(lo)),
                        hi: Bound::Excl(Decimal::new(hi * 100 + 99, 2)),
                    }),
                ]
                .into_iter()
                .map(|cell| if draw.below(10) == 0 { Cell::Any } else { cell })
                .collect();
                Row {
                    rule: RuleIndex::new(i as u32),
                    cells,
                }
            })
            .collect()
    }

    #[test]
    fn the_bitset_search_finds_what_a_scan_finds() {
        // 900 rows: summarised (16 words); 5,000 rows: not (79 words).
        for rows in [900, 5_000] {
            let mut draw = Draw(0x9e37_79b9_7f4a_7c15 ^ rows as u64);
            let table = rate_rows(rows, &mut draw);
            let index = Index::build_as(&table, 4, Lookup::Bitsets);
            assert!(index.joint.is_some(), "the three small columns are joined");
            assert_eq!(index.summaries.is_empty(), rows > 4096);
            let fields: Vec<FieldIndex> = (0..4).map(FieldIndex::new).collect();
            let names = ["m1", "m2", "m3", "other"];
            for _ in 0..400 {
                let record = vec![
                    Value::Enum(draw.below(7) as u32),
                    Value::Bool(draw.below(2) == 0),
                    Value::Str(names[draw.below(4) as usize].to_string()),
                    // Now and then more decimals than the bounds have:
                    // the numeric column falls back to comparing decimals.
                    if draw.below(8) == 0 {
                        Value::Num(Decimal::new(draw.below(4_500_000) as i64, 3))
                    } else {
                        Value::Num(Decimal::new(draw.below(450_000) as i64, 2))
                    },
                ];
                let from = draw.below(rows as u64) as usize / 2;
                let scan = table
                    .iter()
                    .enumerate()
                    .skip(from)
                    .find(|(_, row)| row.cells.iter().zip(&record).all(|(c, v)| c.admits(v)));
                assert_eq!(
                    index.first_from(&record, &fields, from),
                    Some(scan.map(|(i, _)| i)),
                    "{rows} rows, from {from}: {record:?}"
                );
            }
        }
    }

    #[test]
    fn a_few_keys_are_found_by_their_probes() {
        let keys: Vec<String> = ["", "a", "m1", "m2", "twelve_bytes", "twelve_bytez"]
            .iter()
            .map(|k| k.to_string())
            .collect();
        let probes: Vec<(usize, u64)> = keys.iter().map(|k| probe(k)).collect();
        for s in [
            "",
            "a",
            "m1",
            "m2",
            "m3",
            "twelve_bytes",
            "twelve_bytez",
            "twelve_byte",
            "a\0",
        ] {
            assert_eq!(
                find_key(&keys, &probes, s),
                keys.binary_search_by(|k| k.as_str().cmp(s))
                    .unwrap_or(keys.len()),
                "{s:?}"
            );
        }
    }
}
