//! The oracle's exact arithmetic and the runtime's agree at the edges of
//! what a decimal holds (largest and smallest magnitudes, every scale):
//! the same value, the same scale and the same errors. Two independent
//! implementations of one documented rule; this file is the one place the
//! oracle crate calls the runtime's arithmetic, to compare.

// A test fails by panicking; helpers here may unwrap and index freely.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use rust_decimal::Decimal;
use tollgate_oracle::exact;
use tollgate_runtime::rounding::{Rounding, RoundingMode};

const VALUES: [&str; 16] = [
    "0",
    "0.00",
    "1",
    "-1",
    "0.006",
    "0.045",
    "-0.045",
    "0.0000001",
    "123456789.123456789",
    "79228162514264337593543950335",
    "-79228162514264337593543950335",
    "0.0000000000000000000000000001",
    "7.9228162514264337593543950335",
    "1000000000000.00",
    "0.3333333333333333333333333333",
    "2.5",
];

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

/// The value and its scale, or the error; a zero's scale is not compared
/// (`rust_decimal` writes an underflowed product as a plain 0).
fn shown(r: Result<Decimal, tollgate_runtime::ArithError>) -> String {
    match r {
        Ok(x) if x.is_zero() => "0".into(),
        Ok(x) => format!("{x} (scale {})", x.scale()),
        Err(e) => format!("{e:?}"),
    }
}

#[test]
fn sums_and_products_agree_on_scales_and_edges() {
    for a in VALUES {
        for b in VALUES {
            let (a, b) = (d(a), d(b));
            assert_eq!(
                shown(exact::mul(a, b)),
                shown(tollgate_runtime::exact::mul(a, b)),
                "{a} × {b}"
            );
            assert_eq!(
                shown(exact::add(a, b)),
                shown(tollgate_runtime::exact::add(a, b)),
                "{a} + {b}"
            );
            assert_eq!(exact::cmp(a, b), a.cmp(&b), "{a} against {b}");
        }
    }
}

#[test]
fn rounding_agrees_on_every_mode_and_step() {
    for v in VALUES {
        for step in ["0.01", "0.05", "1", "0.10", "0.0000000003", "0"] {
            for mode in RoundingMode::ALL {
                let r = Rounding {
                    mode,
                    step: d(step),
                };
                let ours = exact::round(d(v), &r);
                let theirs = r.apply(d(v));
                // Compared as numbers: the runtime keeps a power-of-ten
                // step's places only where they fit.
                assert_eq!(
                    ours.map(|x| x.normalize()),
                    theirs.map(|x| x.normalize()),
                    "{v} {mode:?} to {step}"
                );
            }
        }
    }
}
