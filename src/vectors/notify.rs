//! Vectors of a notifications policy: streams of messages, each answered
//! from a fresh state. For a record in every region of the rule table (the
//! linter's sweep finds them): a burst over two local days, the edges of
//! every quiet window, merchant caps at and beyond their bounds, repeated
//! message ids, the first two offset changes of the zone within the
//! compiled years (daylight saving in New York) and the two ends of those
//! years. Each answer is the [`Reference`]'s, from a history for the
//! compiled years.

use super::{object, Group, Record, Reference, Vector};
use crate::lint::budget::Budget;
use crate::lint::example;
use crate::lint::space::{sweep, Mode, Region, Space, Visitor};
use crate::model::{Action, Body, CapAmount, Notifications, Policy};
use chrono::{NaiveDate, TimeZone};
use serde_json::{json, Map, Value as Json};
use std::collections::BTreeSet;
use tollgate_runtime::notify::NotifyPolicy;
use tollgate_runtime::table::FieldSpec;

/// Offsets (seconds) of a burst's messages from its first local midnight:
/// seconds and minutes apart, then across the day's hours, then the next
/// day.
const BURST: [i64; 22] = [
    0, 1, 60, 300, 600, 601, 1_800, 3_600, 7_200, 10_800, 21_600, 39_600, 41_400, 46_800, 61_200,
    64_800, 72_000, 79_200, 86_399, 86_400, 90_000, 172_800,
];

/// Offsets (seconds) around an instant: an hour, a second, none.
const AROUND: [i64; 7] = [-3_600, -1, 0, 1, 1_800, 3_600, 7_200];

/// The local day bursts start on, when the compiled years hold it.
const START: (i32, u32, u32) = (2026, 11, 25);

/// The most streams one policy gets.
const MAX_GROUPS: usize = 2_000;

/// The streams of a notifications policy, its zone compiled for `years`.
///
/// # Errors
/// A sentence when the rule table is too large to sweep or the zone is
/// unknown.
pub fn groups<R: Reference>(
    reference: &R,
    policy: &Policy,
    compiled: &NotifyPolicy,
    years: (i32, i32),
) -> Result<Vec<Group>, String> {
    let Body::Notifications(n) = &policy.body else {
        return Ok(Vec::new());
    };
    let tz: chrono_tz::Tz = policy
        .timezone
        .parse()
        .map_err(|_| format!("unknown time zone `{}`", policy.timezone))?;
    let fields = crate::compile::field_specs(policy);
    let clock = fields
        .get(n.clock)
        .map(|f| f.name.clone())
        .unwrap_or_default();
    let stamp = |ms: i64| -> Json {
        let t = tz.timestamp_millis_opt(ms).earliest();
        json!(t.map_or_else(String::new, |t| t
            .fixed_offset()
            .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false)))
    };
    let at = |record: &Map<String, Json>, ms: i64| {
        let mut r = record.clone();
        r.insert(clock.clone(), stamp(ms));
        r
    };
    let midnight = |(y, m, d): (i32, u32, u32)| {
        NaiveDate::from_ymd_opt(y, m, d)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .and_then(|t| tz.from_local_datetime(&t).earliest())
            .map(|t| t.timestamp_millis())
    };
    let local = |day_ms: i64, secs: u32| -> Option<i64> {
        let date = tz.timestamp_millis_opt(day_ms).earliest()?.date_naive();
        let t = date.and_hms_opt(secs / 3600, secs % 3600 / 60, secs % 60)?;
        tz.from_local_datetime(&t)
            .earliest()
            .map(|t| t.timestamp_millis())
    };
    let start = if (years.0..=years.1).contains(&START.0) {
        START
    } else {
        (years.0, 6, 1)
    };
    let t0 = midnight(start).ok_or("no local midnight to start from")?;
    let (span_start, span_end) = (
        compiled.zone().from.saturating_mul(1000),
        compiled.zone().until.saturating_mul(1000),
    );
    // The first two offset changes from a year before the bursts (daylight
    // saving's spring and autumn), else the first two of the span.
    let all: Vec<i64> = compiled
        .zone()
        .changes
        .iter()
        .map(|&(t, _)| t.saturating_mul(1000))
        .collect();
    let recent: Vec<i64> = all
        .iter()
        .copied()
        .filter(|&t| t >= t0 - 366 * 86_400_000)
        .take(2)
        .collect();
    let changes = if recent.is_empty() {
        all.into_iter().take(2).collect()
    } else {
        recent
    };
    let mut groups: Vec<(String, Vec<Map<String, Json>>)> = Vec::new();
    for (record, rules) in regions(policy, n, &fields)? {
        let name = |rules: &[usize]| {
            let names: Vec<&str> = rules
                .iter()
                .filter_map(|&r| n.rules.get(r).map(|r| r.name.as_str()))
                .collect();
            if names.is_empty() {
                "no rule".to_string()
            } else {
                names.join(", ")
            }
        };
        let about = name(&rules);
        let actions: Vec<&Action> = rules
            .iter()
            .filter_map(|&r| n.rules.get(r).map(|r| &r.action))
            .collect();
        groups.push((
            format!("burst over two days: {about}"),
            BURST.iter().map(|s| at(&record, t0 + s * 1000)).collect(),
        ));
        let windows: BTreeSet<(u32, u32)> = actions
            .iter()
            .filter_map(|a| match a {
                Action::Quiet { windows, .. } => Some(windows.iter().copied()),
                _ => None,
            })
            .flatten()
            .collect();
        if !windows.is_empty() {
            let day = t0 + 86_400_000;
            let mut stream = Vec::new();
            for &(s, e) in &windows {
                for secs in [s.checked_sub(1), Some(s), e.checked_sub(1), Some(e)]
                    .into_iter()
                    .flatten()
                {
                    stream.extend(local(day, secs % 86_400).map(|ms| at(&record, ms)));
                }
            }
            groups.push((format!("quiet window edges: {about}"), stream));
        }
        for a in &actions {
            if let Action::Limit {
                max: CapAmount::Field { field, low, high },
                ..
            } = a
            {
                let Some(f) = fields.get(*field) else {
                    continue;
                };
                let (low, high) = (i64::from(*low), i64::from(*high));
                for v in [low - 1, low, high, high + 1] {
                    let mut r = record.clone();
                    r.insert(f.name.clone(), json!(v));
                    let count = (high + 2).clamp(1, 50);
                    let stream = (0..count).map(|k| at(&r, t0 + k * 60_000)).collect();
                    groups.push((format!("{} = {v}: {about}", f.name), stream));
                }
            }
        }
        if let Some(id) = n.message_id.and_then(|f| fields.get(f)) {
            let lateness = i64::try_from(n.lateness_secs).unwrap_or(0) * 1000;
            let with = |v: &str, ms: i64| {
                let mut r = at(&record, ms);
                r.insert(id.name.clone(), json!(v));
                r
            };
            groups.push((
                format!("message ids repeated: {about}"),
                vec![
                    with("v1", t0),
                    with("v1", t0 + 1_000),
                    with("v2", t0 + 2_000),
                    with("v1", t0 + lateness + 1_000),
                    with("v2", t0 + 3_000),
                ],
            ));
        }
        for (i, &c) in changes.iter().enumerate() {
            let mut stream: Vec<Map<String, Json>> =
                AROUND.iter().map(|s| at(&record, c + s * 1000)).collect();
            for &(s, e) in &windows {
                stream.extend(local(c, s).map(|ms| at(&record, ms)));
                stream.extend(local(c, e).map(|ms| at(&record, ms)));
            }
            stream.sort_by_key(|r| r.get(&clock).map(Json::to_string));
            groups.push((
                format!("offset change {} of the zone: {about}", i + 1),
                stream,
            ));
        }
        groups.push((
            format!("the ends of the compiled years: {about}"),
            vec![
                at(&record, span_start - 1),
                at(&record, span_start),
                at(&record, span_end - 1),
                at(&record, span_end),
            ],
        ));
        if groups.len() >= MAX_GROUPS {
            break;
        }
    }
    Ok(groups
        .into_iter()
        .take(MAX_GROUPS)
        .map(|(about, records)| answer(reference, policy, compiled, years, about, records))
        .collect())
}

/// A record in each region of the rule table and the rules that match it
/// there.
fn regions(
    policy: &Policy,
    n: &Notifications,
    fields: &[FieldSpec],
) -> Result<Vec<(Record, Vec<usize>)>, String> {
    let conds = n.conditions();
    let (space, owners, _) = crate::lint::table::boxes(&conds, fields);
    let rows: Vec<u32> = (0..space.rows.len() as u32).collect();
    let mut v = Regions {
        space: &space,
        owners: &owners,
        fields,
        found: Vec::new(),
    };
    sweep(&space, &rows, Mode::Every, &mut v, &mut Budget::default()).map_err(|_| {
        format!(
            "policy `{}` has too many regions to sweep within the analysis budget",
            policy.name
        )
    })?;
    Ok(v.found)
}

/// The sweep's visitor: one record per region, with its rules.
struct Regions<'a> {
    space: &'a Space,
    owners: &'a [u32],
    fields: &'a [FieldSpec],
    found: Vec<(Map<String, Json>, Vec<usize>)>,
}

impl Visitor for Regions<'_> {
    fn gap(&mut self, region: Region<'_>) {
        let record = example::record(self.space, region, None, self.fields);
        self.found.push((object(&record), Vec::new()));
    }

    fn leaf(&mut self, active: &[u32], _exact: bool, region: Region<'_>) {
        let record = example::record(self.space, region, active.first().copied(), self.fields);
        let mut rules: Vec<usize> = active
            .iter()
            .filter_map(|&r| self.owners.get(r as usize).map(|&o| o as usize))
            .collect();
        rules.sort_unstable();
        rules.dedup();
        self.found.push((object(&record), rules));
    }
}

/// A stream answered by the reference from an empty history.
fn answer<R: Reference>(
    reference: &R,
    policy: &Policy,
    compiled: &NotifyPolicy,
    years: (i32, i32),
    about: String,
    records: Vec<Map<String, Json>>,
) -> Group {
    let mut history = reference.history(years);
    let vectors = records
        .into_iter()
        .enumerate()
        .map(|(i, record)| {
            let n = i + 1;
            let error = |message: String| json!({ "error": message, "record": n }).to_string();
            let text = Json::Object(record.clone()).to_string();
            let expect = match crate::record::from_json(&text, compiled.fields()) {
                Err(e) => error(e),
                Ok(values) => match reference.answer(policy, &values, &mut history) {
                    Some(Ok(a)) => crate::cli::notify_out::answer(compiled, a, None).to_string(),
                    Some(Err(e)) => error(crate::cli::notify_out::error(compiled, e)),
                    None => error("not a notifications record".into()),
                },
            };
            Vector { record, expect }
        })
        .collect();
    Group { about, vectors }
}
