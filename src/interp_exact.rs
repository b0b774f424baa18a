//! The reference interpreter's own exact decimal arithmetic: products and
//! sums computed on the integer mantissas (`i128`), so that the oracle
//! shares no arithmetic with the runtime it judges
//! (`tollgate_runtime::exact`). A result that cannot be represented exactly
//! is an error, never rounded; digits beyond the 28th decimal place (far
//! below any rounding step) are the one loss allowed, as the language
//! documents.

use rust_decimal::Decimal;
use tollgate_runtime::ArithError;

/// The largest scale a `Decimal` holds.
const MAX_SCALE: u32 = 28;

/// One more than the largest mantissa a `Decimal` holds (2^96).
const MANTISSA_LIMIT: i128 = 1 << 96;

/// `m × 10^-scale` when it fits a `Decimal` exactly.
fn exact(m: i128, scale: u32) -> Option<Decimal> {
    (scale <= MAX_SCALE && m.unsigned_abs() < MANTISSA_LIMIT.unsigned_abs())
        .then(|| Decimal::from_i128_with_scale(m, scale))
}

/// `a × b`, exactly.
///
/// # Errors
/// [`ArithError::Overflow`] when the product does not fit or would lose a
/// digit at or above the 28th decimal place.
pub fn mul(a: Decimal, b: Decimal) -> Result<Decimal, ArithError> {
    // A zero product is plain zero, whatever the factors' places (as
    // `rust_decimal` writes it).
    if a.is_zero() || b.is_zero() {
        return Ok(Decimal::ZERO);
    }
    let scale = a.scale() + b.scale();
    if let Some(m) = a.mantissa().checked_mul(b.mantissa()) {
        if let Some(d) = exact(m, scale) {
            return Ok(d);
        }
        if scale <= MAX_SCALE {
            // Too many digits at the product's own scale: the product
            // would be written with fewer places than its factors give it.
            return Err(ArithError::Overflow);
        }
    }
    // The exact product has more than 28 decimal places (or more digits
    // than i128): rust_decimal gives it to 28 places at most; it is exact
    // enough when no digit at or above the 28th place was lost, that is
    // when the result keeps the full 28 places.
    let product = a.checked_mul(b).ok_or(ArithError::Overflow)?;
    if product.is_zero() || product.scale() >= scale.min(MAX_SCALE) {
        Ok(product)
    } else {
        Err(ArithError::Overflow)
    }
}

/// `a + b`, exactly; a zero operand returns the other one as it is (its
/// scale kept).
///
/// # Errors
/// [`ArithError::Overflow`] when the sum does not fit exactly.
pub fn add(a: Decimal, b: Decimal) -> Result<Decimal, ArithError> {
    if a.is_zero() {
        return Ok(b);
    }
    if b.is_zero() {
        return Ok(a);
    }
    let scale = a.scale().max(b.scale());
    let widen = |d: Decimal| {
        10i128
            .checked_pow(scale - d.scale())
            .and_then(|p| d.mantissa().checked_mul(p))
    };
    let sum = widen(a)
        .zip(widen(b))
        .and_then(|(x, y)| x.checked_add(y))
        .ok_or(ArithError::Overflow)?;
    exact(sum, scale).ok_or(ArithError::Overflow)
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
    fn money_is_exact() {
        assert_eq!(mul(d("30580.00"), d("0.0299")), Ok(d("914.342000")));
        assert_eq!(mul(d("7.50"), d("0.006")), Ok(d("0.04500")));
        assert_eq!(add(d("914.34"), d("3.00")), Ok(d("917.34")));
        assert_eq!(sub(d("1000.00"), d("999.99")), Ok(d("0.01")));
        assert_eq!(add(d("3"), d("0.00")).map(|x| x.scale()), Ok(0));
    }

    #[test]
    fn lost_digits_are_errors() {
        assert_eq!(mul(Decimal::MAX, d("0.0299")), Err(ArithError::Overflow));
        assert_eq!(add(Decimal::MAX, d("0.01")), Err(ArithError::Overflow));
        assert_eq!(add(Decimal::MAX, d("1.00")), Err(ArithError::Overflow));
        assert_eq!(mul(Decimal::MAX, Decimal::ONE), Ok(Decimal::MAX));
        assert_eq!(mul(Decimal::MAX, d("2")), Err(ArithError::Overflow));
    }

    #[test]
    fn the_interpreter_uses_none_of_the_runtime_arithmetic() {
        // The oracle judges the runtime: sharing its arithmetic or rounding
        // would let one bug pass on both sides.
        let source = include_str!("interp.rs");
        for shared in [
            "tollgate_runtime::exact",
            "{exact",
            ".apply(",
            ".strategy()",
        ] {
            assert!(!source.contains(shared), "src/interp.rs uses `{shared}`");
        }
    }

    #[test]
    fn agrees_with_the_runtime_on_scales_and_edges() {
        let values = [
            "0",
            "0.00",
            "1",
            "-1",
            "0.006",
            "0.0000001",
            "123456789.123456789",
            "79228162514264337593543950335",
            "-79228162514264337593543950335",
            "0.0000000000000000000000000001",
            "7.9228162514264337593543950335",
            "1000000000000.00",
            "0.3333333333333333333333333333",
        ];
        for a in values {
            for b in values {
                let (a, b) = (d(a), d(b));
                let ours = mul(a, b).map(|x| (x, x.scale()));
                let theirs = tollgate_runtime::exact::mul(a, b).map(|x| (x, x.scale()));
                assert_eq!(ours, theirs, "{a} × {b}");
                let ours = add(a, b).map(|x| (x, x.scale()));
                let theirs = tollgate_runtime::exact::add(a, b).map(|x| (x, x.scale()));
                assert_eq!(ours, theirs, "{a} + {b}");
            }
        }
    }
}
