//! When a decision stands on a cap's key that holds something other than
//! was believed (docs/serve.md, "One atomic step per decision").
//!
//! The engine decides on what a cap's key is believed to hold. Where the
//! record is no earlier than every delivery the key holds (the common,
//! in-order case) and the cap's period is rolling, the engine reads that
//! key for one thing only: how many of its deliveries fall in the window
//! ending at the record, compared with the cap. So the decision stands on
//! any value of the key with no delivery after the record and a count in
//! the range this decision tolerates: below the cap for a cap that
//! admitted the message, exactly the count the answer names for the cap
//! that suppressed it, anything for a cap the decision never compared.
//! And a delivery then changes the key as the engine would on that value:
//! it forgets the deliveries at or before one instant and appends the
//! record's.
//!
//! The script checks this condition when the key holds something else,
//! and writes the delivery on what the key holds, instead of refusing the
//! decision and sending the engine round again. Anything else (a late
//! record, a calendar day, an error line, an explanation, instants a Lua
//! number cannot hold exactly) gets no condition: the key must hold what
//! was believed.

use tollgate_runtime::ids::Answer;
use tollgate_runtime::notify::{Action, Cap, Decision, NotifyPolicy, Period, Reason};
use tollgate_runtime::value::Value;

/// The instants the script compares must be below this in magnitude: a Lua
/// number (a double) holds every integer below it exactly.
pub(super) const EXACT: i64 = 1 << 53;

/// A count the script never reaches: no bound.
const ANY: u32 = u32::MAX >> 1;

/// The condition under which a decision stands on what a cap's key holds,
/// and what a delivery leaves there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Stands {
    /// The deliveries counted are those at or after this instant (ms).
    pub from_ms: i64,
    /// The record's instant: the key may hold no delivery after it.
    pub at_ms: i64,
    /// The fewest deliveries counted for which the decision stands.
    pub least: u32,
    /// The most.
    pub most: u32,
    /// On a delivery, the key forgets its deliveries at or before this
    /// instant (the engine's `forget_through`, for a record no earlier
    /// than the key's newest delivery).
    pub forget_through_ms: i64,
}

/// The condition of cap rule `rule`'s key for `answer`, the decision made
/// on `record` with the key believed to hold `believed` (deliveries, 8
/// bytes each); `None` when the key must hold what was believed.
pub(super) fn cap(
    policy: &NotifyPolicy,
    rule: u32,
    record: &[Value],
    answer: &Answer,
    believed: Option<&[u8]>,
) -> Option<Stands> {
    let Action::Limit {
        cap,
        period: Period::Rolling(window),
        ..
    } = policy.rules().get(rule as usize)?.action()
    else {
        return None;
    };
    let Some(Value::Time { unix_ms: at, .. }) = record.get(policy.clock() as usize) else {
        return None;
    };
    // Counted: `at − window < t ≤ at`; forgotten: `t ≤ at − lateness − window`.
    let from = at.checked_sub(*window)?.checked_add(1)?;
    let forget = at.checked_sub(policy.lateness_ms())?.checked_sub(*window)?;
    if [*at, from, forget]
        .iter()
        .any(|v| v.unsigned_abs() >= EXACT as u64)
    {
        return None;
    }
    let believed = believed.unwrap_or(&[]);
    if !believed.len().is_multiple_of(8) {
        return None;
    }
    let mut counted = 0u32;
    for chunk in believed.chunks_exact(8) {
        let mut b = [0u8; 8];
        b.copy_from_slice(chunk);
        let t = i64::from_le_bytes(b);
        if t > *at {
            // A later delivery: the engine looked past the record.
            return None;
        }
        counted += u32::from(t >= from);
    }
    // Below the record's cap: a fixed cap is known; a cap read from the
    // record is at least its lower bound, and above what was counted.
    let admitted = match *cap {
        Cap::Fixed(n) => n.checked_sub(1)?,
        Cap::Field { low, .. } => low.checked_sub(1).map_or(counted, |l| l.max(counted)),
    };
    let (least, most) = match answer.decision {
        _ if answer.repeat => (0, ANY),
        Decision::Deliver { .. } => (0, admitted),
        Decision::Suppress {
            rule: by,
            reason: Reason::CapReached { count, .. },
        } => match rule.cmp(&by.get()) {
            std::cmp::Ordering::Less => (0, admitted),
            std::cmp::Ordering::Equal if count == counted => (count, count),
            std::cmp::Ordering::Equal => return None,
            std::cmp::Ordering::Greater => (0, ANY),
        },
        // Decided before the caps' phase: no cap was compared.
        _ => (0, ANY),
    };
    Some(Stands {
        from_ms: from,
        at_ms: *at,
        least,
        most,
        forget_through_ms: forget,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tollgate_runtime::notify::MemoryState;

    fn policy() -> NotifyPolicy {
        let text = "policy p version 1\nkind notifications\ntimezone \"Asia/Shanghai\"\n\
            field kind: enum { note, promo }\nfield terminal: string\n\
            field merchant: string\nfield cap: integer default 2\nfield at: timestamp\n\
            rule promo_day when kind == promo => limit 2 per calendar day by merchant\n\
            rule promo_cap when kind == promo => limit cap within 1..3 per 24h by merchant\n\
            rule terminal_cap when kind in {note, promo} => limit 2 per 30m by terminal\n";
        crate::pipeline::notifications(text)
    }

    fn record(p: &NotifyPolicy, at: &str) -> Vec<Value> {
        let line = format!(r#"{{"kind":"promo","terminal":"t","merchant":"m","at":"{at}"}}"#);
        crate::record::from_json(&line, p.fields()).unwrap_or_else(|e| panic!("{e}"))
    }

    fn bytes(times: &[i64]) -> Vec<u8> {
        times.iter().flat_map(|t| t.to_le_bytes()).collect()
    }

    fn answer(decision: Decision) -> Answer {
        Answer {
            decision,
            repeat: false,
        }
    }

    const AT: &str = "2026-11-25T09:00:00+08:00";
    const AT_MS: i64 = 1_795_568_400_000;

    /// The window and the forgetting are the engine's: a key whose
    /// deliveries straddle the window's start is counted as the engine
    /// counts it, on a record no earlier than them.
    #[test]
    fn a_delivery_counts_the_window_ending_at_the_record() {
        let p = policy();
        let r = record(&p, AT);
        let half_hour = 1_800_000;
        let held = bytes(&[AT_MS - half_hour, AT_MS - half_hour + 1]);
        let deliver = answer(Decision::Deliver { clamped: None });
        let got = cap(&p, 2, &r, &deliver, Some(&held)).unwrap_or_else(|| panic!("no condition"));
        assert_eq!(
            got,
            Stands {
                from_ms: AT_MS - half_hour + 1,
                at_ms: AT_MS,
                least: 0,
                most: 1,
                forget_through_ms: AT_MS - p.lateness_ms() - half_hour,
            }
        );
        // The engine agrees: one of the two counts, so a delivery is
        // admitted, and one more would reach the cap.
        let mut state = MemoryState::new();
        let key = p.rules()[2].key_of(&r).unwrap_or_else(|| panic!("no key"));
        for t in [AT_MS - half_hour, AT_MS - half_hour + 1, AT_MS] {
            tollgate_runtime::notify::ThrottleState::record(&mut state, 2.into(), key, t, i64::MIN);
        }
        let decided = p.decide(&r, &mut state).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            matches!(
                decided,
                Decision::Suppress {
                    reason: Reason::CapReached { count: 2, .. },
                    ..
                }
            ),
            "{decided:?}"
        );
    }

    #[test]
    fn the_suppressing_cap_must_count_the_same_and_later_caps_anything() {
        let p = policy();
        let r = record(&p, AT);
        let held = bytes(&[AT_MS - 10, AT_MS - 5]);
        let suppressed = answer(Decision::Suppress {
            rule: 1.into(),
            reason: Reason::CapReached {
                count: 2,
                cap: 2,
                clamped_from: None,
            },
        });
        let by = cap(&p, 1, &r, &suppressed, Some(&held)).unwrap_or_else(|| panic!("none"));
        assert_eq!((by.least, by.most), (2, 2));
        let later = cap(&p, 2, &r, &suppressed, Some(&held)).unwrap_or_else(|| panic!("none"));
        assert_eq!((later.least, later.most), (0, ANY));
        // A count other than what the key is believed to hold is not this
        // decision's: no condition.
        assert_eq!(cap(&p, 1, &r, &suppressed, Some(&held[..8])), None);
        // A cap read from the record, delivered: below its lower bound or
        // what was counted, whichever is more.
        let deliver = answer(Decision::Deliver { clamped: None });
        let field = cap(&p, 1, &r, &deliver, Some(&held[..8])).unwrap_or_else(|| panic!("none"));
        assert_eq!((field.least, field.most), (0, 1));
        let repeat = Answer {
            decision: Decision::Deliver { clamped: None },
            repeat: true,
        };
        let any = cap(&p, 2, &r, &repeat, Some(&held)).unwrap_or_else(|| panic!("none"));
        assert_eq!(any.most, ANY);
    }

    #[test]
    fn late_records_calendar_days_and_inexact_instants_get_no_condition() {
        let p = policy();
        let r = record(&p, AT);
        let deliver = answer(Decision::Deliver { clamped: None });
        // A delivery after the record.
        assert_eq!(cap(&p, 2, &r, &deliver, Some(&bytes(&[AT_MS + 1]))), None);
        // A calendar day.
        assert_eq!(cap(&p, 0, &r, &deliver, None), None);
        // Not a delivery history.
        assert_eq!(cap(&p, 2, &r, &deliver, Some(&[1, 2, 3])), None);
        // An instant a Lua number cannot hold exactly.
        let mut far = r.clone();
        far[p.clock() as usize] = Value::Time {
            unix_ms: EXACT,
            offset_secs: 0,
        };
        assert_eq!(cap(&p, 2, &far, &deliver, None), None);
        assert!(cap(&p, 2, &r, &deliver, None).is_some());
    }
}
