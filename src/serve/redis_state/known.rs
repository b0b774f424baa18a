//! What an instance remembers of the values of caps' keys: the values it
//! last read or wrote there, believed to be what they still hold.
//!
//! A belief is a guess only, never trusted (the script checks it), so a
//! forgotten or stale value costs a second round trip, never a wrong
//! decision. The memory is bounded: when a part is full, the key it
//! learned of first is forgotten, so a working set larger than the bound
//! still finds most of its keys (about bound / working set of them)
//! instead of losing everything at once.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// The default of `--redis-known-keys`: how many values of caps' keys an
/// instance remembers.
pub const DEFAULT_ENTRIES: usize = 1 << 19;

/// The parts, each behind its own lock.
const PARTS: usize = 16;

/// One part: the values by key hash, and the hashes in the order they were
/// learned (oldest first; a hash forgotten since may still be listed).
#[derive(Default)]
struct Part {
    values: HashMap<u64, Vec<u8>>,
    order: VecDeque<u64>,
}

/// The values of caps' keys, by the hash of their Redis key.
pub(super) struct Known {
    parts: Vec<Mutex<Part>>,
    /// The most values one part holds.
    per_part: usize,
}

impl Known {
    /// Remembers nothing, and at most about `entries` values (at least one
    /// per part).
    pub fn new(entries: usize) -> Known {
        Known {
            parts: (0..PARTS).map(|_| Mutex::new(Part::default())).collect(),
            per_part: entries.div_ceil(PARTS).max(1),
        }
    }

    /// The most values remembered: the bound asked for, rounded up to a
    /// multiple of the parts.
    pub fn bound(&self) -> usize {
        self.per_part.saturating_mul(PARTS)
    }

    fn part(&self, hash: u64) -> Option<MutexGuard<'_, Part>> {
        self.parts
            .get((hash % PARTS as u64) as usize)
            .map(|m| m.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// What the key of hash `hash` is believed to hold (`None`: nothing).
    pub fn get(&self, hash: u64) -> Option<Vec<u8>> {
        self.part(hash)?.values.get(&hash).cloned()
    }

    /// Remembers that the key of hash `hash` holds `value` (`None`:
    /// nothing).
    pub fn set(&self, hash: u64, value: Option<Vec<u8>>) {
        let Some(mut part) = self.part(hash) else {
            return;
        };
        let Part { values, order } = &mut *part;
        let Some(v) = value else {
            values.remove(&hash);
            return;
        };
        if let Some(held) = values.get_mut(&hash) {
            *held = v;
            return;
        }
        while values.len() >= self.per_part {
            match order.pop_front() {
                Some(old) => drop(values.remove(&old)),
                None => break,
            }
        }
        // Hashes forgotten through `set(_, None)` stay listed; rebuild the
        // list from what is held before it grows past twice the bound.
        if order.len() >= 2 * self.per_part {
            order.retain(|h| values.contains_key(h));
        }
        values.insert(hash, v);
        order.push_back(hash);
    }

    /// How many values are remembered.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.parts
            .iter()
            .map(|m| {
                m.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .values
                    .len()
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_memory_forgets_its_oldest_keys_not_all_of_them() {
        let known = Known::new(PARTS * 100);
        for h in 0..(PARTS as u64 * 150) {
            known.set(h, Some(vec![h as u8]));
        }
        assert_eq!(known.len(), PARTS * 100);
        // The newest 100 of each part are held, the oldest 50 forgotten.
        let held = (0..PARTS as u64 * 150)
            .filter(|h| known.get(*h).is_some())
            .count();
        assert_eq!(held, PARTS * 100);
        assert_eq!(known.get(0), None);
        assert_eq!(
            known.get(PARTS as u64 * 150 - 1),
            Some(vec![(PARTS * 150 - 1) as u8])
        );
    }

    #[test]
    fn forgetting_and_learning_again_stays_bounded() {
        let known = Known::new(PARTS);
        for round in 0..10_000u64 {
            known.set(round % 3, Some(vec![1]));
            known.set(round % 3, None);
            known.set(1_000 + round, Some(vec![2]));
        }
        assert!(known.len() <= PARTS);
        for m in &known.parts {
            let part = m.lock().unwrap_or_else(PoisonError::into_inner);
            assert!(part.order.len() <= 2 * known.per_part);
        }
    }

    #[test]
    fn a_value_changed_in_place_keeps_its_place() {
        let known = Known::new(PARTS);
        known.set(5, Some(vec![1]));
        known.set(5, Some(vec![2]));
        assert_eq!(known.get(5), Some(vec![2]));
        known.set(5, None);
        assert_eq!(known.get(5), None);
    }
}
