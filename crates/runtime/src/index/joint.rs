//! The joint of a wide table's columns with few segments (enums, booleans,
//! strings, ranges with few bounds): their bitsets intersected for every
//! combination of segments when the table is built, so that a lookup reads
//! one set, the rows all of them admit, in place of one set per column.
//!
//! On a rate sheet whose rules each name a channel, a region, a flag and a
//! merchant, the joint set of a record holds the few rows of its channel,
//! region, flag and merchant: intersected with the amount's, most words are
//! found empty from the summaries alone.

use super::{summary, ColumnIndex};
use crate::value::Value;
use alloc::vec::Vec;

/// The most combinations a joint may have.
pub const MAX_CELLS: usize = 1024;

/// The most 64-bit words a joint's sets may take together (128 KiB).
pub const MAX_WORDS: usize = 1 << 14;

/// The columns joined, and every combination's set.
#[derive(Debug, Clone)]
pub(crate) struct Joint {
    /// The columns joined (positions among the schedule's columns), each
    /// with the multiplier of its segment number.
    columns: Vec<(usize, usize)>,
    /// The joined enum columns, each with the segment above the variants
    /// its cells name and its multiplier: read as plain integers.
    enums: Vec<(usize, usize, usize)>,
    /// The joined boolean columns, each with its multiplier.
    bools: Vec<(usize, usize)>,
    /// The other joined columns (strings, numbers), each with its
    /// multiplier: located through [`ColumnIndex::segment`].
    others: Vec<(usize, usize)>,
    /// Per combination, the rows every joined column admits: `words` words
    /// each, back to back.
    sets: Vec<u64>,
    /// Per combination, bit `w` set when word `w` of its set is not empty
    /// (empty when sets exceed 64 words).
    summaries: Vec<u64>,
}

impl Joint {
    /// Joins the columns with fewest segments, as many as fit the limits;
    /// `None` when fewer than two do (one column needs no joint).
    pub(crate) fn build(columns: &[ColumnIndex], all: &[u64], words: usize) -> Option<Joint> {
        let mut by_segments: Vec<usize> = (0..columns.len())
            .filter(|&c| !matches!(columns.get(c), Some(ColumnIndex::All)))
            .collect();
        let segments = |c: usize| columns.get(c).map_or(usize::MAX, ColumnIndex::segments);
        crate::sort::sort_by(&mut by_segments, |&a, &b| segments(a) < segments(b));
        let mut joined: Vec<(usize, usize)> = Vec::new();
        let mut cells = 1usize;
        for c in by_segments {
            let Some(more) = cells.checked_mul(segments(c)) else {
                break;
            };
            if more > MAX_CELLS || more.saturating_mul(words) > MAX_WORDS {
                break;
            }
            joined.push((c, cells));
            cells = more;
        }
        if joined.len() < 2 || words == 0 {
            return None;
        }
        let mut sets = Vec::with_capacity(cells * words);
        for cell in 0..cells {
            for w in 0..words {
                let word = joined.iter().fold(u64::MAX, |acc, &(c, stride)| {
                    let Some(col) = columns.get(c) else { return 0 };
                    let seg = (cell / stride) % col.segments().max(1);
                    acc & col.set_word(all, seg, w, words)
                });
                sets.push(word);
            }
        }
        let summaries = if words <= 64 {
            sets.chunks(words)
                .map(|set| summary(set.iter().copied()))
                .collect()
        } else {
            Vec::new()
        };
        let (mut enums, mut bools, mut others) = (Vec::new(), Vec::new(), Vec::new());
        for &(c, stride) in &joined {
            match columns.get(c) {
                Some(ColumnIndex::Enum { domain, .. }) => enums.push((c, *domain, stride)),
                Some(ColumnIndex::Bool { .. }) => bools.push((c, stride)),
                _ => others.push((c, stride)),
            }
        }
        Some(Joint {
            columns: joined,
            enums,
            bools,
            others,
            sets,
            summaries,
        })
    }

    /// Whether column `c` is joined.
    pub(crate) fn covers(&self, c: usize) -> bool {
        self.columns.iter().any(|&(j, _)| j == c)
    }

    /// The combination a record falls in, from each joined column's
    /// segment (`value` reads the record's value of a column; `None` for a
    /// value missing or of the wrong type): enums and booleans read as
    /// integers, without a `match` on the column's kind.
    #[inline]
    pub(crate) fn cell<'r>(
        &self,
        columns: &[ColumnIndex],
        value: impl Fn(usize) -> Option<&'r Value>,
    ) -> Option<usize> {
        let mut at = 0usize;
        for &(c, domain, stride) in &self.enums {
            let Some(Value::Enum(v)) = value(c) else {
                return None;
            };
            at += (*v as usize).min(domain) * stride;
        }
        for &(c, stride) in &self.bools {
            let Some(Value::Bool(b)) = value(c) else {
                return None;
            };
            at += usize::from(*b) * stride;
        }
        for &(c, stride) in &self.others {
            at += columns.get(c)?.segment(value(c)?)? * stride;
        }
        Some(at)
    }

    /// The rows combination `cell` admits.
    #[inline]
    pub(crate) fn set(&self, cell: usize, words: usize) -> &[u64] {
        self.sets
            .get(cell * words..(cell + 1) * words)
            .unwrap_or(&[])
    }

    /// The summary of combination `cell`'s set (see [`Joint::summaries`]).
    #[inline]
    pub(crate) fn summary(&self, cell: usize) -> u64 {
        self.summaries.get(cell).copied().unwrap_or(0)
    }
}
