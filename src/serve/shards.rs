//! The memory backend of `tollgate serve`: one policy's throttle state,
//! split into shards by rule and key, each behind its own lock, so that
//! requests about different merchants decide in parallel.
//!
//! A decision locks exactly the shards it reads and writes: the shard of
//! each stateful rule that applies to the record (by the hash of the
//! rule's key in the record) and the shard of the record's message id,
//! always in ascending order, so that two decisions never wait on each
//! other in a cycle. Everything the engine sees of the state during one
//! decision is behind those locks, so a decision is atomic, and a stream
//! sent in order gets the decisions `tollgate eval` makes for it.

use super::durable::Journal;
use crate::cli::state::journal::{put_entry, Entry};
use std::sync::{Mutex, MutexGuard};
use tollgate_runtime::hashes::{KeyHash, MessageIdHash};
use tollgate_runtime::notify::{Decision, MemoryState, NotifyPolicy, ThrottleState};
use tollgate_runtime::position::NotifyRuleIndex;
use tollgate_runtime::value::Value;

/// Shards per policy: enough that concurrent requests rarely meet on one
/// lock, few enough that pruning them all stays cheap.
pub const SHARDS: usize = 64;

/// One shard: its part of the state and when it was last pruned.
#[derive(Default)]
struct Shard {
    state: MemoryState,
    /// Decisions made in this shard since it was last pruned.
    since_prune: usize,
    /// The earliest record time among them: the next pruning horizon.
    earliest: Option<i64>,
}

/// A policy's throttle state, sharded.
pub struct ShardedState {
    shards: Vec<Mutex<Shard>>,
}

impl Default for ShardedState {
    fn default() -> Self {
        ShardedState::new()
    }
}

/// The shard of `(rule, key)`: by the key alone, so that a new version of
/// the policy, which may number its rules differently, finds every key in
/// the shard it was in.
fn shard_of(_rule: NotifyRuleIndex, key: KeyHash) -> usize {
    (key.get().rotate_left(17) % SHARDS as u64) as usize
}

/// The shard of a message id hash.
fn id_shard(id: MessageIdHash) -> usize {
    (id.get().rotate_left(29) % SHARDS as u64) as usize
}

impl ShardedState {
    /// An empty state.
    pub fn new() -> ShardedState {
        ShardedState {
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
        }
    }

    /// A state holding `state`, split into shards.
    pub fn from_state(state: MemoryState) -> ShardedState {
        let parts = state.split(SHARDS, shard_of, id_shard);
        ShardedState {
            shards: parts
                .into_iter()
                .map(|state| {
                    Mutex::new(Shard {
                        state,
                        since_prune: 0,
                        earliest: None,
                    })
                })
                .collect(),
        }
    }

    /// Runs `f` on every shard's state, all of them locked (in order).
    pub fn with_all<T>(&self, f: impl FnOnce(&[&MemoryState]) -> T) -> T {
        let guards: Vec<MutexGuard<'_, Shard>> = self
            .shards
            .iter()
            .map(|m| m.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
            .collect();
        let states: Vec<&MemoryState> = guards.iter().map(|g| &g.state).collect();
        f(&states)
    }

    /// Runs `decide` on a view of the state holding the locks of every
    /// shard a decision of `record` touches, then prunes those shards when
    /// they are due (as `eval` does on a long stream). With a `journal`,
    /// the entries of the changes the decision made are added to it before
    /// the locks are let go; the second value is then the sequence number
    /// to make durable before the answer is sent.
    pub fn with_record<T>(
        &self,
        policy: &NotifyPolicy,
        record: &[Value],
        journal: Option<&Journal>,
        decide: impl FnOnce(&mut View<'_>) -> T,
    ) -> (T, Option<u64>) {
        let mut wanted: Vec<usize> = Vec::with_capacity(4);
        for (i, rule) in policy.rules().iter().enumerate() {
            if rule.keys().is_none() || !rule.applies(record) {
                continue;
            }
            if let Some(key) = rule.key_of(record) {
                wanted.push(shard_of(NotifyRuleIndex::new(i as u32), key));
            }
        }
        let ids = policy.message_id_of(record).map(id_shard);
        wanted.extend(ids);
        wanted.sort_unstable();
        wanted.dedup();
        let mut locked: Vec<(usize, MutexGuard<'_, Shard>)> = Vec::with_capacity(wanted.len());
        for i in wanted {
            if let Some(m) = self.shards.get(i) {
                // A poisoned lock only means another request's thread
                // panicked; the state itself is whole between decisions.
                let guard = m.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                locked.push((i, guard));
            }
        }
        let mut view = View {
            locked,
            ids,
            log: journal.map(|_| Vec::new()),
        };
        let out = decide(&mut view);
        let upto = match (journal, &view.log) {
            (Some(j), Some(log)) if !log.is_empty() => Some(j.push(log)),
            _ => None,
        };
        let at = policy.instant_of(record);
        for (_, shard) in &mut view.locked {
            shard.since_prune += 1;
            if let Some(at) = at {
                let earliest = shard.earliest.get_or_insert(at);
                *earliest = (*earliest).min(at);
            }
            if shard.since_prune >= shard.state.prune_interval() {
                if let Some(horizon) = shard.earliest.take() {
                    shard.state.prune(policy, horizon);
                }
                shard.since_prune = 0;
            }
        }
        (out, upto)
    }

    /// Carries the state of `old` over to `new`, shard by shard, rule by
    /// rule as `eval --state` carries a saved state to a new version:
    /// rules that keep their name, kind, window and key fields keep their
    /// deliveries; the others start empty. Returns the rules dropped.
    pub fn carry(&self, old: &NotifyPolicy, new: &NotifyPolicy) -> Vec<String> {
        let mut dropped = Vec::new();
        for m in &self.shards {
            let mut shard = m.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let bytes = shard.state.save(old);
            match MemoryState::load_carried(&bytes, new) {
                Ok((state, carried)) => {
                    shard.state = state;
                    for (rule, why) in carried.dropped {
                        let line = format!("{rule}: {}", why.describe());
                        if !dropped.contains(&line) {
                            dropped.push(line);
                        }
                    }
                }
                Err(e) => {
                    shard.state = MemoryState::new();
                    let line = format!("the whole state: {e}");
                    if !dropped.contains(&line) {
                        dropped.push(line);
                    }
                }
            }
            shard.since_prune = 0;
            shard.earliest = None;
        }
        dropped
    }

    /// Keys held, over all shards (for metrics).
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|m| {
                m.lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .state
                    .len()
            })
            .sum()
    }

    /// Whether no shard holds anything.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The state as one decision sees it: the shards it locked.
pub struct View<'a> {
    locked: Vec<(usize, MutexGuard<'a, Shard>)>,
    /// The shard of the record's message id, if it has one.
    ids: Option<usize>,
    /// The journal entries of the changes made, when the state is kept
    /// on disk.
    log: Option<Vec<u8>>,
}

impl View<'_> {
    fn shard(&self, i: usize) -> Option<&MemoryState> {
        self.locked
            .iter()
            .find(|(at, _)| *at == i)
            .map(|(_, s)| &s.state)
    }

    fn shard_mut(&mut self, i: usize) -> Option<&mut MemoryState> {
        self.locked
            .iter_mut()
            .find(|(at, _)| *at == i)
            .map(|(_, s)| &mut s.state)
    }
}

// Every (rule, key) and id the engine asks about for a record is one whose
// shard `with_record` locked: the engine consults only the rules that
// apply to the record, with the keys read from it.
impl ThrottleState for View<'_> {
    fn history(&self, rule: NotifyRuleIndex, key: KeyHash) -> &[i64] {
        self.shard(shard_of(rule, key))
            .map_or(&[], |s| s.history(rule, key))
    }

    fn newest(&self, rule: NotifyRuleIndex, key: KeyHash) -> Option<i64> {
        self.shard(shard_of(rule, key))
            .and_then(|s| s.newest(rule, key))
    }

    fn record(&mut self, rule: NotifyRuleIndex, key: KeyHash, at_ms: i64, forget_through_ms: i64) {
        if let Some(s) = self.shard_mut(shard_of(rule, key)) {
            s.record(rule, key, at_ms, forget_through_ms);
        }
        if let Some(log) = &mut self.log {
            let entry = Entry::Delivery {
                rule: rule.get(),
                key: key.get(),
                at_ms,
                forget_through_ms,
            };
            put_entry(&entry, log);
        }
    }

    fn decided(&self, id: MessageIdHash) -> Option<(i64, Decision)> {
        self.shard(id_shard(id)).and_then(|s| s.decided(id))
    }

    fn remember(&mut self, id: MessageIdHash, at_ms: i64, decision: Decision) {
        if let Some(s) = self.shard_mut(id_shard(id)) {
            s.remember(id, at_ms, decision);
        }
        if let Some(log) = &mut self.log {
            let entry = Entry::MessageId {
                id: id.get(),
                at_ms,
                decision,
            };
            put_entry(&entry, log);
        }
    }

    fn ids_forgotten(&self) -> Option<i64> {
        // Each shard forgets its own ids when pruned, and an id always
        // lives in the same shard: its shard's pruning point bounds it.
        self.ids
            .and_then(|i| self.shard(i))
            .and_then(|s| s.ids_forgotten())
    }
}
