//! Shuffled notification streams as a server receives them (late
//! records, bursts, retried message ids), the policy they exercise, and the
//! laws its deliveries obey whatever order they were decided in: shared by
//! tests/notify_props.rs (the engine) and tests/serve_streams.rs (the
//! service, both state backends).

// Not every test that includes this uses all of it.
#![allow(dead_code)]

use tollgate::model::Policy;
use tollgate_oracle::generate::Rng;
use tollgate_runtime::notify::NotifyPolicy;
use tollgate_runtime::value::Value;

/// The index of field `name`.
pub fn field(policy: &NotifyPolicy, name: &str) -> usize {
    policy.fields().iter().position(|f| f.name == name).unwrap()
}

/// The variant index of an enum value.
pub fn variant(v: &Value) -> u32 {
    match v {
        Value::Enum(i) => *i,
        _ => u32::MAX,
    }
}

/// A policy that exercises late records: de-duplication, a quiet window,
/// a calendar-day and two rolling caps (one above 255), and a lateness of
/// 2h, in `zone`; messages may carry an id (`msg_id`): its source.
pub fn late_policy_text(zone: &str) -> String {
    format!(
        "policy late_mix version 1\nkind notifications\ntimezone \"{zone}\"\n\
         late records within 2h\nmessage id msg_id\n\
         field kind: enum {{ note, promo, bulk }}\nfield merchant: string\n\
         field terminal: string\nfield at: timestamp\nfield msg_id: string default \"\"\n\
         rule note_dedup when kind == note => dedup by terminal within 10m\n\
         rule night when kind == promo => quiet 22:00-06:00 then defer\n\
         rule promo_day when kind == promo => limit 2 per calendar day by merchant\n\
         rule promo_roll when kind == promo => limit 3 per 6h by merchant\n\
         rule bulk_cap when kind == bulk => limit 300 per 1h by terminal\n\
         rule terminal_cap when kind != bulk => limit 4 per 30m by terminal\n"
    )
}

/// [`late_policy_text`] checked and compiled.
pub fn late_policy(zone: &str) -> (Policy, NotifyPolicy) {
    super::common::notifications(&late_policy_text(zone))
}

pub const LATENESS_MS: i64 = 2 * 3_600_000;

/// A stream in time order, then shuffled as a server receives it: each
/// record is delayed by less than the lateness, so none is later than the
/// policy accepts; `too_late` in a thousand are delayed by up to a day
/// more. `bulk` in a hundred are bursts of `bulk` messages seconds apart.
/// With `retries` above 0, nine messages in ten carry an id, and `retries`
/// in a hundred are sent again: replayed as they were, or stamped anew up
/// to one and a half times the lateness later (so some are decided
/// afresh), each arriving less than the lateness after its stamp, before
/// or after the first.
pub fn shuffled_json(
    seed: u64,
    len: usize,
    start_ms: i64,
    bulk: usize,
    too_late: usize,
    retries: usize,
) -> Vec<String> {
    let mut r = Rng::new(seed);
    let mut t = start_ms;
    let stamp_of = |ms: i64| {
        chrono::DateTime::from_timestamp_millis(ms)
            .unwrap()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    };
    let mut again: Vec<(i64, usize, String)> = Vec::new();
    let mut timed: Vec<(i64, usize, String)> = (0..len)
        .map(|i| {
            let is_bulk = r.below(100) < bulk;
            t += if is_bulk {
                r.below(6_000) as i64
            } else {
                [0, 1_000, 60_000, 300_000, 900_000, 3_600_000, 10_800_000][r.below(7)]
                    + r.below(60_000) as i64
            };
            let kind = if is_bulk {
                "bulk"
            } else {
                ["note", "promo", "promo"][r.below(3)]
            };
            // One in two hundred is stamped outside the zone's span: by a
            // clock 80 years behind or ahead.
            let stamp_ms = match r.below(400) {
                0 => t - 80 * 365 * 86_400_000,
                1 => t + 80 * 365 * 86_400_000,
                _ => t,
            };
            let stamp = stamp_of(stamp_ms);
            let merchant = ["m1", "m2"][r.below(2)];
            let terminal = ["t1", "t2", "t3"][r.below(3)];
            let mut json = serde_json::json!({
                "kind": kind,
                "merchant": merchant,
                "terminal": terminal,
                "at": stamp,
            });
            let mut delay = r.below(LATENESS_MS as usize) as i64;
            if r.below(1000) < too_late {
                delay += r.below(86_400_000) as i64;
            }
            if retries > 0 {
                if r.below(10) > 0 {
                    json["msg_id"] = serde_json::json!(format!("i{i}"));
                }
                if r.below(100) < retries {
                    let sent = if r.chance(30) {
                        t
                    } else {
                        t + r.below(LATENESS_MS as usize * 3 / 2) as i64
                    };
                    let mut retry = json.clone();
                    retry["at"] = serde_json::json!(stamp_of(sent));
                    let arrival = sent + r.below(LATENESS_MS as usize) as i64;
                    again.push((arrival, len + i, retry.to_string()));
                }
            }
            (t + delay, i, json.to_string())
        })
        .collect();
    timed.extend(again);
    timed.sort_by_key(|(arrival, i, _)| (*arrival, *i));
    timed.into_iter().map(|(_, _, rec)| rec).collect()
}

/// [`shuffled_json`]'s records, typed by `fields`.
pub fn shuffled(
    seed: u64,
    len: usize,
    start_ms: i64,
    bulk: usize,
    too_late: usize,
    retries: usize,
    fields: &[tollgate_runtime::table::FieldSpec],
) -> Vec<Vec<Value>> {
    shuffled_json(seed, len, start_ms, bulk, too_late, retries)
        .iter()
        .map(|line| tollgate::record::from_json(line, fields).unwrap())
        .collect()
}

/// The laws on a set of deliveries, whatever order they were decided in:
/// no window of any cap holds more than the cap, no calendar day more than
/// its cap, no two notes of a terminal within 10m, no promotion in the
/// night.
pub fn check_delivered(compiled: &NotifyPolicy, zone: &str, delivered: &[&Vec<Value>]) {
    let tz: chrono_tz::Tz = zone.parse().unwrap();
    let f = |n: &str| field(compiled, n);
    let (kind, merchant, terminal, at) = (f("kind"), f("merchant"), f("terminal"), f("at"));
    let ms = |r: &Vec<Value>| match &r[at] {
        Value::Time { unix_ms, .. } => *unix_ms,
        _ => unreachable!(),
    };
    let local = |t: i64| {
        chrono::DateTime::from_timestamp_millis(t)
            .unwrap()
            .with_timezone(&tz)
    };
    // (kinds, key field, window ms or 0 for a calendar day, cap)
    let laws: [(&[u32], usize, i64, usize); 5] = [
        (&[0], terminal, 600_000, 1),
        (&[1], merchant, 0, 2),
        (&[1], merchant, 6 * 3_600_000, 3),
        (&[2], terminal, 3_600_000, 300),
        (&[0, 1], terminal, 1_800_000, 4),
    ];
    for (kinds, key, window, cap) in laws {
        let mut groups: std::collections::HashMap<&Value, Vec<i64>> = Default::default();
        for r in delivered {
            if kinds.contains(&variant(&r[kind])) {
                groups.entry(&r[key]).or_default().push(ms(r));
            }
        }
        for times in groups.values_mut() {
            times.sort_unstable();
            for (i, &t) in times.iter().enumerate() {
                let inside = if window == 0 {
                    let day = local(t).date_naive();
                    times
                        .iter()
                        .filter(|&&u| local(u).date_naive() == day)
                        .count()
                } else {
                    times[..=i].iter().filter(|&&u| t - u < window).count()
                };
                assert!(
                    inside <= cap,
                    "{inside} deliveries of {kinds:?} in one period (cap {cap})"
                );
            }
        }
    }
    for r in delivered {
        if variant(&r[kind]) == 1 {
            let hour = chrono::Timelike::hour(&local(ms(r)));
            assert!((6..22).contains(&hour), "a promotion in the night");
        }
    }
}
