//! A replay of a history, as text for reviewers and as JSON for tools
//! (money as strings, exactly, like `tollgate test --format json`).

use super::replay::{FirstError, Replay, ReplayError, Sums};
use crate::compile::print::amount;
use rust_decimal::Decimal;
use serde_json::{json, Value as Json};
use std::fmt::Write;

/// Money with the currency's decimals and a sign: `+2.50`, `-1.00`, `0.00`.
pub fn signed(v: Decimal, dp: u32) -> String {
    if v > Decimal::ZERO {
        format!("+{}", amount(v, dp))
    } else {
        amount(v, dp)
    }
}

/// A group's values in words: `standard, debit_card`.
pub fn group_name(key: &[String]) -> String {
    if key.is_empty() {
        "all records".to_string()
    } else {
        key.join(", ")
    }
}

/// Right-aligned columns after a left-aligned first one.
fn table(rows: &[Vec<String>], indent: &str) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut s = String::new();
    for row in rows {
        let mut line = indent.to_string();
        for (c, (cell, w)) in row.iter().zip(&widths).enumerate() {
            if c == 0 {
                let _ = write!(line, "{cell:<w$}");
            } else {
                let _ = write!(line, "  {cell:>w$}");
            }
        }
        let _ = writeln!(s, "{}", line.trim_end());
    }
    s
}

fn refused(first: Option<&FirstError>) -> String {
    first.map_or(String::new(), |f| {
        format!(" (first on line {}: {})", f.line, f.message)
    })
}

/// The replay in words, after the diff's account.
///
/// # Errors
/// When a difference overflows.
pub fn text(r: &Replay, input: &str, currency: &str, dp: u32) -> Result<String, ReplayError> {
    let mut s = String::new();
    let t = &r.total;
    let _ = writeln!(
        s,
        "\nreplay of {input}: {} records, {} change",
        t.records, t.changed
    );
    let _ = writeln!(
        s,
        "  refused: {} by the old version{}, {} by the new one{}",
        t.old_errors,
        refused(r.first_error.0.as_ref()),
        t.new_errors,
        refused(r.first_error.1.as_ref())
    );
    if t.old_errors + t.new_errors > 0 {
        let _ = writeln!(
            s,
            "  (a record one version prices and the other refuses counts as a change; each total sums what its version charges)"
        );
    }
    let _ = writeln!(
        s,
        "  total fees ({currency}): {} -> {} ({})",
        amount(t.old, dp),
        amount(t.new, dp),
        signed(t.difference()?, dp)
    );
    let errors = t.old_errors + t.new_errors > 0;
    if !r.by.is_empty() {
        let mut head = vec![
            r.by.join(", "),
            "records".into(),
            "changed".into(),
            "old fees".into(),
            "new fees".into(),
            "difference".into(),
        ];
        if errors {
            head.extend(["refused old".into(), "refused new".into()]);
        }
        let mut rows = vec![head];
        for (key, g) in &r.groups {
            rows.push(group_row(&group_name(key), g, dp, errors)?);
        }
        s.push('\n');
        s.push_str(&table(&rows, "  "));
    }
    if !r.largest.is_empty() {
        let _ = writeln!(
            s,
            "\n  the {} largest changes (of the {} records both versions price whose fee changes):",
            r.largest.len(),
            r.changes.len()
        );
        let mut rows = vec![vec![
            "line".to_string(),
            "old".into(),
            "new".into(),
            "change".into(),
        ]];
        let mut records = vec!["record"];
        for c in &r.largest {
            rows.push(vec![
                c.line.to_string(),
                amount(c.old, dp),
                amount(c.new, dp),
                signed(c.change, dp),
            ]);
            records.push(&c.record);
        }
        for (numbers, record) in table(&rows, "  ").lines().zip(records) {
            let _ = writeln!(s, "{numbers}  {record}");
        }
    }
    Ok(s)
}

fn group_row(name: &str, g: &Sums, dp: u32, errors: bool) -> Result<Vec<String>, ReplayError> {
    let mut row = vec![
        name.to_string(),
        g.records.to_string(),
        g.changed.to_string(),
        amount(g.old, dp),
        amount(g.new, dp),
        signed(g.difference()?, dp),
    ];
    if errors {
        row.extend([g.old_errors.to_string(), g.new_errors.to_string()]);
    }
    Ok(row)
}

fn sums_json(g: &Sums, dp: u32) -> Result<Json, ReplayError> {
    Ok(json!({
        "records": g.records,
        "changed": g.changed,
        "refused": {"old": g.old_errors, "new": g.new_errors},
        "old": amount(g.old, dp),
        "new": amount(g.new, dp),
        "difference": amount(g.difference()?, dp),
    }))
}

fn first_json(f: Option<&FirstError>) -> Json {
    f.map_or(
        Json::Null,
        |f| json!({"line": f.line, "message": f.message}),
    )
}

/// The replay as JSON.
///
/// # Errors
/// When a difference overflows.
pub fn json(r: &Replay, input: &str, currency: &str, dp: u32) -> Result<Json, ReplayError> {
    let mut groups = Vec::new();
    for (key, g) in &r.groups {
        let mut v = sums_json(g, dp)?;
        if let Json::Object(m) = &mut v {
            let values: serde_json::Map<String, Json> =
                r.by.iter()
                    .zip(key)
                    .map(|(f, v)| (f.clone(), Json::String(v.clone())))
                    .collect();
            m.insert("group".into(), Json::Object(values));
        }
        groups.push(v);
    }
    let largest: Vec<Json> = r
        .largest
        .iter()
        .map(|c| {
            json!({
                "line": c.line,
                "record": serde_json::from_str::<Json>(&c.record).unwrap_or(Json::String(c.record.clone())),
                "old": amount(c.old, dp),
                "new": amount(c.new, dp),
                "change": amount(c.change, dp),
            })
        })
        .collect();
    Ok(json!({
        "input": input,
        "currency": currency,
        "by": r.by,
        "total": sums_json(&r.total, dp)?,
        "groups": groups,
        "largest": largest,
        "changed_records": r.changes.len(),
        "first_refused": {
            "old": first_json(r.first_error.0.as_ref()),
            "new": first_json(r.first_error.1.as_ref()),
        },
    }))
}
