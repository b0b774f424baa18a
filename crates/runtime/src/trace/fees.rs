//! What the fee engine reports while it prices a record, and the tracer
//! that keeps it for an explanation.

use super::NoTrace;
use crate::fee::FeeBreakdown;
use crate::position::{RuleIndex, ScheduleIndex};
use crate::value::Value;
use crate::Decimal;
use alloc::vec::Vec;

/// What the fee engine tells a tracer while it prices a record, schedule
/// by schedule, in the order it does the work.
pub trait FeeTracer {
    /// Whether the tracer keeps anything. When `false` the engine skips
    /// the steps that only feed the tracer (it finds each rule through its
    /// lookup index instead of walking the rows).
    const RECORDS: bool;
    /// A record is about to be priced: forget the last one.
    #[inline]
    fn begin(&mut self) {}
    /// The schedule that the calls up to the next `schedule` are about.
    #[inline]
    fn schedule(&mut self, _schedule: ScheduleIndex) {}
    /// Row `row` of the schedule (of rule `rule`) does not admit the
    /// record: `column`, a position in the schedule's columns, is the
    /// first cell that refused the record's value `value` (`None`: the
    /// record has no value for the cell's field).
    #[inline]
    fn miss(&mut self, _row: u32, _rule: RuleIndex, _column: u32, _value: Option<&Value>) {}
    /// The rule that decides the schedule. Earlier rows of the same rule
    /// that missed were alternatives of its condition, not rules tried.
    #[inline]
    fn matched(&mut self, _rule: RuleIndex) {}
    /// The amount the schedule charges on, as the record holds it.
    #[inline]
    fn amount(&mut self, _amount: Decimal) {}
    /// Under `whole` tiers, the band whose rate charges the whole amount.
    #[inline]
    fn band(&mut self, _band: usize) {}
    /// Under `marginal` tiers, the part of the amount's magnitude that band
    /// `band` charges (bands that charge nothing are not reported).
    #[inline]
    fn band_part(&mut self, _band: usize, _part: Decimal) {}
    /// The schedule's fee, computed.
    #[inline]
    fn priced(&mut self, _fee: &FeeBreakdown) {}
}

impl FeeTracer for NoTrace {
    const RECORDS: bool = false;
}

/// A row the engine tried before the rule that matched, and why it failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Miss {
    /// The row's position in the schedule's rows.
    pub row: u32,
    /// The row's rule.
    pub rule: RuleIndex,
    /// The position, in the schedule's columns, of the first cell that
    /// refused the record's value (or found none: a field the record
    /// lacks).
    pub column: u32,
    /// The record's value the cell refused; `None` when the record has no
    /// value for the cell's field.
    pub value: Option<Value>,
}

/// How the tiers of the matched rule charged the amount.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum TierTrace {
    /// The rule's fee has no tiers.
    #[default]
    None,
    /// `whole`: this band's rate charged the whole amount.
    Whole {
        /// The band's position in the fee's tiers.
        band: usize,
    },
    /// `marginal`: each band charged its part of the amount, in order.
    Marginal {
        /// (band position, the part of the amount's magnitude it charged).
        parts: Vec<(usize, Decimal)>,
    },
}

/// How one schedule priced the record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleTrace {
    /// The schedule.
    pub schedule: ScheduleIndex,
    /// The rows of the rules before the matched one, in order, each with
    /// the cell that refused the record.
    pub tried: Vec<Miss>,
    /// The rule that matched; `None` when the schedule did not get that far.
    pub rule: Option<RuleIndex>,
    /// The amount charged on.
    pub amount: Option<Decimal>,
    /// The tiers' part.
    pub tiers: TierTrace,
    /// Every step of the computation.
    pub fee: Option<FeeBreakdown>,
}

/// The tracer that keeps everything, one [`ScheduleTrace`] per schedule
/// priced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeeTrace {
    schedules: Vec<ScheduleTrace>,
}

impl FeeTrace {
    /// What each schedule did, in schedule order, up to the one that
    /// failed (if one did).
    pub fn schedules(&self) -> &[ScheduleTrace] {
        &self.schedules
    }

    /// The trace of `schedule`, if it was priced.
    pub fn of(&self, schedule: ScheduleIndex) -> Option<&ScheduleTrace> {
        self.schedules.iter().find(|s| s.schedule == schedule)
    }

    fn current(&mut self) -> Option<&mut ScheduleTrace> {
        self.schedules.last_mut()
    }
}

impl FeeTracer for FeeTrace {
    const RECORDS: bool = true;

    fn begin(&mut self) {
        self.schedules.clear();
    }

    fn schedule(&mut self, schedule: ScheduleIndex) {
        self.schedules.push(ScheduleTrace {
            schedule,
            tried: Vec::new(),
            rule: None,
            amount: None,
            tiers: TierTrace::None,
            fee: None,
        });
    }

    fn miss(&mut self, row: u32, rule: RuleIndex, column: u32, value: Option<&Value>) {
        if let Some(s) = self.current() {
            s.tried.push(Miss {
                row,
                rule,
                column,
                value: value.cloned(),
            });
        }
    }

    fn matched(&mut self, rule: RuleIndex) {
        if let Some(s) = self.current() {
            while s.tried.last().is_some_and(|m| m.rule == rule) {
                s.tried.pop();
            }
            s.rule = Some(rule);
        }
    }

    fn amount(&mut self, amount: Decimal) {
        if let Some(s) = self.current() {
            s.amount = Some(amount);
        }
    }

    fn band(&mut self, band: usize) {
        if let Some(s) = self.current() {
            s.tiers = TierTrace::Whole { band };
        }
    }

    fn band_part(&mut self, band: usize, part: Decimal) {
        if let Some(s) = self.current() {
            match &mut s.tiers {
                TierTrace::Marginal { parts } => parts.push((band, part)),
                other => {
                    *other = TierTrace::Marginal {
                        parts: alloc::vec![(band, part)],
                    }
                }
            }
        }
    }

    fn priced(&mut self, fee: &FeeBreakdown) {
        if let Some(s) = self.current() {
            s.fee = Some(fee.clone());
        }
    }
}
