//! Notification decisions as JSON lines.

use serde_json::{json, Map, Value as Json};
use tollgate_runtime::notify::{Action, Decision, NotifyPolicy, Reason};
use tollgate_runtime::value::Value;

/// An instant as RFC 3339 with the offset of the policy's zone at that instant.
pub fn instant(policy: &NotifyPolicy, ms: i64) -> String {
    let offset = policy.zone.offset_at(ms.div_euclid(1000));
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

fn duration(ms: i64) -> String {
    let s = ms / 1000;
    if s % 3600 == 0 {
        format!("{}h", s / 3600)
    } else if s % 60 == 0 {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}

/// The output line for a decision.
pub fn decision(policy: &NotifyPolicy, d: Decision, explain: bool, record: &[Value]) -> Json {
    let name = |i: u32| {
        policy
            .rules
            .get(i as usize)
            .map_or("?", |r| r.name.as_str())
    };
    let mut m = Map::new();
    match d {
        Decision::Deliver { clamped } => {
            m.insert("decision".into(), json!("deliver"));
            if let Some(c) = clamped {
                m.insert(
                    "clamped".into(),
                    json!({ "rule": name(c.rule), "from": c.from, "to": c.to }),
                );
            }
        }
        Decision::Defer { rule, until_ms } => {
            m.insert("decision".into(), json!("defer"));
            m.insert("until".into(), json!(instant(policy, until_ms)));
            m.insert("rule".into(), json!(name(rule)));
        }
        Decision::Suppress { rule, reason } => {
            m.insert("decision".into(), json!("suppress"));
            m.insert("rule".into(), json!(name(rule)));
            let action = policy.rules.get(rule as usize).map(|r| &r.action);
            let text = match (reason, action) {
                (Reason::Duplicate { last_ms }, Some(Action::Dedup { window_ms, .. })) => format!(
                    "duplicate: the same key was delivered at {}, within {}",
                    instant(policy, last_ms),
                    duration(*window_ms)
                ),
                (Reason::Quiet, _) => "inside a quiet window that drops messages".to_string(),
                (
                    Reason::CapReached {
                        count,
                        cap,
                        clamped_from,
                    },
                    Some(Action::Limit { period, .. }),
                ) => {
                    let window = match period {
                        tollgate_runtime::notify::Period::Rolling(ms) => {
                            format!("the last {}", duration(*ms))
                        }
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
    if explain {
        let applies: Vec<Json> = policy
            .rules
            .iter()
            .filter(|r| r.applies(record))
            .map(|r| json!(r.name))
            .collect();
        m.insert("rules_applying".into(), Json::Array(applies));
    }
    Json::Object(m)
}
