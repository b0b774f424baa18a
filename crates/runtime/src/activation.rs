//! A policy's activation window: the instant from which it decides records
//! (`effective from`), and the instant from which it no longer does
//! (`until`), both optional. A policy without either decides at any
//! instant.
//!
//! The start is included and the end excluded, as in quiet windows: a
//! policy `effective from A until B` decides a record stamped at `t` when
//! `A ≤ t < B`. A successor `effective from B` takes over at `B` exactly.

/// An instant as the policy wrote it: Unix milliseconds and the offset
/// from UTC it was written with (kept for display only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    pub unix_ms: i64,
    /// The offset from UTC, in seconds, the instant was written with.
    pub offset_secs: i32,
}

/// The earliest instant a window may name: 1970-01-01T00:00:00Z.
pub const EARLIEST_MS: i64 = 0;
/// The latest instant a window may name: 9999-12-31T23:59:59.999Z.
pub const LATEST_MS: i64 = 253_402_300_799_999;
/// The largest offset from UTC a stamp may carry: 23:59.
pub const MAX_OFFSET_SECS: i32 = 86_340;

/// When a policy decides records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Window {
    /// The first instant it decides (`effective from`); `None`: always
    /// decided before.
    pub from: Option<Stamp>,
    /// The first instant it no longer decides (`until`); `None`: no end.
    pub until: Option<Stamp>,
}

/// Where an instant falls against a [`Window`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// Before the window's start.
    Before,
    /// Within the window.
    Within,
    /// At or after the window's end.
    After,
}

/// An instant outside a window, and the bound it passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outside {
    /// Before the start, at `from_ms`.
    Before {
        /// The window's start.
        from_ms: i64,
    },
    /// At or after the end, at `until_ms`.
    After {
        /// The window's end.
        until_ms: i64,
    },
}

/// Why a window cannot be a policy's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WindowError {
    /// An instant before 1970 or after 9999, or an offset of a day or more.
    OutOfRange,
    /// The end is not after the start.
    Empty,
}

impl core::fmt::Display for WindowError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            WindowError::OutOfRange => "an activation instant is out of range",
            WindowError::Empty => "the activation window ends before it starts",
        })
    }
}

impl core::error::Error for WindowError {}

impl Window {
    /// The window of a policy that decides at every instant.
    pub const ALWAYS: Window = Window {
        from: None,
        until: None,
    };

    /// Whether this window has neither a start nor an end.
    pub fn is_always(&self) -> bool {
        self.from.is_none() && self.until.is_none()
    }

    /// Where `at_ms` (Unix ms) falls.
    pub fn place(&self, at_ms: i64) -> Placement {
        if self.from.is_some_and(|f| at_ms < f.unix_ms) {
            Placement::Before
        } else if self.until.is_some_and(|u| at_ms >= u.unix_ms) {
            Placement::After
        } else {
            Placement::Within
        }
    }

    /// Checks that the window holds `at_ms`.
    ///
    /// # Errors
    /// [`Outside`]: before the start or at or after the end.
    pub fn admit(&self, at_ms: i64) -> Result<(), Outside> {
        match (self.place(at_ms), self.from, self.until) {
            (Placement::Before, Some(f), _) => Err(Outside::Before { from_ms: f.unix_ms }),
            (Placement::After, _, Some(u)) => Err(Outside::After {
                until_ms: u.unix_ms,
            }),
            _ => Ok(()),
        }
    }

    /// The start in Unix ms, if any.
    pub fn from_ms(&self) -> Option<i64> {
        self.from.map(|s| s.unix_ms)
    }

    /// The end in Unix ms, if any.
    pub fn until_ms(&self) -> Option<i64> {
        self.until.map(|s| s.unix_ms)
    }

    /// Checks that each instant is within 1970..=9999 with an offset of
    /// less than a day, and that the end is after the start.
    ///
    /// # Errors
    /// [`WindowError`].
    pub fn validate(&self) -> Result<(), WindowError> {
        for s in self.from.iter().chain(self.until.iter()) {
            if !(EARLIEST_MS..=LATEST_MS).contains(&s.unix_ms)
                || s.offset_secs.unsigned_abs() > MAX_OFFSET_SECS.unsigned_abs()
            {
                return Err(WindowError::OutOfRange);
            }
        }
        if let (Some(f), Some(u)) = (self.from, self.until) {
            if u.unix_ms <= f.unix_ms {
                return Err(WindowError::Empty);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: i64) -> Option<Stamp> {
        Some(Stamp {
            unix_ms: ms,
            offset_secs: 0,
        })
    }

    #[test]
    fn start_included_end_excluded() {
        let w = Window {
            from: at(1_000),
            until: at(2_000),
        };
        assert_eq!(w.place(999), Placement::Before);
        assert_eq!(w.place(1_000), Placement::Within);
        assert_eq!(w.place(1_999), Placement::Within);
        assert_eq!(w.place(2_000), Placement::After);
        assert_eq!(Window::ALWAYS.place(i64::MIN), Placement::Within);
    }

    #[test]
    fn validation() {
        let empty = Window {
            from: at(2_000),
            until: at(2_000),
        };
        assert_eq!(empty.validate(), Err(WindowError::Empty));
        let before_1970 = Window {
            from: at(-1),
            until: None,
        };
        assert_eq!(before_1970.validate(), Err(WindowError::OutOfRange));
        let offset = Window {
            from: Some(Stamp {
                unix_ms: 0,
                offset_secs: 86_400,
            }),
            until: None,
        };
        assert_eq!(offset.validate(), Err(WindowError::OutOfRange));
        assert_eq!(Window::ALWAYS.validate(), Ok(()));
    }
}
