//! A fees policy's activation window in `eval` (and `serve`): the instant
//! a fee record is priced at, and the error line of a record outside the
//! window.
//!
//! A fee record's instant is the value of the policy's one `timestamp`
//! field when it declares exactly one and the record sets it; otherwise
//! the instant `eval --at` gives; otherwise it has none, and the window is
//! not checked (a record with no instant cannot be placed in time). A
//! record whose instant is outside the window is not priced: E0702 before
//! `effective from`, E0701 at or after `until`.

use crate::compile::print::stamp;
use tollgate_runtime::activation::{Outside, Stamp, Window};
use tollgate_runtime::table::{FieldKind, Table};
use tollgate_runtime::value::Value;

/// Where a fees policy's records get their instant.
#[derive(Debug, Clone, Copy, Default)]
pub struct FeeClock {
    /// The policy's one timestamp field, if it has exactly one.
    field: Option<usize>,
    /// The instant for records without one (`eval --at`).
    at: Option<Stamp>,
}

impl FeeClock {
    /// The clock of `table`'s records, `at` for those without an instant.
    pub fn new(table: &Table, at: Option<Stamp>) -> FeeClock {
        let mut stamps = table
            .fields()
            .iter()
            .enumerate()
            .filter(|(_, f)| f.kind == FieldKind::Timestamp)
            .map(|(i, _)| i);
        let field = match (stamps.next(), stamps.next()) {
            (Some(i), None) => Some(i),
            _ => None,
        };
        FeeClock { field, at }
    }

    /// The instant given for records without one.
    pub fn at(&self) -> Option<Stamp> {
        self.at
    }

    /// The instant of `record` (Unix ms), if it has one.
    pub fn instant(&self, record: &[Value]) -> Option<i64> {
        let stamped = self
            .field
            .and_then(|i| record.get(i))
            .and_then(|v| match v {
                Value::Time { unix_ms, .. } => Some(*unix_ms),
                _ => None,
            });
        stamped.or(self.at.map(|s| s.unix_ms))
    }

    /// The error line's message when `table`'s window does not hold the
    /// instant of `record`.
    pub fn refusal(&self, table: &Table, record: &[Value]) -> Option<String> {
        let at = self.instant(record)?;
        let outside = table.window().admit(at).err()?;
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
