//! L0207 `implausible-value`: rates, fixed amounts, minimums and caps
//! outside the built-in plausible ranges, where no declared range covers
//! the rule. Documented in `docs/codes/L0207.md`, which lists the ranges.
//!
//! The ranges are set from real price lists; an `expect` line for a part
//! replaces the default for the rules it covers.

use crate::diagnostic::{Code, Diagnostic};
use crate::lint::facts::ScheduleFacts;
use crate::lint::finding;
use crate::lint::ranges::{index, show, values, PARTS};
use crate::lint::registry::{Check, Lint};
use crate::model::{FeePart, FeeRule};
use rust_decimal::Decimal;

/// The lint.
pub const LINT: Lint = Lint {
    code: Code::L0207,
    checks: &[Check::Schedule(check)],
};

fn check(f: &ScheduleFacts<'_>, out: &mut Vec<Diagnostic>) {
    let s = f.schedule;
    let covered = match &f.declared {
        Some(d) => d.covered(s),
        None => vec![[false; 4]; s.rules.len()],
    };
    for (r, declared) in s.rules.iter().zip(covered) {
        rule(r, declared, f.dp, out);
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

/// Rule `r`'s parts that no declared range covers (`declared[i]`
/// is true when one covers part `PARTS[i]`), each value checked; amounts
/// are written with `dp` decimals.
fn rule(r: &FeeRule, declared: [bool; 4], dp: u32, out: &mut Vec<Diagnostic>) {
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
                    show(part, v, dp),
                    show(part, low, dp),
                    show(part, high, dp)
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
