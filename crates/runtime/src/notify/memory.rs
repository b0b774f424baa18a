//! The server's in-memory throttle store: per (rule, key) the kept
//! delivery instants, the points where pruning forgot keys, and the
//! decisions made for message ids.

use super::{Decision, NotifyPolicy, ThrottleState};
use crate::hashes::{KeyHash, KeyHasher, MessageIdHash};
use crate::ids::DecidedIds;
use crate::position::NotifyRuleIndex;
use crate::times::Times;
use crate::window;
use alloc::vec::Vec;
use core::hash::BuildHasherDefault;
use hashbrown::HashMap;

/// An in-memory store for servers: one entry per (rule, key) ever
/// delivered, each holding at most as many instants as its rule needs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryState {
    pub(crate) entries: HashMap<(u32, u64), Times, BuildHasherDefault<KeyHasher>>,
    /// Per rule with forgotten keys, ascending: the pruning point they were
    /// forgotten at. A record of a key the store does not hold is measured
    /// against it for lateness.
    pub(crate) forgotten: Vec<(u32, i64)>,
    /// The decisions made for message ids.
    pub(crate) ids: DecidedIds,
}

impl MemoryState {
    /// An empty store.
    pub fn new() -> MemoryState {
        MemoryState::default()
    }

    /// How many (rule, key) entries it holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty() && self.ids.is_empty()
    }

    /// The decisions it remembers for message ids.
    pub fn ids(&self) -> &DecidedIds {
        &self.ids
    }

    /// Drops what no accepted record can need. Each key forgets the
    /// deliveries that no record within the lateness of its own newest
    /// delivery can meet (whatever the other keys' times). A key is dropped
    /// whole only when none of its deliveries can meet a record at or after
    /// `horizon_ms − lateness`; the rule then remembers the horizon, and a
    /// record of a key it no longer holds is measured against it: a record
    /// earlier than `horizon_ms − lateness` is refused as too late, never
    /// decided on a forgotten history. The caller picks the horizon: the
    /// earliest time among the records of the last pruning interval (as
    /// `tollgate eval` does) cannot be moved forward by one record with a
    /// wrong clock. Message ids are forgotten the same way: an id goes when
    /// no record at or after `horizon_ms − lateness` can repeat it, and a
    /// record with an id earlier than that is then refused. Returns how
    /// many entries were dropped (ids not counted).
    pub fn prune(&mut self, policy: &NotifyPolicy, horizon_ms: i64) -> usize {
        self.ids.prune(policy.lateness_ms, horizon_ms);
        let before = self.entries.len();
        let lateness = policy.lateness_ms;
        let floor = horizon_ms.saturating_sub(lateness);
        let mut dropped_rules: Vec<u32> = Vec::new();
        self.entries.retain(|&(rule, _), times| {
            let Some(span) = policy.rules.get(rule as usize).and_then(|r| r.span()) else {
                return false;
            };
            let Some(&newest) = times.as_slice().last() else {
                return false;
            };
            if window::stale(span, newest, floor, &policy.zone) {
                if let Err(at) = dropped_rules.binary_search(&rule) {
                    dropped_rules.insert(at, rule);
                }
                return false;
            }
            let through =
                window::forget_through(times.as_slice(), span, newest, lateness, &policy.zone);
            times.keep_after(through);
            !times.is_empty()
        });
        for rule in dropped_rules {
            match self.forgotten.binary_search_by_key(&rule, |&(r, _)| r) {
                Ok(at) => {
                    if let Some(slot) = self.forgotten.get_mut(at) {
                        slot.1 = slot.1.max(horizon_ms);
                    }
                }
                Err(at) => self.forgotten.insert(at, (rule, horizon_ms)),
            }
        }
        before - self.entries.len()
    }

    /// How many decisions a stream should make between two calls of
    /// [`MemoryState::prune`]: four times as many as there are entries, at
    /// least 4,096, so that pruning visits a quarter of an entry per decision
    /// however large the store grows.
    pub fn prune_interval(&self) -> usize {
        self.entries.len().saturating_mul(4).max(4096)
    }

    /// Splits the store into `n` parts (at least one): the entry of
    /// `(rule, key)` goes to part `part(rule, key)`, the decision of
    /// message id `id` to part `id_part(id)` (an index past the last part
    /// means the last); every part keeps the points where keys and ids
    /// were forgotten. [`MemoryState::join`] puts the parts together.
    pub fn split(
        self,
        n: usize,
        part: impl Fn(NotifyRuleIndex, KeyHash) -> usize,
        id_part: impl Fn(MessageIdHash) -> usize,
    ) -> Vec<MemoryState> {
        let n = n.max(1);
        let mut parts: Vec<MemoryState> = (0..n)
            .map(|_| MemoryState {
                entries: HashMap::default(),
                forgotten: self.forgotten.clone(),
                ids: DecidedIds {
                    map: HashMap::default(),
                    forgotten: self.ids.forgotten,
                },
            })
            .collect();
        for ((rule, key), times) in self.entries {
            let i = part(NotifyRuleIndex::new(rule), KeyHash::new(key)).min(n - 1);
            if let Some(p) = parts.get_mut(i) {
                p.entries.insert((rule, key), times);
            }
        }
        for (id, decided) in self.ids.map {
            let i = id_part(MessageIdHash::new(id)).min(n - 1);
            if let Some(p) = parts.get_mut(i) {
                p.ids.map.insert(id, decided);
            }
        }
        parts
    }

    /// One store holding what `parts` hold (parts of one store, as
    /// [`MemoryState::split`] makes them, each changed on its own since):
    /// their entries and remembered decisions, and for each rule, and for
    /// the ids, the latest point any part forgot at.
    pub fn join<'a>(parts: impl IntoIterator<Item = &'a MemoryState>) -> MemoryState {
        let mut out = MemoryState::new();
        for p in parts {
            for (&k, times) in &p.entries {
                out.entries.insert(k, times.clone());
            }
            for (&id, &decided) in &p.ids.map {
                out.ids.map.insert(id, decided);
            }
            for &(rule, at) in &p.forgotten {
                match out.forgotten.binary_search_by_key(&rule, |&(r, _)| r) {
                    Ok(i) => {
                        if let Some(slot) = out.forgotten.get_mut(i) {
                            slot.1 = slot.1.max(at);
                        }
                    }
                    Err(i) => out.forgotten.insert(i, (rule, at)),
                }
            }
            out.ids.forgotten = match (out.ids.forgotten, p.ids.forgotten) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
        }
        out
    }
}

impl ThrottleState for MemoryState {
    fn history(&self, rule: NotifyRuleIndex, key: KeyHash) -> &[i64] {
        self.entries
            .get(&(rule.get(), key.get()))
            .map_or(&[], Times::as_slice)
    }

    fn newest(&self, rule: NotifyRuleIndex, key: KeyHash) -> Option<i64> {
        let rule = rule.get();
        match self.entries.get(&(rule, key.get())) {
            Some(times) => times.as_slice().last().copied(),
            None => self
                .forgotten
                .binary_search_by_key(&rule, |&(r, _)| r)
                .ok()
                .and_then(|at| self.forgotten.get(at))
                .map(|&(_, horizon)| horizon),
        }
    }

    fn record(&mut self, rule: NotifyRuleIndex, key: KeyHash, at_ms: i64, forget_through_ms: i64) {
        self.entries
            .entry((rule.get(), key.get()))
            .or_default()
            .insert(at_ms, forget_through_ms);
    }

    fn decided(&self, id: MessageIdHash) -> Option<(i64, Decision)> {
        self.ids.map.get(&id.get()).copied()
    }

    fn remember(&mut self, id: MessageIdHash, at_ms: i64, decision: Decision) {
        self.ids.map.insert(id.get(), (at_ms, decision));
    }

    fn ids_forgotten(&self) -> Option<i64> {
        self.ids.forgotten
    }
}
