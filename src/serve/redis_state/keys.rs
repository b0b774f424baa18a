//! Where a decision's state lives in Redis (docs/serve.md, "Key layout"):
//! the key of each stateful rule's key and of each message id, and how long
//! each is kept after it is written.
//!
//! The keys of one decision are written into one buffer, with no string
//! made per key: a decision's keys cost one allocation.

use std::fmt::Write as _;
use std::ops::Range;
use tollgate_runtime::hashes::{KeyHash, MessageIdHash};
use tollgate_runtime::notify::{Action, NotifyPolicy, NotifyRule};
use tollgate_runtime::value::Value;
use tollgate_runtime::window::Span;

/// A wall-clock day in ms: the margin every key keeps past the time a
/// record could still need it.
const DAY_MS: i64 = 86_400_000;

/// What one key of a decision holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Holds {
    /// The deliveries of a stateful rule's key: the rule, the key's hash,
    /// and whether the rule is a cap (a `limit` rule, whose keys are read
    /// again and again; a de-duplication key is new in the common case).
    Rule { rule: u32, key: KeyHash, cap: bool },
    /// The decision made for a message id (its hash).
    Id(MessageIdHash),
}

/// One key of a decision.
#[derive(Debug, Clone)]
pub(super) struct Slot {
    /// What it holds.
    pub holds: Holds,
    /// How long it is kept after a write, in ms.
    pub ttl_ms: i64,
    /// Its name: a range of [`Keys::names`].
    name: Range<usize>,
    /// A hash of its name, by which an instance remembers what a cap's key
    /// holds.
    pub hash: u64,
}

/// The keys a decision of one record reads and writes: one per stateful
/// rule that applies to it, caps' keys first (where another instance's
/// change is most likely: the script meets it before it writes anything),
/// and its message id's last.
#[derive(Debug, Clone)]
pub(super) struct Keys {
    /// Every key's name, one after the other.
    names: Vec<u8>,
    /// The keys.
    pub slots: Vec<Slot>,
}

impl Keys {
    /// The keys of `record` under `policy`.
    pub fn of(policy: &NotifyPolicy, record: &[Value]) -> Keys {
        let mut keys = Keys {
            names: Vec::with_capacity(256),
            slots: Vec::with_capacity(4),
        };
        for caps in [true, false] {
            for (i, rule) in policy.rules().iter().enumerate() {
                let cap = matches!(rule.action(), Action::Limit { .. });
                if cap != caps || !rule.applies(record) {
                    continue;
                }
                let Some(key) = rule.key_of(record) else {
                    continue;
                };
                let start = keys.names.len();
                rule_key(policy, rule, key, &mut keys.names);
                keys.push(
                    Holds::Rule {
                        rule: i as u32,
                        key,
                        cap,
                    },
                    rule_ttl(policy, rule),
                    start,
                );
            }
        }
        if let Some(id) = policy.message_id_of(record) {
            let start = keys.names.len();
            id_key(policy, id, &mut keys.names);
            let ttl = policy.lateness_ms().max(0).saturating_add(DAY_MS);
            keys.push(Holds::Id(id), ttl, start);
        }
        keys
    }

    fn push(&mut self, holds: Holds, ttl_ms: i64, start: usize) {
        let end = self.names.len();
        let hash = xxhash_rust::xxh64::xxh64(self.names.get(start..end).unwrap_or(&[]), 0);
        self.slots.push(Slot {
            holds,
            ttl_ms,
            name: start..end,
            hash,
        });
    }

    /// Whether the decision reads no key (no rule that applies keeps
    /// state, and the record has no message id).
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The name of `slot`.
    pub fn name(&self, slot: &Slot) -> &[u8] {
        self.names.get(slot.name.clone()).unwrap_or(&[])
    }
}

/// Writes the Redis key of a rule's key: the policy's name is the hash tag
/// (so that a decision's keys are in one Cluster slot), then the rule's
/// name and layout (kind, window and key fields: a rule that changes them
/// starts empty, as `eval --state` carries state over), then the key hash:
/// `tollgate:{POLICY}:rule:RULE:LAYOUT:KEY`.
pub fn rule_key(policy: &NotifyPolicy, rule: &NotifyRule, key: KeyHash, out: &mut Vec<u8>) {
    let _ = write!(
        Sink(|b: &[u8]| out.extend_from_slice(b)),
        "tollgate:{{{}}}:rule:{}:{:016x}:{:016x}",
        policy.name(),
        rule.name(),
        layout(policy, rule),
        key.get()
    );
}

/// Writes the Redis key of a message id's decision:
/// `tollgate:{POLICY}:id:ID`.
pub fn id_key(policy: &NotifyPolicy, id: MessageIdHash, out: &mut Vec<u8>) {
    let _ = write!(
        Sink(|b: &[u8]| out.extend_from_slice(b)),
        "tollgate:{{{}}}:id:{:016x}",
        policy.name(),
        id.get()
    );
}

/// A hash of what a rule's state means: its kind, window and key fields
/// (the hash of the text `KIND SPAN FIELD…`, made without the text).
fn layout(policy: &NotifyPolicy, rule: &NotifyRule) -> u64 {
    let mut h = xxhash_rust::xxh64::Xxh64::new(0);
    h.update(match rule.action() {
        Action::Dedup { .. } => b"dedup",
        _ => b"limit",
    });
    let _ = write!(Sink(|b: &[u8]| h.update(b)), " {:?}", rule.span());
    for &k in rule.keys().unwrap_or(&[]) {
        let name = policy
            .fields()
            .get(k as usize)
            .map_or("?", |f| f.name.as_str());
        h.update(b" ");
        h.update(name.as_bytes());
    }
    h.digest()
}

/// How long (wall clock) a rule's key is kept after its last change: its
/// window (two days for a calendar day), plus the lateness, plus a day.
fn rule_ttl(policy: &NotifyPolicy, rule: &NotifyRule) -> i64 {
    let span = match rule.span() {
        Some(Span::Rolling(ms)) => ms,
        _ => 2 * DAY_MS,
    };
    span.saturating_add(policy.lateness_ms().max(0))
        .saturating_add(DAY_MS)
}

/// Formatted text handed, piece by piece, to a function: appended to a
/// buffer or fed to a hash, with no string made.
struct Sink<F>(F);

impl<F: FnMut(&[u8])> std::fmt::Write for Sink<F> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        (self.0)(s.as_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> NotifyPolicy {
        let text = "policy p version 1\nkind notifications\ntimezone \"Asia/Shanghai\"\n\
            message id msg_id\nfield kind: enum { note, promo }\nfield terminal: string\n\
            field merchant: string\nfield msg_id: string default \"\"\nfield at: timestamp\n\
            rule note_dedup when kind == note => dedup by (terminal, kind) within 10m\n\
            rule promo_day when kind == promo => limit 2 per calendar day by merchant\n\
            rule terminal_cap when kind in {note, promo} => limit 4 per 30m by terminal\n";
        crate::pipeline::notifications(text)
    }

    #[test]
    fn names_follow_the_documented_layout_and_its_text_hash() {
        let p = policy();
        let mut out = Vec::new();
        rule_key(&p, &p.rules()[0], KeyHash::new(0xab), &mut out);
        let layout = xxhash_rust::xxh64::xxh64(b"dedup Some(Rolling(600000)) terminal kind", 0);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            format!("tollgate:{{p}}:rule:note_dedup:{layout:016x}:00000000000000ab")
        );
        let mut out = Vec::new();
        rule_key(&p, &p.rules()[1], KeyHash::new(1), &mut out);
        let layout = xxhash_rust::xxh64::xxh64(b"limit Some(CalendarDay) merchant", 0);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            format!("tollgate:{{p}}:rule:promo_day:{layout:016x}:0000000000000001")
        );
        let mut out = Vec::new();
        id_key(&p, MessageIdHash::new(0x1234), &mut out);
        assert_eq!(out, b"tollgate:{p}:id:0000000000001234");
    }

    #[test]
    fn a_decision_s_keys_are_its_caps_then_its_other_rules_then_its_id() {
        let p = policy();
        let line = r#"{"kind":"note","terminal":"t1","merchant":"m1","msg_id":"g1","at":"2026-11-25T09:00:00+08:00"}"#;
        let record = crate::record::from_json(line, p.fields()).unwrap_or_else(|e| panic!("{e}"));
        let keys = Keys::of(&p, &record);
        let holds: Vec<Holds> = keys.slots.iter().map(|s| s.holds).collect();
        let id = p.message_id_of(&record).unwrap_or_default();
        assert!(matches!(
            holds.as_slice(),
            [Holds::Rule { rule: 2, cap: true, .. }, Holds::Rule { rule: 0, cap: false, .. }, Holds::Id(i)] if *i == id
        ));
        let names: Vec<String> = keys
            .slots
            .iter()
            .map(|s| String::from_utf8_lossy(keys.name(s)).into_owned())
            .collect();
        assert!(names[0].starts_with("tollgate:{p}:rule:terminal_cap:"));
        assert!(names[1].starts_with("tollgate:{p}:rule:note_dedup:"));
        assert!(names[2].starts_with("tollgate:{p}:id:"));
        // Kept for the window, plus the lateness (the default, 1h), plus a
        // day.
        let late = p.lateness_ms();
        assert_eq!(late, 3_600_000);
        let ttls: Vec<i64> = keys.slots.iter().map(|s| s.ttl_ms).collect();
        assert_eq!(
            ttls,
            [
                1_800_000 + late + DAY_MS,
                600_000 + late + DAY_MS,
                late + DAY_MS
            ]
        );
        for s in &keys.slots {
            assert_eq!(s.hash, xxhash_rust::xxh64::xxh64(keys.name(s), 0));
        }
    }
}
