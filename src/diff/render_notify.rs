//! A notifications diff as text for people and as JSON for tools.

use super::notify::{ChangeKind, Example, NotifyDiff, RuleChange};
use serde_json::{json, Value as Json};
use std::fmt::Write;

/// The diff in words.
pub fn text(d: &NotifyDiff, old_path: &str, new_path: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "notifications diff: {} version {} ({old_path}) -> {} version {} ({new_path})",
        d.old.0, d.old.1, d.new.0, d.new.1
    );
    for line in &d.settings {
        let _ = writeln!(s, "setting: {line}");
    }
    for r in &d.rules {
        rule_text(&mut s, r);
    }
    let changed = d
        .rules
        .iter()
        .filter(|r| !matches!(r.kind, ChangeKind::Renamed | ChangeKind::Reworded))
        .count();
    let _ = writeln!(
        s,
        "\n{}",
        match (changed, d.settings.len()) {
            (0, 0) => "no rule changes".to_string(),
            (n, 0) => plural(n, "rule changes", "rules change"),
            (0, m) => plural(m, "setting changes", "settings change"),
            (n, m) => format!(
                "{}, {}",
                plural(n, "rule changes", "rules change"),
                plural(m, "setting changes", "settings change")
            ),
        }
    );
    s
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

fn rule_text(s: &mut String, r: &RuleChange) {
    let none = String::new();
    match r.kind {
        ChangeKind::Added => {
            let _ = writeln!(
                s,
                "\nrule {} added: {}",
                r.name,
                r.new.as_ref().unwrap_or(&none)
            );
        }
        ChangeKind::Removed => {
            let _ = writeln!(
                s,
                "\nrule {} removed: {}",
                r.name,
                r.old.as_ref().unwrap_or(&none)
            );
        }
        ChangeKind::Renamed => {
            let _ = writeln!(
                s,
                "\nrule {} renamed to {} (same condition and action; decisions name the new rule)",
                r.old_name.as_ref().unwrap_or(&none),
                r.name
            );
            return;
        }
        ChangeKind::Reworded => {
            let _ = writeln!(
                s,
                "\nrule {} reworded: {} -> {} (no decision changes, only the reason it gives)",
                r.name,
                r.old.as_ref().unwrap_or(&none),
                r.new.as_ref().unwrap_or(&none)
            );
            return;
        }
        ChangeKind::Changed => {
            let _ = writeln!(
                s,
                "\nrule {} changed: {} -> {}",
                r.name,
                r.old.as_ref().unwrap_or(&none),
                r.new.as_ref().unwrap_or(&none)
            );
        }
    }
    for d in &r.details {
        let _ = writeln!(s, "  {d}");
    }
    match &r.example {
        Some(e) => example_text(s, e),
        None => {
            let _ = writeln!(
                s,
                "  no message whose decision changes was found among the streams tried"
            );
        }
    }
}

fn example_text(s: &mut String, e: &Example) {
    if e.stream.len() == 1 {
        let _ = writeln!(s, "  example message:");
    } else {
        let _ = writeln!(s, "  example stream of {} messages:", e.stream.len());
    }
    for (i, m) in e.stream.iter().enumerate() {
        let mark = if i == e.at { "->" } else { "  " };
        let _ = writeln!(s, "  {mark} {m}");
    }
    let which = if e.stream.len() == 1 {
        "it".to_string()
    } else {
        format!("message {}", e.at + 1)
    };
    let _ = writeln!(s, "  old decides {which}: {}", e.old);
    let _ = writeln!(s, "  new decides {which}: {}", e.new);
}

/// The diff as one JSON document.
pub fn json(d: &NotifyDiff) -> Json {
    let rules: Vec<Json> = d
        .rules
        .iter()
        .map(|r| {
            json!({
                "rule": r.name,
                "old_name": r.old_name,
                "change": match r.kind {
                    ChangeKind::Added => "added",
                    ChangeKind::Removed => "removed",
                    ChangeKind::Changed => "changed",
                    ChangeKind::Renamed => "renamed",
                    ChangeKind::Reworded => "reworded",
                },
                "old": r.old,
                "new": r.new,
                "details": r.details,
                "example": r.example.as_ref().map(|e| json!({
                    "stream": e.stream.iter().map(|m| serde_json::from_str::<Json>(m).unwrap_or(Json::Null)).collect::<Vec<_>>(),
                    "message": e.at,
                    "old": e.old,
                    "new": e.new,
                })),
            })
        })
        .collect();
    json!({
        "kind": "notifications",
        "old": {"policy": d.old.0, "version": d.old.1},
        "new": {"policy": d.new.0, "version": d.new.1},
        "changed": d.changed(),
        "settings": d.settings,
        "rules": rules,
    })
}
