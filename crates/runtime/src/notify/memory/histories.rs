//! One rule's keys in the server store, each with its kept instants inline
//! in its hash table slot, so that a decision reads a key's history with
//! one memory access.
//!
//! How many instants a slot holds inline is chosen per rule, from the
//! histories its keys keep: a rule starts with slots of two instants
//! (40 bytes), and when more than an eighth of its keys (and at least 16)
//! hold more than fit (their instants then live on the heap, a second
//! memory access away) its table is rebuilt with the next size: six
//! instants (64-byte slots), then fourteen (128). A rule whose keys keep more than fourteen instants each
//! (a cap of dozens per window, or a long lateness) keeps them on the
//! heap. Tables only grow: a rule's traffic that once needed the room is
//! expected to need it again.

use crate::times::Times;
use hashbrown::HashTable;

/// How many keys must keep more instants than fit before a rule's slots
/// grow: what the rule's keys keep, not a few early ones, sizes them.
const FEW_SPILLED: usize = 16;

/// A key's slot: its hash, then its instants (the key and the newest
/// instants a decision reads first share a cache line), aligned as `A`.
#[derive(Debug, Clone)]
#[repr(C)]
struct Slot<const N: usize, A> {
    _align: [A; 0],
    key: u64,
    times: Times<N>,
}

/// No alignment beyond the fields': slots of two instants (40 bytes) are
/// packed.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Packed;

/// Slots start on a cache line (64 bytes: six instants).
#[derive(Debug, Clone, Copy)]
#[repr(align(64))]
pub(crate) struct Line;

/// Slots start on a pair of cache lines that the processor fetches
/// together (128 bytes: fourteen instants).
#[derive(Debug, Clone, Copy)]
#[repr(align(128))]
pub(crate) struct Pair;

/// The table position of a key: the key is already a 64-bit hash, so one
/// multiply folds its bits together (hashbrown reads the top bits for its
/// tag and the low bits for the bucket).
fn slot_hash(key: u64) -> u64 {
    let m = u128::from(key).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (m as u64) ^ ((m >> 64) as u64)
}

/// The keys of one rule, with `N` instants inline per slot.
#[derive(Debug, Clone, Default)]
pub(crate) struct Table<const N: usize, A> {
    slots: HashTable<Slot<N, A>>,
    /// How many keys hold more than `N` instants (on the heap).
    spilled: usize,
}

impl<const N: usize, A> Table<N, A> {
    fn get(&self, key: u64) -> Option<&[i64]> {
        self.slots
            .find(slot_hash(key), |s| s.key == key)
            .map(|s| s.times.as_slice())
    }

    /// Adds a delivery, then forgets the key's instants at or before
    /// `after_ms`. Returns whether the key's instants moved to or from the
    /// heap.
    fn record(&mut self, key: u64, at_ms: i64, after_ms: i64) -> bool {
        let hash = slot_hash(key);
        let times = match self.slots.find_mut(hash, |s| s.key == key) {
            Some(slot) => &mut slot.times,
            None => {
                let slot = Slot {
                    _align: [],
                    key,
                    times: Times::default(),
                };
                &mut self
                    .slots
                    .insert_unique(hash, slot, |s| slot_hash(s.key))
                    .into_mut()
                    .times
            }
        };
        let was = times.spilled();
        times.insert(at_ms, after_ms);
        let now = times.spilled();
        self.count_spill(was, now);
        was != now
    }

    fn count_spill(&mut self, was: bool, now: bool) {
        match (was, now) {
            (false, true) => self.spilled += 1,
            (true, false) => self.spilled = self.spilled.saturating_sub(1),
            _ => {}
        }
    }

    fn forget(&mut self, key: u64) {
        if let Ok(entry) = self.slots.find_entry(slot_hash(key), |s| s.key == key) {
            let (slot, _) = entry.remove();
            self.count_spill(slot.times.spilled(), false);
        }
    }

    /// Sets a key's instants (in time order), replacing any.
    fn put(&mut self, key: u64, times: &[i64]) {
        self.forget(key);
        let times = Times::from_slice(times);
        self.count_spill(false, times.spilled());
        self.slots.insert_unique(
            slot_hash(key),
            Slot {
                _align: [],
                key,
                times,
            },
            |s| slot_hash(s.key),
        );
    }

    /// Keeps the keys for which `keep` gives an instant, each forgetting
    /// its instants at or before it; a key left with none goes too.
    fn retain(&mut self, mut keep: impl FnMut(&[i64]) -> Option<i64>) {
        self.slots.retain(|s| match keep(s.times.as_slice()) {
            Some(through) => {
                s.times.keep_after(through);
                !s.times.is_empty()
            }
            None => false,
        });
        self.spilled = self.slots.iter().filter(|s| s.times.spilled()).count();
    }

    fn iter(&self) -> impl Iterator<Item = (u64, &[i64])> {
        self.slots.iter().map(|s| (s.key, s.times.as_slice()))
    }

    /// Whether more than an eighth of the keys, and at least
    /// [`FEW_SPILLED`] of them, hold their instants on the heap.
    fn crowded(&self) -> bool {
        self.spilled >= FEW_SPILLED && self.spilled > self.slots.len() / 8
    }

    /// The same keys in slots of `M` instants.
    fn resized<const M: usize, B>(&self) -> Table<M, B> {
        let mut out = Table::<M, B> {
            slots: HashTable::with_capacity(self.slots.len()),
            spilled: 0,
        };
        for (key, times) in self.iter() {
            out.put(key, times);
        }
        out
    }
}

/// One rule's keys and their kept instants, in slots sized for them.
#[derive(Debug, Clone)]
pub(crate) enum Histories {
    /// Two instants inline per key.
    Two(Table<2, Packed>),
    /// Six, a slot to a cache line.
    Six(Table<6, Line>),
    /// Fourteen, a slot to a pair of lines.
    Fourteen(Table<14, Pair>),
}

impl Default for Histories {
    fn default() -> Histories {
        Histories::Two(Table::default())
    }
}

/// Runs `$body` with `$t` bound to the table, whatever its slot size.
macro_rules! each {
    ($h:expr, $t:ident => $body:expr) => {
        match $h {
            Histories::Two($t) => $body,
            Histories::Six($t) => $body,
            Histories::Fourteen($t) => $body,
        }
    };
}

impl Histories {
    /// The kept instants of `key`, oldest first; `None` for a key it does
    /// not hold.
    pub(crate) fn get(&self, key: u64) -> Option<&[i64]> {
        each!(self, t => t.get(key))
    }

    /// Adds a delivery of `key` at `at_ms`, then forgets the key's
    /// instants at or before `after_ms`; grows the slots when too many keys
    /// no longer fit in them.
    pub(crate) fn record(&mut self, key: u64, at_ms: i64, after_ms: i64) {
        if each!(&mut *self, t => t.record(key, at_ms, after_ms)) {
            self.grow_if_crowded();
        }
    }

    /// Sets the instants of `key` (in time order), as a saved
    /// state or another store holds them.
    pub(crate) fn put(&mut self, key: u64, times: &[i64]) {
        each!(&mut *self, t => t.put(key, times));
        self.grow_if_crowded();
    }

    /// Keeps the keys for which `keep` gives an instant, each forgetting
    /// its instants at or before it; a key left with none goes too.
    pub(crate) fn retain(&mut self, keep: impl FnMut(&[i64]) -> Option<i64>) {
        each!(self, t => t.retain(keep));
    }

    /// How many keys it holds.
    pub(crate) fn len(&self) -> usize {
        each!(self, t => t.slots.len())
    }

    /// Each key with its instants, in no particular order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u64, &[i64])> {
        let (two, six, fourteen) = match self {
            Histories::Two(t) => (Some(t.iter()), None, None),
            Histories::Six(t) => (None, Some(t.iter()), None),
            Histories::Fourteen(t) => (None, None, Some(t.iter())),
        };
        two.into_iter()
            .flatten()
            .chain(six.into_iter().flatten())
            .chain(fourteen.into_iter().flatten())
    }

    /// How many instants a slot holds inline.
    #[cfg(test)]
    pub(crate) fn inline(&self) -> usize {
        match self {
            Histories::Two(_) => 2,
            Histories::Six(_) => 6,
            Histories::Fourteen(_) => 14,
        }
    }

    fn grow_if_crowded(&mut self) {
        match self {
            Histories::Two(t) if t.crowded() => *self = Histories::Six(t.resized()),
            Histories::Six(t) if t.crowded() => *self = Histories::Fourteen(t.resized()),
            _ => {}
        }
    }
}

impl PartialEq for Histories {
    /// The same keys with the same instants, whatever the slot sizes.
    fn eq(&self, other: &Histories) -> bool {
        self.len() == other.len()
            && self
                .iter()
                .all(|(key, times)| other.get(key) == Some(times))
    }
}

impl Eq for Histories {}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    /// `keys` keys, key `k` given `instants(k)` deliveries in time order.
    fn filled(keys: u64, instants: impl Fn(u64) -> i64) -> Histories {
        let mut h = Histories::default();
        for key in 0..keys {
            for t in 0..instants(key) {
                h.record(key, t, i64::MIN);
            }
        }
        h
    }

    #[test]
    fn slots_are_the_sizes_the_docs_give() {
        use core::mem::{align_of, size_of};
        assert_eq!(size_of::<Slot<2, Packed>>(), 40);
        assert_eq!(
            (size_of::<Slot<6, Line>>(), align_of::<Slot<6, Line>>()),
            (64, 64)
        );
        assert_eq!(
            (size_of::<Slot<14, Pair>>(), align_of::<Slot<14, Pair>>()),
            (128, 128)
        );
    }

    #[test]
    fn slots_grow_when_the_keys_keep_more_than_fit() {
        assert_eq!(filled(100, |_| 2).inline(), 2);
        assert_eq!(filled(100, |_| 3).inline(), 6);
        assert_eq!(filled(100, |_| 7).inline(), 14);
        assert_eq!(filled(100, |_| 40).inline(), 14);
        // An eighth of the keys may spill before the slots grow.
        assert_eq!(filled(96, |k| if k % 8 == 0 { 3 } else { 1 }).inline(), 2);
        assert_eq!(filled(96, |k| if k % 4 == 0 { 3 } else { 1 }).inline(), 6);
        // So may the first few keys, whatever share they are.
        assert_eq!(filled(15, |_| 3).inline(), 2);
    }

    #[test]
    fn growing_keeps_every_key_and_instant() {
        let instants = |k: u64| (k % 20) as i64 + 1;
        let grown = filled(200, instants);
        assert_eq!(grown.inline(), 14);
        assert_eq!(grown.len(), 200);
        for key in 0..200 {
            let want: Vec<i64> = (0..instants(key)).collect();
            assert_eq!(grown.get(key), Some(&want[..]), "key {key}");
        }
        let mut small = Histories::default();
        for (key, times) in grown.iter() {
            small.put(key, times);
        }
        assert_eq!(small, grown);
    }

    #[test]
    fn retain_forgets_old_instants_and_empty_keys() {
        let mut h = filled(50, |k| (k % 10) as i64 + 1);
        h.retain(|times| (times.len() != 3).then_some(4));
        for key in 0..50 {
            let n = (key % 10) as i64 + 1;
            let want: Vec<i64> = (5..n).collect();
            match h.get(key) {
                Some(got) => assert_eq!(got, &want[..], "key {key}"),
                None => assert!(n == 3 || want.is_empty(), "key {key}"),
            }
        }
    }
}
