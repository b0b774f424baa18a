//! Message ids: the decisions already made, so that a message sent again
//! (a gateway's retry, a rerun after a crash) gets its first decision once
//! more, marked as a repeat, and counts nowhere twice.
//!
//! A policy names the string field that identifies a message (`message id
//! FIELD`). A record whose id is empty, or equal to the field's default
//! (which is what a record that leaves the field out gets), has no id and
//! is decided as usual. Otherwise the id's first decision, made for a
//! record at instant `a`, answers every record of that id at `t` with
//! `|t − a| ≤ lateness`: that is a repeat. Further away, the id is decided
//! afresh, and that decision replaces the remembered one.
//!
//! Ids are kept as 64-bit hashes (XXH64 of the id's UTF-8 bytes). Two
//! different ids that share a hash within one lateness window would make
//! the second message a repeat of the first: it would get the first's
//! decision and count nowhere. For n ids in a window the chance is about
//! n² / 2^65.

use crate::hashes::KeyHasher;
use crate::hashes::MessageIdHash;
use crate::notify::Decision;
use core::hash::BuildHasherDefault;
use hashbrown::HashMap;

/// A decision, and whether it repeats one made before for the same id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answer {
    /// What happens to the message. For a repeat, the first decision,
    /// unchanged (a `defer` to the same instant).
    pub decision: Decision,
    /// The message's id was decided within the lateness: nothing was
    /// consulted or counted for it this time.
    pub repeat: bool,
}

/// The 64-bit hash a message id is kept as.
pub(crate) fn id_hash(id: &str) -> MessageIdHash {
    MessageIdHash::new(xxhash_rust::xxh64::xxh64(id.as_bytes(), 0x1d5e_ed1d))
}

/// Whether a record at `t_ms` repeats a decision made for one at `at_ms`:
/// they are at most `lateness_ms` apart, either way.
pub(crate) fn repeats(at_ms: i64, t_ms: i64, lateness_ms: i64) -> bool {
    at_ms.abs_diff(t_ms) <= lateness_ms.unsigned_abs()
}

/// Whether no record at or after `floor_ms` can repeat a decision made at
/// `at_ms`.
pub(crate) fn stale(at_ms: i64, floor_ms: i64, lateness_ms: i64) -> bool {
    at_ms.saturating_add(lateness_ms) < floor_ms
}

/// The decisions a server store remembers, by id hash.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DecidedIds {
    /// Id hash → the instant of the record it was decided for, and the
    /// decision.
    pub(crate) map: HashMap<u64, (i64, Decision), BuildHasherDefault<KeyHasher>>,
    /// The latest pruning point at which ids were forgotten, if any: a
    /// record with an id earlier than it less the lateness is refused, as
    /// it might repeat a forgotten decision.
    pub(crate) forgotten: Option<i64>,
}

impl DecidedIds {
    /// How many ids it holds.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Forgets the ids no record at or after `horizon_ms − lateness_ms` can
    /// repeat, and remembers the horizon if any went. Returns how many.
    pub(crate) fn prune(&mut self, lateness_ms: i64, horizon_ms: i64) -> usize {
        let before = self.map.len();
        let floor = horizon_ms.saturating_sub(lateness_ms);
        self.map
            .retain(|_, (at, _)| !stale(*at, floor, lateness_ms));
        let dropped = before - self.map.len();
        if dropped > 0 {
            self.forgotten = Some(self.forgotten.map_or(horizon_ms, |f| f.max(horizon_ms)));
        }
        dropped
    }
}
