//! The decision table as text: the view product teams and auditors read.

use rust_decimal::Decimal;
use std::fmt::Write as _;
use tollgate_runtime::fee::{FeeFormula, TierMode};
use tollgate_runtime::table::{Bound, Cell, FieldKind, Hit, Table};

/// Renders every schedule of `table` as an aligned text table.
pub fn print_table(table: &Table) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "policy {} version {} ({}, {})",
        table.name(),
        table.version(),
        table.currency(),
        table.timezone()
    );
    if let Some(line) = window_line(&table.window()) {
        let _ = writeln!(out, "{line}");
    }
    let dp = crate::currency::display_decimals(table.currency());
    for s in table.schedules() {
        let base = table
            .fields()
            .get(s.base().get() as usize)
            .map_or("?".into(), |f| {
                if f.refunds {
                    format!("{} with refunds", f.name)
                } else {
                    f.name.clone()
                }
            });
        let hit = match s.hit() {
            Hit::First => "first",
            Hit::Unique => "unique",
        };
        let _ = writeln!(
            out,
            "\nschedule {} (hit {hit}, on {base}, rounding {} to {})",
            s.name(),
            s.rounding().mode.name(),
            s.rounding().step
        );
        let mut header = vec!["#".to_string(), "rule".to_string()];
        header.extend(s.columns().iter().map(|&c| {
            table
                .fields()
                .get(c.get() as usize)
                .map_or("?".into(), |f| f.name.clone())
        }));
        header.push("fee".to_string());
        let mut lines = vec![header];
        for (i, row) in s.rows().iter().enumerate() {
            let rule = s.rules().get(row.rule.get() as usize);
            let mut line = vec![
                (i + 1).to_string(),
                rule.map_or("?".into(), |r| r.name.clone()),
            ];
            for (cell, &c) in row.cells.iter().zip(s.columns()) {
                let kind = table.fields().get(c.get() as usize).map(|f| &f.kind);
                line.push(cell_text(cell, kind));
            }
            line.push(rule.map_or("?".into(), |r| fee_text(&r.fee, dp)));
            lines.push(line);
        }
        if s.rows().is_empty() {
            let _ = writeln!(out, "(no rule can match)");
            continue;
        }
        let widths: Vec<usize> = (0..lines.first().map_or(0, Vec::len))
            .map(|c| {
                lines
                    .iter()
                    .map(|l| l.get(c).map_or(0, |s| s.chars().count()))
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        for (n, line) in lines.iter().enumerate() {
            let cells: Vec<String> = line
                .iter()
                .zip(&widths)
                // Padded by hand: `{:<w$}` panics on widths above 65535,
                // which a long set in one cell reaches.
                .map(|(s, w)| {
                    let pad = w.saturating_sub(s.chars().count());
                    format!("{s}{}", " ".repeat(pad))
                })
                .collect();
            let _ = writeln!(out, "{}", cells.join(" | ").trim_end());
            if n == 0 {
                let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
                let _ = writeln!(out, "{}", rule.join("-+-"));
            }
        }
    }
    out
}

/// A cell in words: `-` for anything.
pub fn cell_text(cell: &Cell, kind: Option<&FieldKind>) -> String {
    match cell {
        Cell::Any => "-".into(),
        Cell::Enum(set) => {
            let names: Vec<&str> = match kind {
                Some(FieldKind::Enum(vs)) => vs
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| set.contains(*i as u32))
                    .map(|(_, v)| v.as_str())
                    .collect(),
                _ => Vec::new(),
            };
            names.join(", ")
        }
        Cell::Range(iv) => match (iv.lo, iv.hi) {
            (Bound::Incl(a), Bound::Incl(b)) if a == b => format!("= {a}"),
            (Bound::Unbounded, Bound::Unbounded) => "-".into(),
            (Bound::Unbounded, Bound::Incl(b)) => format!("<= {b}"),
            (Bound::Unbounded, Bound::Excl(b)) => format!("< {b}"),
            (Bound::Incl(a), Bound::Unbounded) => format!(">= {a}"),
            (Bound::Excl(a), Bound::Unbounded) => format!("> {a}"),
            (lo, hi) => {
                let l = if matches!(lo, Bound::Incl(_)) {
                    '['
                } else {
                    '('
                };
                let h = if matches!(hi, Bound::Incl(_)) {
                    ']'
                } else {
                    ')'
                };
                format!(
                    "{l}{}, {}{h}",
                    lo.value().unwrap_or_default(),
                    hi.value().unwrap_or_default()
                )
            }
        },
        Cell::Bool(b) => b.to_string(),
        Cell::StrIn(set) => format!("in {{{}}}", quoted(set)),
        Cell::StrNotIn(set) => format!("not in {{{}}}", quoted(set)),
    }
}

fn quoted(set: &[String]) -> String {
    set.iter()
        .map(|s| format!("{s:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A percentage as written in policies: 0.006 → `0.60%`.
pub fn percent(rate: Decimal) -> String {
    let p = (rate * Decimal::ONE_HUNDRED).normalize();
    if p.scale() < 2 {
        format!("{:.2}%", p)
    } else {
        format!("{p}%")
    }
}

/// An amount exactly as declared, with at least `dp` decimals (the
/// currency's minor unit): `0.0195` stays `0.0195`, `3` is `3.00` in CNY
/// and `3` in JPY. Never rounded.
pub fn amount(d: Decimal, dp: u32) -> String {
    let mut d = d;
    if d.scale() < dp {
        d.rescale(dp);
    }
    d.to_string()
}

/// A fee in words, in the language's own notation; amounts get at least
/// `dp` decimals (the currency's minor unit).
pub fn fee_text(f: &FeeFormula, dp: u32) -> String {
    let mut parts = Vec::new();
    if !f.rate.is_zero() {
        parts.push(percent(f.rate));
    }
    if let Some(mode) = f.tier_mode {
        let bands: Vec<String> = f
            .tiers
            .iter()
            .map(|b| match b.up_to {
                Some(up) => format!("up to {} => {}", amount(up, dp), percent(b.rate)),
                None => format!("above => {}", percent(b.rate)),
            })
            .collect();
        let word = match mode {
            TierMode::Whole => "whole",
            TierMode::Marginal => "marginal",
        };
        parts.push(format!("tiered {word} {{ {} }}", bands.join("; ")));
    }
    // The percentage part's bounds stay with it, in parentheses when a
    // fixed amount follows: `(2.90% min 0.50) + 0.30`. Bounds of the whole
    // fee follow `total`: `2.90% + 0.30 total min 0.50`.
    let fixed = (!f.fixed.is_zero()).then(|| amount(f.fixed, dp));
    let mut s = if f.min.is_some() || f.cap.is_some() {
        let mut bounded = if parts.is_empty() {
            amount(Decimal::ZERO, dp)
        } else {
            parts.join(" + ")
        };
        if let Some(min) = f.min {
            let _ = write!(bounded, " min {}", amount(min, dp));
        }
        if let Some(cap) = f.cap {
            let _ = write!(bounded, " cap {}", amount(cap, dp));
        }
        match fixed {
            Some(fixed) => format!("({bounded}) + {fixed}"),
            None => bounded,
        }
    } else {
        parts.extend(fixed);
        if parts.is_empty() {
            parts.push(amount(Decimal::ZERO, dp));
        }
        parts.join(" + ")
    };
    if f.total_min.is_some() || f.total_cap.is_some() {
        s.push_str(" total");
        if let Some(min) = f.total_min {
            let _ = write!(s, " min {}", amount(min, dp));
        }
        if let Some(cap) = f.total_cap {
            let _ = write!(s, " cap {}", amount(cap, dp));
        }
    }
    s
}

/// An activation window as the language writes it (`effective from A
/// until B`, each instant with the offset it was written with); `None` for
/// a policy that decides at every instant.
pub fn window_line(w: &tollgate_runtime::activation::Window) -> Option<String> {
    match (&w.from, &w.until) {
        (None, None) => None,
        (Some(f), None) => Some(format!("effective from {}", stamp(f))),
        (Some(f), Some(u)) => Some(format!("effective from {} until {}", stamp(f), stamp(u))),
        (None, Some(u)) => Some(format!("effective until {}", stamp(u))),
    }
}

/// An activation instant in RFC 3339, with the offset it was written with.
pub fn stamp(s: &tollgate_runtime::activation::Stamp) -> String {
    let utc = chrono::DateTime::from_timestamp_millis(s.unix_ms);
    let offset = chrono::FixedOffset::east_opt(s.offset_secs);
    match (utc, offset) {
        (Some(t), Some(o)) => t
            .with_timezone(&o)
            .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        _ => format!("{} ms", s.unix_ms),
    }
}
