//! The body of a notifications artifact, after its kind byte (integers
//! little-endian; counts are `u32`, instants and durations `i64`):
//!
//! - policy name and version; the record schema (as in a fee artifact);
//! - the clock field's index; the message id: `0`, or `1` and a field index;
//! - the lateness in ms;
//! - the zone: name, initial offset (`i32`, seconds east of UTC), the span
//!   `from` and `until` (seconds), the count of changes and each change
//!   (instant in seconds, then its offset);
//! - the rules, each: name, columns (field indexes), rows (one cell per
//!   column), then the action: `0` always deliver; `1` suppress and its
//!   reason; `2` dedup, its key fields and window (ms); `3` quiet, its
//!   windows (start and end, seconds after midnight) and `0` defer or `1`
//!   drop; `4` limit, its cap (`0` fixed and the count, or `1` a field with
//!   its low and high bounds), its period (`0` rolling and its length in ms,
//!   or `1` calendar day) and its key fields.
//!
//! [`validate_notify`] then checks what the policy means, as the language
//! allows it and nothing more.

use super::ArtifactError;
use super::{Reader, Writer};
use crate::notify::{Action, Cap, NotifyPolicy, NotifyRule, Period};
use crate::table::FieldKind;
use crate::table::{ascending, cell_fits, check, invalid, validate_fields};
use crate::zone::{Zone, DAY};
use alloc::vec::Vec;

/// The longest lateness a policy may declare: seven days, in ms.
pub const MAX_LATENESS_MS: i64 = 7 * DAY * 1000;
/// The longest duration (window or period) a policy can state, in ms: a
/// whole number of seconds that fits in milliseconds.
pub const MAX_DURATION_MS: i64 = i64::MAX / 1000 * 1000;
/// The longest `suppress` reason, in bytes.
pub const MAX_REASON_BYTES: usize = 200;

impl Writer {
    pub(super) fn i32(&mut self, v: i32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }

    pub(super) fn i64(&mut self, v: i64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }

    fn indexes(&mut self, items: &[u32]) {
        self.u32(items.len() as u32);
        for &i in items {
            self.u32(i);
        }
    }

    /// A notifications policy, after the kind byte.
    pub(super) fn notify_policy(&mut self, p: &NotifyPolicy) {
        self.string(&p.name);
        self.u32(p.version);
        self.fields(&p.fields);
        self.u32(p.clock);
        match p.message_id {
            None => self.u8(0),
            Some(f) => {
                self.u8(1);
                self.u32(f);
            }
        }
        self.i64(p.lateness_ms);
        self.zone(&p.zone);
        self.u32(p.rules.len() as u32);
        for r in &p.rules {
            self.rule(r);
        }
    }

    fn zone(&mut self, z: &Zone) {
        self.string(&z.name);
        self.i32(z.initial);
        self.i64(z.from);
        self.i64(z.until);
        self.u32(z.changes.len() as u32);
        for &(at, offset) in &z.changes {
            self.i64(at);
            self.i32(offset);
        }
    }

    fn rule(&mut self, r: &NotifyRule) {
        self.string(&r.name);
        self.indexes(&r.columns);
        self.u32(r.rows.len() as u32);
        for row in &r.rows {
            for cell in row {
                self.cell(cell);
            }
        }
        match &r.action {
            Action::AlwaysDeliver => self.u8(0),
            Action::Suppress { reason } => {
                self.u8(1);
                self.string(reason);
            }
            Action::Dedup { keys, window_ms } => {
                self.u8(2);
                self.indexes(keys);
                self.i64(*window_ms);
            }
            Action::Quiet { windows, drop } => {
                self.u8(3);
                self.u32(windows.len() as u32);
                for &(start, end) in windows {
                    self.u32(start);
                    self.u32(end);
                }
                self.u8(u8::from(*drop));
            }
            Action::Limit { cap, period, keys } => {
                self.u8(4);
                match *cap {
                    Cap::Fixed(n) => {
                        self.u8(0);
                        self.u32(n);
                    }
                    Cap::Field { field, low, high } => {
                        self.u8(1);
                        self.u32(field);
                        self.u32(low);
                        self.u32(high);
                    }
                }
                match *period {
                    Period::Rolling(ms) => {
                        self.u8(0);
                        self.i64(ms);
                    }
                    Period::CalendarDay => self.u8(1),
                }
                self.indexes(keys);
            }
        }
    }
}

impl Reader<'_> {
    pub(super) fn i32(&mut self) -> Result<i32, ArtifactError> {
        self.array::<4>().map(i32::from_le_bytes)
    }

    pub(super) fn i64(&mut self) -> Result<i64, ArtifactError> {
        self.array::<8>().map(i64::from_le_bytes)
    }

    fn indexes(&mut self) -> Result<Vec<u32>, ArtifactError> {
        let n = self.count(4)?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(self.u32()?);
        }
        Ok(out)
    }

    /// A notifications policy, after the kind byte.
    pub(super) fn notify_policy(&mut self) -> Result<NotifyPolicy, ArtifactError> {
        let name = self.string()?;
        let version = self.u32()?;
        let fields = self.fields()?;
        let clock = self.u32()?;
        let message_id = match self.tag(1)? {
            0 => None,
            _ => Some(self.u32()?),
        };
        let lateness_ms = self.i64()?;
        let zone = self.zone()?;
        // A rule is at least a name, two counts and an action tag.
        let n_rules = self.count(13)?;
        let mut rules = Vec::with_capacity(n_rules);
        for _ in 0..n_rules {
            rules.push(self.rule()?);
        }
        Ok(NotifyPolicy {
            name,
            version,
            window: crate::activation::Window::ALWAYS,
            fields,
            clock,
            zone,
            lateness_ms,
            message_id,
            rules,
        })
    }

    fn zone(&mut self) -> Result<Zone, ArtifactError> {
        let name = self.string()?;
        let initial = self.i32()?;
        let from = self.i64()?;
        let until = self.i64()?;
        let n = self.count(12)?;
        let mut changes = Vec::with_capacity(n);
        for _ in 0..n {
            let at = self.i64()?;
            changes.push((at, self.i32()?));
        }
        Ok(Zone {
            name,
            initial,
            changes,
            from,
            until,
        })
    }

    fn rule(&mut self) -> Result<NotifyRule, ArtifactError> {
        let name = self.string()?;
        let columns = self.indexes()?;
        // Each cell is at least its tag byte.
        let n_rows = self.count(columns.len())?;
        let mut rows = Vec::with_capacity(n_rows);
        for _ in 0..n_rows {
            let mut cells = Vec::with_capacity(columns.len());
            for _ in 0..columns.len() {
                cells.push(self.cell()?);
            }
            rows.push(cells);
        }
        let action = match self.tag(4)? {
            0 => Action::AlwaysDeliver,
            1 => Action::Suppress {
                reason: self.string()?,
            },
            2 => {
                let keys = self.indexes()?;
                let window_ms = self.i64()?;
                Action::Dedup { keys, window_ms }
            }
            3 => {
                let n = self.count(8)?;
                let mut windows = Vec::with_capacity(n);
                for _ in 0..n {
                    let start = self.u32()?;
                    windows.push((start, self.u32()?));
                }
                let drop = self.bool()?;
                Action::Quiet { windows, drop }
            }
            _ => {
                let cap = match self.tag(1)? {
                    0 => Cap::Fixed(self.u32()?),
                    _ => {
                        let field = self.u32()?;
                        let low = self.u32()?;
                        let high = self.u32()?;
                        Cap::Field { field, low, high }
                    }
                };
                let period = match self.tag(1)? {
                    0 => Period::Rolling(self.i64()?),
                    _ => Period::CalendarDay,
                };
                let keys = self.indexes()?;
                Action::Limit { cap, period, keys }
            }
        };
        Ok(NotifyRule {
            name,
            columns,
            rows,
            action,
        })
    }
}

/// Checks that a decoded notifications policy means something: its schema
/// well formed; the clock a timestamp field and the message id a string
/// field; the lateness within 0..=7 days; the zone's span not empty, its
/// offsets under a day and its changes ascending within the span; rule
/// names present and distinct; every column, key and cap field in range
/// and of the right kind, every cell of its column's kind; windows within
/// a day and not empty; durations positive whole seconds within
/// [`MAX_DURATION_MS`]; cap bounds not reversed; reasons one line of at
/// most [`MAX_REASON_BYTES`].
///
/// # Errors
/// [`super::ArtifactErrorKind::Invalid`] naming the first rule broken.
pub fn validate_notify(p: &NotifyPolicy) -> Result<(), ArtifactError> {
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
    validate_zone(&p.zone)?;
    let mut names: Vec<&str> = p.rules.iter().map(|r| r.name.as_str()).collect();
    crate::sort::sort(&mut names);
    check(
        names.windows(2).all(|w| w.first() != w.get(1)),
        "two rules share a name",
    )?;
    for r in &p.rules {
        validate_rule(p, r)?;
    }
    Ok(())
}

fn validate_zone(z: &Zone) -> Result<(), ArtifactError> {
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

fn validate_rule(p: &NotifyPolicy, r: &NotifyRule) -> Result<(), ArtifactError> {
    check(!r.name.is_empty(), "a rule has no name")?;
    check(
        ascending(&r.columns),
        "columns are not in ascending field order",
    )?;
    let mut kinds = Vec::with_capacity(r.columns.len());
    for &c in &r.columns {
        kinds.push(
            &p.fields
                .get(c as usize)
                .ok_or(invalid("a column's field does not exist"))?
                .kind,
        );
    }
    for row in &r.rows {
        check(
            row.len() == kinds.len(),
            "a row has the wrong number of cells",
        )?;
        for (cell, kind) in row.iter().zip(&kinds) {
            check(cell_fits(cell, kind), "a cell does not fit its column")?;
        }
    }
    let duration_ok = |ms: i64| ms > 0 && ms <= MAX_DURATION_MS && ms % 1000 == 0;
    match &r.action {
        Action::AlwaysDeliver => {}
        Action::Suppress { reason } => check(
            !reason.is_empty() && reason.len() <= MAX_REASON_BYTES && !reason.contains('\n'),
            "a suppress reason is empty, too long or not one line",
        )?,
        Action::Dedup { keys, window_ms } => {
            check(duration_ok(*window_ms), "a dedup window is out of range")?;
            validate_keys(p, keys)?;
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
            if let Cap::Field { field, low, high } = *cap {
                check(
                    p.fields.get(field as usize).map(|f| &f.kind) == Some(&FieldKind::Integer),
                    "a cap's field is not an integer field",
                )?;
                check(low <= high, "a cap's bounds are reversed")?;
            }
            if let Period::Rolling(ms) = *period {
                check(duration_ok(ms), "a limit's period is out of range")?;
            }
            validate_keys(p, keys)?;
        }
    }
    Ok(())
}

/// Key fields: each in range, none twice.
fn validate_keys(p: &NotifyPolicy, keys: &[u32]) -> Result<(), ArtifactError> {
    check(
        keys.iter().all(|&k| (k as usize) < p.fields.len()),
        "a key's field does not exist",
    )?;
    let mut sorted = keys.to_vec();
    crate::sort::sort(&mut sorted);
    check(
        sorted.windows(2).all(|w| w.first() != w.get(1)),
        "a key names a field twice",
    )
}
