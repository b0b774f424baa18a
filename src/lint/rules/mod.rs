//! The lints, one unit each, named for the lint: the unit owns the lint's
//! detection, its messages and help, and names its documentation
//! (`docs/codes/Lxxxx.md`). [`registry`](super::registry) lists them.

pub mod adjustable_looser;
pub mod always_quiet;
pub mod confusable;
pub mod duplicate_rule;
pub mod exempt_from_cap;
pub mod fee_exceeds_amount;
pub mod full_width_punctuation;
pub mod gap;
pub mod implausible_value;
pub mod mergeable_rules;
pub mod outside_declared_range;
pub mod overlap;
pub mod partly_shadowed;
pub mod shadowed_rule;
pub mod tab;
pub mod trailing_whitespace;
pub mod undecided;
pub mod unsatisfiable;
pub mod unused_field;
pub mod unused_name;
pub mod unused_variant;
pub mod zero_cap;
