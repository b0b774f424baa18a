//! Local time without a time zone database: a policy's zone as the list of
//! its UTC-offset changes over a span of years, computed on the host from
//! the IANA database and carried to the terminal with the policy. Quiet
//! windows (local wall-clock ranges) and calendar-day caps (local midnight)
//! are answered from it, daylight saving included.
//!
//! Instants are seconds since the Unix epoch, UTC. A zone knows its offsets
//! only within the span it was built for ([`Zone::from`] to [`Zone::until`]);
//! decisions refuse instants outside it (see [`Zone::covers`]).

use alloc::string::String;
use alloc::vec::Vec;

/// Seconds in a day.
pub const DAY: i64 = 86_400;

/// A time zone's offsets over the span it was built for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zone {
    /// The IANA name (`Asia/Shanghai`).
    pub name: String,
    /// The offset (seconds east of UTC) in force before the first change.
    pub initial: i32,
    /// Each change: from this instant on, this offset. Ascending.
    pub changes: Vec<(i64, i32)>,
    /// The first instant of the span the offsets are known for (included).
    pub from: i64,
    /// The end of that span (excluded): later offsets are not known.
    pub until: i64,
}

impl Zone {
    /// A zone with one fixed offset, known at every instant.
    pub fn fixed(name: String, offset: i32) -> Zone {
        Zone {
            name,
            initial: offset,
            changes: Vec::new(),
            from: i64::MIN,
            until: i64::MAX,
        }
    }

    /// Whether the zone's offset at `utc` is known: `from <= utc < until`.
    pub fn covers(&self, utc: i64) -> bool {
        self.from <= utc && utc < self.until
    }

    /// The offset in force at `utc`.
    pub fn offset_at(&self, utc: i64) -> i32 {
        match self.changes.partition_point(|&(at, _)| at <= utc) {
            0 => self.initial,
            i => self
                .changes
                .get(i - 1)
                .map_or(self.initial, |&(_, off)| off),
        }
    }

    /// Local wall-clock seconds since the epoch at `utc`.
    pub fn local(&self, utc: i64) -> i64 {
        utc.saturating_add(i64::from(self.offset_at(utc)))
    }

    /// Seconds after local midnight at `utc` (0..86400).
    pub fn time_of_day(&self, utc: i64) -> u32 {
        self.local(utc).rem_euclid(DAY) as u32
    }

    /// The local calendar day at `utc`, as days since 1970-01-01.
    pub fn day(&self, utc: i64) -> i64 {
        self.local(utc).div_euclid(DAY)
    }

    /// The first instant at or after `utc` whose local time of day is `tod`
    /// (seconds after midnight). Where a change skips `tod` (clocks go
    /// forward), the answer is the first instant after the gap; where a
    /// change repeats it (clocks go back), the first occurrence.
    pub fn next_time_of_day(&self, utc: i64, tod: u32) -> i64 {
        let tod = i64::from(tod.min(DAY as u32 - 1));
        // Two days always suffice; more cover a skipped local day.
        let first = self.day(utc);
        (first..first + 4)
            .find_map(|day| self.instant_of(day, tod, utc))
            .unwrap_or(utc)
    }

    /// The first instant at or after `utc` that starts a new local day.
    pub fn next_midnight(&self, utc: i64) -> i64 {
        let today = self.day(utc);
        let at = self.next_time_of_day(utc.saturating_add(1), 0);
        if self.day(at) > today {
            at
        } else {
            // Midnight itself was skipped: the day starts after the gap.
            self.next_time_of_day(at.saturating_add(1), 0)
        }
    }

    /// The first instant at or after `not_before` at which local day `day`
    /// reads `tod` (a repeated time has two; a skipped one resolves to the
    /// end of the gap, if that is still the same day).
    fn instant_of(&self, day: i64, tod: i64, not_before: i64) -> Option<i64> {
        let wall = day.checked_mul(DAY)?.checked_add(tod)?;
        // Candidates: the wall time read with each offset in force nearby.
        let probe = wall.saturating_sub(i64::from(self.initial));
        let mut exists = false;
        let mut best: Option<i64> = None;
        for offset in self.offsets_near(probe) {
            let at = wall.saturating_sub(i64::from(offset));
            if self.local(at) == wall {
                exists = true;
                if at >= not_before {
                    best = Some(best.map_or(at, |b: i64| b.min(at)));
                }
            }
        }
        if exists {
            return best;
        }
        // Skipped: the first instant after the gap, if it is still that day.
        let gap_end = self
            .changes
            .iter()
            .map(|&(at, _)| at)
            .find(|&at| at > probe.saturating_sub(2 * DAY) && self.local(at) > wall)?;
        (self.day(gap_end) == day && gap_end >= not_before).then_some(gap_end)
    }

    /// The offsets in force within two days of `utc`.
    fn offsets_near(&self, utc: i64) -> impl Iterator<Item = i32> + '_ {
        let lo = utc.saturating_sub(2 * DAY);
        let hi = utc.saturating_add(2 * DAY);
        let start = self.changes.partition_point(|&(at, _)| at <= lo);
        core::iter::once(self.offset_at(lo)).chain(
            self.changes
                .get(start..)
                .unwrap_or(&[])
                .iter()
                .take_while(move |&&(at, _)| at <= hi)
                .map(|&(_, off)| off),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// New York in 2026: EST (-5h) until 2026-03-08 07:00 UTC, EDT (-4h)
    /// until 2026-11-01 06:00 UTC, then EST.
    fn new_york() -> Zone {
        Zone {
            name: "America/New_York".into(),
            initial: -5 * 3600,
            changes: alloc::vec![(1_772_953_200, -4 * 3600), (1_793_512_800, -5 * 3600)],
            from: 1_767_225_600,
            until: 1_798_761_600,
        }
    }

    const H: i64 = 3600;
    /// 2026-03-08 00:00 UTC.
    const MAR8: i64 = 1_772_928_000;
    /// 2026-11-01 00:00 UTC.
    const NOV1: i64 = 1_793_491_200;

    #[test]
    fn the_span_includes_its_start_and_excludes_its_end() {
        let z = new_york();
        assert!(!z.covers(z.from - 1));
        assert!(z.covers(z.from));
        assert!(z.covers(z.until - 1));
        assert!(!z.covers(z.until));
        let fixed = Zone::fixed("UTC".into(), 0);
        assert!(fixed.covers(i64::MIN) && fixed.covers(i64::MAX - 1));
    }

    #[test]
    fn offsets_switch_at_the_changes() {
        let z = new_york();
        assert_eq!(z.offset_at(MAR8 + 7 * H - 1), -5 * 3600);
        assert_eq!(z.offset_at(MAR8 + 7 * H), -4 * 3600);
        assert_eq!(z.offset_at(NOV1 + 6 * H - 1), -4 * 3600);
        assert_eq!(z.offset_at(NOV1 + 6 * H), -5 * 3600);
        // 01:59:59 EST then 03:00:00 EDT.
        assert_eq!(z.time_of_day(MAR8 + 7 * H - 1), (2 * H - 1) as u32);
        assert_eq!(z.time_of_day(MAR8 + 7 * H), (3 * H) as u32);
    }

    #[test]
    fn a_skipped_local_time_resolves_to_the_end_of_the_gap() {
        let z = new_york();
        // 02:30 does not exist on 8 March: the first instant after is 03:00 EDT.
        assert_eq!(
            z.next_time_of_day(MAR8, (2 * H + 1800) as u32),
            MAR8 + 7 * H
        );
        // 03:30 EDT exists: 07:30 UTC.
        assert_eq!(
            z.next_time_of_day(MAR8, (3 * H + 1800) as u32),
            MAR8 + 7 * H + 1800
        );
    }

    #[test]
    fn a_repeated_local_time_resolves_to_its_first_occurrence() {
        let z = new_york();
        // 01:30 happens twice on 1 November: first at 05:30 UTC (EDT).
        assert_eq!(
            z.next_time_of_day(NOV1 + 4 * H, (H + 1800) as u32),
            NOV1 + 5 * H + 1800
        );
        // Asked after the first, the second: 06:30 UTC (EST).
        assert_eq!(
            z.next_time_of_day(NOV1 + 5 * H + 1801, (H + 1800) as u32),
            NOV1 + 6 * H + 1800
        );
    }

    #[test]
    fn days_and_midnights_follow_local_time() {
        let z = new_york();
        // 2026-11-01 03:59 UTC is still 31 October in New York (23:59 EDT).
        assert_eq!(z.day(NOV1 + 4 * H - 60), z.day(NOV1 + 4 * H) - 1);
        // Local midnight of 1 November is 04:00 UTC (EDT); of 2 November, 05:00 UTC (EST).
        assert_eq!(z.next_midnight(NOV1), NOV1 + 4 * H);
        assert_eq!(z.next_midnight(NOV1 + 4 * H), NOV1 + DAY + 5 * H);
        let shanghai = Zone::fixed("Asia/Shanghai".into(), 8 * 3600);
        // 2026-11-25 12:30 +08:00 is 04:30 UTC; next midnight is 16:00 UTC.
        let at = 1_795_581_000;
        assert_eq!(shanghai.time_of_day(at), (12 * H + 1800) as u32);
        assert_eq!(shanghai.next_midnight(at), 1_795_622_400);
        assert_eq!(shanghai.next_time_of_day(at, (13 * H) as u32), at + 1800);
    }
}
