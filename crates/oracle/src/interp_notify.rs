//! The reference interpreter for notification rules: the checked policy, a
//! full history of every delivery (keys compared value by value, never
//! hashed), windows counted by trying every start, and local time from the
//! IANA database through chrono-tz, written for clarity. It shares no code
//! with the runtime's engine but the types of the answer, so the property
//! tests can hold one against the other.

use crate::exact;
use crate::interp::holds;
use chrono::{LocalResult, NaiveTime, TimeZone, Timelike};
use std::cmp::Ordering;
use tollgate::model::{Action, Body, CapAmount, LimitPeriod, Policy, QuietMode};
use tollgate_runtime::ids::Answer;
use tollgate_runtime::notify::{Clamp, Decision, NotifyError, Reason};
use tollgate_runtime::position::NotifyRuleIndex;
use tollgate_runtime::value::Value;

/// Every delivery so far: the rule it was recorded for, the key's values,
/// and the instant (ms); and every decision made afresh for a message id:
/// the id as written, the instant and the decision; and the years the
/// policy's zone is compiled for (by default
/// [`ZONE_YEARS`](tollgate::compile::notify::ZONE_YEARS)).
#[derive(Debug, Clone, Default)]
pub struct History {
    deliveries: Vec<(usize, Vec<Value>, i64)>,
    decided: Vec<(String, i64, Decision)>,
    years: Option<(i32, i32)>,
}

impl History {
    /// An empty history for a policy whose zone is compiled for the years
    /// `first..=last` (`tollgate compile --zone-years`).
    pub fn for_years(first: i32, last: i32) -> Self {
        History {
            years: Some((first, last)),
            ..History::default()
        }
    }
}

/// The record's values of the key fields.
fn key(record: &[Value], keys: &[usize]) -> Vec<Value> {
    keys.iter()
        .map(|&k| record.get(k).cloned().unwrap_or(Value::Bool(false)))
        .collect()
}

/// Whether two keys are the same: numbers by value (`1.0` is `1.00`),
/// other values as they are.
fn same_key(a: &[Value], b: &[Value]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|pair| match pair {
            (Value::Num(x), Value::Num(y)) => exact::cmp(*x, *y) == Ordering::Equal,
            (x, y) => x == y,
        })
}

/// Local time of day (seconds) and date at `ms` in zone `tz`.
fn local(tz: chrono_tz::Tz, ms: i64) -> (u32, chrono::NaiveDate) {
    let t = chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .with_timezone(&tz);
    (t.num_seconds_from_midnight(), t.date_naive())
}

fn inside(tod: u32, (s, e): (u32, u32)) -> bool {
    if s <= e {
        s <= tod && tod < e
    } else {
        tod >= s || tod < e
    }
}

/// The first instant (ms, whole seconds) at or after `ms` that is outside
/// every window: found by walking to each window's end in local time.
fn quiet_end(tz: chrono_tz::Tz, ms: i64, windows: &[(u32, u32)]) -> i64 {
    let mut t = ms.div_euclid(1000) * 1000;
    for _ in 0..=windows.len() {
        let (tod, date) = local(tz, t);
        let Some(&(_, end)) = windows.iter().find(|w| inside(tod, **w)) else {
            return t;
        };
        // The end on this local date if still ahead, else on the next.
        let end_time =
            NaiveTime::from_num_seconds_from_midnight_opt(end % 86_400, 0).unwrap_or_default();
        let mut next = None;
        for day in [
            date,
            date.succ_opt().unwrap_or(date),
            date.succ_opt().and_then(|d| d.succ_opt()).unwrap_or(date),
        ] {
            let wall = day.and_time(end_time);
            // A skipped wall time: walk forward a minute at a time to the gap's end.
            let mut probe = wall;
            let (first, second) = loop {
                match tz.from_local_datetime(&probe) {
                    LocalResult::Single(at) => break (at.timestamp_millis(), None),
                    LocalResult::Ambiguous(a, b) => {
                        break (a.timestamp_millis(), Some(b.timestamp_millis()))
                    }
                    LocalResult::None => probe += chrono::Duration::minutes(1),
                }
            };
            // A repeated wall time: the first occurrence, or asked after
            // it, the second (docs/time.md).
            if let Some(resolved) = [Some(first), second].into_iter().flatten().find(|&r| r > t) {
                next = Some(resolved);
                break;
            }
        }
        t = next.unwrap_or(t + 1000);
    }
    t
}

/// The most deliveries among `times` in one window of `d` ms (integer ms,
/// `[a, a + d − 1]`) that holds `now`, by trying every start at which the
/// count can change.
fn fullest_window(times: &[i64], now: i64, d: i64) -> usize {
    let lowest = now - d + 1;
    let starts = std::iter::once(lowest)
        .chain(times.iter().map(|&u| u + 1))
        .chain(times.iter().map(|&u| u - d + 1))
        .filter(|&a| lowest <= a && a <= now);
    starts
        .map(|a| times.iter().filter(|&&u| a <= u && u < a + d).count())
        .max()
        .unwrap_or(0)
}

/// The instants (ms) the compiled zone is built for, the first included and
/// the last excluded: from 1 January of the first of the history's years to
/// 1 January after the last, UTC.
fn zone_span_ms(history: &History) -> (i64, i64) {
    let (first, last) = history
        .years
        .unwrap_or(tollgate::compile::notify::ZONE_YEARS);
    let new_year = |year: i32| {
        chrono::NaiveDate::from_ymd_opt(year, 1, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map_or(0, |t| t.and_utc().timestamp_millis())
    };
    (new_year(first), new_year(last + 1))
}

/// Decides `record`, recording the delivery in `history` when it is one;
/// `Some(Err(..))` for a record later than the policy's lateness allows, or
/// outside the years its zone is built for (or deferred past their end).
pub fn decide(
    policy: &Policy,
    record: &[Value],
    history: &mut History,
) -> Option<Result<Decision, NotifyError>> {
    answer(policy, record, history).map(|a| a.map(|a| a.decision))
}

/// As [`decide`], also saying whether the decision repeats the one made for
/// the record's message id: the latest decision made afresh for that id,
/// when the two records are at most the lateness apart.
pub fn answer(
    policy: &Policy,
    record: &[Value],
    history: &mut History,
) -> Option<Result<Answer, NotifyError>> {
    let Body::Notifications(n) = &policy.body else {
        return None;
    };
    // The id as written; none when empty or the field's default.
    let id = n.message_id.and_then(|f| {
        let Some(Value::Str(id)) = record.get(f) else {
            return None;
        };
        let default = policy.fields.get(f).and_then(|f| f.default.as_ref());
        let is_default = matches!(default, Some(tollgate::model::Constant::String(d)) if d == id);
        (!id.is_empty() && !is_default).then(|| id.clone())
    });
    // Outside the years the zone is built for, a record is decided
    // without its id.
    let (from, until) = zone_span_ms(history);
    let inside = matches!(record.get(n.clock), Some(Value::Time { unix_ms, .. }) if (from..until).contains(unix_ms));
    let id = id.filter(|_| inside);
    if let (Some(id), Some(Value::Time { unix_ms: now, .. })) = (&id, record.get(n.clock)) {
        let lateness = (n.lateness_secs as i64).saturating_mul(1000);
        let first = history.decided.iter().rev().find(|(d, _, _)| d == id);
        if let Some(&(_, at, decision)) = first {
            if (now - at).abs() <= lateness {
                return Some(Ok(Answer {
                    decision,
                    repeat: true,
                }));
            }
        }
    }
    let now = match record.get(n.clock) {
        Some(Value::Time { unix_ms, .. }) => *unix_ms,
        _ => 0,
    };
    let decided = decide_fresh(policy, record, history)?;
    if let (Some(id), Ok(d)) = (id, &decided) {
        history.decided.push((id, now, *d));
    }
    Some(decided.map(|decision| Answer {
        decision,
        repeat: false,
    }))
}

/// Decides `record` as a message never seen before.
fn decide_fresh(
    policy: &Policy,
    record: &[Value],
    history: &mut History,
) -> Option<Result<Decision, NotifyError>> {
    let Body::Notifications(n) = &policy.body else {
        return None;
    };
    let tz: chrono_tz::Tz = policy.timezone.parse().ok()?;
    let Some(Value::Time { unix_ms: now, .. }) = record.get(n.clock) else {
        return None;
    };
    let now = *now;
    let matching: Vec<usize> = (0..n.rules.len())
        .filter(|&i| n.rules.get(i).is_some_and(|r| holds(&r.when, record)))
        .collect();
    let rule = |i: usize| n.rules.get(i);
    if matching
        .iter()
        .any(|&i| rule(i).is_some_and(|r| r.action == Action::AlwaysDeliver))
    {
        return Some(Ok(Decision::Deliver { clamped: None }));
    }
    if let Some(&i) = matching
        .iter()
        .find(|&&i| matches!(rule(i).map(|r| &r.action), Some(Action::Suppress { .. })))
    {
        return Some(Ok(Decision::Suppress {
            rule: NotifyRuleIndex::new(i as u32),
            reason: Reason::Declared,
        }));
    }
    // Outside its activation window the policy decides nothing that reads
    // time: before `effective from`, or from `until` on.
    if let Some(from) = policy.window.from.filter(|f| now < f.unix_ms) {
        return Some(Err(NotifyError::NotYetEffective {
            from_ms: from.unix_ms,
        }));
    }
    if let Some(until) = policy.window.until.filter(|u| now >= u.unix_ms) {
        return Some(Err(NotifyError::Expired {
            until_ms: until.unix_ms,
        }));
    }
    let times_of = |history: &History, i: usize, k: &[Value]| -> Vec<i64> {
        let mut v: Vec<i64> = history
            .deliveries
            .iter()
            .filter(|(r, kk, _)| *r == i && same_key(kk, k))
            .map(|(_, _, t)| *t)
            .collect();
        v.sort_unstable();
        v
    };
    let (span_from, span_until) = zone_span_ms(history);
    if now < span_from || now >= span_until {
        return Some(Err(NotifyError::OutsideZoneSpan {
            at_ms: now,
            rule: None,
        }));
    }
    let lateness = (n.lateness_secs as i64).saturating_mul(1000);
    for &i in &matching {
        if let Some(Action::Dedup { keys, .. } | Action::Limit { keys, .. }) =
            rule(i).map(|r| &r.action)
        {
            if let Some(&newest) = times_of(history, i, &key(record, keys)).last() {
                if now < newest - lateness {
                    return Some(Err(NotifyError::TooLate {
                        rule: NotifyRuleIndex::new(i as u32),
                        newest_ms: newest,
                    }));
                }
            }
        }
    }
    for &i in &matching {
        if let Some(Action::Dedup { keys, window_secs }) = rule(i).map(|r| &r.action) {
            // The delivery nearest in time, before or after; the earlier on a tie.
            let window = (*window_secs as i64).saturating_mul(1000);
            let nearest = times_of(history, i, &key(record, keys))
                .into_iter()
                .filter(|t| (now - t).abs() < window)
                .min_by_key(|t| ((now - t).abs(), *t));
            if let Some(last) = nearest {
                return Some(Ok(Decision::Suppress {
                    rule: NotifyRuleIndex::new(i as u32),
                    reason: Reason::Duplicate { last_ms: last },
                }));
            }
        }
    }
    // The matching quiet rules, in file order; the first whose window holds
    // an instant decides there.
    let quiet: Vec<_> = matching
        .iter()
        .filter_map(|&i| match rule(i).map(|r| &r.action) {
            Some(Action::Quiet { windows, mode }) => Some((i, windows.as_slice(), *mode)),
            _ => None,
        })
        .collect();
    let holding = |ms: i64| {
        let (tod, _) = local(tz, ms);
        quiet
            .iter()
            .find(|(_, windows, _)| windows.iter().any(|w| inside(tod, *w)))
            .copied()
    };
    if let Some((i, windows, mode)) = holding(now) {
        if mode == QuietMode::Drop {
            return Some(Ok(Decision::Suppress {
                rule: NotifyRuleIndex::new(i as u32),
                reason: Reason::Quiet,
            }));
        }
        let until_ms = quiet_end(tz, now, windows);
        // Sent again at `until_ms`, the message may be deferred again by
        // another rule, and so on: no defer along the way may leave the span.
        let mut at = (i, until_ms);
        let steps: usize = quiet.iter().map(|(_, w, _)| w.len()).sum();
        for _ in 0..=steps {
            if at.1 >= span_until {
                return Some(Err(NotifyError::OutsideZoneSpan {
                    at_ms: at.1,
                    rule: Some(NotifyRuleIndex::new(at.0 as u32)),
                }));
            }
            match holding(at.1) {
                Some((j, windows, QuietMode::Defer)) => at = (j, quiet_end(tz, at.1, windows)),
                _ => break,
            }
        }
        if at.1 >= span_until {
            return Some(Err(NotifyError::OutsideZoneSpan {
                at_ms: at.1,
                rule: Some(NotifyRuleIndex::new(at.0 as u32)),
            }));
        }
        return Some(Ok(Decision::Defer {
            rule: NotifyRuleIndex::new(i as u32),
            until_ms,
        }));
    }
    let mut clamped = None;
    for &i in &matching {
        if let Some(Action::Limit { max, period, keys }) = rule(i).map(|r| &r.action) {
            let (cap, from) = match max {
                CapAmount::Fixed(c) => (*c, None),
                CapAmount::Field { field, low, high } => {
                    let v = match record.get(*field) {
                        Some(Value::Num(d)) => i64::try_from(d.mantissa()).ok(),
                        _ => None,
                    };
                    match v {
                        Some(v) if v < i64::from(*low) => (*low, Some(v)),
                        Some(v) if v > i64::from(*high) => (*high, Some(v)),
                        Some(v) => (v as u32, None),
                        None => (*high, None),
                    }
                }
            };
            if let (None, Some(f)) = (clamped, from) {
                clamped = Some(Clamp {
                    rule: NotifyRuleIndex::new(i as u32),
                    from: f,
                    to: cap,
                });
            }
            let times = times_of(history, i, &key(record, keys));
            let (_, today) = local(tz, now);
            let count = match period {
                LimitPeriod::Rolling(secs) => {
                    fullest_window(&times, now, (*secs as i64).saturating_mul(1000))
                }
                LimitPeriod::CalendarDay => {
                    times.iter().filter(|&&t| local(tz, t).1 == today).count()
                }
            } as u32;
            if count >= cap {
                return Some(Ok(Decision::Suppress {
                    rule: NotifyRuleIndex::new(i as u32),
                    reason: Reason::CapReached {
                        count,
                        cap,
                        clamped_from: from,
                    },
                }));
            }
        }
    }
    for &i in &matching {
        match rule(i).map(|r| &r.action) {
            Some(Action::Dedup { keys, .. }) | Some(Action::Limit { keys, .. }) => {
                history.deliveries.push((i, key(record, keys), now));
            }
            _ => {}
        }
    }
    Some(Ok(Decision::Deliver { clamped }))
}
