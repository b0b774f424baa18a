//! A fee formula and its evaluation, in the order the language fixes:
//! amount × rate, round, apply the minimum and the cap, add fixed amounts,
//! apply the total minimum and cap. A refund (a negative amount) pays the
//! negated fee of its magnitude.

use crate::rounding::Rounding;
use crate::trace::{FeeTracer, NoTrace};
use crate::{exact, ArithError, Decimal};
use alloc::vec::Vec;

/// How tiered bands charge an amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TierMode {
    /// The band that contains the amount sets the rate for the whole amount.
    Whole,
    /// Each band's rate applies to the part of the amount inside that band.
    Marginal,
}

/// One band of a tiered fee.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Band {
    /// Inclusive upper bound of the band; `None` for the last, open band.
    pub up_to: Option<Decimal>,
    /// The rate as a fraction (0.6% is `0.006`).
    pub rate: Decimal,
}

/// A fee in normal form: what every fee written in a policy becomes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct FeeFormula {
    /// Flat rate as a fraction of the amount (0.6% is `0.006`); zero for none.
    pub rate: Decimal,
    /// Tiered bands, ascending, the last one open; empty for none.
    pub tiers: Vec<Band>,
    /// How `tiers` charge the amount.
    pub tier_mode: Option<TierMode>,
    /// Lower bound on the rounded percentage part.
    pub min: Option<Decimal>,
    /// Upper bound on the rounded percentage part.
    pub cap: Option<Decimal>,
    /// Fixed amount added after the minimum and the cap.
    pub fixed: Decimal,
    /// Lower bound on the whole fee, after the fixed amount is added.
    pub total_min: Option<Decimal>,
    /// Upper bound on the whole fee, after the fixed amount is added.
    pub total_cap: Option<Decimal>,
}

/// Which bound changed a value (the percentage part, or the whole fee).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoundApplied {
    /// Raised to the minimum.
    Min,
    /// Lowered to the cap.
    Cap,
}

/// Every step of one fee computation, for explanations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeeBreakdown {
    /// amount × rate (plus the tier parts), before rounding.
    pub raw: Decimal,
    /// `raw` after rounding.
    pub rounded: Decimal,
    /// `rounded` after the minimum and the cap.
    pub bounded: Decimal,
    /// The bound that changed the value, if one did.
    pub bound_applied: Option<BoundApplied>,
    /// The fixed amount added.
    pub fixed: Decimal,
    /// `bounded + fixed`, before the total minimum and cap.
    pub sum: Decimal,
    /// The total bound that changed `sum`, if one did.
    pub total_bound_applied: Option<BoundApplied>,
    /// The fee: `sum` after the total minimum and cap.
    pub total: Decimal,
    /// Whether the amount was a refund (below zero): every value above is
    /// then the negation of the computation on the amount's magnitude.
    pub refund: bool,
}

impl FeeBreakdown {
    /// The same computation for the refund of this amount: every value negated.
    fn negated(self) -> FeeBreakdown {
        FeeBreakdown {
            raw: negate(self.raw),
            rounded: negate(self.rounded),
            bounded: negate(self.bounded),
            fixed: negate(self.fixed),
            sum: negate(self.sum),
            total: negate(self.total),
            refund: true,
            ..self
        }
    }
}

impl FeeFormula {
    /// A fee of nothing at all.
    pub fn zero() -> FeeFormula {
        FeeFormula::default()
    }

    /// Computes the fee on `amount`. A refund (an amount below zero) pays the
    /// negated fee of its magnitude: bounds limit the fee's magnitude.
    ///
    /// # Errors
    /// [`ArithError`] when a product or sum overflows, or the rounding step is bad.
    pub fn compute(
        &self,
        amount: Decimal,
        rounding: &Rounding,
    ) -> Result<FeeBreakdown, ArithError> {
        self.compute_traced(amount, rounding, &mut NoTrace)
    }

    /// [`FeeFormula::compute`], telling `tracer` how the tiers charged the
    /// amount. (Inlined, so that [`FeeFormula::compute`], which passes
    /// [`NoTrace`], is the computation alone.)
    ///
    /// # Errors
    /// As [`FeeFormula::compute`].
    #[inline]
    pub fn compute_traced<T: FeeTracer>(
        &self,
        amount: Decimal,
        rounding: &Rounding,
        tracer: &mut T,
    ) -> Result<FeeBreakdown, ArithError> {
        if is_refund(amount) {
            return self
                .compute_traced(amount.abs(), rounding, tracer)
                .map(FeeBreakdown::negated);
        }
        let flat = exact::mul(amount, self.rate)?;
        let raw = if self.tier_mode.is_some() {
            exact::add(flat, self.tier_part(amount, tracer)?)?
        } else {
            flat
        };
        let rounded = rounding.apply(raw)?;
        let mut bounded = rounded;
        let mut bound_applied = None;
        if let Some(min) = self.min {
            if bounded < min {
                bounded = min;
                bound_applied = Some(BoundApplied::Min);
            }
        }
        if let Some(cap) = self.cap {
            if bounded > cap {
                bounded = cap;
                bound_applied = Some(BoundApplied::Cap);
            }
        }
        let sum = if self.fixed.is_zero() {
            bounded
        } else {
            exact::add(bounded, self.fixed)?
        };
        let (total, total_bound_applied) = self.bound_total(sum);
        Ok(FeeBreakdown {
            raw,
            rounded,
            bounded,
            bound_applied,
            fixed: self.fixed,
            sum,
            total_bound_applied,
            total,
            refund: false,
        })
    }

    /// `sum` after the total minimum, then the total cap, with the bound
    /// that changed it.
    #[inline]
    fn bound_total(&self, sum: Decimal) -> (Decimal, Option<BoundApplied>) {
        let mut total = sum;
        let mut applied = None;
        if let Some(min) = self.total_min {
            if total < min {
                total = min;
                applied = Some(BoundApplied::Min);
            }
        }
        if let Some(cap) = self.total_cap {
            if total > cap {
                total = cap;
                applied = Some(BoundApplied::Cap);
            }
        }
        (total, applied)
    }

    /// The fee on `amount` without its breakdown: the same steps as
    /// [`FeeFormula::compute`], for the hot path that only needs the total.
    ///
    /// # Errors
    /// As [`FeeFormula::compute`].
    #[inline]
    pub fn total(&self, amount: Decimal, rounding: &Rounding) -> Result<Decimal, ArithError> {
        if is_refund(amount) {
            return self.total(amount.abs(), rounding).map(negate);
        }
        let mut raw = exact::mul(amount, self.rate)?;
        if self.tier_mode.is_some() {
            raw = exact::add(raw, self.tier_part(amount, &mut NoTrace)?)?;
        }
        let mut fee = rounding.apply(raw)?;
        if let Some(min) = self.min {
            fee = fee.max(min);
        }
        if let Some(cap) = self.cap {
            fee = fee.min(cap);
        }
        if !self.fixed.is_zero() {
            fee = exact::add(fee, self.fixed)?;
        }
        if let Some(min) = self.total_min {
            fee = fee.max(min);
        }
        if let Some(cap) = self.total_cap {
            fee = fee.min(cap);
        }
        Ok(fee)
    }

    /// The tier band `amount` falls in (by its magnitude, as a refund is
    /// charged): the band whose rate charges the whole amount under
    /// `whole`, the highest band charged under `marginal`. `None` for a
    /// fee without tiers.
    pub fn band_of(&self, amount: Decimal) -> Option<usize> {
        self.tier_mode?;
        let magnitude = amount.abs();
        self.tiers
            .iter()
            .position(|b| b.up_to.is_none_or(|up| magnitude <= up))
    }

    /// The tiers' part of the fee on `amount` (not below zero), each band
    /// it charges told to `tracer`.
    fn tier_part<T: FeeTracer>(
        &self,
        amount: Decimal,
        tracer: &mut T,
    ) -> Result<Decimal, ArithError> {
        match self.tier_mode {
            None => Ok(Decimal::ZERO),
            Some(TierMode::Whole) => {
                let Some(i) = self.band_of(amount) else {
                    return Ok(Decimal::ZERO);
                };
                tracer.band(i);
                self.tiers
                    .get(i)
                    .map_or(Ok(Decimal::ZERO), |b| exact::mul(amount, b.rate))
            }
            Some(TierMode::Marginal) => {
                let mut total = Decimal::ZERO;
                let mut lower = Decimal::ZERO;
                for (i, band) in self.tiers.iter().enumerate() {
                    let upper = band.up_to.map_or(amount, |up| up.min(amount));
                    if upper > lower {
                        let part = exact::sub(upper, lower)?;
                        tracer.band_part(i, part);
                        total = exact::add(total, exact::mul(part, band.rate)?)?;
                    }
                    match band.up_to {
                        Some(up) if up < amount => lower = up,
                        _ => break,
                    }
                }
                Ok(total)
            }
        }
    }
}

/// `-d`, except that zero stays zero (never `-0.00`).
#[inline]
fn negate(d: Decimal) -> Decimal {
    if d.is_zero() {
        d
    } else {
        -d
    }
}

/// Whether `amount` is a refund: below zero (a negative zero is not).
#[inline]
pub(crate) fn is_refund(amount: Decimal) -> bool {
    amount.is_sign_negative() && !amount.is_zero()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::{String, ToString};

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn pct(s: &str) -> Decimal {
        dec(s) / Decimal::ONE_HUNDRED
    }

    fn fee(f: &FeeFormula, amount: &str) -> String {
        f.compute(dec(amount), &Rounding::half_up_fen())
            .map(|b| b.total.to_string())
            .unwrap_or_else(|e| e.to_string())
    }

    fn rate(r: &str) -> FeeFormula {
        FeeFormula {
            rate: pct(r),
            ..FeeFormula::zero()
        }
    }

    #[test]
    fn worked_examples_from_the_domain_notes() {
        let debit = FeeFormula {
            cap: Some(dec("20.00")),
            ..rate("0.50")
        };
        assert_eq!(fee(&debit, "3000.00"), "15.00");
        assert_eq!(fee(&debit, "4000.00"), "20.00");
        assert_eq!(fee(&debit, "50000.00"), "20.00");
        assert_eq!(fee(&rate("0.60"), "10000.00"), "60.00");
        assert_eq!(fee(&rate("0.38"), "800.00"), "3.04");
        assert_eq!(fee(&rate("0.38"), "5.00"), "0.02");
        assert_eq!(fee(&rate("0.63"), "30580.00"), "192.65");
        let hike = FeeFormula {
            fixed: dec("3.00"),
            ..rate("2.99")
        };
        assert_eq!(fee(&hike, "30580.00"), "917.34");
        assert_eq!(fee(&rate("0.60"), "7.50"), "0.05");
    }

    #[test]
    fn minimum_applies_before_fixed() {
        let f = FeeFormula {
            min: Some(dec("1.00")),
            fixed: dec("0.50"),
            ..rate("0.60")
        };
        let b = f.compute(dec("10.00"), &Rounding::half_up_fen()).unwrap();
        assert_eq!(b.bound_applied, Some(BoundApplied::Min));
        assert_eq!(b.total, dec("1.50"));
    }

    #[test]
    fn tiers_whole_and_marginal() {
        let bands = alloc::vec![
            Band {
                up_to: Some(dec("1000.00")),
                rate: pct("0.38")
            },
            Band {
                up_to: None,
                rate: pct("0.60")
            },
        ];
        let whole = FeeFormula {
            tiers: bands.clone(),
            tier_mode: Some(TierMode::Whole),
            ..FeeFormula::zero()
        };
        let marginal = FeeFormula {
            tier_mode: Some(TierMode::Marginal),
            ..whole.clone()
        };
        assert_eq!(fee(&whole, "1000.00"), "3.80");
        assert_eq!(fee(&whole, "1000.01"), "6.00");
        assert_eq!(fee(&marginal, "1000.00"), "3.80");
        // 3.80 on the first 1000, 0.60% of 1000 on the rest.
        assert_eq!(fee(&marginal, "2000.00"), "9.80");
        // The band an amount falls in: the limit belongs to the band below,
        // and a refund falls where its magnitude does.
        for f in [&whole, &marginal] {
            assert_eq!(f.band_of(dec("1000.00")), Some(0));
            assert_eq!(f.band_of(dec("1000.01")), Some(1));
            assert_eq!(f.band_of(dec("-2000.00")), Some(1));
        }
        assert_eq!(rate("0.60").band_of(dec("5.00")), None);
    }

    #[test]
    fn overflow_is_an_error() {
        let max = "79228162514264337593543950335";
        // 100% of the largest amount is exact; one more yuan is not.
        assert_eq!(fee(&rate("100"), max), max);
        let plus_one = FeeFormula {
            fixed: dec("1.00"),
            ..rate("100")
        };
        assert_eq!(fee(&plus_one, max), "arithmetic overflow");
        // A product that would lose significant digits is an error too.
        assert_eq!(fee(&rate("2.99"), max), "arithmetic overflow");
        let fixed = FeeFormula {
            fixed: Decimal::MAX,
            ..rate("1")
        };
        assert_eq!(fee(&fixed, "100"), "arithmetic overflow");
    }
}
