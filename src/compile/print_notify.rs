//! A compiled notifications policy as text, for `tollgate table`: its
//! clock, lateness and message id, its zone with the span of years it was
//! built for, and each rule with its conditions (one line per row of the
//! compiled table) and its action, written as the language writes it.

use super::print::cell_text;
use chrono::Datelike;
use std::fmt::Write as _;
use tollgate_runtime::notify::{Action, Cap, NotifyPolicy, NotifyRule, Period};
use tollgate_runtime::zone::Zone;

/// Renders `policy`'s rules, zone and settings.
pub fn print_rules(policy: &NotifyPolicy) -> String {
    let mut out = String::new();
    let field = |i: u32| {
        policy
            .fields()
            .get(i as usize)
            .map_or("?", |f| f.name.as_str())
    };
    let _ = writeln!(
        out,
        "policy {} version {} (notifications, {})",
        policy.name(),
        policy.version(),
        policy.zone().name
    );
    if let Some(line) = super::print::window_line(&policy.window()) {
        let _ = writeln!(out, "{line}");
    }
    let _ = writeln!(out, "zone {}", zone_text(policy.zone()));
    let id = policy
        .message_id()
        .map_or_else(|| "none".to_string(), |f| field(f).to_string());
    let _ = writeln!(
        out,
        "clock {}, lateness {}, message id {id}",
        field(policy.clock()),
        duration(policy.lateness_ms())
    );
    for (i, rule) in policy.rules().iter().enumerate() {
        let _ = writeln!(
            out,
            "\nrule {} {}: {}",
            i + 1,
            rule.name(),
            action_text(policy, rule.action())
        );
        for line in conditions(policy, rule) {
            let _ = writeln!(out, "  when {line}");
        }
    }
    out
}

/// The zone's span of years and its offset changes within it.
fn zone_text(zone: &Zone) -> String {
    let year = |s: i64| chrono::DateTime::from_timestamp(s, 0).map(|t| t.year().to_string());
    let span = match (year(zone.from), year(zone.until.saturating_sub(1))) {
        (Some(a), Some(b)) => format!("years {a}-{b}"),
        _ => "every year".to_string(),
    };
    format!(
        "{}: offsets known for {span}, UTC{} at the start, {} offset changes",
        zone.name,
        offset_text(zone.initial),
        zone.changes.len()
    )
}

/// An offset as `+08:00`.
fn offset_text(secs: i32) -> String {
    let sign = if secs < 0 { '-' } else { '+' };
    let a = secs.unsigned_abs();
    format!("{sign}{:02}:{:02}", a / 3600, a % 3600 / 60)
}

/// One line per row of the rule: its cells that constrain something.
pub fn conditions(policy: &NotifyPolicy, rule: &NotifyRule) -> Vec<String> {
    if rule.rows().is_empty() {
        return vec!["never (no record matches)".to_string()];
    }
    rule.rows()
        .iter()
        .map(|cells| {
            let parts: Vec<String> = cells
                .iter()
                .zip(rule.columns())
                .filter_map(|(cell, &c)| {
                    let f = policy.fields().get(c as usize);
                    let text = cell_text(cell, f.map(|f| &f.kind));
                    (text != "-").then(|| format!("{}: {text}", f.map_or("?", |f| &f.name)))
                })
                .collect();
            if parts.is_empty() {
                "always".to_string()
            } else {
                parts.join("; ")
            }
        })
        .collect()
}

/// An action as a policy writes it.
pub fn action_text(policy: &NotifyPolicy, action: &Action) -> String {
    let names = |keys: &[u32]| {
        keys.iter()
            .map(|&k| {
                policy
                    .fields()
                    .get(k as usize)
                    .map_or("?", |f| f.name.as_str())
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let by = |keys: &[u32]| match keys.len() {
        0 => String::new(),
        1 => format!(" by {}", names(keys)),
        _ => format!(" by ({})", names(keys)),
    };
    match action {
        Action::AlwaysDeliver => "always deliver".to_string(),
        Action::Suppress { reason } => format!("suppress {reason:?}"),
        Action::Dedup { keys, window_ms } => {
            format!("dedup{} within {}", by(keys), duration(*window_ms))
        }
        Action::Quiet { windows, drop } => {
            let ws: Vec<String> = windows
                .iter()
                .map(|&(a, b)| format!("{}-{}", clock(a), clock(b)))
                .collect();
            let then = if *drop { "drop" } else { "defer" };
            format!("quiet {} then {then}", ws.join(", "))
        }
        Action::Limit { cap, period, keys } => {
            let cap = match *cap {
                Cap::Fixed(n) => n.to_string(),
                Cap::Field { field, low, high } => format!(
                    "{} within {low}..{high}",
                    policy
                        .fields()
                        .get(field as usize)
                        .map_or("?", |f| f.name.as_str())
                ),
            };
            let period = match period {
                Period::Rolling(ms) => duration(*ms),
                Period::CalendarDay => "calendar day".to_string(),
            };
            format!("limit {cap} per {period}{}", by(keys))
        }
    }
}

/// Seconds after midnight as `HH:MM` (`HH:MM:SS` when seconds are set).
/// A time of day, seconds after midnight, as a policy writes it: `HH:MM`,
/// or `HH:MM:SS` when the seconds are not zero.
pub(crate) fn clock(secs: u32) -> String {
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    if s == 0 {
        format!("{h:02}:{m:02}")
    } else {
        format!("{h:02}:{m:02}:{s:02}")
    }
}

/// A duration in ms in the largest whole unit: `1d`, `24h`, `10m`, `30s`.
pub fn duration(ms: i64) -> String {
    let s = ms / 1000;
    [(86_400, "d"), (3_600, "h"), (60, "m")]
        .iter()
        .find(|(unit, _)| s != 0 && s % unit == 0)
        .map_or_else(|| format!("{s}s"), |(unit, u)| format!("{}{u}", s / unit))
}
