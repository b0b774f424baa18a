//! The vectors in a form a C program reads with `strtok` alone: one
//! directive per line, fields separated by tabs, each record as the setter
//! calls of the C ABI and each answer in the C example's words
//! (`docs/vectors.md`, "The C form").

use super::Pack;
use crate::model::PolicyKind;
use rust_decimal::Decimal;
use serde_json::Value as Json;
use std::fmt::Write as _;
use tollgate_runtime::table::FieldKind;

/// Writes `pack` in the C form.
pub fn write(pack: &Pack) -> Result<String, String> {
    let kind = match pack.kind {
        PolicyKind::Fees => "fees",
        PolicyKind::Notifications => "notifications",
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "tollgate-vectors\t{}\t{}\t{}\t{kind}\t{:016x}\t{}\t{}",
        super::FORMAT_VERSION,
        pack.policy,
        pack.version,
        pack.hash,
        pack.decimals,
        pack.len()
    );
    for g in &pack.groups {
        let _ = writeln!(out, "stream\t{}", clean(&g.about)?);
        for v in &g.vectors {
            out.push_str("record\n");
            for (name, value) in &v.record {
                let Some(field) = pack.fields.iter().find(|f| &f.name == name) else {
                    return Err(format!(
                        "the record names `{name}`, which the policy does not declare"
                    ));
                };
                out.push_str(&setter(name, &field.kind, value)?);
            }
            let _ = writeln!(out, "expect\t{}", words(&v.expect, pack.decimals)?);
        }
    }
    Ok(out)
}

/// A value with no tab, line break or NUL, which the form cannot carry.
fn clean(text: &str) -> Result<&str, String> {
    if text.contains(['\t', '\n', '\r', '\0']) {
        Err(format!(
            "{text:?} holds a tab or a line break, which the C form cannot carry"
        ))
    } else {
        Ok(text)
    }
}

/// The setter line of one field.
fn setter(name: &str, kind: &FieldKind, value: &Json) -> Result<String, String> {
    let text = match value {
        Json::String(s) => clean(s)?.to_string(),
        other => other.to_string(),
    };
    Ok(match kind {
        FieldKind::Enum(_) => format!("enum\t{name}\t{text}\n"),
        FieldKind::Money | FieldKind::Decimal => format!("number\t{name}\t{text}\n"),
        FieldKind::Integer => format!("int\t{name}\t{text}\n"),
        FieldKind::Bool => format!("bool\t{name}\t{}\n", u8::from(value == &Json::Bool(true))),
        FieldKind::String => format!("string\t{name}\t{text}\n"),
        FieldKind::Timestamp => {
            let t = chrono::DateTime::parse_from_rfc3339(&text)
                .map_err(|e| format!("`{text}` is not an RFC 3339 time: {e}"))?;
            format!(
                "time\t{name}\t{}\t{}\n",
                t.timestamp_millis(),
                t.offset().local_minus_utc()
            )
        }
    })
}

/// An `eval` line in the C example's words: `fee TOTAL MINOR` and each
/// component as ` SCHEDULE/RULE=FEE/MINOR` (MINOR in units of `10^-dp`, or
/// `inexact`); `deliver`, `suppress RULE`, `defer RULE UNIX_MS`, each with
/// ` repeat` when it repeats a message id's decision; `error` for an error
/// line (the C ABI words its errors in its own way).
fn words(line: &str, dp: u32) -> Result<String, String> {
    let j: Json = serde_json::from_str(line).map_err(|e| format!("an answer is not JSON: {e}"))?;
    let s = |v: &Json| v.as_str().unwrap_or("").to_string();
    if j.get("error").is_some() {
        return Ok("error".into());
    }
    if let Some(fee) = j.get("fee") {
        let mut out = format!("fee {} {}", s(fee), minor(&s(fee), dp));
        for c in j
            .get("components")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
        {
            let fee = c.get("fee").map(s).unwrap_or_default();
            let _ = write!(
                out,
                " {}/{}={fee}/{}",
                c.get("schedule").map(s).unwrap_or_default(),
                c.get("rule").map(s).unwrap_or_default(),
                minor(&fee, dp)
            );
        }
        return Ok(out);
    }
    let rule = j.get("rule").map(s).unwrap_or_default();
    let mut out = match j.get("decision").and_then(Json::as_str) {
        Some("deliver") => "deliver".to_string(),
        Some("suppress") => format!("suppress {rule}"),
        Some("defer") => {
            let until = j.get("until").map(s).unwrap_or_default();
            let t = chrono::DateTime::parse_from_rfc3339(&until)
                .map_err(|e| format!("`{until}` is not an RFC 3339 time: {e}"))?;
            format!("defer {rule} {}", t.timestamp_millis())
        }
        _ => return Err(format!("an answer the C form cannot word: {line}")),
    };
    if j.get("repeat") == Some(&Json::Bool(true)) {
        out.push_str(" repeat");
    }
    Ok(out)
}

/// A decimal text in units of `10^-dp`, or `inexact`.
fn minor(text: &str, dp: u32) -> String {
    let Ok(d) = text.parse::<Decimal>() else {
        return "inexact".into();
    };
    let scaled = d.checked_mul(Decimal::from(10i64.pow(dp.min(18))));
    match scaled {
        Some(u) if u.fract().is_zero() => u.normalize().to_string(),
        _ => "inexact".into(),
    }
}
