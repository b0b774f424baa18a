//! Sets of enum variants, as table cells hold them. The first 64 variants
//! fit one machine word, which is all a small enum ever needs; an enum of up
//! to [`MAX_ENUM_VARIANTS`] variants (merchant category codes, say) takes
//! one word per 64 variants.
//!
//! Every set has one form: `Small` when no variant from 64 up is in it,
//! else `Large` with no trailing zero word. So two equal sets compare equal,
//! and the artifact reader can refuse any other encoding.

use alloc::vec;
use alloc::vec::Vec;

/// The most variants an enum field may have in a compiled table.
pub const MAX_ENUM_VARIANTS: usize = 4096;

/// Words a set of [`MAX_ENUM_VARIANTS`] variants needs.
pub const MAX_WORDS: usize = MAX_ENUM_VARIANTS / 64;

/// A set of enum variants (variant `i` is the field's `i`-th, from 0).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Variants {
    /// Only variants below 64: bit `i` is variant `i`.
    Small(u64),
    /// Some variant from 64 up: bit `i` of word `w` is variant `64w + i`.
    /// At least two words, the last one not zero.
    Large(Vec<u64>),
}

impl Variants {
    /// The empty set.
    pub const NONE: Variants = Variants::Small(0);

    /// The set of these words (bit `i` of word `w` is variant `64w + i`),
    /// in its one form.
    pub fn from_words(mut words: Vec<u64>) -> Variants {
        while words.len() > 1 && words.last() == Some(&0) {
            words.pop();
        }
        match words.as_slice() {
            [] => Variants::NONE,
            [one] => Variants::Small(*one),
            _ => Variants::Large(words),
        }
    }

    /// The set holding variant `v` alone.
    pub fn single(v: u32) -> Variants {
        let mut words = vec![0u64; v as usize / 64 + 1];
        if let Some(w) = words.last_mut() {
            *w = 1u64 << (v % 64);
        }
        Variants::from_words(words)
    }

    /// Every variant of an enum of `n`.
    pub fn all(n: usize) -> Variants {
        let mut words = vec![u64::MAX; n / 64];
        if !n.is_multiple_of(64) {
            words.push((1u64 << (n % 64)) - 1);
        }
        Variants::from_words(words)
    }

    /// The words of the set: one for a `Small` set.
    pub fn words(&self) -> &[u64] {
        match self {
            Variants::Small(m) => core::slice::from_ref(m),
            Variants::Large(ws) => ws,
        }
    }

    /// Whether variant `v` is in the set.
    #[inline]
    pub fn contains(&self, v: u32) -> bool {
        match self {
            Variants::Small(m) => v < 64 && m & (1u64 << v) != 0,
            Variants::Large(ws) => ws
                .get(v as usize / 64)
                .is_some_and(|w| w & (1u64 << (v % 64)) != 0),
        }
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        // A `Large` set always has a variant in its last word.
        matches!(self, Variants::Small(0))
    }

    /// Whether some variant is in both sets.
    pub fn meets(&self, other: &Variants) -> bool {
        self.words()
            .iter()
            .zip(other.words())
            .any(|(a, b)| a & b != 0)
    }

    /// The variants in both sets.
    pub fn intersect(&self, other: &Variants) -> Variants {
        if let (Variants::Small(a), Variants::Small(b)) = (self, other) {
            return Variants::Small(a & b);
        }
        Variants::from_words(
            self.words()
                .iter()
                .zip(other.words())
                .map(|(a, b)| a & b)
                .collect(),
        )
    }

    /// The variants in either set.
    pub fn union(&self, other: &Variants) -> Variants {
        if let (Variants::Small(a), Variants::Small(b)) = (self, other) {
            return Variants::Small(a | b);
        }
        let (long, short) = if self.words().len() >= other.words().len() {
            (self.words(), other.words())
        } else {
            (other.words(), self.words())
        };
        let mut words = long.to_vec();
        for (w, s) in words.iter_mut().zip(short) {
            *w |= s;
        }
        Variants::from_words(words)
    }

    /// The variants of an enum of `n` that are not in the set.
    pub fn complement(&self, n: usize) -> Variants {
        let all = Variants::all(n);
        let words = all
            .words()
            .iter()
            .enumerate()
            .map(|(i, a)| a & !self.words().get(i).copied().unwrap_or(0))
            .collect();
        Variants::from_words(words)
    }

    /// One past the highest variant in the set (0 when empty).
    pub fn end(&self) -> usize {
        let words = self.words();
        words
            .iter()
            .rposition(|&w| w != 0)
            .and_then(|i| {
                let w = words.get(i)?;
                Some(i * 64 + 64 - w.leading_zeros() as usize)
            })
            .unwrap_or(0)
    }

    /// The variants in the set, in increasing order.
    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.words().iter().enumerate().flat_map(|(i, &w)| {
            let mut bits = w;
            core::iter::from_fn(move || {
                if bits == 0 {
                    return None;
                }
                let b = bits.trailing_zeros();
                bits &= bits - 1;
                Some(i as u32 * 64 + b)
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_form_per_set() {
        assert_eq!(Variants::single(3), Variants::Small(8));
        assert_eq!(Variants::from_words(vec![5, 0, 0]), Variants::Small(5));
        assert_eq!(Variants::from_words(vec![]), Variants::NONE);
        let big = Variants::single(4095);
        assert_eq!(big.words().len(), 64);
        assert!(big.contains(4095) && !big.contains(4094) && !big.contains(5000));
        assert_eq!(big.intersect(&Variants::Small(u64::MAX)), Variants::NONE);
        assert!(Variants::all(64) == Variants::Small(u64::MAX));
        assert_eq!(Variants::all(65).words(), &[u64::MAX, 1]);
    }

    #[test]
    fn set_operations() {
        let n = 300;
        let a = Variants::single(2).union(&Variants::single(200));
        let b = Variants::all(n).complement(n);
        assert!(b.is_empty());
        let not_a = a.complement(n);
        assert_eq!(not_a.iter().count(), n - 2);
        assert!(!not_a.meets(&a));
        assert_eq!(not_a.union(&a), Variants::all(n));
        assert_eq!(a.iter().collect::<Vec<_>>(), vec![2, 200]);
        assert_eq!(a.end(), 201);
        assert_eq!(Variants::NONE.end(), 0);
        assert_eq!(a.intersect(&Variants::single(200)), Variants::single(200));
    }
}
