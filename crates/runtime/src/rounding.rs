//! Explicit rounding of money to a step (0.01 by default).

use crate::{ArithError, Decimal};
use rust_decimal::RoundingStrategy;

/// How a value exactly between two steps, or off a step, is rounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RoundingMode {
    /// Half away from zero: 0.005 → 0.01 (acquirers' `ROUND_HALF_UP`).
    HalfUp,
    /// Half to the even neighbour: 0.005 → 0.00, 0.015 → 0.02.
    HalfEven,
    /// Drop what is below the step: 0.019 → 0.01.
    TowardZero,
    /// Any remainder goes up in magnitude: 0.011 → 0.02.
    AwayFromZero,
}

impl RoundingMode {
    /// Every mode, in the order the language documents them.
    pub const ALL: [RoundingMode; 4] = [
        RoundingMode::HalfUp,
        RoundingMode::HalfEven,
        RoundingMode::TowardZero,
        RoundingMode::AwayFromZero,
    ];

    /// The mode's name in policy files (`half_up`, ...).
    pub fn name(self) -> &'static str {
        match self {
            RoundingMode::HalfUp => "half_up",
            RoundingMode::HalfEven => "half_even",
            RoundingMode::TowardZero => "toward_zero",
            RoundingMode::AwayFromZero => "away_from_zero",
        }
    }

    /// The mode named `name` in a policy file.
    pub fn from_name(name: &str) -> Option<RoundingMode> {
        RoundingMode::ALL.into_iter().find(|m| m.name() == name)
    }

    /// The `rust_decimal` strategy for this mode.
    pub fn strategy(self) -> RoundingStrategy {
        match self {
            RoundingMode::HalfUp => RoundingStrategy::MidpointAwayFromZero,
            RoundingMode::HalfEven => RoundingStrategy::MidpointNearestEven,
            RoundingMode::TowardZero => RoundingStrategy::ToZero,
            RoundingMode::AwayFromZero => RoundingStrategy::AwayFromZero,
        }
    }
}

/// A rounding rule: a mode and the step to round to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rounding {
    /// How ties and remainders go.
    pub mode: RoundingMode,
    /// The step, positive: 0.01 rounds to the fen, 1 to the yuan.
    pub step: Decimal,
}

impl Rounding {
    /// Half-up to 0.01, the rounding of Chinese acquirers' reconciliation files.
    pub fn half_up_fen() -> Rounding {
        Rounding {
            mode: RoundingMode::HalfUp,
            step: Decimal::new(1, 2),
        }
    }

    /// Rounds `value` to a whole number of steps.
    ///
    /// # Errors
    /// [`ArithError::BadStep`] for a step of zero or below,
    /// [`ArithError::Overflow`] when the quotient or product leaves the range.
    #[inline]
    pub fn apply(&self, value: Decimal) -> Result<Decimal, ArithError> {
        if self.step.is_sign_negative() || self.step.is_zero() {
            return Err(ArithError::BadStep);
        }
        // A step of 10^-n (0.01, 0.1, 1) rounds to n places directly: the
        // common case, and much cheaper than dividing.
        if self.step.mantissa() == 1 {
            let dp = self.step.scale();
            let mut rounded = round_dp(value, dp, self.mode);
            if rounded.scale() < dp {
                rounded.rescale(dp);
            }
            return Ok(rounded);
        }
        let quotient = value.checked_div(self.step).ok_or(ArithError::Overflow)?;
        // A quotient with more integer digits than 27 may already be rounded.
        if quotient.abs() >= Decimal::from_i128_with_scale(10i128.pow(27), 0) {
            return Err(ArithError::Overflow);
        }
        let steps = quotient.round_dp_with_strategy(0, self.mode.strategy());
        // The product carries the step's scale: 3 at step 0.01 is "3.00".
        steps.checked_mul(self.step).ok_or(ArithError::Overflow)
    }
}

/// `value` rounded to `dp` decimals in `mode`, as
/// `value.round_dp_with_strategy(dp, mode.strategy())` rounds it (by
/// [`round_small`] when that applies).
#[inline]
pub(crate) fn round_dp(value: Decimal, dp: u32, mode: RoundingMode) -> Decimal {
    round_small(value, dp, mode)
        .unwrap_or_else(|| value.round_dp_with_strategy(dp, mode.strategy()))
}

/// 10^k for every k whose power fits 64 bits (a table: `checked_pow`
/// loops, and this runs on every priced record).
pub(crate) const POW10: [u64; 20] = [
    1,
    10,
    100,
    1000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
    1_000_000_000,
    10_000_000_000,
    100_000_000_000,
    1_000_000_000_000,
    10_000_000_000_000,
    100_000_000_000_000,
    1_000_000_000_000_000,
    10_000_000_000_000_000,
    100_000_000_000_000_000,
    1_000_000_000_000_000_000,
    10_000_000_000_000_000_000,
];

/// `value.round_dp_with_strategy(dp, mode.strategy())`, the same decimal
/// (digits, scale and sign), for a value other than zero whose digits fit
/// 64 bits and that has more than `dp` decimals: one 64-bit division in
/// place of `rust_decimal`'s general 96-bit steps, which were a measured
/// part of pricing (`BENCHMARKS.md`, sections 3 and 5). `None` for other
/// values, which the caller rounds the general way.
#[inline]
fn round_small(value: Decimal, dp: u32, mode: RoundingMode) -> Option<Decimal> {
    let v = value.unpack();
    if v.hi != 0 || v.scale <= dp {
        return None;
    }
    let digits = (u64::from(v.mid) << 32) | u64::from(v.lo);
    if digits == 0 {
        return None;
    }
    let step = *POW10.get((v.scale - dp) as usize)?;
    let (kept, dropped) = (digits / step, digits % step);
    // What is dropped against half a step (a whole number: `step` is 10^k
    // with k at least 1).
    let half = step / 2;
    let up = match mode {
        RoundingMode::HalfUp => dropped >= half,
        RoundingMode::HalfEven => dropped > half || (dropped == half && kept & 1 == 1),
        RoundingMode::TowardZero => false,
        RoundingMode::AwayFromZero => dropped != 0,
    };
    // `kept` is at most a tenth of 2^64: one more fits.
    let kept = kept + u64::from(up);
    Some(Decimal::from_parts(
        kept as u32,
        (kept >> 32) as u32,
        0,
        v.negative,
        dp,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::String;

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap_or_default()
    }

    fn round(mode: RoundingMode, step: &str, v: &str) -> String {
        let r = Rounding {
            mode,
            step: dec(step),
        };
        match r.apply(dec(v)) {
            Ok(d) => alloc::format!("{d}"),
            Err(e) => alloc::format!("{e}"),
        }
    }

    #[test]
    fn modes_differ_only_where_they_should() {
        use RoundingMode::*;
        assert_eq!(round(HalfUp, "0.01", "0.045"), "0.05");
        assert_eq!(round(HalfEven, "0.01", "0.045"), "0.04");
        assert_eq!(round(TowardZero, "0.01", "0.049"), "0.04");
        assert_eq!(round(AwayFromZero, "0.01", "0.041"), "0.05");
        assert_eq!(round(HalfUp, "0.01", "0.019"), "0.02");
        assert_eq!(round(HalfUp, "0.01", "-0.045"), "-0.05");
    }

    #[test]
    fn steps_other_than_the_fen() {
        assert_eq!(round(RoundingMode::HalfUp, "1", "2.5"), "3");
        assert_eq!(round(RoundingMode::HalfUp, "0.05", "0.07"), "0.05");
        assert_eq!(round(RoundingMode::HalfUp, "0.05", "0.075"), "0.10");
        assert_eq!(round(RoundingMode::HalfUp, "0.01", "3"), "3.00");
    }

    #[test]
    fn bad_step_and_overflow_are_errors() {
        let max = "79228162514264337593543950335";
        assert_eq!(
            round(RoundingMode::HalfUp, "0", "1"),
            "rounding step must be positive"
        );
        // Dividing by a step that is not a power of ten can overflow.
        assert_eq!(
            round(RoundingMode::HalfUp, "0.05", max),
            "arithmetic overflow"
        );
        assert_eq!(
            round(RoundingMode::HalfUp, "0.0000000003", max),
            "arithmetic overflow"
        );
        // A power-of-ten step never does: it only drops digits.
        assert_eq!(round(RoundingMode::HalfUp, "0.01", max), max);
    }

    /// The exact form of a decimal: digits, scale and sign.
    fn form(d: Decimal) -> (i128, u32, bool) {
        (d.mantissa(), d.scale(), d.is_sign_negative())
    }

    #[test]
    fn small_rounding_is_rust_decimals() {
        // A small deterministic generator (xorshift).
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut fast = 0;
        for i in 0..200_000u32 {
            let r = next();
            // Digits of every width, ties and near-ties included.
            let digits: i128 = match i % 5 {
                0 => i128::from(r >> (r % 64)),
                1 => i128::from(r % 100_000) * 10i128.pow((r % 14) as u32) + 5 * i128::from(i % 3),
                2 => i128::from(r) << (r % 32),
                3 => i128::from(u64::MAX - r % 4),
                _ => i128::from(r % 1000),
            };
            let scale = (next() % 29) as u32;
            let dp = (next() % 29) as u32;
            let negative = next() % 2 == 0;
            let signed = if negative { -digits } else { digits };
            let Ok(value) = Decimal::try_from_i128_with_scale(signed, scale) else {
                continue;
            };
            for mode in RoundingMode::ALL {
                let slow = value.round_dp_with_strategy(dp, mode.strategy());
                if let Some(quick) = round_small(value, dp, mode) {
                    fast += 1;
                    assert_eq!(form(quick), form(slow), "{value:?} to {dp} dp, {mode:?}");
                }
            }
        }
        assert!(fast > 100_000, "the fast path took {fast} cases");
    }
}
