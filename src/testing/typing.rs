//! A record written in a test, typed through the policy's schema by the
//! same path `eval` types a JSON record ([`crate::record`]), with errors
//! pointing at the field in the test file.

use super::ast::{Amount, FieldValue, RecordLit};
use crate::diagnostic::{Code, Diagnostic};
use crate::record::{from_json_fields_located, JsonRecord, Reading};
use crate::span::Span;
use serde_json::Value as Json;
use tollgate_runtime::table::{FieldKind, FieldSpec};
use tollgate_runtime::value::Value;

/// A typed record and the JSON it was typed from (shown in reports).
pub struct Typed {
    /// The values, in schema order.
    pub values: Vec<Value>,
    /// The record as `eval` would read it.
    pub json: Json,
}

/// Types `record` against `schema`; `extra` is a field given outside the
/// braces (a message's time, in the clock field), with its span.
/// `currency` is the policy's, when it has one.
///
/// # Errors
/// Every problem of the record (never none): `E0602` for an undeclared
/// field, `E0603` for a value the field's type refuses (or a required
/// field left out), `E0206` for an amount in another currency.
pub fn typed(
    record: &RecordLit,
    schema: &[FieldSpec],
    extra: Option<(&str, Json, Span)>,
    currency: Option<&str>,
) -> Result<Typed, Vec<Diagnostic>> {
    let mut fields: Vec<(String, Json)> = Vec::new();
    let mut spans: Vec<(Span, Span)> = Vec::new();
    let mut errors = Vec::new();
    // Record indices of fields whose value was refused here already.
    let mut refused: Vec<usize> = Vec::new();
    for f in &record.fields {
        let kind = schema
            .iter()
            .find(|s| s.name == f.name.name)
            .map(|s| &s.kind);
        if fields.iter().any(|(k, _)| k == &f.name.name) {
            errors.push(Diagnostic::error(
                Code::E0603,
                format!("field `{}` is written twice in the record", f.name.name),
                f.name.span,
                "written again here",
            ));
            continue;
        }
        if let Some((clock, _, _)) = &extra {
            if f.name.name == *clock {
                errors.push(
                    Diagnostic::error(
                        Code::E0603,
                        format!("`{clock}` is the message's time, written after `message at`"),
                        f.name.span,
                        "the time is given by `at`",
                    )
                    .with_help(format!("remove `{clock}` from the braces")),
                );
                continue;
            }
        }
        match json_of(&f.value, kind, currency, f.value_span) {
            Ok(json) => {
                fields.push((f.name.name.clone(), json));
                spans.push((f.name.span, f.value_span));
            }
            Err(d) => {
                errors.push(d);
                // Typed as given, so that the field is neither unknown nor
                // missing below: its one problem is reported.
                if kind.is_some() {
                    refused.push(fields.len());
                    fields.push((f.name.name.clone(), Json::Null));
                    spans.push((f.name.span, f.value_span));
                }
            }
        }
    }
    if let Some((clock, json, span)) = extra {
        fields.push((clock.to_string(), json));
        spans.push((span, span));
    }
    let record_json = JsonRecord(fields);
    match from_json_fields_located(&record_json, schema, Reading::default()) {
        Ok(values) if errors.is_empty() => Ok(Typed {
            values,
            json: Json::Object(record_json.0.into_iter().collect()),
        }),
        Ok(_) => Err(errors),
        Err(faults) => {
            for e in faults {
                if e.field.is_some_and(|i| refused.contains(&i)) {
                    continue;
                }
                let (span, label, code) = match (e.field.and_then(|i| spans.get(i)), e.unknown) {
                    (Some((name, _)), true) => (*name, "not a field of the policy", Code::E0602),
                    (Some((_, value)), false) => (*value, "this value", Code::E0603),
                    (None, _) => (record.span, "in this record", Code::E0603),
                };
                errors.push(Diagnostic::error(code, e.message, span, label));
            }
            // In the order written; a missing field after the record's fields.
            errors.sort_by_key(|d| {
                d.labels.first().map_or(0, |l| {
                    if l.span == record.span {
                        l.span.end
                    } else {
                        l.span.start
                    }
                })
            });
            Err(errors)
        }
    }
}

/// The JSON value `eval` would read for `value`, for a field of `kind`
/// (`None`: not declared; the typing path then names the field).
fn json_of(
    value: &FieldValue,
    kind: Option<&FieldKind>,
    currency: Option<&str>,
    span: Span,
) -> Result<Json, Diagnostic> {
    Ok(match value {
        FieldValue::Instant(t) => Json::String(t.clone()),
        FieldValue::Money(a) => {
            check_currency(a, currency)?;
            if kind.is_some() && kind != Some(&FieldKind::Money) {
                return Err(Diagnostic::error(
                    Code::E0603,
                    "an amount of money for a field that is not money",
                    span,
                    "this amount",
                )
                .with_help("write the value without a currency"));
            }
            Json::String(a.value.to_string())
        }
        // Money and decimals are strings, as `eval` writes them, so that
        // JSON tools keep every digit; for a field of another type, the
        // typing path says what it takes.
        FieldValue::Number(text) if matches!(kind, Some(FieldKind::Money | FieldKind::Decimal)) => {
            Json::String(text.clone())
        }
        FieldValue::Number(text) => number(text),
        FieldValue::Str(s) => Json::String(s.clone()),
        FieldValue::Bool(b) => Json::Bool(*b),
        FieldValue::Name(n) => match kind {
            Some(FieldKind::String) => {
                return Err(Diagnostic::error(
                    Code::E0603,
                    format!("a string is written in double quotes: `\"{n}\"`"),
                    span,
                    "a bare name",
                )
                .with_help("bare names are enum variants; quote strings"))
            }
            _ => Json::String(n.clone()),
        },
        FieldValue::Other(what) => return Err(Diagnostic::error(
            Code::E0603,
            format!("{what} is not a record value"),
            span,
            "this value",
        )
        .with_help(
            "records hold enum variants, amounts, numbers, strings, true or false, and instants",
        )),
    })
}

/// A JSON number with exactly the digits written.
fn number(text: &str) -> Json {
    serde_json::from_str::<Json>(text).unwrap_or_else(|_| Json::String(text.to_string()))
}

/// An amount written with a currency must be in the policy's.
///
/// # Errors
/// `E0206` naming both currencies.
pub fn check_currency(a: &Amount, currency: Option<&str>) -> Result<(), Diagnostic> {
    let Some(policy) = currency else {
        return Ok(());
    };
    let ok = match (&a.currency, a.mark) {
        (Some(c), _) => c == policy,
        (None, true) => policy == "CNY" || policy == "JPY",
        (None, false) => true,
    };
    if ok {
        return Ok(());
    }
    let written = a.currency.clone().unwrap_or_else(|| "¥".to_string());
    Err(Diagnostic::error(
        Code::E0206,
        format!("amount in {written}, but the policy charges in {policy}"),
        a.span,
        "this amount",
    )
    .with_help(format!(
        "write the amount in {policy}, or without a currency"
    )))
}
