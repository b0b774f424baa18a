//! The built-in plausible ranges for the parts of a fee (lint L0207,
//! `implausible-value`), applied to rules that no declared range covers.
//!
//! The ranges are set from real price lists (`docs/lints.md` lists them);
//! an `expect` line for a part replaces the default for the rules it covers.

use super::finding;
use crate::diagnostic::{Code, Diagnostic};
use crate::model::{FeePart, FeeRule};
use rust_decimal::Decimal;
use tollgate_runtime::fee::FeeFormula;

/// Every part, in the order of [`index`].
pub const PARTS: [FeePart; 4] = [FeePart::Rate, FeePart::Fixed, FeePart::Min, FeePart::Cap];

/// The position of `part` in [`PARTS`].
pub fn index(part: FeePart) -> usize {
    match part {
        FeePart::Rate => 0,
        FeePart::Fixed => 1,
        FeePart::Min => 2,
        FeePart::Cap => 3,
    }
}

/// The built-in plausible range of `part`, ends included: a rate as a
/// fraction (0.01% to 10%), amounts in the policy's currency.
pub fn range(part: FeePart) -> (Decimal, Decimal) {
    match part {
        FeePart::Rate => (Decimal::new(1, 4), Decimal::new(1, 1)),
        FeePart::Fixed | FeePart::Min => (Decimal::ZERO, Decimal::TEN),
        FeePart::Cap => (Decimal::ZERO, Decimal::new(500, 0)),
    }
}

/// Whether `v` is plausible for `part`; a rate of exactly 0 always is.
fn plausible(part: FeePart, v: Decimal) -> bool {
    let (low, high) = range(part);
    (part == FeePart::Rate && v.is_zero()) || (low <= v && v <= high)
}

/// The values of `part` that `fee` sets: one rate per band of a tiered
/// fee; a minimum (cap) of the percentage part and one of the whole fee
/// (`total min`, `total cap`), those written.
pub fn values(fee: &FeeFormula, part: FeePart) -> Vec<Decimal> {
    match part {
        FeePart::Rate if fee.tiers.is_empty() => vec![fee.rate],
        FeePart::Rate => fee.tiers.iter().map(|b| b.rate).collect(),
        FeePart::Fixed => vec![fee.fixed],
        FeePart::Min => fee.min.into_iter().chain(fee.total_min).collect(),
        FeePart::Cap => fee.cap.into_iter().chain(fee.total_cap).collect(),
    }
}

/// A rate fraction as a percentage: 0.0051 → `0.51%`.
pub fn percent(r: Decimal) -> String {
    let mut p = (r * Decimal::ONE_HUNDRED).normalize();
    if p.scale() < 2 {
        p.rescale(2);
    }
    format!("{p}%")
}

/// `v` written as the part is written in a policy.
fn show(part: FeePart, v: Decimal) -> String {
    match part {
        FeePart::Rate => percent(v),
        _ => {
            let mut v = v;
            if v.scale() < 2 {
                v.rescale(2);
            }
            v.to_string()
        }
    }
}

/// Checks rule `r`'s parts that no declared range covers (`declared[i]`
/// is true when one covers part `PARTS[i]`).
pub fn check(r: &FeeRule, declared: [bool; 4], out: &mut Vec<Diagnostic>) {
    for part in PARTS {
        if declared.get(index(part)).copied().unwrap_or(false) {
            continue;
        }
        let Some(v) = values(&r.fee, part)
            .into_iter()
            .find(|&v| !plausible(part, v))
        else {
            continue;
        };
        let (low, high) = range(part);
        let what = match part {
            FeePart::Rate => "a rate of",
            FeePart::Fixed => "a fixed",
            FeePart::Min => "a minimum of",
            FeePart::Cap => "a cap of",
        };
        out.push(
            finding(
                Code::L0207,
                format!(
                    "rule `{}` charges {what} {}, outside the plausible {} to {}",
                    r.name,
                    show(part, v),
                    show(part, low),
                    show(part, high)
                ),
                r.span,
                format!("implausible {}", part.name()),
            )
            .with_help(format!(
                "a slip of a digit or the decimal point? If the value is right, declare its range (`expect {} between LOW and HIGH`, in the schedule or at the top of the policy)",
                part.name()
            )),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_rates_and_network_fees_are_plausible() {
        let d = |s: &str| s.parse::<Decimal>().unwrap_or_default();
        assert!(plausible(FeePart::Rate, Decimal::ZERO));
        assert!(plausible(FeePart::Rate, d("0.000325")));
        assert!(!plausible(FeePart::Rate, d("0.00006")));
        assert!(!plausible(FeePart::Rate, d("0.26")));
        assert!(!plausible(FeePart::Cap, d("2000.00")));
    }
}
