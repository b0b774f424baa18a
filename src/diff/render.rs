//! A fees diff as text for people and as JSON for tools.

use super::amounts::{Change, Point};
use super::fees::{FeeDiff, Outcome, Presence, RegionDiff};
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{json, Value as Json};
use std::fmt::Write;

/// The diff in words.
pub fn text(d: &FeeDiff, old_path: &str, new_path: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "fees diff: {} version {} ({old_path}) -> {} version {} ({new_path})",
        d.old.0, d.old.1, d.new.0, d.new.1
    );
    for note in &d.schema {
        let _ = writeln!(s, "schema: {note}");
    }
    let mut changed = 0;
    let mut unchanged = 0;
    for sched in &d.schedules {
        changed += sched.regions.len();
        unchanged += sched.unchanged;
        let what = match sched.presence {
            Presence::Both => "",
            Presence::Added => " (added: the old version has no such component)",
            Presence::Removed => " (removed: the new version has no such component)",
        };
        let _ = writeln!(
            s,
            "\nschedule {}{what}: {}, {}",
            sched.name,
            count(sched.regions.len(), "region changes", "regions change"),
            count(sched.unchanged, "region unchanged", "regions unchanged")
        );
        for r in &sched.regions {
            region_text(&mut s, r, d.dp);
        }
    }
    let _ = writeln!(
        s,
        "\n{}; {} charge as before",
        if changed == 0 {
            "no fee changes".to_string()
        } else {
            count(changed, "region changes", "regions change")
        },
        count(unchanged, "region", "regions")
    );
    s
}

fn count(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

fn region_text(s: &mut String, r: &RegionDiff, dp: u32) {
    let _ = writeln!(s, "  when {}", r.condition);
    let _ = writeln!(s, "    old: {}", outcome_text(&r.old));
    let _ = writeln!(s, "    new: {}", outcome_text(&r.new));
    match &r.change {
        Some(c) => {
            let _ = writeln!(s, "    the fee goes {}", direction(c));
            let _ = writeln!(
                s,
                "    largest increase: {}",
                extreme_text(c.up.as_ref(), c.up_unbounded, "increase", dp)
            );
            if c.down.is_some() {
                let _ = writeln!(
                    s,
                    "    largest decrease: {}",
                    extreme_text(c.down.as_ref(), c.down_unbounded, "decrease", dp)
                );
            }
        }
        None => {
            let _ = writeln!(s, "    the records are priced by one version only");
        }
    }
    let _ = writeln!(s, "    example: {}", r.example);
}

fn outcome_text(o: &Outcome) -> String {
    match o {
        Outcome::Rule { rule, fee } => format!("rule {rule} => {fee}"),
        Outcome::Absent => "no such schedule (no fee)".into(),
        Outcome::NoRule => "no rule matches (the record is an error)".into(),
        Outcome::Ambiguous(a, b) => {
            format!("rules {a} and {b} both match (the record is an error)")
        }
        Outcome::Refused => "the record is refused (a value this version does not declare)".into(),
    }
}

/// `up`, `down` or `up and down`.
pub fn direction(c: &Change) -> &'static str {
    match (c.up.is_some(), c.down.is_some()) {
        (true, true) => "up and down",
        (true, false) => "up",
        (false, true) => "down",
        (false, false) => "nowhere",
    }
}

fn extreme_text(p: Option<&Point>, unbounded: bool, word: &str, dp: u32) -> String {
    let Some(p) = p else {
        return format!("none (no {word} anywhere in the region)");
    };
    if unbounded {
        return format!(
            "no largest: the {word} grows with the amount (e.g. {} ({}) on {}: {} -> {})",
            signed(p.change, dp),
            percent_text(p),
            money(p.amount, dp),
            money(p.old, dp),
            money(p.new, dp)
        );
    }
    format!(
        "{} ({}) on {}: {} -> {}",
        signed(p.change, dp),
        percent_text(p),
        money(p.amount, dp),
        money(p.old, dp),
        money(p.new, dp)
    )
}

/// The change in percent of the old fee, to 0.01 (half up), or "from zero".
pub fn percent(p: &Point) -> Option<Decimal> {
    if p.old.is_zero() {
        return None;
    }
    let ratio = p
        .change
        .checked_mul(Decimal::ONE_HUNDRED)?
        .checked_div(p.old.abs())?;
    Some(ratio.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero))
}

fn percent_text(p: &Point) -> String {
    match percent(p) {
        None => "from zero".into(),
        Some(v) => {
            let mut v = v;
            v.rescale(2);
            if v > Decimal::ZERO {
                format!("+{v}%")
            } else {
                format!("{v}%")
            }
        }
    }
}

fn money(v: Decimal, dp: u32) -> String {
    crate::compile::print::amount(v, dp)
}

fn signed(v: Decimal, dp: u32) -> String {
    if v > Decimal::ZERO {
        format!("+{}", money(v, dp))
    } else {
        money(v, dp)
    }
}

/// The diff as one JSON document.
pub fn json(d: &FeeDiff) -> Json {
    let schedules: Vec<Json> = d
        .schedules
        .iter()
        .map(|s| {
            json!({
                "name": s.name,
                "presence": match s.presence {
                    Presence::Both => "both",
                    Presence::Added => "added",
                    Presence::Removed => "removed",
                },
                "unchanged_regions": s.unchanged,
                "regions": s.regions.iter().map(|r| region_json(r, d.dp)).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "kind": "fees",
        "old": {"policy": d.old.0, "version": d.old.1},
        "new": {"policy": d.new.0, "version": d.new.1},
        "changed": d.changed(),
        "schema": d.schema,
        "schedules": schedules,
    })
}

fn outcome_json(o: &Outcome) -> Json {
    match o {
        Outcome::Rule { rule, fee } => json!({"rule": rule, "fee": fee}),
        Outcome::Absent => json!({"outcome": "absent"}),
        Outcome::NoRule => json!({"outcome": "no rule"}),
        Outcome::Ambiguous(a, b) => json!({"outcome": "ambiguous", "rules": [a, b]}),
        Outcome::Refused => json!({"outcome": "refused"}),
    }
}

fn point_json(p: Option<&Point>, unbounded: bool, dp: u32) -> Json {
    let Some(p) = p else { return Json::Null };
    json!({
        "change": money(p.change, dp),
        "percent": percent(p).map(|v| v.to_string()),
        "from_zero": p.old.is_zero(),
        "unbounded": unbounded,
        "amount": money(p.amount, dp),
        "old_fee": money(p.old, dp),
        "new_fee": money(p.new, dp),
    })
}

fn region_json(r: &RegionDiff, dp: u32) -> Json {
    let example: Json = serde_json::from_str(&r.example).unwrap_or(Json::Null);
    let (dir, up, down) = match &r.change {
        Some(c) => (
            direction(c),
            point_json(c.up.as_ref(), c.up_unbounded, dp),
            point_json(c.down.as_ref(), c.down_unbounded, dp),
        ),
        None => ("priced by one version only", Json::Null, Json::Null),
    };
    json!({
        "condition": r.condition,
        "old": outcome_json(&r.old),
        "new": outcome_json(&r.new),
        "direction": dir,
        "largest_increase": up,
        "largest_decrease": down,
        "example": example,
    })
}
