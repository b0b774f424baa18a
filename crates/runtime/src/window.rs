//! Window arithmetic on a key's kept deliveries, in any arrival order.
//!
//! A delivery is admitted only if, after it, no window of the rule's
//! period holds more deliveries than the cap: every rolling window of
//! length D that contains it (before or after its instant), or its local
//! calendar day. De-duplication looks both ways. What a key must keep
//! follows from the lateness L: a record is accepted at t ≥ M − L, where M
//! is the key's newest delivery, so instants no such record can meet are
//! forgotten.

use crate::notify::Period;
use crate::zone::Zone;

/// The most deliveries of `history` (sorted) in one period that also holds
/// `now_ms`: for a rolling period of D, the fullest window `(w − D, w]`
/// with `now ≤ w < now + D`; for a calendar day, the deliveries on now's
/// local day.
pub(crate) fn fullest_period(history: &[i64], period: Period, now_ms: i64, zone: &Zone) -> usize {
    match period {
        Period::Rolling(d) => {
            // The count only rises when w reaches a delivery: try w = now
            // and each delivery in [now, now + D).
            let ending_at = |w: i64| {
                let to = history.partition_point(|&t| t <= w);
                let from = history.partition_point(|&t| t <= w.saturating_sub(d));
                to.saturating_sub(from)
            };
            let first = history.partition_point(|&t| t < now_ms);
            if first == history.len() {
                // Nothing at or after now (in-order traffic): the only
                // window is the one ending now, holding every delivery
                // after now − D.
                return first - history.partition_point(|&t| t <= now_ms.saturating_sub(d));
            }
            let last = history.partition_point(|&t| t < now_ms.saturating_add(d));
            history
                .get(first..last)
                .unwrap_or(&[])
                .iter()
                .map(|&w| ending_at(w))
                .fold(ending_at(now_ms), usize::max)
        }
        Period::CalendarDay => {
            let today = zone.day(now_ms.div_euclid(1000));
            let day = |t: i64| zone.day(t.div_euclid(1000));
            let from = history.partition_point(|&t| day(t) < today);
            let to = history.partition_point(|&t| day(t) <= today);
            to.saturating_sub(from)
        }
    }
}

/// The delivery of `history` (sorted) nearest to `now_ms` and less than
/// `window_ms` away from it, before or after (the earlier on a tie).
pub(crate) fn duplicate_of(history: &[i64], now_ms: i64, window_ms: i64) -> Option<i64> {
    let at = history.partition_point(|&t| t < now_ms);
    let after = history.get(at).copied();
    let before = at.checked_sub(1).and_then(|i| history.get(i)).copied();
    let distance = |t: i64| (i128::from(now_ms) - i128::from(t)).abs();
    let near = |t: &i64| distance(*t) < i128::from(window_ms);
    match (before.filter(near), after.filter(near)) {
        (Some(b), Some(a)) => Some(if distance(a) < distance(b) { a } else { b }),
        (b, a) => b.or(a),
    }
}

/// What a rule's state is measured over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Span {
    /// A de-duplication window or a rolling period, in ms.
    Rolling(i64),
    /// A local calendar day.
    CalendarDay,
}

/// The instant at or before which a key whose newest delivery is
/// `newest_ms` can forget its deliveries: no record accepted at
/// `t ≥ newest − lateness` meets them. `history` is the key's instants
/// (sorted), needed for a calendar day (the last one on an earlier day).
pub(crate) fn forget_through(
    history: &[i64],
    span: Span,
    newest_ms: i64,
    lateness_ms: i64,
    zone: &Zone,
) -> i64 {
    let earliest = newest_ms.saturating_sub(lateness_ms);
    match span {
        // A record at t meets u only if u > t − D ≥ newest − L − D.
        Span::Rolling(d) => earliest.saturating_sub(d),
        Span::CalendarDay => {
            let first_day = zone.day(earliest.div_euclid(1000));
            let before = history.partition_point(|&t| zone.day(t.div_euclid(1000)) < first_day);
            before
                .checked_sub(1)
                .and_then(|i| history.get(i))
                .copied()
                .unwrap_or(i64::MIN)
        }
    }
}

/// Whether a key of this span whose newest delivery is `newest_ms` can be
/// dropped whole when no record earlier than `horizon_ms` will be accepted:
/// none of its deliveries can meet a record at or after the horizon.
pub(crate) fn stale(span: Span, newest_ms: i64, horizon_ms: i64, zone: &Zone) -> bool {
    match span {
        Span::Rolling(d) => newest_ms <= horizon_ms.saturating_sub(d),
        Span::CalendarDay => {
            zone.day(newest_ms.div_euclid(1000)) < zone.day(horizon_ms.div_euclid(1000))
        }
    }
}

/// The most instants one key of this span can need, for a cap of `cap`
/// and a lateness of `lateness_ms`: the deliveries in `(M − L − D, M]`, at
/// most `cap` in each of `1 + ⌈L / D⌉` windows; for a calendar day, the
/// deliveries on the local days from `M − L` to `M`, at most
/// `2 + ⌊L / shortest day⌋` of them. `None` on overflow.
pub(crate) fn most_kept(span: Span, cap: u32, lateness_ms: i64, zone: &Zone) -> Option<u64> {
    let lateness = u64::try_from(lateness_ms.max(0)).ok()?;
    let periods = match span {
        Span::Rolling(d) => {
            let d = u64::try_from(d.max(1)).ok()?;
            1 + lateness.div_ceil(d)
        }
        Span::CalendarDay => 2 + lateness / shortest_day_ms(zone),
    };
    u64::from(cap).checked_mul(periods)
}

/// The shortest local day of `zone` in ms: 24 hours less the largest
/// forward jump of its offset.
pub(crate) fn shortest_day_ms(zone: &Zone) -> u64 {
    let mut before = zone.initial;
    let mut jump = 0i64;
    for &(_, offset) in &zone.changes {
        jump = jump.max(i64::from(offset) - i64::from(before));
        before = offset;
    }
    let secs = (86_400 - jump).max(3_600);
    (secs as u64) * 1000
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc() -> Zone {
        Zone::fixed("UTC".into(), 0)
    }

    #[test]
    fn windows_after_the_message_count() {
        let z = utc();
        let h = [1_000, 2_000, 3_000, 90_000_000];
        assert_eq!(fullest_period(&h, Period::Rolling(2_000), 3_000, &z), 2);
        assert_eq!(fullest_period(&h, Period::Rolling(2_001), 3_000, &z), 3);
        // Deliveries after now: a message at 500 shares (w − 2001, w] with
        // 1,000 and 2,000 when w = 2,000.
        assert_eq!(fullest_period(&h, Period::Rolling(2_001), 500, &z), 2);
        assert_eq!(fullest_period(&h, Period::Rolling(10), 3_000, &z), 1);
        assert_eq!(fullest_period(&h, Period::CalendarDay, 5_000, &z), 3);
        assert_eq!(fullest_period(&h, Period::CalendarDay, 0, &z), 3);
        assert_eq!(fullest_period(&h, Period::CalendarDay, 90_000_001, &z), 1);
    }

    #[test]
    fn duplicates_both_ways() {
        let h = [1_000, 5_000];
        assert_eq!(duplicate_of(&h, 4_000, 1_001), Some(5_000));
        assert_eq!(duplicate_of(&h, 3_000, 2_001), Some(1_000));
        assert_eq!(duplicate_of(&h, 3_000, 2_000), None);
        assert_eq!(duplicate_of(&h, 0, 1_001), Some(1_000));
        assert_eq!(duplicate_of(&[], 0, 1_001), None);
    }

    #[test]
    fn what_a_key_keeps() {
        let z = utc();
        assert_eq!(forget_through(&[], Span::Rolling(10), 100, 5, &z), 85);
        let day = 86_400_000;
        let h = [day - 1, day, day + 5];
        assert_eq!(
            forget_through(&h, Span::CalendarDay, day + 5, 1, &z),
            day - 1
        );
        assert_eq!(
            forget_through(&h, Span::CalendarDay, day + 5, 10, &z),
            i64::MIN
        );
        assert_eq!(most_kept(Span::Rolling(10), 300, 5, &z), Some(600));
        assert_eq!(most_kept(Span::Rolling(10), 3, 0, &z), Some(3));
        assert_eq!(most_kept(Span::CalendarDay, 2, 3_600_000, &z), Some(4));
        assert!(stale(Span::Rolling(10), 90, 100, &z));
        assert!(!stale(Span::Rolling(10), 91, 100, &z));
    }
}
