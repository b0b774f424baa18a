//! Exact decimal arithmetic. `rust_decimal` rounds a result that needs more
//! than its 96-bit mantissa can hold; money must not be rounded behind the
//! policy's back, so these return an error instead whenever significant
//! digits would be lost. (Digits beyond the 28th decimal place, far below any
//! rounding step, may still be dropped by multiplication.)

use crate::{ArithError, Decimal};

/// The largest scale a `Decimal` holds.
const MAX_SCALE: u32 = 28;

/// `a × b`, exactly.
///
/// # Errors
/// [`ArithError::Overflow`] when the product does not fit, or would lose
/// significant digits.
#[inline]
pub fn mul(a: Decimal, b: Decimal) -> Result<Decimal, ArithError> {
    let product = a.checked_mul(b).ok_or(ArithError::Overflow)?;
    let want = (a.scale() + b.scale()).min(MAX_SCALE);
    if product.scale() < want && !product.is_zero() {
        return Err(ArithError::Overflow);
    }
    Ok(product)
}

/// `a + b`, exactly.
///
/// # Errors
/// [`ArithError::Overflow`] when the sum does not fit, or would lose digits.
#[inline]
pub fn add(a: Decimal, b: Decimal) -> Result<Decimal, ArithError> {
    // `rust_decimal` returns the other operand unchanged when one is zero,
    // keeping that operand's scale: 3 + 0.00 is 3, not 3.00. No digit is
    // lost there, so the scale test below must not see it.
    if a.is_zero() {
        return Ok(b);
    }
    if b.is_zero() {
        return Ok(a);
    }
    let sum = a.checked_add(b).ok_or(ArithError::Overflow)?;
    if sum.scale() < a.scale().max(b.scale()) && !sum.is_zero() {
        return Err(ArithError::Overflow);
    }
    Ok(sum)
}

/// `a − b`, exactly.
///
/// # Errors
/// As [`add`].
pub fn sub(a: Decimal, b: Decimal) -> Result<Decimal, ArithError> {
    add(a, -b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn ordinary_money_is_exact() {
        assert_eq!(mul(d("30580.00"), d("0.0299")), Ok(d("914.342000")));
        assert_eq!(add(d("914.34"), d("3.00")), Ok(d("917.34")));
        assert_eq!(sub(d("1000.00"), d("999.99")), Ok(d("0.01")));
    }

    #[test]
    fn lost_digits_are_errors() {
        assert_eq!(mul(Decimal::MAX, d("0.0299")), Err(ArithError::Overflow));
        assert_eq!(add(Decimal::MAX, d("0.01")), Err(ArithError::Overflow));
        assert_eq!(add(Decimal::MAX, d("1.00")), Err(ArithError::Overflow));
        assert_eq!(mul(Decimal::MAX, Decimal::ONE), Ok(Decimal::MAX));
    }

    #[test]
    fn adding_zero_of_a_larger_scale_is_exact() {
        assert_eq!(add(d("3"), d("0.00")), Ok(d("3")));
        assert_eq!(add(d("0.00"), d("0.5")), Ok(d("0.5")));
        assert_eq!(sub(d("3"), d("0.000")), Ok(d("3")));
        assert_eq!(sub(d("0.00"), d("3")), Ok(d("-3")));
        assert_eq!(add(Decimal::MAX, d("0.00")), Ok(Decimal::MAX));
    }
}
