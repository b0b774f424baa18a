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
//! The reader ends in [`NotifyRule::new`] and [`NotifyPolicy::new`], which
//! check what the policy means, as the language allows it and nothing more.

use super::ArtifactError;
use super::{Reader, Writer};
use crate::activation::Window;
use crate::notify::{Action, Cap, NotifyParts, NotifyPolicy, NotifyRule, Period};
use crate::zone::Zone;
use alloc::vec::Vec;

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
        self.string(p.name());
        self.u32(p.version());
        self.fields(p.fields());
        self.u32(p.clock());
        match p.message_id() {
            None => self.u8(0),
            Some(f) => {
                self.u8(1);
                self.u32(f);
            }
        }
        self.i64(p.lateness_ms());
        self.zone(p.zone());
        self.u32(p.rules().len() as u32);
        for r in p.rules() {
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
        self.string(r.name());
        self.indexes(r.columns());
        self.u32(r.rows().len() as u32);
        for row in r.rows() {
            for cell in row {
                self.cell(cell);
            }
        }
        match r.action() {
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
    #[inline(never)]
    pub(super) fn i32(&mut self) -> Result<i32, ArtifactError> {
        self.array::<4>().map(i32::from_le_bytes)
    }

    #[inline(never)]
    pub(super) fn i64(&mut self) -> Result<i64, ArtifactError> {
        self.array::<8>().map(i64::from_le_bytes)
    }

    #[inline(never)]
    fn indexes(&mut self) -> Result<Vec<u32>, ArtifactError> {
        let n = self.count(4)?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(self.u32()?);
        }
        Ok(out)
    }

    /// A notifications policy, after the kind byte, decided within
    /// `window`.
    #[inline(never)]
    pub(super) fn notify_policy(&mut self, window: Window) -> Result<NotifyPolicy, ArtifactError> {
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
        NotifyPolicy::new(NotifyParts {
            name,
            version,
            window,
            fields,
            clock,
            zone,
            lateness_ms,
            message_id,
            rules,
        })
    }

    #[inline(never)]
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

    #[inline(never)]
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
        NotifyRule::new(name, columns, rows, action)
    }
}
