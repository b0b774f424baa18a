//! The server's in-memory throttle store: per (rule, key) the kept
//! delivery instants, the points where pruning forgot keys, and the
//! decisions made for message ids.

mod histories;

use super::{Decision, NotifyPolicy, ThrottleState};
use crate::hashes::{KeyHash, MessageIdHash};
use crate::ids::DecidedIds;
use crate::position::NotifyRuleIndex;
use crate::window;
use alloc::vec::Vec;
use hashbrown::HashMap;
use histories::Histories;

/// An in-memory store for servers: one entry per (rule, key) ever
/// delivered, each holding at most as many instants as its rule needs.
/// Each rule's keys have a table of their own whose slots hold a key's
/// recent instants inline, sized from what the rule's keys keep (see
/// [`histories`](self::histories)): deciding a message reads one slot per
/// key, not a slot and then the heap.
#[derive(Debug, Clone, Default)]
pub struct MemoryState {
    /// Per rule that recorded a delivery, ascending by rule: its keys.
    rules: Vec<(u32, Histories)>,
    /// Per rule with forgotten keys, ascending: the pruning point they were
    /// forgotten at. A record of a key the store does not hold is measured
    /// against it for lateness.
    pub(crate) forgotten: Vec<(u32, i64)>,
    /// The decisions made for message ids.
    pub(crate) ids: DecidedIds,
}

impl PartialEq for MemoryState {
    /// The same entries, forgetting points and decisions, however the
    /// tables are sized.
    fn eq(&self, other: &MemoryState) -> bool {
        self.same_entries(other) && self.forgotten == other.forgotten && self.ids == other.ids
    }
}

impl Eq for MemoryState {}

impl MemoryState {
    /// An empty store.
    pub fn new() -> MemoryState {
        MemoryState::default()
    }

    /// How many (rule, key) entries it holds.
    pub fn len(&self) -> usize {
        self.rules.iter().map(|(_, h)| h.len()).sum()
    }

    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0 && self.ids.is_empty()
    }

    /// The keys of `rule`, if it has any table.
    fn rule(&self, rule: u32) -> Option<&Histories> {
        let at = self.rules.binary_search_by_key(&rule, |&(r, _)| r).ok()?;
        self.rules.get(at).map(|(_, h)| h)
    }

    /// The keys of `rule`, its table made if it has none (always `Some`).
    fn rule_mut(&mut self, rule: u32) -> Option<&mut Histories> {
        let at = match self.rules.binary_search_by_key(&rule, |&(r, _)| r) {
            Ok(at) => at,
            Err(at) => {
                self.rules.insert(at, (rule, Histories::default()));
                at
            }
        };
        self.rules.get_mut(at).map(|(_, h)| h)
    }

    /// Every entry: `(rule, key)` and its instants, oldest first, in no
    /// particular order.
    pub(crate) fn entries(&self) -> impl Iterator<Item = ((u32, u64), &[i64])> {
        self.rules
            .iter()
            .flat_map(|(rule, h)| h.iter().map(move |(key, times)| ((*rule, key), times)))
    }

    /// Sets the instants of `(rule, key)` (in time order), as a saved state
    /// or another store holds them.
    pub(crate) fn put(&mut self, rule: u32, key: u64, times: &[i64]) {
        if let Some(h) = self.rule_mut(rule) {
            h.put(key, times);
        }
    }

    /// Whether both hold the same (rule, key) entries with the same
    /// instants, however their tables are sized.
    pub(crate) fn same_entries(&self, other: &MemoryState) -> bool {
        self.len() == other.len()
            && self.entries().all(|((rule, key), times)| {
                other.rule(rule).and_then(|h| h.get(key)) == Some(times)
            })
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
        let before = self.len();
        let lateness = policy.lateness_ms;
        let floor = horizon_ms.saturating_sub(lateness);
        let mut dropped_rules: Vec<u32> = Vec::new();
        for (rule, histories) in &mut self.rules {
            let span = policy.rules.get(*rule as usize).and_then(|r| r.span());
            let mut stale = false;
            histories.retain(|times| {
                let span = span?;
                let &newest = times.last()?;
                if window::stale(span, newest, floor, &policy.zone) {
                    stale = true;
                    return None;
                }
                Some(window::forget_through(
                    times,
                    span,
                    newest,
                    lateness,
                    &policy.zone,
                ))
            });
            if stale {
                dropped_rules.push(*rule);
            }
        }
        self.rules.retain(|(_, h)| h.len() > 0);
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
        before - self.len()
    }

    /// How many decisions a stream should make between two calls of
    /// [`MemoryState::prune`]: four times as many as there are entries, at
    /// least 4,096, so that pruning visits a quarter of an entry per decision
    /// however large the store grows.
    pub fn prune_interval(&self) -> usize {
        self.len().saturating_mul(4).max(4096)
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
                rules: Vec::new(),
                forgotten: self.forgotten.clone(),
                ids: DecidedIds {
                    map: HashMap::default(),
                    forgotten: self.ids.forgotten,
                },
            })
            .collect();
        for ((rule, key), times) in self.entries() {
            let i = part(NotifyRuleIndex::new(rule), KeyHash::new(key)).min(n - 1);
            if let Some(p) = parts.get_mut(i) {
                p.put(rule, key, times);
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
            for ((rule, key), times) in p.entries() {
                out.put(rule, key, times);
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
        self.rule(rule.get())
            .and_then(|h| h.get(key.get()))
            .unwrap_or(&[])
    }

    fn newest(&self, rule: NotifyRuleIndex, key: KeyHash) -> Option<i64> {
        self.lookup(rule, key).1
    }

    /// One lookup of the key: its instants and the newest of them, or, for
    /// a key the store does not hold, where its rule forgot keys.
    fn lookup(&self, rule: NotifyRuleIndex, key: KeyHash) -> (&[i64], Option<i64>) {
        let rule = rule.get();
        match self.rule(rule).and_then(|h| h.get(key.get())) {
            Some(times) => (times, times.last().copied()),
            None => (
                &[],
                self.forgotten
                    .binary_search_by_key(&rule, |&(r, _)| r)
                    .ok()
                    .and_then(|at| self.forgotten.get(at))
                    .map(|&(_, horizon)| horizon),
            ),
        }
    }

    fn record(&mut self, rule: NotifyRuleIndex, key: KeyHash, at_ms: i64, forget_through_ms: i64) {
        if let Some(h) = self.rule_mut(rule.get()) {
            h.record(key.get(), at_ms, forget_through_ms);
        }
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
