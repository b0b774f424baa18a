//! The interpreters' answers on cases computed by hand, with no second
//! implementation in the loop: the domain notes' worked examples, each
//! rounding mode at and beside a midpoint, steps other than the fen, tiers
//! (whole and marginal), bounds of the percentage part and of the whole
//! fee, refunds, and the exact-arithmetic limits. If the oracle's own
//! arithmetic broke, these fail even where the runtime broke the same way.

// A test fails by panicking; helpers here may unwrap and index freely.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use rust_decimal::Decimal;
use tollgate_oracle::interp;
use tollgate_runtime::fee::{Band, BoundApplied, FeeFormula, TierMode};
use tollgate_runtime::rounding::{Rounding, RoundingMode};
use tollgate_runtime::ArithError;

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn opt(s: &str) -> Option<Decimal> {
    (!s.is_empty()).then(|| d(s))
}

/// A formula: a rate, then `min`, `cap`, `fixed`, `total min`, `total cap`
/// ("" for none).
fn formula(rate: &str, bounds: [&str; 5]) -> FeeFormula {
    let [min, cap, fixed, total_min, total_cap] = bounds;
    FeeFormula {
        rate: d(rate),
        min: opt(min),
        cap: opt(cap),
        fixed: opt(fixed).unwrap_or(Decimal::ZERO),
        total_min: opt(total_min),
        total_cap: opt(total_cap),
        ..FeeFormula::default()
    }
}

fn fen(mode: RoundingMode) -> Rounding {
    Rounding {
        mode,
        step: d("0.01"),
    }
}

/// The total, as written (its scale shown), or the error.
fn total(f: &FeeFormula, amount: &str, rounding: &Rounding) -> String {
    match interp::fee(f, d(amount), rounding) {
        Ok(b) => b.total.to_string(),
        Err(e) => format!("{e:?}"),
    }
}

#[test]
fn the_domain_notes_worked_examples() {
    let half_up = fen(RoundingMode::HalfUp);
    let none = ["", "", "", "", ""];
    let debit = formula("0.005", ["", "20.00", "", "", ""]);
    for (f, amount, want) in [
        (&debit, "3000.00", "15.00"),
        (&debit, "4000.00", "20.00"),
        (&debit, "50000.00", "20.00"),
        (&formula("0.006", none), "10000.00", "60.00"),
        (&formula("0.0038", none), "800.00", "3.04"),
        (&formula("0.0038", none), "5.00", "0.02"),
        (&formula("0.0063", none), "30580.00", "192.65"),
        (
            &formula("0.0299", ["", "", "3.00", "", ""]),
            "30580.00",
            "917.34",
        ),
        (&formula("0.006", none), "7.50", "0.05"),
    ] {
        assert_eq!(total(f, amount, &half_up), want, "{f:?} on {amount}");
    }
    // Half-even gives 0.04 where half-up gives 0.05 (0.045 exactly).
    let credit = formula("0.006", none);
    assert_eq!(total(&credit, "7.50", &fen(RoundingMode::HalfEven)), "0.04");
}

#[test]
fn every_mode_at_and_beside_a_midpoint() {
    use RoundingMode::*;
    let rate = formula("0.001", ["", "", "", "", ""]);
    // 45.00 × 0.1% = 0.045 (a midpoint); 45.10 gives 0.0451; 44.90 0.0449;
    // 55.00 gives 0.055 (a midpoint with an odd lower neighbour).
    for (mode, amount, want) in [
        (HalfUp, "45.00", "0.05"),
        (HalfEven, "45.00", "0.04"),
        (TowardZero, "45.00", "0.04"),
        (AwayFromZero, "45.00", "0.05"),
        (HalfEven, "55.00", "0.06"),
        (HalfEven, "45.10", "0.05"),
        (HalfUp, "44.90", "0.04"),
        (TowardZero, "44.90", "0.04"),
        (AwayFromZero, "44.90", "0.05"),
        (AwayFromZero, "40.00", "0.04"),
    ] {
        assert_eq!(
            total(&rate, amount, &fen(mode)),
            want,
            "{mode:?} on {amount}"
        );
    }
}

#[test]
fn steps_other_than_the_fen() {
    let rate = formula("0.01", ["", "", "", "", ""]);
    let step = |mode, step: &str| Rounding {
        mode,
        step: d(step),
    };
    // 7.00 × 1% = 0.07: to 0.05, half-up gives 0.05; 7.50 gives 0.075, a
    // midpoint: half-up 0.10, half-even 0.10 (1.5 steps to 2); 12.50
    // gives 0.125 (2.5 steps): half-even 0.10.
    assert_eq!(
        total(&rate, "7.00", &step(RoundingMode::HalfUp, "0.05")),
        "0.05"
    );
    assert_eq!(
        total(&rate, "7.50", &step(RoundingMode::HalfUp, "0.05")),
        "0.10"
    );
    assert_eq!(
        total(&rate, "7.50", &step(RoundingMode::HalfEven, "0.05")),
        "0.10"
    );
    assert_eq!(
        total(&rate, "12.50", &step(RoundingMode::HalfEven, "0.05")),
        "0.10"
    );
    assert_eq!(
        total(&rate, "250.00", &step(RoundingMode::HalfUp, "1")),
        "3"
    );
    assert_eq!(
        total(&rate, "250.00", &step(RoundingMode::HalfEven, "1")),
        "2"
    );
    assert_eq!(
        total(&rate, "1.00", &step(RoundingMode::HalfUp, "0")),
        "BadStep"
    );
}

#[test]
fn tiers_whole_and_marginal() {
    let bands = vec![
        Band {
            up_to: Some(d("1000.00")),
            rate: d("0.005"),
        },
        Band {
            up_to: None,
            rate: d("0.003"),
        },
    ];
    let tiered = |mode| FeeFormula {
        tier_mode: Some(mode),
        tiers: bands.clone(),
        ..FeeFormula::default()
    };
    let fen = fen(RoundingMode::HalfUp);
    // Whole: the band that holds the amount charges all of it.
    assert_eq!(total(&tiered(TierMode::Whole), "1000.00", &fen), "5.00");
    assert_eq!(total(&tiered(TierMode::Whole), "3000.00", &fen), "9.00");
    // Marginal: 1000 at 0.5% and 2000 at 0.3%.
    assert_eq!(total(&tiered(TierMode::Marginal), "3000.00", &fen), "11.00");
    assert_eq!(total(&tiered(TierMode::Marginal), "999.99", &fen), "5.00");
    let b = interp::fee(&tiered(TierMode::Marginal), d("1500.00"), &fen).unwrap();
    assert_eq!(b.raw, d("6.5"));
}

#[test]
fn bounds_of_the_part_and_of_the_whole() {
    let fen = fen(RoundingMode::HalfUp);
    let f = formula("0.006", ["2.00", "25.00", "1.00", "3.50", "20.00"]);
    let b = interp::fee(&f, d("100.00"), &fen).unwrap();
    // 0.60 rounds to 0.60, the minimum lifts it to 2.00, plus 1.00 is 3.00,
    // the total minimum lifts it to 3.50.
    assert_eq!(
        (b.rounded, b.bounded, b.sum, b.total),
        (d("0.60"), d("2.00"), d("3.00"), d("3.50"))
    );
    assert_eq!(
        (b.bound_applied, b.total_bound_applied),
        (Some(BoundApplied::Min), Some(BoundApplied::Min))
    );
    let b = interp::fee(&f, d("10000.00"), &fen).unwrap();
    // 60.00 capped at 25.00, plus 1.00 is 26.00, the total cap: 20.00.
    assert_eq!(
        (b.bounded, b.sum, b.total),
        (d("25.00"), d("26.00"), d("20.00"))
    );
    assert_eq!(
        (b.bound_applied, b.total_bound_applied),
        (Some(BoundApplied::Cap), Some(BoundApplied::Cap))
    );
}

#[test]
fn a_refund_pays_the_negated_fee_of_its_magnitude() {
    let fen = fen(RoundingMode::HalfUp);
    let f = formula("0.005", ["", "20.00", "", "0.50", ""]);
    let b = interp::fee(&f, d("-20.00"), &fen).unwrap();
    // 0.10, lifted to the total minimum 0.50, negated.
    assert!(b.refund);
    assert_eq!((b.raw, b.total), (d("-0.10000"), d("-0.50")));
    assert_eq!(total(&f, "-50000.00", &fen), "-20.00");
    // A negative zero is no refund.
    assert!(!interp::fee(&f, d("-0.00"), &fen).unwrap().refund);
}

#[test]
fn what_cannot_be_exact_is_an_error() {
    let fen = fen(RoundingMode::HalfUp);
    let max = Decimal::MAX.to_string();
    assert_eq!(
        interp::fee(&formula("0.0299", ["", "", "", "", ""]), d(&max), &fen).map(|b| b.total),
        Err(ArithError::Overflow)
    );
    assert_eq!(
        interp::fee(&formula("1", ["", "", "1", "", ""]), d(&max), &fen).map(|b| b.total),
        Err(ArithError::Overflow)
    );
}
