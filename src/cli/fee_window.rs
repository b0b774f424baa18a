//! A fees policy's activation window in `eval` (and `serve`): the instant
//! `eval --at` gives records without one, and the error line of a record
//! outside the window.
//!
//! Which instant a record is priced at is the runtime's rule
//! ([`Table::instant_of`]): its one `timestamp` field, else the instant
//! given here, else none (the window is not checked). A record whose
//! instant is outside the window is not priced: E0702 before `effective
//! from`, E0701 at or after `until`.

use crate::compile::print::stamp;
use tollgate_runtime::activation::{Outside, Stamp, Window};
use tollgate_runtime::table::Table;
use tollgate_runtime::value::Value;

/// The instant for a fees policy's records that carry none (`eval --at`).
#[derive(Debug, Clone, Copy, Default)]
pub struct FeeClock {
    /// The instant for records without one.
    at: Option<Stamp>,
}

impl FeeClock {
    /// A clock giving `at` to records without an instant.
    pub fn new(at: Option<Stamp>) -> FeeClock {
        FeeClock { at }
    }

    /// The instant given for records without one.
    pub fn at(&self) -> Option<Stamp> {
        self.at
    }

    /// The instant of `record` (Unix ms) under `table`, if it has one.
    pub fn instant(&self, table: &Table, record: &[Value]) -> Option<i64> {
        table.instant_of(record, self.at.map(|s| s.unix_ms))
    }

    /// The error line's message when `table`'s window does not hold the
    /// instant of `record`.
    pub fn refusal(&self, table: &Table, record: &[Value]) -> Option<String> {
        let outside = table.admit(record, self.at.map(|s| s.unix_ms)).err()?;
        Some(outside_message(table, outside))
    }
}
/// E0701 or E0702 for a fee record outside `table`'s window.
pub fn outside_message(table: &Table, outside: Outside) -> String {
    let w: Window = table.window();
    let at =
        |bound: Option<Stamp>, ms: i64| bound.map_or_else(|| format!("{ms} ms"), |s| stamp(&s));
    match outside {
        Outside::After { until_ms } => format!(
            "E0701: the record is stamped after policy `{}` version {} stopped pricing at {} \
             (its `until`), and no successor is installed; not priced",
            table.name(),
            table.version(),
            at(w.until, until_ms),
        ),
        Outside::Before { from_ms } => format!(
            "E0702: the record is stamped before policy `{}` version {} takes effect at {} \
             (its `effective from`), and no earlier policy is installed; not priced",
            table.name(),
            table.version(),
            at(w.from, from_ms),
        ),
    }
}
