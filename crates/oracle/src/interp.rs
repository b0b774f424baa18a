//! The reference interpreter for fees: a plain tree-walking evaluator over
//! the checked policy, written for clarity, not speed. It is the oracle the
//! compiled evaluator is tested against, so it shares none of its matching
//! or arithmetic code: only the types of the answer. Every sum, product,
//! comparison and rounding is its own ([`crate::exact`]), so a matching,
//! rounding or overflow bug in the runtime cannot pass on both sides of a
//! comparison.

use crate::exact;
use rust_decimal::Decimal;
use std::cmp::Ordering;
use tollgate::ast::CmpOp;
use tollgate::model::{Body, Cond, CondKind, Constant, Hit, Policy, Schedule};
use tollgate_runtime::eval::{Component, EvalError};
use tollgate_runtime::fee::{BoundApplied, FeeBreakdown, FeeFormula, TierMode};
use tollgate_runtime::rounding::Rounding;
use tollgate_runtime::value::Value;
use tollgate_runtime::ArithError;

/// Evaluates a fees policy on one record (one value per field).
///
/// # Errors
/// The first schedule's error, as the compiled evaluator reports it.
pub fn evaluate(policy: &Policy, record: &[Value]) -> Result<Vec<Component>, EvalError> {
    let Body::Fees(schedules) = &policy.body else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (i, s) in schedules.iter().enumerate() {
        // A negative amount is priced only where the field accepts refunds.
        let accepts_refunds = policy.fields.get(s.base).is_some_and(|f| f.refunds);
        if let Some(Value::Num(amount)) = record.get(s.base) {
            if exact::is_negative(*amount) && !accepts_refunds {
                return Err(EvalError::NegativeAmount {
                    schedule: (i as u32).into(),
                });
            }
        }
        out.push(schedule(i as u32, s, record)?);
    }
    Ok(out)
}

fn schedule(index: u32, s: &Schedule, record: &[Value]) -> Result<Component, EvalError> {
    // Under `first` the first match decides; under `unique` a second match
    // is an error, so look for two. `otherwise` is the default for records
    // no other rule matched: it applies only when nothing else does, and
    // never makes a second match.
    let wanted = match s.hit {
        Hit::First => 1,
        Hit::Unique => 2,
    };
    let mut matching: Vec<usize> = s
        .rules
        .iter()
        .enumerate()
        .filter(|(_, r)| !r.otherwise && holds(&r.when, record))
        .map(|(i, _)| i)
        .take(wanted)
        .collect();
    if matching.is_empty() {
        matching.extend(s.rules.iter().position(|r| r.otherwise));
    }
    let rule = match (s.hit, matching.as_slice()) {
        (_, []) => {
            return Err(EvalError::NoMatch {
                schedule: index.into(),
            })
        }
        (Hit::Unique, [first, second, ..]) => {
            return Err(EvalError::Ambiguous {
                schedule: index.into(),
                first: (*first as u32).into(),
                second: (*second as u32).into(),
            })
        }
        (_, [first, ..]) => *first,
    };
    let Some(Value::Num(amount)) = record.get(s.base) else {
        return Err(EvalError::BadAmount {
            schedule: index.into(),
        });
    };
    let formula = s.rules.get(rule).map(|r| &r.fee);
    let fee = formula
        .ok_or(ArithError::Overflow)
        .and_then(|f| fee(f, *amount, &s.rounding))
        .map_err(|error| EvalError::Arith {
            schedule: index.into(),
            rule: (rule as u32).into(),
            error,
        })?;
    Ok(Component {
        schedule: index.into(),
        rule: (rule as u32).into(),
        fee,
    })
}

/// Whether a condition holds for the record.
pub fn holds(cond: &Cond, record: &[Value]) -> bool {
    match &cond.kind {
        CondKind::Const(b) => *b,
        CondKind::Field(f) => record.get(*f) == Some(&Value::Bool(true)),
        CondKind::Not(c) => !holds(c, record),
        CondKind::All(cs) => cs.iter().all(|c| holds(c, record)),
        CondKind::Any(cs) => cs.iter().any(|c| holds(c, record)),
        CondKind::Compare { field, op, value } => {
            let Some(order) = record.get(*field).and_then(|v| compare(v, value)) else {
                return false;
            };
            match op {
                CmpOp::Eq => order == Ordering::Equal,
                CmpOp::Ne => order != Ordering::Equal,
                CmpOp::Lt => order == Ordering::Less,
                CmpOp::Le => order != Ordering::Greater,
                CmpOp::Gt => order == Ordering::Greater,
                CmpOp::Ge => order != Ordering::Less,
            }
        }
        CondKind::In { field, set } => record
            .get(*field)
            .is_some_and(|v| set.iter().any(|s| compare(v, s) == Some(Ordering::Equal))),
    }
}

/// How a record's value compares with a constant of the policy.
fn compare(v: &Value, c: &Constant) -> Option<Ordering> {
    match (v, c) {
        (Value::Enum(a), Constant::Enum(b)) => Some(a.cmp(b)),
        (Value::Num(a), Constant::Money(b) | Constant::Decimal(b)) => Some(exact::cmp(*a, *b)),
        (Value::Num(a), Constant::Integer(b)) => Some(exact::cmp(*a, Decimal::from(*b))),
        (Value::Bool(a), Constant::Bool(b)) => Some(a.cmp(b)),
        (Value::Str(a), Constant::String(b)) => Some(a.as_str().cmp(b.as_str())),
        _ => None,
    }
}

/// A fee, step by step: amount × rate, round, minimum and cap, fixed,
/// total minimum and cap. A refund (an amount below zero) pays the fee of
/// its magnitude with every value negated.
///
/// # Errors
/// [`ArithError`] when a product or sum cannot be exact, or the rounding
/// step is not positive.
pub fn fee(
    f: &FeeFormula,
    amount: Decimal,
    rounding: &Rounding,
) -> Result<FeeBreakdown, ArithError> {
    if exact::is_negative(amount) {
        let b = fee(f, exact::neg(amount), rounding)?;
        return Ok(FeeBreakdown {
            raw: exact::neg(b.raw),
            rounded: exact::neg(b.rounded),
            bounded: exact::neg(b.bounded),
            bound_applied: b.bound_applied,
            fixed: exact::neg(b.fixed),
            sum: exact::neg(b.sum),
            total_bound_applied: b.total_bound_applied,
            total: exact::neg(b.total),
            refund: true,
        });
    }
    let below = |a: Decimal, b: Decimal| exact::cmp(a, b) == Ordering::Less;
    let mut raw = exact::mul(amount, f.rate)?;
    match f.tier_mode {
        Some(TierMode::Whole) => {
            // The first band whose bound reaches the amount charges all of it.
            for band in &f.tiers {
                if band.up_to.is_none_or(|up| !below(up, amount)) {
                    raw = exact::add(raw, exact::mul(amount, band.rate)?)?;
                    break;
                }
            }
        }
        Some(TierMode::Marginal) => {
            // Each band charges the slice of the amount between its bounds.
            let mut lower = Decimal::ZERO;
            for band in &f.tiers {
                let upper = band.up_to.map_or(amount, |up| exact::min(amount, up));
                if below(lower, upper) {
                    let slice = exact::sub(upper, lower)?;
                    raw = exact::add(raw, exact::mul(slice, band.rate)?)?;
                }
                lower = upper;
                if !below(upper, amount) {
                    break;
                }
            }
        }
        None => {}
    }
    let rounded = exact::round(raw, rounding)?;
    let (mut bounded, mut bound_applied) = (rounded, None);
    if let Some(m) = f.min.filter(|&m| below(bounded, m)) {
        bounded = m;
        bound_applied = Some(BoundApplied::Min);
    }
    if let Some(c) = f.cap.filter(|&c| below(c, bounded)) {
        bounded = c;
        bound_applied = Some(BoundApplied::Cap);
    }
    let sum = exact::add(bounded, f.fixed)?;
    let (mut total, mut total_bound_applied) = (sum, None);
    if let Some(m) = f.total_min.filter(|&m| below(total, m)) {
        total = m;
        total_bound_applied = Some(BoundApplied::Min);
    }
    if let Some(c) = f.total_cap.filter(|&c| below(c, total)) {
        total = c;
        total_bound_applied = Some(BoundApplied::Cap);
    }
    Ok(FeeBreakdown {
        raw,
        rounded,
        bounded,
        bound_applied,
        fixed: f.fixed,
        sum,
        total_bound_applied,
        total,
        refund: false,
    })
}
