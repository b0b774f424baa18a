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
    /// Whether lookups intersect the bitsets (else they scan, or use the grid).
    use_bitsets: bool,
    /// Columns in the order their bitsets are intersected: the sparsest
    /// first, so that a word is found empty after as few loads as possible.
    order: Vec<usize>,
    grid: Option<Grid>,
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

/// One column's value → rows map. Bitsets are stored back to back.
#[derive(Debug, Clone)]
enum ColumnIndex {
    /// Admits every row whatever the value (all cells `Any`).
    All,
    /// Bitset per enum variant below `domain`, then one for every variant
    /// from `domain` up (no cell names those, so they all behave alike).
    Enum { sets: Vec<u64>, domain: usize },
    /// Bitsets for false and true.
    Bool(Vec<u64>),
    /// Sorted distinct bounds; bitsets per segment: 2i is the open gap below
    /// point i, 2i+1 the point itself, 2k above the last.
    Num {
        points: Vec<Decimal>,
        /// The points as integers at one common scale, when they all fit:
        /// searching integers is several times faster than decimals.
        scaled: Option<Scaled>,
        sets: Vec<u64>,
    },
    /// Sorted distinct strings named by cells, a bitset each, then one for
    /// every other string.
    Str { keys: Vec<String>, sets: Vec<u64> },
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
        index
    }

    /// Builds the lookup `choice` (when it is possible for these rows).
    pub(crate) fn build_as(rows: &[Row], columns: usize, choice: Lookup) -> Index {
        match choice {
            Lookup::Scan => Index::default(),
            Lookup::Bitsets => {
                let mut index = Index::bitsets(rows, columns);
                index.use_bitsets = index.words > 0 && columns <= STACK_COLUMNS;
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
                    *word &= col.set_word(seg, w, self.words);
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
        let mut total = 0usize;
        for c in 0..columns {
            let cells = rows.iter().map(|r| r.cells.get(c).unwrap_or(&Cell::Any));
            let col = build_column(cells, words, &mut total);
            match col {
                Some(col) => out.push(col),
                None => return Index::default(),
            }
        }
        // Average fraction of rows a segment admits, per column.
        let density = |col: &ColumnIndex| -> u64 {
            let ones: u64 = (0..col.segments())
                .flat_map(|seg| (0..words).map(move |w| (seg, w)))
                .map(|(seg, w)| u64::from(col.set_word(seg, w, words).count_ones()))
                .sum();
            ones * 1_000 / (col.segments().max(1) * rows.len().max(1)) as u64
        };
        let mut order: Vec<usize> = (0..out.len()).collect();
        // By density, ties in column order (as a stable sort leaves them).
        let key = |c: usize| (out.get(c).map_or(u64::MAX, density), c);
        crate::sort::sort_by(&mut order, |&a, &b| key(a) < key(b));
        Index {
            words,
            columns: out,
            use_bitsets: false,
            order,
            grid: None,
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
        // word; columns that admit every row are left out.
        if self.columns.len() > STACK_COLUMNS {
            return None;
        }
        let empty: &[u64] = &[];
        let mut sets = [empty; STACK_COLUMNS];
        let mut n = 0;
        for &c in &self.order {
            let (Some(col), Some(&f)) = (self.columns.get(c), columns.get(c)) else {
                return None;
            };
            if matches!(col, ColumnIndex::All) {
                continue;
            }
            let Some(seg) = record.get(f.get() as usize).and_then(|v| col.segment(v)) else {
                return Some(None);
            };
            if let Some(slot) = sets.get_mut(n) {
                *slot = col.set_slice(seg, self.words);
                n += 1;
            }
        }
        let active = sets.get(..n).unwrap_or(&[]);
        let start_word = from / 64;
        for w in start_word..self.words {
            let mut acc = u64::MAX;
            if w == start_word {
                acc &= u64::MAX << (from % 64);
            }
            for set in active {
                acc &= set.get(w).copied().unwrap_or(0);
                if acc == 0 {
                    break;
                }
            }
            if acc != 0 {
                return Some(Some(w * 64 + acc.trailing_zeros() as usize));
            }
        }
        Some(None)
    }
}

impl ColumnIndex {
    /// The segment a value falls in: a variant, a boolean, a gap or point
    /// between the column's bounds, a named string or any other. `None` for
    /// a value of the wrong type.
    #[inline]
    fn segment(&self, value: &Value) -> Option<usize> {
        Some(match (self, value) {
            (ColumnIndex::All, _) => 0,
            (ColumnIndex::Enum { domain, .. }, Value::Enum(v)) => (*v as usize).min(*domain),
            (ColumnIndex::Bool(_), Value::Bool(b)) => usize::from(*b),
            (ColumnIndex::Num { points, scaled, .. }, Value::Num(x)) => match scaled
                .as_ref()
                .and_then(|sc| sc.search(x))
                .unwrap_or_else(|| points.binary_search(x))
            {
                Ok(i) => 2 * i + 1,
                Err(i) => 2 * i,
            },
            (ColumnIndex::Str { keys, .. }, Value::Str(s)) => {
                keys.binary_search(s).unwrap_or(keys.len())
            }
            _ => return None,
        })
    }

    /// How many segments the column has.
    fn segments(&self) -> usize {
        match self {
            ColumnIndex::All => 1,
            ColumnIndex::Enum { domain, .. } => domain + 1,
            ColumnIndex::Bool(_) => 2,
            ColumnIndex::Num { points, .. } => 2 * points.len() + 1,
            ColumnIndex::Str { keys, .. } => keys.len() + 1,
        }
    }

    /// Segment `seg`'s bitset (all `words` of it); empty for `All`.
    #[inline]
    fn set_slice(&self, seg: usize, words: usize) -> &[u64] {
        let sets = match self {
            ColumnIndex::All => return &[],
            ColumnIndex::Enum { sets, .. }
            | ColumnIndex::Bool(sets)
            | ColumnIndex::Num { sets, .. }
            | ColumnIndex::Str { sets, .. } => sets,
        };
        sets.get(seg * words..(seg + 1) * words).unwrap_or(&[])
    }

    /// Word `w` of segment `seg`'s bitset.
    #[inline]
    fn set_word(&self, seg: usize, w: usize, words: usize) -> u64 {
        let sets = match self {
            ColumnIndex::All => return u64::MAX,
            ColumnIndex::Enum { sets, .. }
            | ColumnIndex::Bool(sets)
            | ColumnIndex::Num { sets, .. }
            | ColumnIndex::Str { sets, .. } => sets,
        };
        sets.get(seg * words + w).copied().unwrap_or(0)
    }
}

/// Decimal points as `i128` at a common scale, for fast exact search.
#[derive(Debug, Clone)]
struct Scaled {
    scale: u32,
    keys: Vec<i128>,
}

impl Scaled {
    fn new(points: &[Decimal]) -> Option<Scaled> {
        let scale = points.iter().map(Decimal::scale).max().unwrap_or(0);
        let keys = points
            .iter()
            .map(|p| Scaled::key(p, scale))
            .collect::<Option<Vec<i128>>>()?;
        Some(Scaled { scale, keys })
    }

    /// `x` × 10^scale as an integer, when that is exact and fits.
    #[inline]
    fn key(x: &Decimal, scale: u32) -> Option<i128> {
        let up = scale.checked_sub(x.scale())?;
        x.mantissa().checked_mul(10i128.checked_pow(up)?)
    }

    /// The binary search of `x` among the points, or `None` when `x` has
    /// more decimals than the points (the caller then searches decimals).
    #[inline]
    fn search(&self, x: &Decimal) -> Option<Result<usize, usize>> {
        Scaled::key(x, self.scale).map(|k| branchless_search(&self.keys, k))
    }
}

/// `slice.binary_search(&key)` for sorted distinct keys, written so that the
/// loop's only branch is its (predictable) trip count: each step picks the
/// half with a conditional move. The searched value is random per record, so
/// the usual early-exit branches mispredict about half the time.
#[inline]
fn branchless_search(keys: &[i128], key: i128) -> Result<usize, usize> {
    let mut base = 0usize;
    let mut len = keys.len();
    if len == 0 {
        return Err(0);
    }
    while len > 1 {
        let half = len / 2;
        let probe = keys.get(base + half).copied().unwrap_or(i128::MAX);
        base = if probe <= key { base + half } else { base };
        len -= half;
    }
    match keys.get(base).copied() {
        Some(k) if k == key => Ok(base),
        Some(k) if k < key => Err(base + 1),
        _ => Err(base),
    }
}

/// Builds one column's index, or `None` when it would exceed the size limit.
fn build_column<'a>(
    cells: impl Iterator<Item = &'a Cell> + Clone,
    words: usize,
    total: &mut usize,
) -> Option<ColumnIndex> {
    match cells.clone().find(|c| !matches!(c, Cell::Any)) {
        Some(sample) => build_typed(cells, sample, words, total),
        None => Some(ColumnIndex::All),
    }
}

fn build_typed<'a>(
    cells: impl Iterator<Item = &'a Cell> + Clone,
    sample: &Cell,
    words: usize,
    total: &mut usize,
) -> Option<ColumnIndex> {
    let mut alloc_sets = |n: usize| -> Option<Vec<u64>> {
        let size = n.checked_mul(words)?;
        *total = total.checked_add(size)?;
        if *total > MAX_INDEX_WORDS {
            return None;
        }
        Some(vec![0u64; size])
    };
    let set_bit = |sets: &mut [u64], set: usize, row: usize| {
        if let Some(word) = sets.get_mut(set * words + row / 64) {
            *word |= 1u64 << (row % 64);
        }
    };
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
            let mut sets = alloc_sets(domain + 1)?;
            for (row, cell) in cells.enumerate() {
                match cell {
                    Cell::Enum(set) => {
                        for v in set.iter() {
                            set_bit(&mut sets, v as usize, row);
                        }
                    }
                    Cell::Any => {
                        for v in 0..=domain {
                            set_bit(&mut sets, v, row);
                        }
                    }
                    _ => {}
                }
            }
            Some(ColumnIndex::Enum { sets, domain })
        }
        Cell::Bool(_) => {
            let mut sets = alloc_sets(2)?;
            for (row, cell) in cells.enumerate() {
                for b in [false, true] {
                    if cell.admits(&Value::Bool(b)) {
                        set_bit(&mut sets, usize::from(b), row);
                    }
                }
            }
            Some(ColumnIndex::Bool(sets))
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
            let mut sets = alloc_sets(segments)?;
            for (row, cell) in cells.enumerate() {
                match cell {
                    Cell::Any => {
                        for seg in 0..segments {
                            set_bit(&mut sets, seg, row);
                        }
                    }
                    Cell::Range(iv) => {
                        for seg in 0..segments {
                            if admits_segment(iv.lo, iv.hi, &points, seg) {
                                set_bit(&mut sets, seg, row);
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
                sets,
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
            let mut sets = alloc_sets(keys.len() + 1)?;
            for (row, cell) in cells.enumerate() {
                for (k, key) in keys.iter().enumerate() {
                    if cell.admits(&Value::Str(key.clone())) {
                        set_bit(&mut sets, k, row);
                    }
                }
                // Any string no cell names: admitted by Any and by every NotIn.
                if matches!(cell, Cell::Any | Cell::StrNotIn(_)) {
                    set_bit(&mut sets, keys.len(), row);
                }
            }
            Some(ColumnIndex::Str { keys, sets })
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

    #[test]
    fn branchless_search_agrees_with_binary_search() {
        for n in 0..40i128 {
            let keys: Vec<i128> = (0..n).map(|i| i * 3 - 20).collect();
            for key in -25..(n * 3) {
                assert_eq!(
                    branchless_search(&keys, key),
                    keys.binary_search(&key),
                    "n={n} key={key}"
                );
            }
        }
    }
}
