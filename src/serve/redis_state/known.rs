//! What an instance remembers of the values of caps' keys: the values it
//! last read or wrote there, believed to be what they still hold.
//!
//! A belief is a guess only, never trusted (the script checks it), so a
//! forgotten or stale value costs a second round trip, never a wrong
//! decision.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// How many values of caps' keys an instance remembers, in [`PARTS`] parts,
/// a part forgetting all of its own when full.
const ENTRIES: usize = 1 << 17;

/// The parts, each behind its own lock.
const PARTS: usize = 16;

/// The values of caps' keys, by the hash of their Redis key.
pub(super) struct Known {
    parts: Vec<Mutex<HashMap<u64, Vec<u8>>>>,
}

impl Known {
    /// Remembers nothing.
    pub fn new() -> Known {
        Known {
            parts: (0..PARTS).map(|_| Mutex::new(HashMap::new())).collect(),
        }
    }

    fn part(&self, hash: u64) -> Option<MutexGuard<'_, HashMap<u64, Vec<u8>>>> {
        self.parts
            .get((hash % PARTS as u64) as usize)
            .map(|m| m.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// What the key of hash `hash` is believed to hold (`None`: nothing).
    pub fn get(&self, hash: u64) -> Option<Vec<u8>> {
        self.part(hash)?.get(&hash).cloned()
    }

    /// Remembers that the key of hash `hash` holds `value` (`None`:
    /// nothing).
    pub fn set(&self, hash: u64, value: Option<Vec<u8>>) {
        let Some(mut part) = self.part(hash) else {
            return;
        };
        match value {
            None => {
                part.remove(&hash);
            }
            Some(v) => {
                if part.len() >= ENTRIES / PARTS && !part.contains_key(&hash) {
                    part.clear();
                }
                part.insert(hash, v);
            }
        }
    }
}
