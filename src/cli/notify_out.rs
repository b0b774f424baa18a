//! Notification decisions as JSON lines.

use chrono::Datelike;
use serde_json::{json, Map, Value as Json};
use tollgate_runtime::ids::Answer;
use tollgate_runtime::notify::{Action, Decision, NotifyError, NotifyPolicy, Period, Reason};
use tollgate_runtime::trace::{NotifyTrace, Saw};
use tollgate_runtime::value::Value;

/// An instant as RFC 3339 with the offset of the policy's zone at that instant.
pub fn instant(policy: &NotifyPolicy, ms: i64) -> String {
    let offset = policy.zone().offset_at(ms.div_euclid(1000));
    match (
        chrono::FixedOffset::east_opt(offset),
        chrono::DateTime::from_timestamp_millis(ms),
    ) {
        (Some(fixed), Some(t)) => t
            .with_timezone(&fixed)
            .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false),
        _ => ms.to_string(),
    }
}

/// An instant as RFC 3339 in UTC, for instants whose local offset may not be
/// known (outside the zone's span).
fn utc(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map_or_else(
        || ms.to_string(),
        |t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
    )
}

/// The span of the policy's zone, as the error names it: `the years the
/// policy's time zone `America/New_York` is built for, 2000-2099 (from
/// 2000-01-01T00:00:00Z, before 2100-01-01T00:00:00Z)`.
fn zone_span(policy: &NotifyPolicy) -> String {
    let zone = &policy.zone();
    let year = |s: i64| {
        chrono::DateTime::from_timestamp(s, 0)
            .map_or_else(|| "?".to_string(), |t| t.year().to_string())
    };
    format!(
        "the years the policy's time zone `{}` is built for, {}-{} (from {}, before {})",
        zone.name,
        year(zone.from),
        year(zone.until.saturating_sub(1)),
        utc(zone.from.saturating_mul(1000)),
        utc(zone.until.saturating_mul(1000)),
    )
}

/// A duration as the policy would write it (`1h`, `10m`, `30s`).
pub fn duration(ms: i64) -> String {
    let s = ms / 1000;
    if s == 0 {
        "0s".to_string()
    } else if s % 3600 == 0 {
        format!("{}h", s / 3600)
    } else if s % 60 == 0 {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}

/// The output line for a decision.
pub fn decision(policy: &NotifyPolicy, d: Decision, explain: Option<Vec<Json>>) -> Json {
    let name = |i: u32| policy.rules().get(i as usize).map_or("?", |r| r.name());
    let mut m = Map::new();
    match d {
        Decision::Deliver { clamped } => {
            m.insert("decision".into(), json!("deliver"));
            if let Some(c) = clamped {
                m.insert(
                    "clamped".into(),
                    json!({ "rule": name(c.rule.get()), "from": c.from, "to": c.to }),
                );
            }
        }
        Decision::Defer { rule, until_ms } => {
            m.insert("decision".into(), json!("defer"));
            m.insert("until".into(), json!(instant(policy, until_ms)));
            m.insert("rule".into(), json!(name(rule.get())));
        }
        Decision::Suppress { rule, reason } => {
            m.insert("decision".into(), json!("suppress"));
            m.insert("rule".into(), json!(name(rule.get())));
            let action = policy.rules().get(rule.get() as usize).map(|r| r.action());
            let text = match (reason, action) {
                (Reason::Duplicate { last_ms }, Some(Action::Dedup { window_ms, .. })) => format!(
                    "duplicate: the same key was delivered at {}, within {}",
                    instant(policy, last_ms),
                    duration(*window_ms)
                ),
                (Reason::Quiet, _) => "inside a quiet window that drops messages".to_string(),
                (Reason::Declared, Some(Action::Suppress { reason })) => reason.clone(),
                (Reason::StoreFull, _) => {
                    "the throttle store is full and refuses new keys".to_string()
                }
                (
                    Reason::CapReached {
                        count,
                        cap,
                        clamped_from,
                    },
                    Some(Action::Limit { period, .. }),
                ) => {
                    let window = match period {
                        tollgate_runtime::notify::Period::Rolling(ms) => duration(*ms),
                        tollgate_runtime::notify::Period::CalendarDay => {
                            "this calendar day".to_string()
                        }
                    };
                    let clamp = clamped_from
                        .map(|v| format!(" (the record asked for {v}, clamped to {cap})"))
                        .unwrap_or_default();
                    format!("cap reached: {count} delivered in {window}, cap {cap}{clamp}")
                }
                _ => "suppressed".to_string(),
            };
            m.insert("reason".into(), json!(text));
        }
    }
    if let Some(trace) = explain {
        m.insert("explain".into(), Json::Array(trace));
    }
    Json::Object(m)
}

/// The output line for an answer: its decision's line, with
/// `"repeat": true` when it repeats the decision made for the message's id.
pub fn answer(policy: &NotifyPolicy, a: Answer, explain: Option<Vec<Json>>) -> Json {
    let mut line = decision(policy, a.decision, explain);
    if let (true, Json::Object(m)) = (a.repeat, &mut line) {
        m.insert("repeat".into(), json!(true));
    }
    line
}

/// What `--explain` says of a repeat, whose rules are not consulted: the
/// message id and the instant of the record its decision was first made
/// for, as the engine's `trace` found it (`None` when the answer was not
/// a repeat, or `record` has no id).
pub fn repeat_of(policy: &NotifyPolicy, record: &[Value], trace: &NotifyTrace) -> Option<Json> {
    let at_ms = trace.repeat_of?;
    let Some(Value::Str(text)) = record.get(policy.message_id()? as usize) else {
        return None;
    };
    Some(json!({ "message_id": text, "decided_at": instant(policy, at_ms) }))
}

/// The output line for an answer with the engine's explanation of it
/// (`trace`, when asked for). A repeat consults no rule: its `explain` is
/// empty and `repeat_of` names the decision it repeats.
pub fn explained(
    policy: &NotifyPolicy,
    record: &[Value],
    a: Answer,
    trace: Option<&NotifyTrace>,
) -> Json {
    let Some(t) = trace else {
        return answer(policy, a, None);
    };
    if !a.repeat {
        return answer(policy, a, Some(rules(policy, t)));
    }
    let mut line = answer(policy, a, Some(Vec::new()));
    if let (Some(r), Json::Object(m)) = (repeat_of(policy, record, t), &mut line) {
        m.insert("repeat_of".into(), r);
    }
    line
}

/// What each rule saw of the message in the state before the decision,
/// as the engine's trace has it: the `explain` list `--explain` prints.
/// Rules that do not apply are listed as such.
pub fn rules(policy: &NotifyPolicy, trace: &NotifyTrace) -> Vec<Json> {
    trace
        .rules
        .iter()
        .map(|t| {
            let Some(r) = policy.rules().get(t.rule.get() as usize) else {
                return json!({ "rule": "?", "applies": false });
            };
            let Some(saw) = &t.saw else {
                return json!({ "rule": r.name(), "applies": false });
            };
            let saw = match (saw, r.action()) {
                (Saw::Suppress, Action::Suppress { reason }) => {
                    json!({ "action": "suppress", "reason": reason })
                }
                (
                    Saw::Dedup {
                        last_ms,
                        duplicate_of,
                    },
                    Action::Dedup { window_ms, .. },
                ) => json!({
                    "action": "dedup",
                    "window": duration(*window_ms),
                    "last_delivery": last_ms.map(|t| instant(policy, t)),
                    "duplicate_of": duplicate_of.map(|t| instant(policy, t)),
                    "duplicate": duplicate_of.is_some(),
                }),
                (
                    Saw::Quiet {
                        local_time,
                        holding,
                    },
                    Action::Quiet { windows, drop },
                ) => {
                    let hhmm = |s: u32| format!("{:02}:{:02}", s / 3600, s % 3600 / 60);
                    json!({
                        "action": if *drop { "quiet, then drop" } else { "quiet, then defer" },
                        "local_time": format!("{}:{:02}", hhmm(*local_time), local_time % 60),
                        "windows": windows.iter().map(|&(a, b)| format!("{}-{}", hhmm(a), hhmm(b))).collect::<Vec<_>>(),
                        "inside": !holding.is_empty(),
                    })
                }
                (
                    Saw::Limit {
                        count,
                        cap,
                        clamped_from,
                        admits,
                    },
                    Action::Limit { period, .. },
                ) => json!({
                    "action": "limit",
                    "period": match period {
                        Period::Rolling(d) => format!("rolling {}", duration(*d)),
                        Period::CalendarDay => "calendar day".to_string(),
                    },
                    "delivered_in_period": count,
                    "cap": cap,
                    "clamped_from": clamped_from,
                    "admits": admits,
                }),
                (Saw::AlwaysDeliver, _) => json!({ "action": "always deliver" }),
                // The trace and the policy disagree on the rule's action:
                // a trace of another policy.
                _ => json!({ "action": "?" }),
            };
            json!({ "rule": r.name(), "applies": true, "saw": saw })
        })
        .collect()
}

use crate::compile::print::stamp;

/// The error line's text for a record that could not be decided.
pub fn error(policy: &NotifyPolicy, e: NotifyError) -> String {
    let name = |rule: u32| policy.rules().get(rule as usize).map_or("?", |r| r.name());
    match e {
        NotifyError::NoTimestamp => "the record has no timestamp".to_string(),
        NotifyError::OutsideZoneSpan { at_ms, rule: None } => format!(
            "the record's time {} is outside {}; not decided",
            utc(at_ms),
            zone_span(policy)
        ),
        NotifyError::OutsideZoneSpan {
            at_ms,
            rule: Some(rule),
        } => format!(
            "rule `{}` would defer the message until {}, outside {}; not decided",
            name(rule.get()),
            utc(at_ms),
            zone_span(policy)
        ),
        NotifyError::TooLate { rule, newest_ms } => {
            format!(
                "the record is too late for rule `{}`: records of this key are accepted \
                 from {} on, {} before {} (its newest delivery, or where the state forgot \
                 the key); not decided",
                name(rule.get()),
                instant(policy, newest_ms.saturating_sub(policy.lateness_ms())),
                duration(policy.lateness_ms()),
                instant(policy, newest_ms),
            )
        }
        NotifyError::IdForgotten { forgotten_ms } => format!(
            "the record is too late for the message-id memory: ids are remembered for \
             records from {} on, {} before {} (where the state forgot older ids); not decided",
            instant(policy, forgotten_ms.saturating_sub(policy.lateness_ms())),
            duration(policy.lateness_ms()),
            instant(policy, forgotten_ms),
        ),
        NotifyError::IdMemoryFull => "the throttle store has no room to remember this \
             message id; not decided (nothing is sent or counted)"
            .to_string(),
        NotifyError::Expired { until_ms } => format!(
            "E0701: the record is stamped after policy `{}` version {} stopped deciding at {} \
             (its `until`), and no successor is installed; not decided",
            policy.name(),
            policy.version(),
            policy
                .window()
                .until
                .map_or_else(|| instant(policy, until_ms), |s| stamp(&s)),
        ),
        NotifyError::NotYetEffective { from_ms } => format!(
            "E0702: the record is stamped before policy `{}` version {} takes effect at {} \
             (its `effective from`), and no earlier policy is installed; not decided",
            policy.name(),
            policy.version(),
            policy
                .window()
                .from
                .map_or_else(|| instant(policy, from_ms), |s| stamp(&s)),
        ),
        other => format!("{other}; not decided"),
    }
}
