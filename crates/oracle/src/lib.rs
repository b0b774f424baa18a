//! Test support for Tollgate, outside the library users depend on: the
//! independent reference interpreters the runtime is tested against, the
//! generator of policies and records for property tests and benchmarks,
//! and the answers of conformance vectors (the `tollgate-vectors` program,
//! `docs/vectors.md`).
//!
//! The interpreters ([`interp`] for fees, [`interp_notify`] for
//! notifications) walk the checked policy of `tollgate::model`. They take
//! the runtime's types as plain data (a record's [`Value`], the answer's
//! `Component` or `Decision`) and none of its functions: sums, products,
//! comparisons and rounding are their own ([`exact`], on integers
//! ([`wide`])), windows are counted by brute force, local time comes from
//! the IANA database through chrono-tz. `tests/independent.rs` fails when
//! an interpreter calls a computing function of the runtime.
//!
//! [`Value`]: tollgate_runtime::value::Value

pub mod exact;
pub mod generate;
pub mod interp;
pub mod interp_notify;
pub mod reference;
pub mod wide;
