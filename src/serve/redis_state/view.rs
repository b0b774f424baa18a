//! The engine's view of a decision's keys in Redis: what they are believed
//! to hold, decoded into the store the engine decides on, and what the
//! decision leaves in them, encoded back (docs/serve.md, "Key layout").
//!
//! A rule's key holds its deliveries, oldest first, 8 bytes each (ms,
//! little-endian); a message id's key holds the journal's entry for it
//! ([`crate::cli::state::journal`]).

use super::keys::{Holds, Keys};
use crate::cli::state::journal::{put_entry, scan, Entry};
use tollgate_runtime::hashes::{KeyHash, MessageIdHash};
use tollgate_runtime::notify::{Decision, MemoryState, ThrottleState};
use tollgate_runtime::position::NotifyRuleIndex;

/// The store a decision is made on: the values its keys are believed to
/// hold, and what the decision changed.
pub(super) struct View {
    state: MemoryState,
    /// Rules whose key got a delivery.
    recorded: Vec<u32>,
    /// Whether the message id's decision was remembered.
    remembered: bool,
}

impl View {
    /// The store holding `believed` (the value of each of `keys`, in
    /// order; `None` for nothing).
    ///
    /// # Errors
    /// A value that is not what its key holds (not a delivery history, or
    /// not the decision of its message id).
    pub fn load(keys: &Keys, believed: &[Option<Vec<u8>>]) -> Result<View, String> {
        let mut state = MemoryState::new();
        for (slot, value) in keys.slots.iter().zip(believed) {
            let Some(bytes) = value else { continue };
            let name = || String::from_utf8_lossy(keys.name(slot)).into_owned();
            match slot.holds {
                Holds::Rule { rule, key, .. } => {
                    if bytes.len() % 8 != 0 {
                        return Err(format!("{} does not hold a delivery history", name()));
                    }
                    for chunk in bytes.chunks_exact(8) {
                        let mut b = [0u8; 8];
                        b.copy_from_slice(chunk);
                        state.record(
                            NotifyRuleIndex::new(rule),
                            key,
                            i64::from_le_bytes(b),
                            i64::MIN,
                        );
                    }
                }
                Holds::Id(id) => {
                    let mut found: Option<(i64, Decision)> = None;
                    scan(bytes, |e| {
                        if let Entry::MessageId {
                            id: got,
                            at_ms,
                            decision,
                        } = e
                        {
                            if got == id.get() {
                                found = Some((at_ms, decision));
                            }
                        }
                        true
                    });
                    let Some((at, decision)) = found else {
                        return Err(format!("{} does not hold a decision", name()));
                    };
                    state.remember(id, at, decision);
                }
            }
        }
        Ok(View {
            state,
            recorded: Vec::new(),
            remembered: false,
        })
    }

    /// What the decision leaves in `keys`, in order: `None` for a key it
    /// did not change, `Some(None)` for a key it empties, `Some(Some(v))`
    /// for a key it sets to `v`.
    pub fn changes(&self, keys: &Keys) -> Vec<Option<Option<Vec<u8>>>> {
        keys.slots
            .iter()
            .map(|slot| match slot.holds {
                Holds::Rule { rule, key, .. } => {
                    if !self.recorded.contains(&rule) {
                        return None;
                    }
                    let times = self.state.history(NotifyRuleIndex::new(rule), key);
                    if times.is_empty() {
                        return Some(None);
                    }
                    let mut v = Vec::with_capacity(8 * times.len());
                    for t in times {
                        v.extend_from_slice(&t.to_le_bytes());
                    }
                    Some(Some(v))
                }
                Holds::Id(id) => {
                    let (at_ms, decision) = self.state.decided(id).filter(|_| self.remembered)?;
                    let mut v = Vec::with_capacity(48);
                    put_entry(
                        &Entry::MessageId {
                            id: id.get(),
                            at_ms,
                            decision,
                        },
                        &mut v,
                    );
                    Some(Some(v))
                }
            })
            .collect()
    }
}

impl ThrottleState for View {
    fn history(&self, rule: NotifyRuleIndex, key: KeyHash) -> &[i64] {
        self.state.history(rule, key)
    }

    fn newest(&self, rule: NotifyRuleIndex, key: KeyHash) -> Option<i64> {
        self.state.newest(rule, key)
    }

    fn record(&mut self, rule: NotifyRuleIndex, key: KeyHash, at_ms: i64, forget_through_ms: i64) {
        self.state.record(rule, key, at_ms, forget_through_ms);
        if !self.recorded.contains(&rule.get()) {
            self.recorded.push(rule.get());
        }
    }

    fn decided(&self, id: MessageIdHash) -> Option<(i64, Decision)> {
        self.state.decided(id)
    }

    fn remember(&mut self, id: MessageIdHash, at_ms: i64, decision: Decision) {
        self.state.remember(id, at_ms, decision);
        self.remembered = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serve::redis_state::keys::Keys;
    use tollgate_runtime::notify::{Reason, ThrottleState};

    fn policy() -> tollgate_runtime::notify::NotifyPolicy {
        let text = "policy p version 1\nkind notifications\ntimezone \"Asia/Shanghai\"\n\
            message id msg_id\nfield kind: enum { note, promo }\nfield terminal: string\n\
            field msg_id: string default \"\"\nfield at: timestamp\n\
            rule note_dedup when kind == note => dedup by terminal within 10m\n\
            rule terminal_cap when kind in {note, promo} => limit 4 per 30m by terminal\n";
        crate::pipeline::notifications(text)
    }

    fn keys() -> (tollgate_runtime::notify::NotifyPolicy, Keys) {
        let p = policy();
        let line =
            r#"{"kind":"note","terminal":"t1","msg_id":"g1","at":"2026-11-25T09:00:00+08:00"}"#;
        let record = crate::record::from_json(line, p.fields()).unwrap_or_else(|e| panic!("{e}"));
        let keys = Keys::of(&p, &record);
        (p, keys)
    }

    /// What a decision leaves in its keys, read back, is the store it left.
    #[test]
    fn what_a_decision_leaves_reads_back_as_the_same_store() {
        let (_, keys) = keys();
        let [Holds::Rule { key: cap_key, .. }, Holds::Rule { key: dedup_key, .. }, Holds::Id(id)] = [
            keys.slots[0].holds,
            keys.slots[1].holds,
            keys.slots[2].holds,
        ] else {
            panic!("{keys:?}");
        };
        let mut view = View::load(&keys, &[None, None, None]).unwrap_or_else(|e| panic!("{e}"));
        for t in [1_000, 5_000, -7, i64::MAX, i64::MIN + 1] {
            view.record(1.into(), cap_key, t, i64::MIN);
        }
        view.record(0.into(), dedup_key, 42, i64::MIN);
        let decision = Decision::Suppress {
            rule: 1.into(),
            reason: Reason::CapReached {
                count: 4,
                cap: 4,
                clamped_from: None,
            },
        };
        view.remember(id, 1_234, decision);
        let changes = view.changes(&keys);
        assert!(changes.iter().all(|c| matches!(c, Some(Some(_)))));
        let values: Vec<Option<Vec<u8>>> = changes.into_iter().map(Option::flatten).collect();
        let back = View::load(&keys, &values).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            back.history(1.into(), cap_key),
            view.history(1.into(), cap_key)
        );
        assert_eq!(back.history(0.into(), dedup_key), [42]);
        assert_eq!(back.decided(id), Some((1_234, decision)));
        // Read back and left alone, nothing changes.
        assert_eq!(back.changes(&keys), vec![None, None, None]);
    }

    /// A value that is not what its key holds is an error naming the key,
    /// never a panic or a guess.
    #[test]
    fn values_that_are_not_what_their_key_holds_are_errors() {
        let (_, keys) = keys();
        let cases: [[Option<Vec<u8>>; 3]; 4] = [
            [Some(vec![1, 2, 3]), None, None],
            [None, Some(vec![0; 9]), None],
            [None, None, Some(b"not a journal entry".to_vec())],
            [None, None, Some(Vec::new())],
        ];
        for values in cases {
            let err = View::load(&keys, &values).err().unwrap_or_default();
            assert!(err.contains("tollgate:{p}:"), "{values:?}: {err}");
        }
    }
}
