//! The lookup index of a schedule: per column, the value read from the record
//! selects a bitset of the rows that admit it; the bitsets of all columns are
//! intersected word by word and the first set bit is the matching row.
//!
//! Small tables are scanned row by row instead, which measures faster (see
//! `docs/evaluator.md`); so are tables whose index would be too large.

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

/// A schedule's lookup structure.
#[derive(Debug, Clone, Default)]
pub(crate) struct Index {
    /// Words per bitset; zero when the table is scanned instead.
    words: usize,
    columns: Vec<ColumnIndex>,
}

/// One column's value → rows map. Bitsets are stored back to back.
#[derive(Debug, Clone)]
enum ColumnIndex {
    /// Admits every row whatever the value (all cells `Any`).
    All,
    /// Bitset per enum variant (64 of them).
    Enum(Vec<u64>),
    /// Bitsets for false and true.
    Bool(Vec<u64>),
    /// Sorted distinct bounds; bitsets per segment: 2i is the open gap below
    /// point i, 2i+1 the point itself, 2k above the last.
    Num {
        points: Vec<Decimal>,
        sets: Vec<u64>,
    },
    /// Sorted distinct strings named by cells, a bitset each, then one for
    /// every other string.
    Str { keys: Vec<String>, sets: Vec<u64> },
}

impl Index {
    /// Builds the index of `rows`, or an empty one when scanning is better.
    pub(crate) fn build(rows: &[Row], columns: usize) -> Index {
        if rows.len() < SCAN_BELOW_ROWS {
            return Index::default();
        }
        Index::build_always(rows, columns)
    }

    /// Builds the index whatever the number of rows (empty only when it
    /// would exceed [`MAX_INDEX_WORDS`] or there are no rows).
    pub(crate) fn build_always(rows: &[Row], columns: usize) -> Index {
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
        Index {
            words,
            columns: out,
        }
    }

    /// Whether the index was built (else the table is scanned).
    #[inline]
    pub(crate) fn is_built(&self) -> bool {
        self.words > 0
    }

    /// The first row at or after `from` that admits the record's values of
    /// `columns`. `None` when the index is not built: the caller scans.
    #[inline]
    pub(crate) fn first_from(
        &self,
        record: &[Value],
        columns: &[u32],
        from: usize,
    ) -> Option<Option<usize>> {
        if !self.is_built() {
            return None;
        }
        let start_word = from / 64;
        for w in start_word..self.words {
            let mut acc = u64::MAX;
            if w == start_word {
                acc &= u64::MAX << (from % 64);
            }
            for (c, col) in self.columns.iter().enumerate() {
                let value = columns.get(c).and_then(|&f| record.get(f as usize));
                acc &= col.word(value, w, self.words);
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
    /// Word `w` of the bitset selected by `value`.
    fn word(&self, value: Option<&Value>, w: usize, words: usize) -> u64 {
        let set = match (self, value) {
            (ColumnIndex::All, _) => return u64::MAX,
            (ColumnIndex::Enum(_), Some(Value::Enum(v))) if *v < 64 => *v as usize,
            (ColumnIndex::Bool(_), Some(Value::Bool(b))) => usize::from(*b),
            (ColumnIndex::Num { points, .. }, Some(Value::Num(x))) => match points.binary_search(x)
            {
                Ok(i) => 2 * i + 1,
                Err(i) => 2 * i,
            },
            (ColumnIndex::Str { keys, .. }, Some(Value::Str(s))) => {
                keys.binary_search(s).unwrap_or(keys.len())
            }
            _ => return 0,
        };
        let sets = match self {
            ColumnIndex::Enum(s)
            | ColumnIndex::Bool(s)
            | ColumnIndex::Num { sets: s, .. }
            | ColumnIndex::Str { sets: s, .. } => s,
            ColumnIndex::All => return u64::MAX,
        };
        sets.get(set * words + w).copied().unwrap_or(0)
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
            let mut sets = alloc_sets(64)?;
            for (row, cell) in cells.enumerate() {
                for v in 0..64usize {
                    if cell.admits(&Value::Enum(v as u32)) {
                        set_bit(&mut sets, v, row);
                    }
                }
            }
            Some(ColumnIndex::Enum(sets))
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
            points.sort();
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
            Some(ColumnIndex::Num { points, sets })
        }
        Cell::StrIn(_) | Cell::StrNotIn(_) => {
            let mut keys: Vec<String> = Vec::new();
            for cell in cells.clone() {
                if let Cell::StrIn(s) | Cell::StrNotIn(s) = cell {
                    keys.extend(s.iter().cloned());
                }
            }
            keys.sort();
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
