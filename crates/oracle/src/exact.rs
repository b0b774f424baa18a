//! The oracle's own exact decimal arithmetic. A `Decimal` is taken apart
//! into its sign, mantissa and scale, and every sum, product, comparison
//! and rounding is computed on those integers ([`crate::wide`]), never by
//! `rust_decimal`'s operators nor by the runtime it judges
//! (`tollgate_runtime::exact`, `Rounding::apply`): a bug in either cannot
//! pass on both sides of an oracle test. A result that cannot be
//! represented exactly is an error, never rounded; digits beyond the 28th
//! decimal place (far below any rounding step) are the one loss allowed,
//! as the language documents, and they are rounded half to even.

use crate::wide::Wide;
use rust_decimal::Decimal;
use std::cmp::Ordering;
use tollgate_runtime::rounding::{Rounding, RoundingMode};
use tollgate_runtime::ArithError;

/// The largest scale a `Decimal` holds.
const MAX_SCALE: u32 = 28;

/// One more than the largest mantissa a `Decimal` holds (2^96).
const MANTISSA_LIMIT: u128 = 1 << 96;

/// The most whole rounding steps a fee may hold when the step is not a
/// power of ten (10^27: the range the runtime's rounding documents).
const MAX_STEPS: u128 = 1_000_000_000_000_000_000_000_000_000;

/// A decimal taken apart: whether it is below zero, its magnitude's
/// mantissa and its scale.
#[derive(Debug, Clone, Copy)]
struct Parts {
    negative: bool,
    magnitude: u128,
    scale: u32,
}

fn parts(d: Decimal) -> Parts {
    let m = d.mantissa();
    Parts {
        negative: m < 0,
        magnitude: m.unsigned_abs(),
        scale: d.scale(),
    }
}

/// `±magnitude × 10^-scale`, when it fits a `Decimal` exactly.
fn make(negative: bool, magnitude: Wide, scale: u32) -> Option<Decimal> {
    let m = magnitude.to_u128().filter(|&m| m < MANTISSA_LIMIT)?;
    let m = i128::try_from(m).ok()?;
    (scale <= MAX_SCALE)
        .then(|| Decimal::from_i128_with_scale(if negative { -m } else { m }, scale))
}

/// A value that does not fit, as the error.
fn over<T>(value: Option<T>) -> Result<T, ArithError> {
    value.ok_or(ArithError::Overflow)
}

/// The magnitude of `p` written at `scale` (at least its own).
fn at_scale(p: Parts, scale: u32) -> Option<Wide> {
    let more = (scale >= p.scale).then(|| scale - p.scale)?;
    // Most money needs no more than 128 bits: one multiplication then.
    // (Integer arithmetic, written `u128::` so that it reads apart from
    // a decimal's methods.)
    match u128::checked_pow(10, more).and_then(|power| u128::checked_mul(p.magnitude, power)) {
        Some(m) => Some(Wide::from_u128(m)),
        None => Wide::from_u128(p.magnitude).times_ten_to(more),
    }
}

/// `a × b`, exactly.
///
/// # Errors
/// [`ArithError::Overflow`] when the product does not fit or would lose a
/// digit at or above the 28th decimal place.
pub fn mul(a: Decimal, b: Decimal) -> Result<Decimal, ArithError> {
    let (a, b) = (parts(a), parts(b));
    // A zero product is plain zero, whatever the factors' places.
    if a.magnitude == 0 || b.magnitude == 0 {
        return Ok(Decimal::ZERO);
    }
    let negative = a.negative != b.negative;
    let product = Wide::product(a.magnitude, b.magnitude);
    let scale = a.scale + b.scale;
    if scale <= MAX_SCALE {
        return make(negative, product, scale).ok_or(ArithError::Overflow);
    }
    // More than 28 places: keep 28, the rest rounded half to even.
    let drop = Wide::from_u128(1)
        .times_ten_to(scale - MAX_SCALE)
        .ok_or(ArithError::Overflow)?;
    let (q, r) = product.div_rem(drop).ok_or(ArithError::Overflow)?;
    let q = if round_up(q, r, drop, RoundingMode::HalfEven) {
        q.plus(Wide::from_u128(1)).ok_or(ArithError::Overflow)?
    } else {
        q
    };
    if q.is_zero() {
        return Ok(Decimal::ZERO);
    }
    make(negative, q, MAX_SCALE).ok_or(ArithError::Overflow)
}

/// `a + b`, exactly, at the larger of the two scales; a zero operand
/// returns the other one as it is (its scale kept).
///
/// # Errors
/// [`ArithError::Overflow`] when the sum does not fit exactly.
pub fn add(a: Decimal, b: Decimal) -> Result<Decimal, ArithError> {
    let (pa, pb) = (parts(a), parts(b));
    if pa.magnitude == 0 {
        return Ok(b);
    }
    if pb.magnitude == 0 {
        return Ok(a);
    }
    let scale = pa.scale.max(pb.scale);
    let (x, y) = (over(at_scale(pa, scale))?, over(at_scale(pb, scale))?);
    let (negative, magnitude) = if pa.negative == pb.negative {
        (pa.negative, over(x.plus(y))?)
    } else if x >= y {
        (pa.negative, over(x.minus(y))?)
    } else {
        (pb.negative, over(y.minus(x))?)
    };
    make(negative && !magnitude.is_zero(), magnitude, scale).ok_or(ArithError::Overflow)
}

/// `a − b`, exactly.
///
/// # Errors
/// As [`add`].
pub fn sub(a: Decimal, b: Decimal) -> Result<Decimal, ArithError> {
    add(a, neg(b))
}

/// `−a`, at `a`'s scale (zero stays zero).
pub fn neg(a: Decimal) -> Decimal {
    let p = parts(a);
    make(
        !p.negative && p.magnitude != 0,
        Wide::from_u128(p.magnitude),
        p.scale,
    )
    .unwrap_or(a)
}

/// Whether `a` is below zero.
pub fn is_negative(a: Decimal) -> bool {
    parts(a).negative
}

/// How `a` compares with `b` as numbers (`1.0` equals `1.00`).
pub fn cmp(a: Decimal, b: Decimal) -> Ordering {
    let (pa, pb) = (parts(a), parts(b));
    let sign = |p: Parts| match (p.magnitude, p.negative) {
        (0, _) => 0i8,
        (_, true) => -1,
        (_, false) => 1,
    };
    match sign(pa).cmp(&sign(pb)) {
        Ordering::Equal => {}
        unequal => return unequal,
    }
    // Same sign: compare magnitudes at a common scale (at most 28 places,
    // 96 + 94 bits: always fits).
    let scale = pa.scale.max(pb.scale);
    let magnitudes = at_scale(pa, scale)
        .zip(at_scale(pb, scale))
        .map_or(Ordering::Equal, |(x, y)| x.cmp(&y));
    if pa.negative {
        magnitudes.reverse()
    } else {
        magnitudes
    }
}

/// The smaller of `a` and `b` (`a` on a tie).
pub fn min(a: Decimal, b: Decimal) -> Decimal {
    if cmp(b, a) == Ordering::Less {
        b
    } else {
        a
    }
}

/// Whether `q` steps and a remainder `r` of a `step` go up to `q + 1`
/// steps under `mode` (magnitudes: away from zero is up).
fn round_up(q: Wide, r: Wide, step: Wide, mode: RoundingMode) -> bool {
    if r.is_zero() {
        return false;
    }
    let twice = r.times(2);
    let half = twice.map_or(Ordering::Greater, |t| t.cmp(&step));
    match mode {
        RoundingMode::TowardZero => false,
        RoundingMode::AwayFromZero => true,
        RoundingMode::HalfUp => half != Ordering::Less,
        RoundingMode::HalfEven => {
            half == Ordering::Greater || (half == Ordering::Equal && q.is_odd())
        }
    }
}

/// `value` rounded to a whole number of `rounding.step`s under its mode,
/// written at the step's scale (3 at step 0.01 is 3.00) when that fits.
///
/// # Errors
/// [`ArithError::BadStep`] for a step of zero or below;
/// [`ArithError::Overflow`] when the result does not fit, or when a step
/// other than a power of ten is taken 10^27 times or more.
pub fn round(value: Decimal, rounding: &Rounding) -> Result<Decimal, ArithError> {
    let step = parts(rounding.step);
    if step.negative || step.magnitude == 0 {
        return Err(ArithError::BadStep);
    }
    let v = parts(value);
    let scale = v.scale.max(step.scale);
    let (x, t) = (over(at_scale(v, scale))?, over(at_scale(step, scale))?);
    let (q, r) = over(x.div_rem(t))?;
    let steps = if round_up(q, r, t, rounding.mode) {
        over(q.plus(Wide::from_u128(1)))?
    } else {
        q
    };
    let power_of_ten = step.magnitude == 1;
    if !power_of_ten && q >= Wide::from_u128(MAX_STEPS) {
        return Err(ArithError::Overflow);
    }
    let negative = v.negative && !steps.is_zero();
    let count = steps.to_u128().ok_or(ArithError::Overflow)?;
    let mut magnitude = Wide::product(count, step.magnitude);
    let mut scale = step.scale;
    // A power-of-ten step on a value with fewer places: the value itself,
    // written with as many of the step's places as fit.
    while make(negative, magnitude, scale).is_none() && power_of_ten && scale > v.scale {
        let (shorter, rest) = over(magnitude.div_rem(Wide::from_u128(10)))?;
        if !rest.is_zero() {
            break;
        }
        magnitude = shorter;
        scale -= 1;
    }
    make(negative, magnitude, scale).ok_or(ArithError::Overflow)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn at(mode: RoundingMode, step: &str) -> Rounding {
        Rounding {
            mode,
            step: d(step),
        }
    }

    /// The value and its scale, as written (`3.00`, not `3`).
    fn shown(r: Result<Decimal, ArithError>) -> String {
        match r {
            Ok(x) => x.to_string(),
            Err(e) => format!("{e:?}"),
        }
    }

    #[test]
    fn money_is_exact() {
        assert_eq!(shown(mul(d("30580.00"), d("0.0299"))), "914.342000");
        assert_eq!(shown(mul(d("7.50"), d("0.006"))), "0.04500");
        assert_eq!(shown(mul(d("-7.50"), d("0.006"))), "-0.04500");
        assert_eq!(shown(add(d("914.34"), d("3.00"))), "917.34");
        assert_eq!(shown(sub(d("1000.00"), d("999.99"))), "0.01");
        assert_eq!(shown(sub(d("0.01"), d("1000.00"))), "-999.99");
        assert_eq!(shown(add(d("3"), d("0.00"))), "3");
        assert_eq!(shown(add(d("-2.50"), d("2.5"))), "0.00");
        assert_eq!(neg(d("1.50")).to_string(), "-1.50");
        assert_eq!(neg(d("-0.00")).to_string(), "0.00");
    }

    #[test]
    fn lost_digits_are_errors() {
        assert_eq!(mul(Decimal::MAX, d("0.0299")), Err(ArithError::Overflow));
        assert_eq!(add(Decimal::MAX, d("0.01")), Err(ArithError::Overflow));
        assert_eq!(add(Decimal::MAX, d("1.00")), Err(ArithError::Overflow));
        assert_eq!(mul(Decimal::MAX, Decimal::ONE), Ok(Decimal::MAX));
        assert_eq!(mul(Decimal::MAX, d("2")), Err(ArithError::Overflow));
        assert_eq!(shown(add(Decimal::MAX, Decimal::MIN)), "0");
        assert_eq!(shown(add(Decimal::MIN, d("-1"))), "Overflow");
    }

    #[test]
    fn digits_past_the_28th_place_round_half_to_even() {
        let tiny = d("0.0000000000000000000000000001");
        assert_eq!(shown(mul(tiny, d("0.5"))), "0");
        assert_eq!(shown(mul(tiny, d("1.5"))), "0.0000000000000000000000000002");
        assert_eq!(shown(mul(tiny, d("2.5"))), "0.0000000000000000000000000002");
        assert_eq!(
            shown(mul(tiny, d("2.51"))),
            "0.0000000000000000000000000003"
        );
        assert_eq!(
            shown(mul(tiny, d("-1.5"))),
            "-0.0000000000000000000000000002"
        );
    }

    #[test]
    fn comparisons_are_of_numbers() {
        assert_eq!(cmp(d("1.0"), d("1.00")), Ordering::Equal);
        assert_eq!(cmp(d("-0.00"), d("0")), Ordering::Equal);
        assert_eq!(cmp(d("-2"), d("-1.99")), Ordering::Less);
        assert_eq!(cmp(d("999.99"), d("1000")), Ordering::Less);
        assert_eq!(
            cmp(Decimal::MAX, d("0.0000000000000000000000000001")),
            Ordering::Greater
        );
        assert_eq!(cmp(Decimal::MIN, Decimal::MAX), Ordering::Less);
        assert!(is_negative(d("-0.01")) && !is_negative(d("0")));
        assert_eq!(min(d("2.0"), d("2")).to_string(), "2.0");
    }

    #[test]
    fn each_mode_rounds_as_the_language_documents() {
        use RoundingMode::*;
        let cases = [
            (HalfUp, "0.01", "0.045", "0.05"),
            (HalfEven, "0.01", "0.045", "0.04"),
            (HalfEven, "0.01", "0.055", "0.06"),
            (HalfEven, "0.01", "0.0450001", "0.05"),
            (TowardZero, "0.01", "0.049", "0.04"),
            (AwayFromZero, "0.01", "0.041", "0.05"),
            (AwayFromZero, "0.01", "0.040", "0.04"),
            (HalfUp, "0.01", "0.019", "0.02"),
            (HalfUp, "0.01", "-0.045", "-0.05"),
            (HalfEven, "0.01", "-0.045", "-0.04"),
            (TowardZero, "0.01", "-0.049", "-0.04"),
            (AwayFromZero, "0.01", "-0.041", "-0.05"),
            (HalfUp, "0.01", "-0.004", "0.00"),
            (HalfUp, "1", "2.5", "3"),
            (HalfEven, "1", "2.5", "2"),
            (HalfUp, "0.05", "0.07", "0.05"),
            (HalfUp, "0.05", "0.075", "0.10"),
            (HalfEven, "0.05", "0.075", "0.10"),
            (HalfEven, "0.05", "0.125", "0.10"),
            (HalfUp, "0.01", "3", "3.00"),
            (HalfUp, "0.01", "0.019000", "0.02"),
        ];
        for (mode, step, value, want) in cases {
            assert_eq!(
                shown(round(d(value), &at(mode, step))),
                want,
                "{value} {mode:?} to {step}"
            );
        }
    }

    #[test]
    fn bad_steps_and_ranges_are_errors() {
        let max = "79228162514264337593543950335";
        let r = |step: &str, v: &str| shown(round(d(v), &at(RoundingMode::HalfUp, step)));
        assert_eq!(r("0", "1"), "BadStep");
        assert_eq!(r("-0.01", "1"), "BadStep");
        assert_eq!(r("0.05", max), "Overflow");
        assert_eq!(r("0.0000000003", max), "Overflow");
        // A power-of-ten step only drops digits: never out of range.
        assert_eq!(r("0.01", max), max);
        assert_eq!(
            r("0.01", "7922816251426433759354395033.5"),
            "7922816251426433759354395033.5"
        );
        assert_eq!(
            r("0.01", "79228162514264337593543950.335"),
            "79228162514264337593543950.34"
        );
    }
}
