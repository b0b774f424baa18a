//! Locating a number among a column's sorted bounds: as 64-bit integers at
//! one common scale when they fit (several times faster than comparing
//! decimals), by a branch-free binary search; and for columns with many
//! bounds, first by a table of buckets over the keys' range, so that only
//! the few keys of one bucket are searched.
//!
//! On the 1,000-rule rate sheet the amount has about 1,200 bounds: a binary
//! search over all of them took 11 steps per record, the bucket and its one
//! or two keys take about two (`BENCHMARKS.md`, section 3).

use crate::rounding::POW10;
use crate::Decimal;
use alloc::vec::Vec;

/// Columns with at least this many bounds get a bucket table.
pub const BUCKETED_KEYS: usize = 64;

/// The most buckets a table may have (16 KiB of `u32`).
pub const MAX_BUCKETS: usize = 4096;

/// The binary search among decimal points (when they are not scaled).
#[inline(never)]
pub(super) fn search_decimals(points: &[Decimal], x: &Decimal) -> Result<usize, usize> {
    points.binary_search(x)
}

/// Decimal points as `i64` at a common scale, for fast exact search.
#[derive(Debug, Clone)]
pub(super) struct Scaled {
    scale: u32,
    keys: Vec<i64>,
    /// For many keys, where each bucket's keys start.
    buckets: Option<Buckets>,
}

impl Scaled {
    /// The points as integers at their largest scale; `None` when one of
    /// them does not fit 64 bits there.
    pub(super) fn new(points: &[Decimal]) -> Option<Scaled> {
        let scale = points.iter().map(Decimal::scale).max().unwrap_or(0);
        let keys = points
            .iter()
            .map(|p| Scaled::key(p, scale))
            .collect::<Option<Vec<i64>>>()?;
        let buckets = Buckets::new(&keys);
        Some(Scaled {
            scale,
            keys,
            buckets,
        })
    }

    /// `x` × 10^scale as an integer, when that is exact and fits 64 bits
    /// (a shift of 20 places or more never fits, but for zero: `None`, and
    /// the caller searches the decimals).
    #[inline(always)]
    fn key(x: &Decimal, scale: u32) -> Option<i64> {
        let up = scale.checked_sub(x.scale())?;
        let key = if up == 0 {
            x.mantissa()
        } else {
            x.mantissa()
                .checked_mul(i128::from(*POW10.get(up as usize)?))?
        };
        i64::try_from(key).ok()
    }

    /// The binary search of `x` among the points, or `None` when `x` has
    /// more decimals than the points or is too large for 64 bits at their
    /// scale (the caller then searches decimals).
    #[inline(always)]
    pub(super) fn search(&self, x: &Decimal) -> Option<Result<usize, usize>> {
        let key = Scaled::key(x, self.scale)?;
        Some(match &self.buckets {
            Some(b) => b.search(&self.keys, key),
            None => branchless_search(&self.keys, key),
        })
    }
}

/// The keys' range cut into equal buckets (a power of two wide each):
/// bucket `b` holds the keys `k` with `(k - low) >> shift == b`, which are
/// `keys[starts[b]..starts[b + 1]]`. Every key of an earlier bucket is
/// smaller than any value of bucket `b`, every key of a later one larger,
/// so a value is located by searching its own bucket alone.
#[derive(Debug, Clone)]
struct Buckets {
    low: i64,
    shift: u32,
    starts: Vec<u32>,
}

impl Buckets {
    /// A table for sorted distinct `keys`, about one bucket per key; `None`
    /// for fewer than [`BUCKETED_KEYS`] keys.
    fn new(keys: &[i64]) -> Option<Buckets> {
        if keys.len() < BUCKETED_KEYS || u32::try_from(keys.len()).is_err() {
            return None;
        }
        let (&low, &high) = (keys.first()?, keys.last()?);
        let count = keys.len().next_power_of_two().min(MAX_BUCKETS);
        // The span fits 64 bits unsigned: both ends are `i64`.
        let span = high.wrapping_sub(low) as u64;
        let shift = (0..64).find(|&s| (span >> s) < count as u64).unwrap_or(63);
        let starts = (0..=count)
            .map(|b| {
                let at =
                    keys.partition_point(|&k| (k.wrapping_sub(low) as u64 >> shift) < b as u64);
                at as u32
            })
            .collect();
        Some(Buckets { low, shift, starts })
    }

    /// `keys.binary_search(&key)`, through `key`'s bucket.
    #[inline(always)]
    fn search(&self, keys: &[i64], key: i64) -> Result<usize, usize> {
        if key < self.low {
            return Err(0);
        }
        // `key - low` is exact as unsigned: `key` is at least `low`.
        let b = (key.wrapping_sub(self.low) as u64 >> self.shift) as usize;
        let (Some(&start), Some(&end)) = (self.starts.get(b), self.starts.get(b + 1)) else {
            // Past the last bucket: above every key.
            return Err(keys.len());
        };
        let (start, end) = (start as usize, end as usize);
        let bucket = keys.get(start..end).unwrap_or(&[]);
        match branchless_search(bucket, key) {
            Ok(i) => Ok(start + i),
            Err(i) => Err(start + i),
        }
    }
}

/// `slice.binary_search(&key)` for sorted distinct keys, written so that the
/// loop's only branch is its (predictable) trip count: each step picks the
/// half with a conditional move. The searched value is random per record, so
/// the usual early-exit branches mispredict about half the time.
#[inline]
pub(super) fn branchless_search(keys: &[i64], key: i64) -> Result<usize, usize> {
    let mut base = 0usize;
    let mut len = keys.len();
    if len == 0 {
        return Err(0);
    }
    while len > 1 {
        let half = len / 2;
        let probe = keys.get(base + half).copied().unwrap_or(i64::MAX);
        base = core::hint::select_unpredictable(probe <= key, base + half, base);
        len -= half;
    }
    match keys.get(base).copied() {
        Some(k) if k == key => Ok(base),
        Some(k) if k < key => Err(base + 1),
        _ => Err(base),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn branchless_search_agrees_with_binary_search() {
        for n in 0..40i64 {
            let keys: Vec<i64> = (0..n).map(|i| i * 3 - 20).collect();
            for key in -25..(n * 3) {
                assert_eq!(
                    branchless_search(&keys, key),
                    keys.binary_search(&key),
                    "n={n} key={key}"
                );
            }
        }
    }

    #[test]
    fn a_bucketed_search_agrees_with_binary_search() {
        // Spread evenly, clustered with one far outlier, and at the ends of
        // the 64-bit range: every key, its neighbours and values outside.
        let even: Vec<i64> = (0..1_200).map(|i| i * 100 + 99 * (i % 2)).collect();
        let mut clustered: Vec<i64> = (0..300).collect();
        clustered.push(1 << 40);
        let mut extremes: Vec<i64> = (0..100).map(|i| i64::MIN + i * 7).collect();
        extremes.extend((0..100).map(|i| i64::MAX - 700 + i * 7));
        let doubled: Vec<i64> = (0..4_500).map(|i| i * 2).collect();
        for keys in [even, clustered, extremes, doubled] {
            let buckets = Buckets::new(&keys).expect("enough keys for buckets");
            let probes = keys
                .iter()
                .flat_map(|&k| [k.saturating_sub(1), k, k.saturating_add(1)])
                .chain([i64::MIN, i64::MAX, 0]);
            for key in probes {
                assert_eq!(
                    buckets.search(&keys, key),
                    keys.binary_search(&key),
                    "key={key}"
                );
            }
        }
        assert!(Buckets::new(&[1, 2, 3]).is_none(), "few keys: no table");
    }
}
