//! What the notification engine reports while it decides a message, and
//! the tracer that keeps it for an explanation.

use super::NoTrace;
use crate::position::NotifyRuleIndex;
use alloc::vec::Vec;

/// What the notification engine tells a tracer while it decides a
/// message.
pub trait NotifyTracer {
    /// Whether the tracer keeps anything. When `false` the engine skips
    /// the steps that only feed the tracer (what every rule sees).
    const RECORDS: bool;
    /// A message is about to be decided: forget the last one.
    #[inline]
    fn begin(&mut self) {}
    /// What one rule sees in the state before the decision changes it:
    /// reported for every rule, in file order, before the phases run
    /// (when the record has a timestamp). A rule whose phase the decision
    /// never reaches is reported too, with what it would have seen.
    #[inline]
    fn saw(&mut self, _rule: RuleTrace) {}
    /// The message's id was decided for a record at `decided_at_ms`, within
    /// the lateness: the answer repeats that decision and consults no rule.
    #[inline]
    fn repeat_of(&mut self, _decided_at_ms: i64) {}
    /// The decision consulted `rule`, in the order of the phases: the
    /// always-deliver or suppress rule that decided; each dedup rule whose
    /// window was searched; each quiet rule whose windows were compared with
    /// the local time, up to the one that held the message; each cap
    /// compared, up to the one that was reached; the rule whose key found
    /// no room in a full store.
    #[inline]
    fn consulted(&mut self, _rule: NotifyRuleIndex) {}
}

impl NotifyTracer for NoTrace {
    const RECORDS: bool = false;
}

/// What a rule that applies to the message sees, by its action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Saw {
    /// An always-deliver rule.
    AlwaysDeliver,
    /// A suppress rule.
    Suppress,
    /// A dedup rule: the key's newest kept delivery, and the delivery
    /// within the window that makes the message a duplicate, if any.
    Dedup {
        /// The key's newest kept delivery, in Unix ms.
        last_ms: Option<i64>,
        /// The delivery within the window, if any.
        duplicate_of: Option<i64>,
    },
    /// A quiet rule: the local time of the message, and the rule's windows
    /// that hold it.
    Quiet {
        /// Seconds after local midnight.
        local_time: u32,
        /// Positions in the rule's windows of those that hold the message.
        holding: Vec<usize>,
    },
    /// A limit: the deliveries counted in the fullest period that would
    /// hold the message, and the cap applied to the record.
    Limit {
        /// Deliveries in that period.
        count: usize,
        /// The cap for this record.
        cap: u32,
        /// The record's own cap when it was outside the bounds, clamped.
        clamped_from: Option<i64>,
        /// Whether the count leaves room for the message.
        admits: bool,
    },
}

/// What one rule saw of the message and the state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleTrace {
    /// The rule.
    pub rule: NotifyRuleIndex,
    /// What it saw; `None` when the rule does not apply to the message.
    pub saw: Option<Saw>,
    /// For a rule with a key: what the lateness measures the record
    /// against (the key's newest delivery, or where the store forgot it).
    pub newest_ms: Option<i64>,
}

/// The tracer that keeps everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NotifyTrace {
    /// Every rule's view, in file order (empty for a record without a
    /// timestamp).
    pub rules: Vec<RuleTrace>,
    /// For a repeat: the instant of the record its decision was made for.
    pub repeat_of: Option<i64>,
    /// The rules the decision consulted, in the order of the phases.
    pub consulted: Vec<NotifyRuleIndex>,
}

impl NotifyTracer for NotifyTrace {
    const RECORDS: bool = true;

    fn begin(&mut self) {
        self.rules.clear();
        self.repeat_of = None;
        self.consulted.clear();
    }

    fn saw(&mut self, rule: RuleTrace) {
        self.rules.push(rule);
    }

    fn repeat_of(&mut self, decided_at_ms: i64) {
        self.repeat_of = Some(decided_at_ms);
    }

    fn consulted(&mut self, rule: NotifyRuleIndex) {
        self.consulted.push(rule);
    }
}
