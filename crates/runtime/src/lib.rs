//! Tollgate's terminal runtime: the part of the engine that runs on payment
//! terminals and servers alike.
//!
//! It is `#![no_std]` with `alloc` and depends on `rust_decimal` alone, so it
//! can be linked into firmware. `crates/nostd-check` proves that no crate in
//! this graph links `std`; the test suite builds it.
//!
//! Today it owns fee arithmetic ([`fee`], [`rounding`]): the order of
//! operations that the language fixes, with every overflow an error value.
#![no_std]

extern crate alloc;

pub mod fee;
pub mod rounding;

pub use rust_decimal::Decimal;

/// Arithmetic that could not be carried out exactly.
///
/// Returned instead of a panic when a value leaves `Decimal`'s range
/// (about ±7.9 × 10^28) or a step is zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArithError {
    /// A product or sum left the representable range.
    Overflow,
    /// A rounding step of zero or below was given.
    BadStep,
}

impl core::fmt::Display for ArithError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ArithError::Overflow => f.write_str("arithmetic overflow"),
            ArithError::BadStep => f.write_str("rounding step must be positive"),
        }
    }
}
