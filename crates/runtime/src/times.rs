//! The kept delivery instants of one (rule, key) in the server store.
//!
//! Up to `N` instants stay inline in the hash table's slot: reading them
//! costs no second memory access and no allocation. Longer histories move
//! to the heap. The store picks `N` per rule from the histories its keys
//! keep (see [`crate::notify::MemoryState`]).

use alloc::vec::Vec;

/// Delivery instants in milliseconds, oldest first: up to `N` inline.
/// The tag and the length come first, in one word, then the instants:
/// `8 + 8 × N` bytes (at least 32, a vector's size).
#[derive(Debug, Clone)]
#[repr(u8)]
pub enum Times<const N: usize> {
    /// Up to `N` instants in place; `len` of them are used.
    Inline {
        /// How many of `at` are used.
        len: u8,
        /// The instants, oldest first.
        at: [i64; N],
    },
    /// More instants, on the heap.
    Heap(Vec<i64>),
}

impl<const N: usize> Default for Times<N> {
    fn default() -> Times<N> {
        Times::Inline { len: 0, at: [0; N] }
    }
}

impl<const N: usize> PartialEq for Times<N> {
    fn eq(&self, other: &Times<N>) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl<const N: usize> Eq for Times<N> {}

impl<const N: usize> Times<N> {
    /// Takes instants already in time order (allocating only for more than
    /// fit inline).
    pub fn from_slice(v: &[i64]) -> Times<N> {
        let mut at = [0; N];
        match (at.get_mut(..v.len()), u8::try_from(v.len())) {
            (Some(inline), Ok(len)) => {
                inline.copy_from_slice(v);
                Times::Inline { len, at }
            }
            _ => Times::Heap(v.to_vec()),
        }
    }

    /// The instants, oldest first.
    pub fn as_slice(&self) -> &[i64] {
        match self {
            Times::Inline { len, at } => at.get(..usize::from(*len)).unwrap_or(&[]),
            Times::Heap(v) => v,
        }
    }

    /// Whether none are.
    pub fn is_empty(&self) -> bool {
        self.as_slice().is_empty()
    }

    /// Whether the instants are on the heap (more than `N`).
    pub fn spilled(&self) -> bool {
        matches!(self, Times::Heap(_))
    }

    /// Drops the instants at or before `from_ms`; a history left short
    /// moves back inline.
    pub fn keep_after(&mut self, from_ms: i64) {
        // Counted from the oldest: a delivery usually forgets none or one.
        let cut = self
            .as_slice()
            .iter()
            .take_while(|&&t| t <= from_ms)
            .count();
        if cut == 0 {
            return;
        }
        match self {
            Times::Heap(v) if v.len() - cut > N => {
                v.drain(..cut);
            }
            Times::Heap(v) => *self = Times::from_slice(v.get(cut..).unwrap_or(&[])),
            Times::Inline { len, at } => {
                let n = usize::from(*len);
                at.copy_within(cut..n, 0);
                *len = (n - cut) as u8;
            }
        }
    }

    /// Adds `at_ms` in time order (records may arrive out of order), then
    /// drops the instants at or before `after_ms`. Allocates only when
    /// the history grows past `N`.
    pub fn insert(&mut self, at_ms: i64, after_ms: i64) {
        match self {
            Times::Inline { len, at } if usize::from(*len) < N => {
                let n = usize::from(*len);
                let Some(used) = at.get_mut(..=n) else {
                    return;
                };
                // Shift the later instants up by one, from the newest down:
                // in-order traffic shifts none.
                let mut pos = n;
                while let Some(&t) = pos.checked_sub(1).and_then(|p| used.get(p)) {
                    if t <= at_ms {
                        break;
                    }
                    if let Some(slot) = used.get_mut(pos) {
                        *slot = t;
                    }
                    pos -= 1;
                }
                if let Some(slot) = used.get_mut(pos) {
                    *slot = at_ms;
                }
                *len += 1;
            }
            Times::Inline { .. } => {
                let mut v = Vec::with_capacity(N + 2);
                v.extend_from_slice(self.as_slice());
                let pos = v.partition_point(|&t| t <= at_ms);
                v.insert(pos, at_ms);
                *self = Times::Heap(v);
            }
            Times::Heap(v) => {
                let pos = v.partition_point(|&t| t <= at_ms);
                v.insert(pos, at_ms);
            }
        }
        self.keep_after(after_ms);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    /// The plain vector version the inline form must agree with.
    fn reference(v: &mut Vec<i64>, at: i64, after: i64) {
        let pos = v.partition_point(|&t| t <= at);
        v.insert(pos, at);
        v.retain(|&t| t > after);
    }

    /// Feeds `stream` to a `Times<N>` and to the reference for each span.
    fn agrees<const N: usize>(stream: &[i64]) {
        for span in 1..12 {
            let mut t = Times::<N>::default();
            let mut r = vec![];
            for &at in stream {
                let newest = r.last().map_or(at, |&n: &i64| n.max(at));
                t.insert(at, newest - span);
                reference(&mut r, at, newest - span);
                assert_eq!(t.as_slice(), r.as_slice(), "N {N} span {span} at {at}");
                assert_eq!(t.spilled(), r.len() > N, "N {N} span {span} at {at}");
            }
        }
    }

    #[test]
    fn agrees_with_a_plain_vector_in_any_order() {
        let stream = [5, 3, 9, 9, 1, 12, 7, 7, 20, 2, 15, 30, 25];
        let ascending: Vec<i64> = (0..40).collect();
        let bursts: Vec<i64> = (0..40).map(|i| (i / 5) * 3 + i % 5).collect();
        for s in [&stream[..], &ascending, &bursts] {
            agrees::<1>(s);
            agrees::<2>(s);
            agrees::<6>(s);
            agrees::<14>(s);
        }
    }

    #[test]
    fn trimming_keeps_the_recent_part() {
        let mut t = Times::<2>::from_slice(&[1, 2, 3, 4]);
        t.keep_after(2);
        assert_eq!(t.as_slice(), &[3, 4]);
        assert!(matches!(t, Times::Inline { len: 2, .. }));
        t.keep_after(0);
        assert_eq!(t.as_slice(), &[3, 4]);
        t.keep_after(9);
        assert!(t.is_empty());
    }

    #[test]
    fn small_histories_stay_inline() {
        let mut t = Times::<2>::default();
        t.insert(1, i64::MIN);
        t.insert(2, i64::MIN);
        t.insert(3, 1);
        assert!(matches!(t, Times::Inline { len: 2, .. }));
        assert_eq!(t.as_slice(), &[2, 3]);
        assert_eq!(Times::<2>::from_slice(&[1, 2, 3]).as_slice().len(), 3);
    }
}
