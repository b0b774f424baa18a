//! Typed positions: which list an index points into. A [`FieldIndex`]
//! counts fields of a record schema, a [`ScheduleIndex`] schedules of a
//! fee table, a [`RuleIndex`] rules of one schedule; a function that takes
//! one cannot be given another. All are `u32`, as the artifact writes
//! them, whatever the target's pointer width.
//!
//! ```
//! use tollgate_runtime::position::{FieldIndex, RuleIndex};
//! fn field_name(fields: &[&str], f: FieldIndex) -> Option<String> {
//!     fields.get(f.get() as usize).map(|n| n.to_string())
//! }
//! assert_eq!(field_name(&["amount"], FieldIndex::new(0)).as_deref(), Some("amount"));
//! # let _ = RuleIndex::new(0);
//! ```
//!
//! A rule's index where a field's is wanted does not compile:
//!
//! ```compile_fail,E0308
//! use tollgate_runtime::position::{FieldIndex, RuleIndex};
//! fn field_name(fields: &[&str], f: FieldIndex) -> Option<String> {
//!     fields.get(f.get() as usize).map(|n| n.to_string())
//! }
//! field_name(&["amount"], RuleIndex::new(0));
//! ```

/// Defines a `u32` newtype with `new` and `get`.
macro_rules! position {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(u32);

        impl $name {
            /// The position `n`, from 0.
            pub const fn new(n: u32) -> $name {
                $name(n)
            }

            /// The position, from 0.
            pub const fn get(self) -> u32 {
                self.0
            }
        }

        impl From<u32> for $name {
            fn from(n: u32) -> $name {
                $name(n)
            }
        }

        impl core::fmt::Display for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                core::fmt::Display::fmt(&self.0, f)
            }
        }
    };
}

position! {
    /// A field's position in a policy's record schema (resolved by name
    /// once with [`RecordBuilder::field`](crate::record::RecordBuilder::field)).
    /// Checked where it is used: an index beyond the fields is an error,
    /// never a panic.
    FieldIndex
}

position! {
    /// A schedule's position in a fee [`Table`](crate::table::Table).
    ScheduleIndex
}

position! {
    /// A rule's position in its [`Schedule`](crate::table::Schedule), in
    /// priority order.
    RuleIndex
}

position! {
    /// A rule's position in a notifications policy
    /// ([`NotifyPolicy::rules`](crate::notify::NotifyPolicy::rules)), in
    /// file order: the rule a [`Decision`](crate::notify::Decision) or a
    /// [`NotifyError`](crate::notify::NotifyError) names. Not a fee
    /// schedule's [`RuleIndex`]: a decision's rule given where a fee rule
    /// is wanted does not compile.
    ///
    /// ```compile_fail,E0308
    /// use tollgate_runtime::notify::Decision;
    /// use tollgate_runtime::position::RuleIndex;
    /// use tollgate_runtime::table::Schedule;
    /// fn fee_rule(schedule: &Schedule, rule: RuleIndex) -> &str {
    ///     schedule.rules().get(rule.get() as usize).map_or("", |r| r.name.as_str())
    /// }
    /// fn explain<'a>(schedule: &'a Schedule, decision: Decision) -> &'a str {
    ///     match decision {
    ///         Decision::Suppress { rule, .. } => fee_rule(schedule, rule),
    ///         _ => "",
    ///     }
    /// }
    /// ```
    NotifyRuleIndex
}
