//! Evaluating a compiled table on one record: find each schedule's rule,
//! compute its fee, add the components. No allocation on the way.

use crate::fee::FeeBreakdown;
use crate::position::{RuleIndex, ScheduleIndex};
use crate::table::{Hit, Schedule, Table};
use crate::trace::{FeeTracer, NoTrace};
use crate::value::Value;
use crate::{ArithError, Decimal};
use alloc::vec::Vec;

/// Why a record got no fee.
///
/// Schedules and rules are named by their index in the [`Table`]; a host
/// that has the names (the CLI) words the error itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EvalError {
    /// No rule of the schedule matches, and it has no `otherwise`.
    NoMatch {
        /// The schedule's index.
        schedule: ScheduleIndex,
    },
    /// Two rules of a `unique` schedule match (`otherwise` is not one: it
    /// takes only records no other rule matches).
    Ambiguous {
        /// The schedule's index.
        schedule: ScheduleIndex,
        /// The first matching rule.
        first: RuleIndex,
        /// Another matching rule.
        second: RuleIndex,
    },
    /// The fee could not be computed exactly.
    Arith {
        /// The schedule's index.
        schedule: ScheduleIndex,
        /// The rule's index.
        rule: RuleIndex,
        /// What went wrong.
        error: ArithError,
    },
    /// The record's amount field is missing or not a number.
    BadAmount {
        /// The schedule's index.
        schedule: ScheduleIndex,
    },
    /// The components add up to more than can be represented.
    TotalOverflow,
    /// The schedule's amount is below zero, and its field does not accept
    /// refunds (`money with refunds`).
    NegativeAmount {
        /// The schedule's index.
        schedule: ScheduleIndex,
    },
    /// The schedule's table contradicts itself (a row names a rule that
    /// does not exist). A [`Table`] is checked when it is made, so this is a
    /// bug in Tollgate, reported rather than answered with an invented fee.
    Internal {
        /// The schedule's index.
        schedule: ScheduleIndex,
    },
}

impl core::fmt::Display for EvalError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::NoMatch { schedule } => write!(
                f,
                "no rule of schedule {schedule} matches the record, and it has no `otherwise`"
            ),
            Self::Ambiguous {
                schedule,
                first,
                second,
            } => write!(
                f,
                "rules {first} and {second} of unique schedule {schedule} both match the record"
            ),
            Self::Arith {
                schedule,
                rule,
                error,
            } => write!(f, "fee of schedule {schedule}, rule {rule}: {error}"),
            Self::BadAmount { schedule } => {
                write!(f, "schedule {schedule} has no amount to charge on")
            }
            Self::TotalOverflow => {
                f.write_str("the components add up to more than can be represented")
            }
            Self::NegativeAmount { schedule } => write!(
                f,
                "schedule {schedule}: the amount is negative, and the policy does not accept refunds"
            ),
            Self::Internal { schedule } => write!(
                f,
                "internal error: schedule {schedule} of the table contradicts itself (a bug in Tollgate)"
            ),
        }
    }
}

impl core::error::Error for EvalError {}

/// One schedule's part of a fee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Component {
    /// The schedule's index.
    pub schedule: ScheduleIndex,
    /// The matching rule's index.
    pub rule: RuleIndex,
    /// The computation.
    pub fee: FeeBreakdown,
}

impl Schedule {
    /// The first row at or after `from` that admits `record`.
    #[inline]
    pub(crate) fn first_row_from(&self, record: &[Value], from: usize) -> Option<usize> {
        if let Some(found) = self.index.first_from(record, self.columns(), from) {
            return found;
        }
        self.rows()
            .iter()
            .enumerate()
            .skip(from)
            .find(|(_, row)| self.row_admits(row, record))
            .map(|(i, _)| i)
    }

    /// Whether every cell of `row` admits the record's value.
    #[inline]
    pub(crate) fn row_admits(&self, row: &crate::table::Row, record: &[Value]) -> bool {
        row.cells
            .iter()
            .zip(self.columns())
            .all(|(cell, &f)| record.get(f.get() as usize).is_some_and(|v| cell.admits(v)))
    }

    /// The position in the columns of the first cell of `row` that does
    /// not admit the record's value (or finds none); `None` when every
    /// cell admits it: [`Schedule::row_admits`], saying where it failed
    /// (for a tracer; the search keeps the shorter test).
    #[inline]
    fn refusal(&self, row: &crate::table::Row, record: &[Value]) -> Option<usize> {
        row.cells
            .iter()
            .zip(self.columns())
            .position(|(cell, &f)| record.get(f.get() as usize).is_none_or(|v| !cell.admits(v)))
    }

    /// The first row that admits `record`, found by walking the rows in
    /// order and telling `tracer` why each row before it did not.
    fn walk<T: FeeTracer>(&self, record: &[Value], tracer: &mut T) -> Option<usize> {
        for (i, row) in self.rows().iter().enumerate() {
            match self.refusal(row, record) {
                None => return Some(i),
                Some(column) => {
                    let value = self
                        .columns()
                        .get(column)
                        .and_then(|f| record.get(f.get() as usize));
                    tracer.miss(i as u32, row.rule, column as u32, value);
                }
            }
        }
        None
    }

    /// The index of the rule that decides `record`. A tracer that records
    /// is told every row tried before the rule, found by walking the rows
    /// (the lookup index, which finds the rule without them, is then not
    /// used).
    ///
    /// # Errors
    /// [`EvalError::NoMatch`], or [`EvalError::Ambiguous`] under `unique`
    /// when two rules other than `otherwise` match.
    #[inline]
    pub(crate) fn decide<T: FeeTracer>(
        &self,
        index: ScheduleIndex,
        record: &[Value],
        tracer: &mut T,
    ) -> Result<RuleIndex, EvalError> {
        let rule_of = |row: usize| {
            self.rows()
                .get(row)
                .map(|r| r.rule)
                .ok_or(EvalError::Internal { schedule: index })
        };
        // `otherwise` is the last rule: a second match that is `otherwise`
        // means no other rule matched.
        let is_otherwise = |rule: RuleIndex| {
            self.rules()
                .get(rule.get() as usize)
                .is_some_and(|r| r.otherwise)
        };
        // The lookup index answers without the rows: only for a tracer
        // that keeps nothing.
        if !T::RECORDS {
            if let Some((first, other)) = self.index.grid_lookup(record, self.columns()) {
                let Some(rule) = first else {
                    return Err(EvalError::NoMatch { schedule: index });
                };
                return match other {
                    Some(second) if self.hit() == Hit::Unique && !is_otherwise(second) => {
                        Err(EvalError::Ambiguous {
                            schedule: index,
                            first: rule,
                            second,
                        })
                    }
                    _ => Ok(rule),
                };
            }
        }
        let found = if T::RECORDS {
            self.walk(record, tracer)
        } else {
            self.first_row_from(record, 0)
        };
        let Some(row) = found else {
            return Err(EvalError::NoMatch { schedule: index });
        };
        let rule = rule_of(row)?;
        if self.hit() == Hit::Unique && !self.disjoint {
            let mut next = row + 1;
            while let Some(other) = self.first_row_from(record, next) {
                let other_rule = rule_of(other)?;
                if is_otherwise(other_rule) {
                    break;
                }
                if other_rule != rule {
                    return Err(EvalError::Ambiguous {
                        schedule: index,
                        first: rule,
                        second: other_rule,
                    });
                }
                next = other + 1;
            }
        }
        tracer.matched(rule);
        Ok(rule)
    }

    /// This schedule's component of the fee for `record`.
    ///
    /// # Errors
    /// As [`Schedule::decide`], or when the amount is missing or overflows.
    pub(crate) fn component<T: FeeTracer>(
        &self,
        index: ScheduleIndex,
        record: &[Value],
        tracer: &mut T,
    ) -> Result<Component, EvalError> {
        tracer.schedule(index);
        let rule = self.decide(index, record, tracer)?;
        let Some(Value::Num(amount)) = record.get(self.base().get() as usize) else {
            return Err(EvalError::BadAmount { schedule: index });
        };
        tracer.amount(*amount);
        let formula = self.rules().get(rule.get() as usize).map(|r| &r.fee);
        let fee = match formula {
            // Without a tracer, the computation alone (no tracer to pass).
            Some(f) if !T::RECORDS => f.compute(*amount, &self.rounding()),
            Some(f) => f.compute_traced(*amount, &self.rounding(), tracer),
            None => Err(ArithError::Overflow),
        }
        .map_err(|error| EvalError::Arith {
            schedule: index,
            rule,
            error,
        })?;
        tracer.priced(&fee);
        Ok(Component {
            schedule: index,
            rule,
            fee,
        })
    }
}

impl Schedule {
    /// This schedule's fee for `record`, without the breakdown.
    ///
    /// # Errors
    /// As [`Schedule::component`].
    #[inline]
    pub(crate) fn fee_total(
        &self,
        index: ScheduleIndex,
        record: &[Value],
    ) -> Result<Decimal, EvalError> {
        let rule = self.decide(index, record, &mut NoTrace)?;
        let Some(Value::Num(amount)) = record.get(self.base().get() as usize) else {
            return Err(EvalError::BadAmount { schedule: index });
        };
        let Some(r) = self.rules().get(rule.get() as usize) else {
            return Err(EvalError::Internal { schedule: index });
        };
        if let Some(Some(fast)) = self.fast.get(rule.get() as usize) {
            if let Some(fee) = fast_fee(fast, &r.fee, *amount, self.rounding().mode) {
                return Ok(fee);
            }
        }
        r.fee
            .total(*amount, &self.rounding())
            .map_err(|error| EvalError::Arith {
                schedule: index,
                rule,
                error,
            })
    }
}

/// The fee of a flat formula when amount × rate is exact by construction
/// (decided from the inputs' sizes, so the product's own scale is never
/// read back, with the rate's size precomputed); `None` sends the caller to
/// `FeeFormula::total`, the general path. Its last steps repeat that
/// function's on purpose: sharing them through a helper measured 3 ns (7%)
/// slower on `lakala.toll`.
#[inline]
fn fast_fee(
    fast: &crate::table::FastFee,
    f: &crate::fee::FeeFormula,
    amount: Decimal,
    mode: crate::rounding::RoundingMode,
) -> Option<Decimal> {
    if amount.is_sign_negative() {
        return None;
    }
    let scale = amount.scale() + fast.rate_scale;
    let amount_bits = 128 - amount.mantissa().unsigned_abs().leading_zeros();
    if scale > 28 || amount_bits + fast.rate_bits > 95 {
        return None;
    }
    let mut fee = crate::rounding::round_dp(amount.checked_mul(f.rate)?, fast.dp, mode);
    if scale < fast.dp {
        fee.rescale(fast.dp);
    }
    // `fee.max(min)` and `fee.min(cap)`, the same decimals (`Decimal::max`
    // keeps `fee` unless it is below `min`; `Decimal::min` keeps it unless
    // it is above `cap`), compared by `below`.
    if let Some(min) = f.min {
        fee = if below(fee, min) { min } else { fee };
    }
    if let Some(cap) = f.cap {
        fee = if below(cap, fee) { cap } else { fee };
    }
    if !f.fixed.is_zero() {
        fee = crate::exact::add(fee, f.fixed).ok()?;
    }
    if let Some(min) = f.total_min {
        fee = if below(fee, min) { min } else { fee };
    }
    if let Some(cap) = f.total_cap {
        fee = if below(cap, fee) { cap } else { fee };
    }
    Some(fee)
}

/// `a < b`: by the mantissas when both have one scale (a fee rounded to
/// the fen against a minimum or cap written in fen, the common case),
/// without `rust_decimal`'s general comparison, which rescales; as
/// decimals otherwise.
#[inline(always)]
fn below(a: Decimal, b: Decimal) -> bool {
    if a.scale() == b.scale() {
        a.mantissa() < b.mantissa()
    } else {
        a < b
    }
}

impl Table {
    /// The fee for `record` (one value per field, in schema order), with its
    /// components appended to `out` (cleared first).
    ///
    /// # Errors
    /// The first schedule's error, in schedule order.
    pub fn fee(&self, record: &[Value], out: &mut Vec<Component>) -> Result<Decimal, EvalError> {
        self.fee_traced(record, out, &mut NoTrace)
    }

    /// [`Table::fee`], telling `tracer` how each schedule decided and
    /// computed its component (a [`crate::trace::FeeTrace`] keeps it for
    /// an explanation).
    ///
    /// # Errors
    /// As [`Table::fee`].
    pub fn fee_traced<T: FeeTracer>(
        &self,
        record: &[Value],
        out: &mut Vec<Component>,
        tracer: &mut T,
    ) -> Result<Decimal, EvalError> {
        out.clear();
        tracer.begin();
        let mut total = Decimal::ZERO;
        for (i, s) in self.schedules().iter().enumerate() {
            self.check_refund(ScheduleIndex::new(i as u32), s, record)?;
            let c = s.component(ScheduleIndex::new(i as u32), record, tracer)?;
            total = crate::exact::add(total, c.fee.total).map_err(|_| EvalError::TotalOverflow)?;
            out.push(c);
        }
        Ok(total)
    }

    /// The fee for `record`, without its components. Allocates nothing.
    #[inline]
    ///
    /// # Errors
    /// As [`Table::fee`].
    pub fn total(&self, record: &[Value]) -> Result<Decimal, EvalError> {
        let mut total: Option<Decimal> = None;
        for (i, s) in self.schedules().iter().enumerate() {
            self.check_refund(ScheduleIndex::new(i as u32), s, record)?;
            let fee = s.fee_total(ScheduleIndex::new(i as u32), record)?;
            total = Some(match total {
                None => fee,
                Some(t) => crate::exact::add(t, fee).map_err(|_| EvalError::TotalOverflow)?,
            });
        }
        Ok(total.unwrap_or(Decimal::ZERO))
    }

    /// A negative amount is priced only on a field that accepts refunds.
    #[inline]
    fn check_refund(
        &self,
        index: ScheduleIndex,
        s: &Schedule,
        record: &[Value],
    ) -> Result<(), EvalError> {
        match record.get(s.base().get() as usize) {
            Some(Value::Num(amount))
                if crate::fee::is_refund(*amount)
                    && !self
                        .fields()
                        .get(s.base().get() as usize)
                        .is_some_and(|f| f.refunds) =>
            {
                Err(EvalError::NegativeAmount { schedule: index })
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::EvalError;
    use crate::position::{RuleIndex as R, ScheduleIndex as S};
    use crate::ArithError;
    use alloc::string::ToString;

    #[test]
    fn below_is_decimal_order() {
        use crate::Decimal;
        let values: alloc::vec::Vec<Decimal> = [
            "0",
            "-0",
            "0.00",
            "-0.00",
            "0.01",
            "-0.01",
            "0.10",
            "0.1",
            "1",
            "1.00",
            "2.50",
            "2.5",
            "-2.50",
            "49.99",
            "50.00",
            "50",
            "79228162514264337593543950335",
            "-79228162514264337593543950335",
            "0.0000000000000000000000000001",
        ]
        .iter()
        .map(|s| s.parse().unwrap_or_default())
        .collect();
        for &a in &values {
            for &b in &values {
                assert_eq!(super::below(a, b), a < b, "{a} < {b}");
            }
        }
    }

    #[test]
    fn every_error_reads_as_one_sentence_and_is_an_error() {
        let all = [
            EvalError::NoMatch {
                schedule: S::new(0),
            },
            EvalError::Ambiguous {
                schedule: S::new(1),
                first: R::new(2),
                second: R::new(3),
            },
            EvalError::Arith {
                schedule: S::new(0),
                rule: R::new(4),
                error: ArithError::Overflow,
            },
            EvalError::BadAmount {
                schedule: S::new(0),
            },
            EvalError::TotalOverflow,
            EvalError::NegativeAmount {
                schedule: S::new(5),
            },
            EvalError::Internal {
                schedule: S::new(6),
            },
        ];
        for e in all {
            let text = e.to_string();
            assert!(!text.is_empty() && !text.contains('\n') && !text.contains('{'));
            let _: &dyn core::error::Error = &e;
        }
        assert_eq!(
            EvalError::Ambiguous {
                schedule: S::new(1),
                first: R::new(2),
                second: R::new(3)
            }
            .to_string(),
            "rules 2 and 3 of unique schedule 1 both match the record"
        );
    }
}
