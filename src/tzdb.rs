//! Building a terminal's [`Zone`] from the IANA time zone database (via
//! `chrono-tz`) on the host: every UTC-offset change of the zone over a span
//! of years, found by sampling and bisection. The terminal then answers local
//! times and calendar days without a database of its own.

use chrono::{Offset, TimeZone};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use tollgate_runtime::zone::Zone;

/// The last year whose offsets the database gives correctly.
pub const LAST_YEAR: i32 = 2099;

/// Sampling step: shorter than the gap between any two real offset changes.
const STEP: i64 = 6 * 3600;

/// The offset of zone `tz` at `utc` (seconds since the epoch).
fn offset(tz: chrono_tz::Tz, utc: i64) -> i32 {
    match chrono::DateTime::from_timestamp(utc, 0) {
        Some(t) => tz
            .offset_from_utc_datetime(&t.naive_utc())
            .fix()
            .local_minus_utc(),
        None => 0,
    }
}

/// The zone named `name` from the start of `from_year` to the end of
/// `to_year` (UTC), its span; `None` for a name the database does not know.
///
/// The database's rules are applied only through 2099 (from 2100 on it
/// reports standard time all year), so `to_year` should be at most
/// [`LAST_YEAR`].
pub fn build(name: &str, from_year: i32, to_year: i32) -> Option<Zone> {
    type Key = (String, i32, i32);
    /// Zones built so far: the database is fixed for a process's life, and
    /// building a century of one zone is the dearest step of compiling a
    /// notifications policy (which `check` and `lint` now do too).
    static BUILT: OnceLock<Mutex<HashMap<Key, Zone>>> = OnceLock::new();
    let key = (name.to_string(), from_year, to_year);
    let cache = BUILT.get_or_init(Mutex::default);
    if let Some(found) = cache.lock().ok().and_then(|c| c.get(&key).cloned()) {
        return Some(found);
    }
    // Only zones the database knows are kept, so the cache holds at most
    // one entry per database zone and span.
    let zone = scan(name, from_year, to_year)?;
    if let Ok(mut c) = cache.lock() {
        c.insert(key, zone.clone());
    }
    Some(zone)
}

/// [`build`] without the cache.
fn scan(name: &str, from_year: i32, to_year: i32) -> Option<Zone> {
    let tz: chrono_tz::Tz = name.parse().ok()?;
    let start = chrono::NaiveDate::from_ymd_opt(from_year, 1, 1)?
        .and_hms_opt(0, 0, 0)?
        .and_utc()
        .timestamp();
    let end = chrono::NaiveDate::from_ymd_opt(to_year + 1, 1, 1)?
        .and_hms_opt(0, 0, 0)?
        .and_utc()
        .timestamp();
    let initial = offset(tz, start);
    let mut changes = Vec::new();
    let mut last = initial;
    let mut t = start;
    while t < end {
        let next = (t + STEP).min(end);
        let off = offset(tz, next);
        if off != last {
            // The change lies in (t, next]: bisect to the second.
            let (mut lo, mut hi) = (t, next);
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                if offset(tz, mid) == last {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            changes.push((hi, off));
            last = off;
        }
        t = next;
    }
    Some(Zone {
        name: name.to_string(),
        initial,
        changes,
        from: start,
        until: end,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_york_2026_changes_at_the_known_instants() {
        let z = build("America/New_York", 2026, 2026).unwrap();
        assert_eq!(z.initial, -5 * 3600);
        assert_eq!(
            z.changes,
            vec![(1_772_953_200, -4 * 3600), (1_793_512_800, -5 * 3600)]
        );
    }

    #[test]
    fn the_span_runs_from_the_first_year_to_the_end_of_the_last() {
        let z = build("America/New_York", 2000, LAST_YEAR).unwrap();
        assert_eq!((z.from, z.until), (946_684_800, 4_102_444_800));
        // The database still has daylight saving in the last year.
        assert_eq!(
            build("America/New_York", LAST_YEAR, LAST_YEAR)
                .unwrap()
                .changes
                .len(),
            2
        );
    }

    #[test]
    fn agrees_with_the_database_everywhere_in_its_span() {
        for name in [
            "America/New_York",
            "Europe/London",
            "Australia/Lord_Howe",
            "Asia/Shanghai",
        ] {
            let tz: chrono_tz::Tz = name.parse().unwrap();
            let z = build(name, 2020, 2030).unwrap();
            let start = 1_577_836_800; // 2020-01-01
            let mut t = start;
            while t < start + 11 * 365 * 86_400 {
                assert_eq!(z.offset_at(t), offset(tz, t), "{name} at {t}");
                t += 7_919; // a prime step, to land at many times of day
            }
        }
        assert_eq!(build("Asia/Shanghai", 2020, 2030).unwrap().changes, vec![]);
        assert!(build("Mars/Olympus_Mons", 2020, 2030).is_none());
    }

    #[test]
    fn next_time_of_day_lands_on_that_time_or_just_after_a_gap() {
        let z = build("America/New_York", 2025, 2027).unwrap();
        let mut t = 1_735_689_600; // 2025-01-01
        while t < 1_798_761_600 {
            for tod in [0u32, 1800, 5400, 9000, 39_600, 86_399] {
                let at = z.next_time_of_day(t, tod);
                assert!(at >= t);
                let got = z.time_of_day(at);
                // Either exactly the time, or (in a spring-forward gap) the
                // first instant after it, an hour later.
                assert!(
                    got == tod
                        || (got > tod
                            && got - tod <= 3600
                            && z.offset_at(at) != z.offset_at(at - 1)),
                    "{t} {tod}: {at} reads {got}"
                );
                assert!(at - t < 2 * 86_400);
            }
            t += 50_021;
        }
    }
}
