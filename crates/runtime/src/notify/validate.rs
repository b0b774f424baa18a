//! What makes a notifications policy mean something, as the language
//! allows it and nothing more. [`super::NotifyRule::new`] checks a rule on
//! its own, [`super::NotifyPolicy::new`] the policy and each rule against
//! its schema, so a policy that exists is valid; the artifact loader
//! reaches a policy only through them.

use super::{Action, Cap, NotifyParts, Period};
use crate::artifact::ArtifactError;
use crate::table::{ascending, cell_fits, check, invalid, validate_fields, validate_window};
use crate::table::{Cell, FieldKind};
use crate::zone::{Zone, DAY};
use alloc::vec::Vec;

/// The longest lateness a policy may declare: seven days, in ms.
pub const MAX_LATENESS_MS: i64 = 7 * DAY * 1000;
/// The longest duration (window or period) a policy can state, in ms: a
/// whole number of seconds that fits in milliseconds.
pub const MAX_DURATION_MS: i64 = i64::MAX / 1000 * 1000;
/// The longest `suppress` reason, in bytes.
pub const MAX_REASON_BYTES: usize = 200;

/// Checks a policy's parts: its window and schema well formed; the clock a
/// timestamp field and the message id a string field; the lateness within
/// 0..=7 days; the zone; rule names distinct; every column, key and cap
/// field in range and of the right kind, every cell of its column's kind.
pub(super) fn policy(p: &NotifyParts) -> Result<(), ArtifactError> {
    validate_window(&p.window)?;
    validate_fields(&p.fields)?;
    let kind_of = |i: u32| p.fields.get(i as usize).map(|f| &f.kind);
    check(
        kind_of(p.clock) == Some(&FieldKind::Timestamp),
        "the clock is not a timestamp field",
    )?;
    if let Some(id) = p.message_id {
        check(
            kind_of(id) == Some(&FieldKind::String),
            "the message id is not a string field",
        )?;
    }
    check(
        (0..=MAX_LATENESS_MS).contains(&p.lateness_ms),
        "the lateness is outside 0..=7 days",
    )?;
    zone(&p.zone)?;
    let mut names: Vec<&str> = p.rules.iter().map(|r| r.name.as_str()).collect();
    crate::sort::sort(&mut names);
    check(
        names.windows(2).all(|w| w.first() != w.get(1)),
        "two rules share a name",
    )?;
    for r in &p.rules {
        // A rule is valid on its own (`NotifyRule::new`): here, its fields.
        let mut kinds = Vec::with_capacity(r.columns.len());
        for &c in &r.columns {
            kinds.push(kind_of(c).ok_or(invalid("a column's field does not exist"))?);
        }
        for row in &r.rows {
            for (cell, kind) in row.iter().zip(&kinds) {
                check(cell_fits(cell, kind), "a cell does not fit its column")?;
            }
        }
        if let Action::Limit {
            cap: Cap::Field { field, .. },
            ..
        } = r.action
        {
            check(
                kind_of(field) == Some(&FieldKind::Integer),
                "a cap's field is not an integer field",
            )?;
        }
        if let Some(keys) = r.keys() {
            check(
                keys.iter().all(|&k| (k as usize) < p.fields.len()),
                "a key's field does not exist",
            )?;
        }
    }
    Ok(())
}

/// Checks a zone: a name, a span not empty, offsets under a day, changes
/// ascending within the span.
fn zone(z: &Zone) -> Result<(), ArtifactError> {
    let offset_ok = |o: i32| i64::from(o).abs() < DAY;
    check(!z.name.is_empty(), "the zone has no name")?;
    check(z.from < z.until, "the zone's span is empty")?;
    check(offset_ok(z.initial), "a zone offset is a day or more")?;
    let mut previous: Option<i64> = None;
    for &(at, offset) in &z.changes {
        check(offset_ok(offset), "a zone offset is a day or more")?;
        check(
            z.from <= at && at <= z.until,
            "a zone change lies outside its span",
        )?;
        check(
            previous.is_none_or(|p| at > p),
            "zone changes are not ascending",
        )?;
        previous = Some(at);
    }
    Ok(())
}

/// Checks a rule on its own: a name; columns ascending; one cell per column
/// in each row; windows within a day and not empty; durations positive
/// whole seconds within [`MAX_DURATION_MS`]; cap bounds not reversed; no
/// key field twice; reasons one line of at most [`MAX_REASON_BYTES`].
pub(super) fn rule(
    name: &str,
    columns: &[u32],
    rows: &[Vec<Cell>],
    action: &Action,
) -> Result<(), ArtifactError> {
    check(!name.is_empty(), "a rule has no name")?;
    check(
        ascending(columns),
        "columns are not in ascending field order",
    )?;
    check(
        rows.iter().all(|row| row.len() == columns.len()),
        "a row has the wrong number of cells",
    )?;
    let duration_ok = |ms: i64| ms > 0 && ms <= MAX_DURATION_MS && ms % 1000 == 0;
    match action {
        Action::AlwaysDeliver => {}
        Action::Suppress { reason } => check(
            !reason.is_empty() && reason.len() <= MAX_REASON_BYTES && !reason.contains('\n'),
            "a suppress reason is empty, too long or not one line",
        )?,
        Action::Dedup { keys, window_ms } => {
            check(duration_ok(*window_ms), "a dedup window is out of range")?;
            distinct(keys)?;
        }
        Action::Quiet { windows, .. } => {
            check(!windows.is_empty(), "a quiet rule has no window")?;
            for &(start, end) in windows {
                let in_day = |s: u32| i64::from(s) < DAY;
                check(
                    in_day(start) && in_day(end) && start != end,
                    "a quiet window is not within a day, or empty",
                )?;
            }
        }
        Action::Limit { cap, period, keys } => {
            if let Cap::Field { low, high, .. } = *cap {
                check(low <= high, "a cap's bounds are reversed")?;
            }
            if let Period::Rolling(ms) = *period {
                check(duration_ok(ms), "a limit's period is out of range")?;
            }
            distinct(keys)?;
        }
    }
    Ok(())
}

/// Key fields: none twice.
fn distinct(keys: &[u32]) -> Result<(), ArtifactError> {
    let mut sorted = keys.to_vec();
    crate::sort::sort(&mut sorted);
    check(
        sorted.windows(2).all(|w| w.first() != w.get(1)),
        "a key names a field twice",
    )
}
