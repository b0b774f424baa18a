//! Tollgate's terminal runtime: the part of the engine that runs on payment
//! terminals and servers alike.
//!
//! It is `#![no_std]` with `alloc` and depends on `rust_decimal` alone, so it
//! can be linked into firmware. `crates/nostd-check` proves that no crate in
//! this graph links `std`; the test suite builds it.
//!
//! It owns the decision table ([`table`]) that policies compile to, its
//! binary artifact ([`artifact`], validated before it is trusted), the
//! evaluator ([`eval`]) with its lookup index, and fee arithmetic ([`fee`],
//! [`rounding`]) in the order the language fixes, every overflow an error.
//! Terminals build records field by field with [`record::RecordBuilder`],
//! typed as `tollgate eval` types the records it reads.
#![no_std]

extern crate alloc;

pub mod artifact;
pub mod bounded;
mod crc;
pub mod eval;
pub mod exact;
pub mod fee;
pub mod ids;
mod index;
pub mod notify;
pub mod record;
pub mod rounding;
mod sort;
pub mod state_file;
pub mod table;
mod times;
pub mod value;
pub mod variants;
pub mod window;
pub mod zone;

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
