//! Notification decisions: deliver, suppress or defer a message, from the
//! policy, the message record, its timestamp and the throttle state. The
//! decision is a pure function of those; the state changes only when the
//! message is delivered. Time comes from the record, never from a clock.
//!
//! Phases, in the order the language fixes: always-deliver rules;
//! suppress rules; the activation window; the zone's span; lateness; de-duplication; quiet windows; caps (all must
//! admit); room in the store; deliver and record. Records may arrive in any
//! order within the policy's lateness: caps and de-duplication look both
//! ways in time (see [`crate::window`]).
//!
//! A policy that names a message id answers a message whose id was
//! decided within the lateness with that first decision, marked as a
//! repeat, before any phase (see [`crate::ids`]).

mod key;
mod matching;
mod memory;
mod policy;
mod validate;

pub(crate) use key::key_of;
pub use memory::MemoryState;
pub use policy::{NotifyParts, NotifyPolicy, NotifyRule};
pub use validate::{MAX_DURATION_MS, MAX_LATENESS_MS, MAX_REASON_BYTES};

use crate::activation::Outside;
use crate::hashes::{KeyHash, MessageIdHash};
use crate::ids::{self, Answer};
use crate::position::NotifyRuleIndex;
use crate::trace::{NoTrace, NotifyTracer, RuleTrace, Saw};
use crate::value::Value;
use crate::window;
use alloc::string::String;
use alloc::vec::Vec;
use matching::{KindSet, Matching};

/// A matching quiet rule while a message is decided: its index, its
/// windows, and whether it drops (rather than defers) the message.
type QuietRule<'a> = (NotifyRuleIndex, &'a [(u32, u32)], bool);

/// What a rule does to the messages it applies to.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Deliver, exempt from everything else, counted nowhere.
    AlwaysDeliver,
    /// Suppress every message it covers (unless an always-deliver rule
    /// covers it too), with the reason the policy states.
    Suppress {
        /// Why, as the policy states it.
        reason: String,
    },
    /// Suppress a key delivered less than `window_ms` ago.
    Dedup {
        /// Field indexes of the key.
        keys: Vec<u32>,
        /// The window in milliseconds.
        window_ms: i64,
    },
    /// Local wall-clock windows `(start, end)` in seconds after midnight,
    /// start included, end excluded, wrapping past midnight when start > end.
    Quiet {
        /// The windows.
        windows: Vec<(u32, u32)>,
        /// Drop the message instead of deferring it.
        drop: bool,
    },
    /// At most `cap` deliveries per period per key.
    Limit {
        /// The cap.
        cap: Cap,
        /// The period.
        period: Period,
        /// Field indexes of the key; empty for one counter.
        keys: Vec<u32>,
    },
}

/// The cap of a limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cap {
    /// Written in the policy.
    Fixed(u32),
    /// Read from an integer field, clamped to `low..=high`.
    Field {
        /// The field's index.
        field: u32,
        /// Smallest allowed.
        low: u32,
        /// Largest allowed.
        high: u32,
    },
}

impl Cap {
    /// The most deliveries any record could be allowed.
    pub fn most(self) -> u32 {
        match self {
            Cap::Fixed(n) => n,
            Cap::Field { high, .. } => high,
        }
    }
}

/// The period of a limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    /// A delivery at t counts while now − t < this many milliseconds.
    Rolling(i64),
    /// A delivery counts until local midnight.
    CalendarDay,
}

/// What happens to a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Send it now. `clamped` reports a merchant-adjustable cap whose value
    /// in the record was outside its bounds (the first such rule).
    Deliver {
        /// The clamped cap, if any.
        clamped: Option<Clamp>,
    },
    /// Do not send it.
    Suppress {
        /// The rule that decided.
        rule: NotifyRuleIndex,
        /// Why.
        reason: Reason,
    },
    /// Send it again at `until_ms` (it is then evaluated as new).
    Defer {
        /// The quiet rule that decided.
        rule: NotifyRuleIndex,
        /// The first instant at which none of the rule's windows applies.
        until_ms: i64,
    },
}

/// A cap read from the record and clamped to the policy's bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clamp {
    /// The limit rule.
    pub rule: NotifyRuleIndex,
    /// The record's value.
    pub from: i64,
    /// The cap applied.
    pub to: u32,
}

/// Why a message was suppressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// The same key was delivered at `last_ms`, within the window.
    Duplicate {
        /// The earlier delivery.
        last_ms: i64,
    },
    /// A quiet window with `then drop`.
    Quiet,
    /// A `suppress` rule: the rule's own reason says why.
    Declared,
    /// The cap is reached: `count` deliveries already in the fullest
    /// period that would hold the message (before or after it).
    CapReached {
        /// Deliveries counted in that period.
        count: u32,
        /// The cap that applied.
        cap: u32,
        /// The record's own value, when it was outside the bounds and clamped.
        clamped_from: Option<i64>,
    },
    /// The terminal store is full and was created to fail closed: a new key
    /// gets no room, so its message is not sent.
    StoreFull,
}

/// Why a record could not be decided.
///
/// Rules are named by their index in the policy; instants are Unix ms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NotifyError {
    /// The clock field is missing or not a timestamp.
    NoTimestamp,
    /// The record is later than the policy accepts for one of its rules:
    /// older than `newest_ms − lateness` for that rule and key.
    TooLate {
        /// The rule.
        rule: NotifyRuleIndex,
        /// What the key is measured against: its newest delivery, or the
        /// point at which the store forgot the key.
        newest_ms: i64,
    },
    /// An instant the decision needs lies outside the span the policy's
    /// time zone was built for ([`Zone::covers`]), where its local time is
    /// not known: the record's own instant (`rule` is `None`), or the end of
    /// the quiet window of `rule` that would defer it, directly or when sent
    /// again at the instant an earlier defer names.
    OutsideZoneSpan {
        /// The instant outside the span, in ms.
        at_ms: i64,
        /// The quiet rule whose window ends there, if any.
        rule: Option<NotifyRuleIndex>,
    },
    /// The record has a message id, and is earlier than the store's
    /// memory of ids reaches: less than the lateness before the point at
    /// which it forgot ids, so it might repeat a forgotten decision. (A
    /// message an always-deliver rule covers is delivered instead,
    /// unremembered.)
    IdForgotten {
        /// Where the store forgot ids.
        forgotten_ms: i64,
    },
    /// The record has a new message id, and the store has no room to
    /// remember it (a full terminal store): not decided, so that a repeat
    /// can never be delivered twice. (A message an always-deliver rule
    /// covers is delivered instead, unremembered.)
    IdMemoryFull,
    /// The state was sized from another policy (another shape: rules,
    /// lateness, zone or version, [`NotifyPolicy::shape`]) than the one
    /// deciding: nothing is decided, nothing changes. A state belongs to
    /// the policy it was made for.
    StateMismatch,
    /// The record is stamped before the policy takes effect (its window's
    /// start) and no rule that reads no time decided it.
    NotYetEffective {
        /// The window's start, in ms.
        from_ms: i64,
    },
    /// The record is stamped at or after the end of the policy's window
    /// and no rule that reads no time decided it: the terminal needs the
    /// policy's successor.
    Expired {
        /// The window's end, in ms.
        until_ms: i64,
    },
}

impl core::fmt::Display for NotifyError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::NoTimestamp => f.write_str("the record has no timestamp"),
            Self::TooLate { rule, newest_ms } => write!(
                f,
                "the record is later than the lateness of rule {rule} accepts \
                 (measured against {newest_ms} ms)"
            ),
            Self::OutsideZoneSpan { at_ms, rule: None } => write!(
                f,
                "the record's instant {at_ms} ms is outside the years the policy's zone is built for"
            ),
            Self::OutsideZoneSpan {
                at_ms,
                rule: Some(rule),
            } => write!(
                f,
                "quiet rule {rule} would defer the message to {at_ms} ms, outside the years \
                 the policy's zone is built for"
            ),
            Self::IdForgotten { forgotten_ms } => write!(
                f,
                "the message id is older than the state's memory of ids reaches \
                 (ids forgotten at {forgotten_ms} ms)"
            ),
            Self::IdMemoryFull => {
                f.write_str("the state has no room to remember a new message id")
            }
            Self::StateMismatch => {
                f.write_str("the state was made for another policy or version than the one deciding")
            }
            Self::NotYetEffective { from_ms } => write!(
                f,
                "the record is stamped before the policy takes effect at {from_ms} ms"
            ),
            Self::Expired { until_ms } => write!(
                f,
                "the record is stamped after the policy's window ended at {until_ms} ms: \
                 a successor policy is needed"
            ),
        }
    }
}

impl core::error::Error for NotifyError {}

/// Where deliveries are remembered, per rule and key, and the decisions
/// made for message ids. A rule is named by its [`NotifyRuleIndex`], a key
/// by its [`KeyHash`], a message id by its [`MessageIdHash`]; instants
/// (`at_ms`, `forget_through_ms`, the histories) are `i64` milliseconds
/// since the Unix epoch, UTC.
pub trait ThrottleState {
    /// The kept deliveries of `(rule, key)`, oldest first.
    fn history(&self, rule: NotifyRuleIndex, key: KeyHash) -> &[i64];
    /// What a record of `(rule, key)` is measured against for lateness: its
    /// newest delivery; for a key the store forgot, the point it forgot it
    /// at; `None` when nothing bounds it.
    fn newest(&self, rule: NotifyRuleIndex, key: KeyHash) -> Option<i64> {
        self.history(rule, key).last().copied()
    }
    /// [`ThrottleState::history`] and [`ThrottleState::newest`] of
    /// `(rule, key)` at once: what a decision reads of a key before it
    /// decides (a store that can answers with one lookup).
    fn lookup(&self, rule: NotifyRuleIndex, key: KeyHash) -> (&[i64], Option<i64>) {
        (self.history(rule, key), self.newest(rule, key))
    }
    /// Whether a delivery of `(rule, key)` can be recorded: `false` only for
    /// a full store that fails closed and has no entry for the key.
    fn has_room(&self, _rule: NotifyRuleIndex, _key: KeyHash, _at_ms: i64) -> bool {
        true
    }
    /// Records a delivery at `at_ms`, then forgets the key's deliveries at
    /// or before `forget_through_ms` (no accepted record can meet them).
    fn record(&mut self, rule: NotifyRuleIndex, key: KeyHash, at_ms: i64, forget_through_ms: i64);
    /// The decision remembered for message id hash `id`, with the instant
    /// of the record it was made for.
    fn decided(&self, id: MessageIdHash) -> Option<(i64, Decision)>;
    /// Remembers `decision`, made for a record at `at_ms` with message id
    /// hash `id`, replacing what was remembered for it.
    fn remember(&mut self, id: MessageIdHash, at_ms: i64, decision: Decision);
    /// Where the store forgot message ids, if it did: a record with an id
    /// earlier than this less the lateness is refused.
    fn ids_forgotten(&self) -> Option<i64> {
        None
    }
    /// Whether a decision for a new id at `at_ms` can be remembered:
    /// `false` only for a full terminal store.
    fn has_room_for_id(&self, _id: MessageIdHash, _at_ms: i64) -> bool {
        true
    }
    /// The [`NotifyPolicy::shape`] of the policy the store was sized from,
    /// if it was sized from one: a policy of another shape refuses to
    /// decide with it ([`NotifyError::StateMismatch`]). `None` for a store
    /// that fits any policy.
    fn sized_for(&self) -> Option<u64> {
        None
    }
}

impl NotifyRule {
    /// The key under which the rule counts `record`'s delivery (a hash of
    /// the record's values of the rule's key fields); `None` for a rule
    /// that keeps no state.
    pub fn key_of(&self, record: &[Value]) -> Option<KeyHash> {
        self.keys().map(|keys| key_of(record, keys))
    }

    /// Whether the rule applies to `record`.
    pub fn applies(&self, record: &[Value]) -> bool {
        self.rows.iter().any(|cells| {
            cells
                .iter()
                .zip(&self.columns)
                .all(|(cell, &f)| record.get(f as usize).is_some_and(|v| cell.admits(v)))
        })
    }
}

/// How many keyed rules' reads one decision keeps (no allocation); a
/// record more keyed rules apply to reads the state again for the rest.
const SEEN: usize = 4;

/// A keyed rule's key and kept deliveries, as one decision read them.
#[derive(Clone, Copy, Default)]
struct Keyed<'s> {
    /// The rule's index.
    i: usize,
    key: KeyHash,
    history: &'s [i64],
}

/// The first [`SEEN`] keyed rules that apply to a record, in file order,
/// with what the state holds for their keys.
#[derive(Default)]
struct Seen<'s> {
    first: [Keyed<'s>; SEEN],
    len: usize,
    /// Whether more keyed rules applied than were kept.
    more: bool,
}

impl<'s> Seen<'s> {
    /// Keeps `k` if there is room.
    fn push(&mut self, k: Keyed<'s>) {
        match self.first.get_mut(self.len) {
            Some(slot) => {
                *slot = k;
                self.len += 1;
            }
            None => self.more = true,
        }
    }

    /// What was read for rule `i`, if it was kept.
    fn get(&self, i: usize) -> Option<&Keyed<'s>> {
        self.iter().find(|k| k.i == i)
    }

    /// The kept reads, in file order.
    fn iter(&self) -> impl Iterator<Item = &Keyed<'s>> {
        self.first.iter().take(self.len)
    }
}

/// Whether local time of day `tod` lies in window `(start, end)`: start
/// included, end excluded, wrapping past midnight when start > end.
pub(crate) fn in_window(tod: u32, (start, end): (u32, u32)) -> bool {
    if start <= end {
        start <= tod && tod < end
    } else {
        tod >= start || tod < end
    }
}

impl NotifyPolicy {
    /// Decides `record` against `state`, as [`NotifyPolicy::answer`] does,
    /// without saying whether the decision is a repeat.
    ///
    /// # Errors
    /// As [`NotifyPolicy::answer`].
    pub fn decide(
        &self,
        record: &[Value],
        state: &mut impl ThrottleState,
    ) -> Result<Decision, NotifyError> {
        self.answer(record, state).map(|a| a.decision)
    }

    /// The hash of `record`'s message id; `None` when the policy names no
    /// message id, or the record's is empty or the field's default.
    pub fn message_id_of(&self, record: &[Value]) -> Option<MessageIdHash> {
        let field = self.message_id?;
        let Some(Value::Str(id)) = record.get(field as usize) else {
            return None;
        };
        let default = self
            .fields
            .get(field as usize)
            .and_then(|f| f.default.as_ref());
        if id.is_empty() || matches!(default, Some(Value::Str(d)) if d == id) {
            return None;
        }
        Some(ids::id_hash(id))
    }

    /// Decides `record` against `state`. A record whose message id was
    /// decided within the lateness gets that decision again, marked as a
    /// repeat, and changes nothing; otherwise the decision is made (and a
    /// delivery recorded), and remembered for the record's id.
    ///
    /// # Errors
    /// [`NotifyError::NoTimestamp`] when the record has no timestamp;
    /// [`NotifyError::OutsideZoneSpan`] when it (or the end of the quiet
    /// window that would defer it) lies outside the zone's span;
    /// [`NotifyError::TooLate`] for a record later than the lateness;
    /// [`NotifyError::IdForgotten`] and [`NotifyError::IdMemoryFull`] when
    /// the store can't tell whether its id was decided, or can't remember it;
    /// [`NotifyError::StateMismatch`] when the store was sized from another
    /// policy.
    pub fn answer(
        &self,
        record: &[Value],
        state: &mut impl ThrottleState,
    ) -> Result<Answer, NotifyError> {
        self.answer_traced(record, state, &mut NoTrace)
    }

    /// [`NotifyPolicy::answer`], telling `tracer` what every rule saw in
    /// the state before the decision, the rules the decision consulted, and
    /// the decision a repeat repeats (a [`crate::trace::NotifyTrace`] keeps
    /// it for an explanation).
    ///
    /// # Errors
    /// As [`NotifyPolicy::answer`].
    pub fn answer_traced<T: NotifyTracer>(
        &self,
        record: &[Value],
        state: &mut impl ThrottleState,
        tracer: &mut T,
    ) -> Result<Answer, NotifyError> {
        if state.sized_for().is_some_and(|shape| shape != self.shape) {
            return Err(NotifyError::StateMismatch);
        }
        tracer.begin();
        if T::RECORDS {
            self.observe(record, state, tracer);
        }
        let Some(id) = self.message_id_of(record) else {
            return self
                .decide_fresh(record, state, tracer)
                .map(|decision| Answer {
                    decision,
                    repeat: false,
                });
        };
        let now_ms = self.instant_of(record).ok_or(NotifyError::NoTimestamp)?;
        let fresh = |decision| Answer {
            decision,
            repeat: false,
        };
        // Outside the zone's span nothing is counted (a record there is
        // refused, or delivered or suppressed by a rule that reads no
        // time): it is decided without its id.
        if !self.zone.covers(now_ms.div_euclid(1000)) {
            return self.decide_fresh(record, state, tracer).map(fresh);
        }
        let known = state.decided(id);
        if let Some((at, decision)) = known {
            if ids::repeats(at, now_ms, self.lateness_ms) {
                tracer.repeat_of(at);
                return Ok(Answer {
                    decision,
                    repeat: true,
                });
            }
        } else {
            // A store that forgot ids this early can't tell whether this is
            // a repeat; a full one can't remember it. Either way it is not
            // decided, but for a message an always-deliver rule covers,
            // which is delivered unremembered (it counts nowhere anyway).
            let forgotten = state
                .ids_forgotten()
                .filter(|&f| now_ms < f.saturating_sub(self.lateness_ms));
            if forgotten.is_some() || !state.has_room_for_id(id, now_ms) {
                let always = self
                    .rules
                    .iter()
                    .position(|r| r.action == Action::AlwaysDeliver && r.applies(record));
                if let Some(rule) = always {
                    tracer.consulted(NotifyRuleIndex::new(rule as u32));
                    return Ok(fresh(Decision::Deliver { clamped: None }));
                }
                return Err(match forgotten {
                    Some(forgotten_ms) => NotifyError::IdForgotten { forgotten_ms },
                    None => NotifyError::IdMemoryFull,
                });
            }
        }
        let decision = self.decide_fresh(record, state, tracer)?;
        state.remember(id, now_ms, decision);
        Ok(fresh(decision))
    }

    /// Decides `record` against `state` as a message never seen before,
    /// and records the delivery in it if the decision is to deliver.
    ///
    /// Each keyed rule's key is hashed once and its state read once (for
    /// the lateness, de-duplication and the cap alike), and written once
    /// when the message is delivered.
    fn decide_fresh<T: NotifyTracer>(
        &self,
        record: &[Value],
        state: &mut impl ThrottleState,
        tracer: &mut T,
    ) -> Result<Decision, NotifyError> {
        let now_ms = self.instant_of(record).ok_or(NotifyError::NoTimestamp)?;
        let now_s = now_ms.div_euclid(1000);
        // Which rules apply, decided once.
        let matching = Matching::of(&self.rules, record);
        let each = |set| matching.each(&self.rules, &self.kinds, set);
        if let Some((i, _)) = each(KindSet::ALWAYS).next() {
            tracer.consulted(NotifyRuleIndex::new(i as u32));
            return Ok(Decision::Deliver { clamped: None });
        }
        if let Some((i, _)) = each(KindSet::SUPPRESS).next() {
            tracer.consulted(NotifyRuleIndex::new(i as u32));
            return Ok(Decision::Suppress {
                rule: NotifyRuleIndex::new(i as u32),
                reason: Reason::Declared,
            });
        }
        // Outside its activation window the policy decides nothing that
        // reads time.
        self.window.admit(now_ms).map_err(|o| match o {
            Outside::Before { from_ms } => NotifyError::NotYetEffective { from_ms },
            Outside::After { until_ms } => NotifyError::Expired { until_ms },
        })?;
        // Local times and days are known only within the zone's span.
        if !self.zone.covers(now_s) {
            return Err(NotifyError::OutsideZoneSpan {
                at_ms: now_ms,
                rule: None,
            });
        }
        if let Some((i, r)) = matching
            .lone_limit(&self.kinds)
            .and_then(|i| self.rules.get(i).map(|r| (i, r)))
        {
            if let Action::Limit { cap, period, keys } = &r.action {
                let limit = (*cap, *period, keys.as_slice());
                return self.decide_lone_limit(i, r, limit, record, state, tracer, now_ms);
            }
        }
        // Every phase up to the delivery only reads the state.
        let reads = &*state;
        // A record later than the lateness for any of its keys is refused
        // before anything reads the state: the state may no longer hold
        // what deciding it would need.
        let mut seen = Seen::default();
        for (i, r) in each(KindSet::KEYED) {
            let rule = NotifyRuleIndex::new(i as u32);
            let key = key_of(record, r.keys().unwrap_or(&[]));
            let (history, newest) = reads.lookup(rule, key);
            self.within_lateness(rule, newest, now_ms)?;
            seen.push(Keyed { i, key, history });
        }
        // A keyed rule's key and history, as read above (or read again, for
        // the rules past the first few).
        let keyed = |i: usize, r: &NotifyRule| match seen.get(i) {
            Some(k) => (k.key, k.history),
            None => {
                let key = key_of(record, r.keys().unwrap_or(&[]));
                (key, reads.history(NotifyRuleIndex::new(i as u32), key))
            }
        };
        for (i, r) in each(KindSet::DEDUP) {
            if let Action::Dedup { window_ms, .. } = &r.action {
                tracer.consulted(NotifyRuleIndex::new(i as u32));
                let (_, history) = keyed(i, r);
                if let Some(last) = window::duplicate_of(history, now_ms, *window_ms) {
                    return Ok(Decision::Suppress {
                        rule: NotifyRuleIndex::new(i as u32),
                        reason: Reason::Duplicate { last_ms: last },
                    });
                }
            }
        }
        // The local time is read only when a quiet rule applies.
        let held = match each(KindSet::QUIET).next() {
            Some(_) => self.holding(&matching, now_s),
            None => None,
        };
        if T::RECORDS {
            // Every quiet rule up to the one that holds the message.
            let last = held.map_or(usize::MAX, |(rule, ..)| rule.get() as usize);
            for (i, _) in each(KindSet::QUIET) {
                if i <= last {
                    tracer.consulted(NotifyRuleIndex::new(i as u32));
                }
            }
        }
        if let Some((rule, windows, drop)) = held {
            if drop {
                return Ok(Decision::Suppress {
                    rule,
                    reason: Reason::Quiet,
                });
            }
            let until_s = self.quiet_end(now_s, windows);
            if !self.zone.covers(until_s) {
                return Err(NotifyError::OutsideZoneSpan {
                    at_ms: until_s.saturating_mul(1000),
                    rule: Some(rule),
                });
            }
            if let Some((rule, at_s)) = self.chain_leaves_span(&matching, until_s) {
                return Err(NotifyError::OutsideZoneSpan {
                    at_ms: at_s.saturating_mul(1000),
                    rule: Some(rule),
                });
            }
            return Ok(Decision::Defer {
                rule,
                until_ms: until_s.saturating_mul(1000),
            });
        }
        let mut clamped = None;
        for (i, r) in each(KindSet::LIMIT) {
            if let Action::Limit { cap, period, .. } = &r.action {
                let rule = NotifyRuleIndex::new(i as u32);
                tracer.consulted(rule);
                let (_, history) = keyed(i, r);
                match self.cap_admits(rule, *cap, *period, record, history, now_ms) {
                    Ok(clamp) => clamped = clamped.or(clamp),
                    Err(suppress) => return Ok(suppress),
                }
            }
        }
        for (i, r) in each(KindSet::KEYED) {
            let (key, _) = keyed(i, r);
            if !reads.has_room(NotifyRuleIndex::new(i as u32), key, now_ms) {
                tracer.consulted(NotifyRuleIndex::new(i as u32));
                return Ok(Decision::Suppress {
                    rule: NotifyRuleIndex::new(i as u32),
                    reason: Reason::StoreFull,
                });
            }
        }
        // Delivered: each keyed rule records it, in file order, forgetting
        // what no accepted record can meet (worked out from the history read
        // above, before the state changes).
        let forget = |r: &NotifyRule, history: &[i64]| self.forget_through(r, history, now_ms);
        let mut writes = [(0usize, KeyHash::default(), 0i64); SEEN];
        for (w, (k, r)) in writes
            .iter_mut()
            .zip(seen.iter().zip(each(KindSet::KEYED).map(|(_, r)| r)))
        {
            *w = (k.i, k.key, forget(r, k.history));
        }
        let (written, more) = (seen.len, seen.more);
        for &(i, key, through) in writes.get(..written).unwrap_or(&[]) {
            state.record(NotifyRuleIndex::new(i as u32), key, now_ms, through);
        }
        for (i, r) in each(KindSet::KEYED).skip(written).filter(|_| more) {
            let rule = NotifyRuleIndex::new(i as u32);
            let key = key_of(record, r.keys().unwrap_or(&[]));
            let through = forget(r, state.history(rule, key));
            state.record(rule, key, now_ms, through);
        }
        Ok(Decision::Deliver { clamped })
    }

    /// [`NotifyPolicy::decide_fresh`] past the time checks when the only
    /// keyed rule that applies is limit `r` (rule `i`, its cap, period and
    /// key fields in `limit`) and no quiet rule
    /// applies: the phases in the same order, the key hashed, read and
    /// written once, nothing kept for other rules.
    #[allow(clippy::too_many_arguments)]
    fn decide_lone_limit<T: NotifyTracer>(
        &self,
        i: usize,
        r: &NotifyRule,
        (cap, period, keys): (Cap, Period, &[u32]),
        record: &[Value],
        state: &mut impl ThrottleState,
        tracer: &mut T,
        now_ms: i64,
    ) -> Result<Decision, NotifyError> {
        let rule = NotifyRuleIndex::new(i as u32);
        let key = key_of(record, keys);
        let (history, newest) = state.lookup(rule, key);
        self.within_lateness(rule, newest, now_ms)?;
        tracer.consulted(rule);
        let clamped = match self.cap_admits(rule, cap, period, record, history, now_ms) {
            Ok(clamped) => clamped,
            Err(suppress) => return Ok(suppress),
        };
        if !state.has_room(rule, key, now_ms) {
            tracer.consulted(rule);
            return Ok(Decision::Suppress {
                rule,
                reason: Reason::StoreFull,
            });
        }
        let through = self.forget_through(r, history, now_ms);
        state.record(rule, key, now_ms, through);
        Ok(Decision::Deliver { clamped })
    }

    /// Refuses a record at `now_ms` older than the lateness allows for a
    /// key of `rule` measured against `newest`.
    fn within_lateness(
        &self,
        rule: NotifyRuleIndex,
        newest: Option<i64>,
        now_ms: i64,
    ) -> Result<(), NotifyError> {
        match newest {
            Some(newest) if now_ms < newest.saturating_sub(self.lateness_ms) => {
                Err(NotifyError::TooLate {
                    rule,
                    newest_ms: newest,
                })
            }
            _ => Ok(()),
        }
    }

    /// Whether limit `rule` admits `record` at `now_ms` given its key's
    /// `history`: the clamp it reports (if the record's cap was outside
    /// its bounds), or the suppression when the fullest period is full.
    fn cap_admits(
        &self,
        rule: NotifyRuleIndex,
        cap: Cap,
        period: Period,
        record: &[Value],
        history: &[i64],
        now_ms: i64,
    ) -> Result<Option<Clamp>, Decision> {
        let (allowed, clamped_from) = self.cap_for(cap, record);
        let count = window::fullest_period(history, period, now_ms, &self.zone) as u32;
        if count >= allowed {
            return Err(Decision::Suppress {
                rule,
                reason: Reason::CapReached {
                    count,
                    cap: allowed,
                    clamped_from,
                },
            });
        }
        Ok(clamped_from.map(|from| Clamp {
            rule,
            from,
            to: allowed,
        }))
    }

    /// The instant through which a key of keyed rule `r` whose kept
    /// deliveries are `history` forgets them when a delivery at `now_ms`
    /// is recorded: what no record accepted afterwards can meet.
    fn forget_through(&self, r: &NotifyRule, history: &[i64], now_ms: i64) -> i64 {
        let newest = history.last().map_or(now_ms, |&t| t.max(now_ms));
        r.span().map_or(i64::MIN, |span| {
            window::forget_through(history, span, newest, self.lateness_ms, &self.zone)
        })
    }

    /// What every rule sees of `record` in `state`, before any phase runs,
    /// told to `tracer` in file order: the values the phases read (the
    /// key's history, its newest delivery, the local time, the cap). Nothing
    /// for a record without a timestamp.
    fn observe<T: NotifyTracer>(
        &self,
        record: &[Value],
        state: &impl ThrottleState,
        tracer: &mut T,
    ) {
        let Some(Value::Time {
            unix_ms: now_ms, ..
        }) = record.get(self.clock as usize)
        else {
            return;
        };
        let now_ms = *now_ms;
        let tod = self.zone.time_of_day(now_ms.div_euclid(1000));
        for (i, r) in self.rules.iter().enumerate() {
            let rule = NotifyRuleIndex::new(i as u32);
            if !r.applies(record) {
                tracer.saw(RuleTrace {
                    rule,
                    saw: None,
                    newest_ms: None,
                });
                continue;
            }
            let key = r.keys().map(|keys| key_of(record, keys));
            let history = key.map_or(&[][..], |k| state.history(rule, k));
            let saw = match &r.action {
                Action::AlwaysDeliver => Saw::AlwaysDeliver,
                Action::Suppress { .. } => Saw::Suppress,
                Action::Dedup { window_ms, .. } => Saw::Dedup {
                    last_ms: history.last().copied(),
                    duplicate_of: window::duplicate_of(history, now_ms, *window_ms),
                },
                Action::Quiet { windows, .. } => Saw::Quiet {
                    local_time: tod,
                    holding: (0..windows.len())
                        .filter(|&w| windows.get(w).is_some_and(|&w| in_window(tod, w)))
                        .collect(),
                },
                Action::Limit { cap, period, .. } => {
                    let count = window::fullest_period(history, *period, now_ms, &self.zone);
                    let (cap, clamped_from) = self.cap_for(*cap, record);
                    Saw::Limit {
                        count,
                        cap,
                        clamped_from,
                        admits: (count as u32) < cap,
                    }
                }
            };
            tracer.saw(RuleTrace {
                rule,
                saw: Some(saw),
                newest_ms: key.and_then(|k| state.newest(rule, k)),
            });
        }
    }

    /// The cap for `record`, and the record's value when it was clamped.
    pub(crate) fn cap_for(&self, cap: Cap, record: &[Value]) -> (u32, Option<i64>) {
        match cap {
            Cap::Fixed(n) => (n, None),
            Cap::Field { field, low, high } => {
                let wanted = match record.get(field as usize) {
                    Some(Value::Num(d)) => {
                        i64::try_from(d.mantissa()).ok().filter(|_| d.scale() == 0)
                    }
                    _ => None,
                };
                match wanted {
                    Some(v) if v < i64::from(low) => (low, Some(v)),
                    Some(v) if v > i64::from(high) => (high, Some(v)),
                    Some(v) => (v as u32, None),
                    None => (high, None),
                }
            }
        }
    }

    /// The first quiet rule, in file order, that applies to the message
    /// (`matching` tells) and whose window holds the instant `at_s`.
    fn holding<'a>(&'a self, matching: &'a Matching, at_s: i64) -> Option<QuietRule<'a>> {
        let tod = self.zone.time_of_day(at_s);
        matching
            .each(&self.rules, &self.kinds, KindSet::QUIET)
            .find_map(|(i, r)| match &r.action {
                Action::Quiet { windows, drop } if windows.iter().any(|&w| in_window(tod, w)) => {
                    Some((NotifyRuleIndex::new(i as u32), windows.as_slice(), *drop))
                }
                _ => None,
            })
    }

    /// Follows a message deferred to `from_s` through the defers it gets
    /// when sent again at each instant named: the deferring rule and the
    /// instant of the first such defer that would leave the zone's span,
    /// if any. The walk stops where no window holds the message or a `then
    /// drop` rule does, and after as many steps as the applicable quiet
    /// rules have windows (the windows then hold every time of day: lint
    /// L0203).
    fn chain_leaves_span(
        &self,
        matching: &Matching,
        from_s: i64,
    ) -> Option<(NotifyRuleIndex, i64)> {
        let steps: usize = matching
            .each(&self.rules, &self.kinds, KindSet::QUIET)
            .map(|(_, r)| match &r.action {
                Action::Quiet { windows, .. } => windows.len(),
                _ => 0,
            })
            .sum();
        let mut t = from_s;
        for _ in 0..=steps {
            let (rule, windows, drop) = self.holding(matching, t)?;
            if drop {
                return None;
            }
            t = self.quiet_end(t, windows);
            if !self.zone.covers(t) {
                return Some((rule, t));
            }
        }
        None
    }

    /// The first instant (seconds) at or after `now_s` outside every window.
    fn quiet_end(&self, now_s: i64, windows: &[(u32, u32)]) -> i64 {
        let mut t = now_s;
        // Each step leaves one window; adjacent windows chain.
        for _ in 0..=windows.len() {
            let tod = self.zone.time_of_day(t);
            let Some(&(_, end)) = windows.iter().find(|&&w| in_window(tod, w)) else {
                return t;
            };
            t = self
                .zone
                .next_time_of_day(t.saturating_add(1), end % 86_400);
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::{Cell, FieldSpec};
    use crate::zone::Zone;

    #[test]
    fn every_error_reads_as_one_sentence_and_is_an_error() {
        use alloc::string::ToString;
        let all = [
            NotifyError::NoTimestamp,
            NotifyError::TooLate {
                rule: NotifyRuleIndex::new(1),
                newest_ms: 5,
            },
            NotifyError::OutsideZoneSpan {
                at_ms: 7,
                rule: None,
            },
            NotifyError::OutsideZoneSpan {
                at_ms: 7,
                rule: Some(NotifyRuleIndex::new(2)),
            },
            NotifyError::IdForgotten { forgotten_ms: 9 },
            NotifyError::IdMemoryFull,
            NotifyError::StateMismatch,
        ];
        for e in all {
            let text = e.to_string();
            assert!(!text.is_empty() && !text.contains('\n') && !text.contains('{'));
            let _: &dyn core::error::Error = &e;
        }
    }

    /// A capacity no address space holds is an error, not a panic or an
    /// abort: what a 32-bit terminal gets from a caller's too-large
    /// capacity (here, on 64 bits, sizes that overflow `isize`).
    #[test]
    fn capacities_too_large_for_memory_are_errors() {
        use crate::bounded::{BoundedState, CapacityError, WhenFull};
        let p = policy(3, 100);
        let e = BoundedState::new(&p, usize::MAX / 4).unwrap_err();
        assert_eq!(e, CapacityError::TooLarge { rule: "cap".into() });
        let e = BoundedState::with_ids(&with_ids(100), 1, WhenFull::EvictOldest, usize::MAX / 4)
            .unwrap_err();
        assert_eq!(
            e,
            CapacityError::TooManyIds {
                capacity: usize::MAX / 4
            }
        );
        assert!(!alloc::string::ToString::to_string(&e).contains('\n'));
    }

    /// A size of 0 is refused where the policy needs room: keys always,
    /// message ids when the policy names one (else 0 ids is right).
    #[test]
    fn a_state_without_room_is_refused() {
        use crate::bounded::{BoundedState, CapacityError, WhenFull};
        let plain = policy(3, 100);
        assert_eq!(
            BoundedState::new(&plain, 0).unwrap_err(),
            CapacityError::NoKeys
        );
        assert!(BoundedState::with_ids(&plain, 1, WhenFull::RefuseNewKeys, 0).is_ok());
        let ids = with_ids(100);
        assert_eq!(
            BoundedState::with_ids(&ids, 4, WhenFull::EvictOldest, 0).unwrap_err(),
            CapacityError::NoIds { field: "id".into() }
        );
        assert_eq!(
            BoundedState::with_ids(&ids, 0, WhenFull::EvictOldest, 4).unwrap_err(),
            CapacityError::NoKeys
        );
        assert!(BoundedState::with_ids(&ids, 1, WhenFull::EvictOldest, 1).is_ok());
        for e in [
            CapacityError::NoKeys,
            CapacityError::NoIds { field: "id".into() },
        ] {
            let text = alloc::string::ToString::to_string(&e);
            assert!(text.contains(" 0") && !text.contains('\n'), "{text}");
        }
    }

    /// The timestamp field decisions are made at.
    fn clock_field() -> FieldSpec {
        FieldSpec {
            name: "at".into(),
            kind: crate::table::FieldKind::Timestamp,
            default: None,
            refunds: false,
        }
    }

    /// `p`, changed, built again (checked, its shape hashed anew).
    fn rebuilt(p: NotifyPolicy) -> NotifyPolicy {
        NotifyPolicy::new(p.into_parts()).unwrap()
    }

    fn policy(cap: u32, lateness_ms: i64) -> NotifyPolicy {
        NotifyPolicy::new(NotifyParts {
            name: "p".into(),
            version: 1,
            window: crate::activation::Window::ALWAYS,
            fields: alloc::vec![clock_field()],
            clock: 0,
            zone: Zone::fixed("UTC".into(), 0),
            lateness_ms,
            message_id: None,
            rules: alloc::vec![NotifyRule::new(
                "cap".into(),
                Vec::new(),
                alloc::vec![Vec::new()],
                Action::Limit {
                    cap: Cap::Fixed(cap),
                    period: Period::Rolling(1_000),
                    keys: Vec::new()
                }
            )
            .unwrap()],
        })
        .unwrap()
    }

    #[test]
    fn history_stays_in_time_order_when_records_arrive_out_of_order() {
        let mut s = MemoryState::new();
        for at in [50, 10, 30, 40, 20] {
            s.record(NotifyRuleIndex::new(0), KeyHash::new(7), at, 15);
        }
        assert_eq!(
            s.history(NotifyRuleIndex::new(0), KeyHash::new(7)),
            &[20, 30, 40, 50]
        );
        let mut b = crate::bounded::BoundedState::new(&policy(3, 100), 2).unwrap_or_else(|e| {
            unreachable!("{e}");
        });
        for at in [50, 10, 30, 40, 20] {
            b.record(NotifyRuleIndex::new(0), KeyHash::new(7), at, 15);
        }
        assert_eq!(
            b.history(NotifyRuleIndex::new(0), KeyHash::new(7)),
            &[20, 30, 40, 50]
        );
    }

    #[test]
    fn a_store_split_and_joined_is_the_store() {
        let p = policy(3, 100);
        let mut s = MemoryState::new();
        for key in 0..40u64 {
            s.record(
                NotifyRuleIndex::new(0),
                KeyHash::new(key),
                10 + key as i64,
                0,
            );
            s.record(
                NotifyRuleIndex::new(0),
                KeyHash::new(key),
                20 + key as i64,
                0,
            );
            s.remember(
                MessageIdHash::new(key * 7),
                5,
                Decision::Deliver { clamped: None },
            );
        }
        s.record(NotifyRuleIndex::new(0), KeyHash::new(99), 5, 0);
        s.prune(&p, 2_000);
        s.record(NotifyRuleIndex::new(0), KeyHash::new(1), 3_000, 0);
        s.remember(
            MessageIdHash::new(3),
            3_000,
            Decision::Deliver { clamped: None },
        );
        let parts = s.clone().split(
            7,
            |_, k| (k.get() % 7) as usize,
            |id| (id.get() % 5) as usize,
        );
        assert_eq!(parts.len(), 7);
        assert_eq!(parts.iter().map(MemoryState::len).sum::<usize>(), s.len());
        assert!(parts.iter().all(|part| part.forgotten == s.forgotten));
        assert_eq!(MemoryState::join(&parts), s);
    }

    #[test]
    fn always_deliver_wins_over_suppress_and_suppress_changes_no_state() {
        let rule = |name: &str, action: Action| {
            NotifyRule::new(name.into(), Vec::new(), alloc::vec![Vec::new()], action).unwrap()
        };
        let mut policy = NotifyPolicy::new(NotifyParts {
            name: "p".into(),
            version: 1,
            window: crate::activation::Window::ALWAYS,
            fields: alloc::vec![clock_field()],
            clock: 0,
            zone: Zone::fixed("UTC".into(), 0),
            lateness_ms: 0,
            message_id: None,
            rules: alloc::vec![
                rule(
                    "cap",
                    Action::Limit {
                        cap: Cap::Fixed(1),
                        period: Period::Rolling(1_000),
                        keys: Vec::new(),
                    }
                ),
                rule(
                    "out",
                    Action::Suppress {
                        reason: "opted out".into()
                    }
                ),
            ],
        })
        .unwrap();
        let record = [Value::Time {
            unix_ms: 5,
            offset_secs: 0,
        }];
        let mut state = MemoryState::new();
        assert_eq!(
            policy.decide(&record, &mut state),
            Ok(Decision::Suppress {
                rule: NotifyRuleIndex::new(1),
                reason: Reason::Declared
            })
        );
        assert!(state.is_empty(), "a suppressed message records nothing");
        policy.rules.push(rule("always", Action::AlwaysDeliver));
        let policy = rebuilt(policy);
        assert_eq!(
            policy.decide(&record, &mut state),
            Ok(Decision::Deliver { clamped: None })
        );
    }

    /// A policy with a cap of 5 per second, an always-deliver rule for
    /// records whose `kind` is "alert", and a message id.
    fn with_ids(lateness_ms: i64) -> NotifyPolicy {
        let mut p = policy(5, lateness_ms);
        let string = |name: &str| FieldSpec {
            name: name.into(),
            kind: crate::table::FieldKind::String,
            default: Some(Value::Str(String::new())),
            refunds: false,
        };
        p.fields = alloc::vec![clock_field(), string("id"), string("kind")];
        p.message_id = Some(1);
        p.rules.push(
            NotifyRule::new(
                "alerts".into(),
                alloc::vec![2],
                alloc::vec![alloc::vec![Cell::StrIn(alloc::vec!["alert".into()])]],
                Action::AlwaysDeliver,
            )
            .unwrap(),
        );
        rebuilt(p)
    }

    fn message(ms: i64, id: &str, kind: &str) -> [Value; 3] {
        [
            Value::Time {
                unix_ms: ms,
                offset_secs: 0,
            },
            Value::Str(id.into()),
            Value::Str(kind.into()),
        ]
    }

    #[test]
    fn a_repeat_gets_the_first_decision_and_counts_nowhere() {
        let p = with_ids(100);
        let mut s = MemoryState::new();
        let first = p.answer(&message(1_000, "a", ""), &mut s);
        assert_eq!(first.map(|a| a.repeat), Ok(false));
        let counted = s
            .history(NotifyRuleIndex::new(0), key_of(&message(0, "", ""), &[]))
            .to_vec();
        for at in [900, 1_000, 1_100] {
            let again = p.answer(&message(at, "a", ""), &mut s);
            assert_eq!(again.map(|a| a.repeat), Ok(true), "at {at}");
        }
        assert_eq!(
            s.history(NotifyRuleIndex::new(0), key_of(&message(0, "", ""), &[])),
            counted
        );
        // More than the lateness from the first decision: decided afresh.
        let later = p.answer(&message(1_101, "a", ""), &mut s);
        assert_eq!(later.map(|a| a.repeat), Ok(false));
        // No id (empty, the field's default): never a repeat.
        for _ in 0..2 {
            let none = p.answer(&message(1_200, "", ""), &mut s);
            assert_eq!(none.map(|a| a.repeat), Ok(false));
        }
    }

    #[test]
    fn a_full_id_table_fails_safe() {
        let p = with_ids(100);
        let mut b =
            crate::bounded::BoundedState::with_ids(&p, 4, crate::bounded::WhenFull::EvictOldest, 1)
                .unwrap_or_else(|e| unreachable!("{e}"));
        assert!(p.answer(&message(1_000, "a", ""), &mut b).is_ok());
        // "a" can still be repeated: "b" finds no room, and is not decided.
        assert_eq!(
            p.answer(&message(1_050, "b", ""), &mut b),
            Err(NotifyError::IdMemoryFull)
        );
        assert_eq!(
            b.history(NotifyRuleIndex::new(0), key_of(&message(0, "", ""), &[])),
            &[1_000]
        );
        // An alert is delivered all the same, and not remembered.
        for _ in 0..2 {
            let alert = p.answer(&message(1_050, "c", "alert"), &mut b);
            assert_eq!(alert.map(|a| a.repeat), Ok(false));
        }
        // Once no record can repeat "a", its entry is reused.
        assert!(p.answer(&message(1_201, "b", ""), &mut b).is_ok());
        assert_eq!(b.decided(crate::ids::id_hash("a")), None);
    }

    #[test]
    fn a_record_earlier_than_the_pruned_ids_reach_is_refused() {
        let p = with_ids(100);
        let mut s = MemoryState::new();
        assert!(p.answer(&message(1_000, "a", ""), &mut s).is_ok());
        s.prune(&p, 1_201);
        assert!(s.ids().is_empty());
        assert_eq!(
            p.answer(&message(1_100, "a", ""), &mut s),
            Err(NotifyError::IdForgotten {
                forgotten_ms: 1_201
            })
        );
        assert!(p.answer(&message(1_101, "a", ""), &mut s).is_ok());
    }

    #[test]
    fn records_outside_the_zone_span_are_refused_but_always_deliver_is_not() {
        let rule = |name: &str, columns: Vec<u32>, rows: Vec<Vec<Cell>>, action| {
            NotifyRule::new(name.into(), columns, rows, action).unwrap()
        };
        let mut zone = Zone::fixed("UTC".into(), 0);
        (zone.from, zone.until) = (86_400, 3 * 86_400);
        let urgent = FieldSpec {
            name: "urgent".into(),
            kind: crate::table::FieldKind::Bool,
            default: None,
            refunds: false,
        };
        let policy = NotifyPolicy::new(NotifyParts {
            name: "p".into(),
            version: 1,
            window: crate::activation::Window::ALWAYS,
            fields: alloc::vec![clock_field(), urgent],
            clock: 0,
            zone,
            lateness_ms: 0,
            message_id: None,
            rules: alloc::vec![
                rule(
                    "always",
                    alloc::vec![1],
                    alloc::vec![alloc::vec![Cell::Bool(true)]],
                    Action::AlwaysDeliver
                ),
                rule(
                    "late_evening",
                    Vec::new(),
                    alloc::vec![Vec::new()],
                    Action::Quiet {
                        windows: alloc::vec![(23 * 3600, 3600)],
                        drop: false,
                    }
                ),
            ],
        })
        .unwrap();
        let at = |s: i64, urgent: bool| {
            [
                Value::Time {
                    unix_ms: s * 1000,
                    offset_secs: 0,
                },
                Value::Bool(urgent),
            ]
        };
        let mut state = MemoryState::new();
        let mut decide = |s: i64, urgent: bool| policy.decide(&at(s, urgent), &mut state);
        let outside = |s: i64, rule| {
            Err(NotifyError::OutsideZoneSpan {
                at_ms: s * 1000,
                rule,
            })
        };
        assert_eq!(decide(86_399, false), outside(86_399, None));
        assert_eq!(decide(3 * 86_400, false), outside(3 * 86_400, None));
        assert_eq!(
            decide(3 * 86_400, true),
            Ok(Decision::Deliver { clamped: None })
        );
        assert_eq!(
            decide(86_400 + 3600, false),
            Ok(Decision::Deliver { clamped: None })
        );
        // Deferred to 01:00 on the second day: inside the span.
        assert_eq!(
            decide(86_400 + 23 * 3600, false),
            Ok(Decision::Defer {
                rule: NotifyRuleIndex::new(1),
                until_ms: (2 * 86_400 + 3600) * 1000
            })
        );
        // The last second of the span is in the window, which ends after it.
        assert_eq!(
            decide(3 * 86_400 - 1, false),
            outside(3 * 86_400 + 3600, Some(NotifyRuleIndex::new(1)))
        );
    }

    #[test]
    fn a_bounded_state_decides_only_for_the_policy_it_was_sized_from() {
        use crate::bounded::BoundedState;
        let at = [Value::Time {
            unix_ms: 1_000,
            offset_secs: 0,
        }];
        let mut state = BoundedState::new(&policy(3, 100), 4).unwrap();
        for other in [
            policy(4, 100),
            policy(3, 200),
            policy(3, 100).with_version(2),
        ] {
            assert_eq!(
                other.decide(&at, &mut state),
                Err(NotifyError::StateMismatch)
            );
        }
        assert!(
            state
                .history(NotifyRuleIndex::new(0), key_of(&at, &[]))
                .is_empty(),
            "nothing changed"
        );
        assert_eq!(
            policy(3, 100).decide(&at, &mut state),
            Ok(Decision::Deliver { clamped: None })
        );
        // A store that fits any policy is never refused.
        assert!(policy(4, 100).decide(&at, &mut MemoryState::new()).is_ok());
    }

    #[test]
    fn a_record_later_than_the_lateness_is_refused() {
        let p = policy(5, 100);
        let mut s = MemoryState::new();
        let at = |ms: i64| {
            [Value::Time {
                unix_ms: ms,
                offset_secs: 0,
            }]
        };
        assert!(p.decide(&at(1_000), &mut s).is_ok());
        assert!(p.decide(&at(900), &mut s).is_ok());
        assert_eq!(
            p.decide(&at(899), &mut s),
            Err(NotifyError::TooLate {
                rule: NotifyRuleIndex::new(0),
                newest_ms: 1_000
            })
        );
    }
}
