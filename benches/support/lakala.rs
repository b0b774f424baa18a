//! `lakala.toll` written by hand, shared by the benchmarks that compare
//! the compiled evaluator with it.

use rust_decimal::{Decimal, RoundingStrategy};
use tollgate_runtime::value::Value;

/// `lakala.toll` written by hand, as a programmer would without Tollgate.
pub fn lakala_by_hand(record: &[Value]) -> Option<Decimal> {
    let (Some(Value::Enum(channel)), Some(Value::Num(amount))) = (record.first(), record.get(1))
    else {
        return None;
    };
    let (rate, cap) = match channel {
        0 | 4 | 5 => (Decimal::new(6, 3), None), // credit, UnionPay QR, QuickPass
        1 => (Decimal::new(5, 3), Some(Decimal::new(2500, 2))), // debit
        2 | 3 => (Decimal::new(38, 4), None),    // WeChat, Alipay
        _ => return None,
    };
    let fee = amount
        .checked_mul(rate)?
        .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    Some(cap.map_or(fee, |c| fee.min(c)))
}
