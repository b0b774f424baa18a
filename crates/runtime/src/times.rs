//! The kept delivery instants of one (rule, key) in the server store.
//!
//! Most keys hold one or two instants (a de-duplication keeps one; a busy
//! key under a small cap keeps two), so those stay inline in the hash
//! table's slot: reading them costs no second memory access and no
//! allocation. Longer histories move to the heap.

use alloc::vec::Vec;

/// How many instants fit inline.
const INLINE: usize = 2;

/// Delivery instants in milliseconds, oldest first.
#[derive(Debug, Clone)]
pub enum Times {
    /// Up to [`INLINE`] instants in place; `len` of them are used.
    Inline {
        /// How many of `at` are used.
        len: u8,
        /// The instants, oldest first.
        at: [i64; INLINE],
    },
    /// More instants, on the heap.
    Heap(Vec<i64>),
}

impl Default for Times {
    fn default() -> Times {
        Times::Inline {
            len: 0,
            at: [0; INLINE],
        }
    }
}

impl PartialEq for Times {
    fn eq(&self, other: &Times) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for Times {}

impl Times {
    /// Takes instants already in time order (allocating only for more than
    /// fit inline).
    pub fn from_slice(v: &[i64]) -> Times {
        match *v {
            [] => Times::default(),
            [a] => Times::Inline { len: 1, at: [a, 0] },
            [a, b] => Times::Inline { len: 2, at: [a, b] },
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

    /// How many instants are kept.
    pub fn len(&self) -> usize {
        self.as_slice().len()
    }

    /// Whether none are.
    pub fn is_empty(&self) -> bool {
        self.as_slice().is_empty()
    }

    /// Drops the instants at or before `from_ms`; a history left short
    /// moves back inline.
    pub fn keep_after(&mut self, from_ms: i64) {
        let cut = self.as_slice().partition_point(|&t| t <= from_ms);
        if cut == 0 {
            return;
        }
        match self {
            Times::Heap(v) if v.len() - cut > INLINE => {
                v.drain(..cut);
            }
            _ => *self = Times::from_slice(self.as_slice().get(cut..).unwrap_or(&[])),
        }
    }

    /// Adds `at_ms` in time order (records may arrive out of order), then
    /// drops the instants at or before `after_ms`.
    pub fn insert(&mut self, at_ms: i64, after_ms: i64) {
        match self {
            Times::Inline { len, at } => {
                // At most three instants: put the new one last and sort.
                let n = usize::from(*len);
                let mut all = [0i64; INLINE + 1];
                for (slot, t) in all.iter_mut().zip(at.iter().take(n)) {
                    *slot = *t;
                }
                let Some(filled) = all.get_mut(..=n) else {
                    return;
                };
                if let Some(last) = filled.last_mut() {
                    *last = at_ms;
                }
                crate::sort::sort(filled);
                let cut = filled.partition_point(|&t| t <= after_ms);
                *self = Times::from_slice(filled.get(cut..).unwrap_or(&[]));
            }
            Times::Heap(v) => {
                let pos = v.partition_point(|&t| t <= at_ms);
                v.insert(pos, at_ms);
                self.keep_after(after_ms);
            }
        }
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

    #[test]
    fn agrees_with_a_plain_vector_in_any_order() {
        let stream = [5, 3, 9, 9, 1, 12, 7, 7, 20, 2, 15, 30, 25];
        for span in 1..12 {
            let mut t = Times::default();
            let mut r = vec![];
            for &at in &stream {
                let newest = r.last().map_or(at, |&n: &i64| n.max(at));
                t.insert(at, newest - span);
                reference(&mut r, at, newest - span);
                assert_eq!(t.as_slice(), r.as_slice(), "span {span} at {at}");
            }
        }
    }

    #[test]
    fn trimming_keeps_the_recent_part() {
        let mut t = Times::from_slice(&[1, 2, 3, 4]);
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
        let mut t = Times::default();
        t.insert(1, i64::MIN);
        t.insert(2, i64::MIN);
        t.insert(3, 1);
        assert!(matches!(t, Times::Inline { len: 2, .. }));
        assert_eq!(t.as_slice(), &[2, 3]);
        assert_eq!(Times::from_slice(&[1, 2, 3]).len(), 3);
    }
}
