//! Reading records (JSON objects or CSV rows) against a policy's schema.
//!
//! A record with an unknown field, a missing required field, a value of the
//! wrong type, a malformed or out-of-range number, or an unknown enum variant
//! is an error, never a silent "no match".

use serde_json::Value as Json;
use tollgate_runtime::record::typing;
use tollgate_runtime::table::{FieldKind, FieldSpec};
use tollgate_runtime::value::Value;

/// A raw field value before typing.
enum Raw<'a> {
    Json(&'a Json),
    Text(&'a str),
}

/// How strictly records are read, and which input fields are copied out.
#[derive(Debug, Clone, Copy, Default)]
pub struct Reading<'a> {
    /// Skip fields the policy does not declare instead of refusing them.
    pub ignore_unknown: bool,
    /// Input fields copied into each output line (`--keep`): known fields
    /// even when the policy does not declare them.
    pub keep: &'a [String],
}

impl Reading<'_> {
    /// Whether `name` may appear in a record for `schema`.
    fn known(&self, name: &str, schema: &[FieldSpec]) -> bool {
        self.ignore_unknown
            || schema.iter().any(|f| f.name == name)
            || self.keep.iter().any(|k| k == name)
    }
}

/// A JSON record's fields, in the order written, each key once.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonRecord(pub Vec<(String, Json)>);

impl JsonRecord {
    /// The value of field `name`, if present.
    pub fn get(&self, name: &str) -> Option<&Json> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// The first field written a second time: its position and name.
    pub fn repeated(&self) -> Option<(usize, &str)> {
        self.0
            .iter()
            .enumerate()
            .find(|(i, (k, _))| self.0.iter().take(*i).any(|(earlier, _)| earlier == k))
            .map(|(i, (k, _))| (i, k.as_str()))
    }

    /// The error for a record that writes a field twice, if it does: JSON
    /// parsers disagree on which value wins, so the record is refused.
    pub fn repeated_error(&self) -> Option<String> {
        self.repeated().map(|(_, k)| repeated_message(k))
    }
}

/// The error line's message for field `name` written twice.
fn repeated_message(name: &str) -> String {
    format!("field `{name}` appears twice in the record")
}

impl<'de> serde::Deserialize<'de> for JsonRecord {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<JsonRecord, D::Error> {
        struct Fields;
        impl<'de> serde::de::Visitor<'de> for Fields {
            type Value = JsonRecord;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<JsonRecord, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = map.next_entry::<String, Json>()? {
                    out.push(entry);
                }
                Ok(JsonRecord(out))
            }
        }
        d.deserialize_map(Fields)
    }
}

/// Parses one line of JSON Lines into its fields, as written (a key
/// written twice is kept twice: typing refuses it, see
/// [`from_json_fields`], while `--keep` can still copy the fields out).
///
/// # Errors
/// A message for invalid JSON or a value that is not an object.
pub fn parse_json(line: &str) -> Result<JsonRecord, String> {
    if !line.trim_start().starts_with('{') {
        return match serde_json::from_str::<serde::de::IgnoredAny>(line) {
            Ok(_) => Err("a record must be a JSON object".to_string()),
            Err(e) => Err(format!("invalid JSON: {e}")),
        };
    }
    serde_json::from_str(line).map_err(|e| format!("invalid JSON: {e}"))
}

/// Types one JSON object (a line of JSON Lines) against `schema`, strictly:
/// every field must be declared.
///
/// # Errors
/// A message naming the field and what is wrong with it.
pub fn from_json(line: &str, schema: &[FieldSpec]) -> Result<Vec<Value>, String> {
    from_json_fields(&parse_json(line)?, schema, Reading::default())
}

/// Types a parsed JSON record against `schema`.
///
/// # Errors
/// A message naming the field and what is wrong with it.
pub fn from_json_fields(
    record: &JsonRecord,
    schema: &[FieldSpec],
    reading: Reading<'_>,
) -> Result<Vec<Value>, String> {
    from_json_fields_located(record, schema, reading).map_err(|errors| {
        errors
            .into_iter()
            .next()
            .map_or_else(String::new, |e| e.message)
    })
}

/// Why a record could not be typed, and which of its fields is at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The index in the record of the field at fault; `None` when the
    /// record as a whole is (a required field is missing).
    pub field: Option<usize>,
    /// Whether the field at fault is one the policy does not declare.
    pub unknown: bool,
    /// The message, as `eval` prints it.
    pub message: String,
}

/// Types a parsed JSON record against `schema`, as [`from_json_fields`]
/// does, saying which field is at fault (for `tollgate test`, which points
/// at it in the test file).
///
/// # Errors
/// Every fault found (never none): the unknown fields, then the fields in
/// schema order; or only the first key written twice, if any is.
pub fn from_json_fields_located(
    record: &JsonRecord,
    schema: &[FieldSpec],
    reading: Reading<'_>,
) -> Result<Vec<Value>, Vec<FieldError>> {
    // A key written twice is refused: JSON parsers disagree on which
    // value wins.
    if let Some((i, name)) = record.repeated() {
        return Err(vec![FieldError {
            field: Some(i),
            unknown: false,
            message: repeated_message(name),
        }]);
    }
    let mut errors: Vec<FieldError> = record
        .0
        .iter()
        .enumerate()
        .filter(|(_, (k, _))| !reading.known(k, schema))
        .map(|(i, (k, _))| FieldError {
            field: Some(i),
            unknown: true,
            message: unknown_field(k, schema),
        })
        .collect();
    let mut values = Vec::with_capacity(schema.len());
    for f in schema {
        let at = record.0.iter().position(|(k, _)| k == &f.name);
        let typed = match record.get(&f.name) {
            None => missing(f),
            Some(Json::Null) => Err(null_field(f)),
            Some(v) => typed(f, Raw::Json(v)),
        };
        match typed {
            Ok(v) => values.push(v),
            Err(message) => errors.push(FieldError {
                field: at,
                unknown: false,
                message,
            }),
        }
    }
    if errors.is_empty() {
        Ok(values)
    } else {
        Err(errors)
    }
}

/// Types one CSV row whose columns are named by `header`. An empty cell is
/// an absent value.
///
/// # Errors
/// A message naming the field and what is wrong with it.
pub fn from_csv(
    header: &[String],
    row: &csv::StringRecord,
    schema: &[FieldSpec],
) -> Result<Vec<Value>, String> {
    if row.len() != header.len() {
        return Err(format!(
            "row has {} cells but the header has {}",
            row.len(),
            header.len()
        ));
    }
    schema
        .iter()
        .map(|f| {
            match header
                .iter()
                .position(|h| h == &f.name)
                .and_then(|i| row.get(i))
            {
                None | Some("") => missing(f),
                Some(text) => typed(f, Raw::Text(text)),
            }
        })
        .collect()
}

/// Checks a CSV header against `schema`: every column declared (unless
/// `reading` allows others) and none repeated.
///
/// # Errors
/// A message for an unknown or repeated column.
pub fn check_header(
    header: &[String],
    schema: &[FieldSpec],
    reading: Reading<'_>,
) -> Result<(), String> {
    for (i, h) in header.iter().enumerate() {
        if !reading.known(h, schema) {
            return Err(unknown_field(h, schema));
        }
        if header.iter().take(i).any(|g| g == h) {
            return Err(format!("column `{h}` appears twice in the header"));
        }
    }
    Ok(())
}

fn unknown_field(name: &str, schema: &[FieldSpec]) -> String {
    let names: Vec<&str> = schema.iter().map(|f| f.name.as_str()).collect();
    match crate::check::suggest::closest(name, names.iter().copied()) {
        Some(s) => format!("unknown field `{name}` (did you mean `{s}`?)"),
        None => format!(
            "unknown field `{name}`; the policy reads {}",
            names.join(", ")
        ),
    }
}

/// A JSON `null` is neither a value nor an absent field: leaving the field
/// out is how a record asks for the default.
fn null_field(f: &FieldSpec) -> String {
    if f.default.is_some() {
        format!(
            "field `{}` is null: write a value, or leave the field out for its default",
            f.name
        )
    } else {
        format!("field `{}` is null: write a value", f.name)
    }
}

pub(crate) fn missing(f: &FieldSpec) -> Result<Value, String> {
    typing::absent(f).cloned().map_err(|e| e.to_string())
}

/// Types one raw value for field `f` through the runtime's typing rules
/// ([`typing`], which the terminals' record builder applies too), with
/// the message `eval` prints for a refusal.
fn typed(f: &FieldSpec, raw: Raw<'_>) -> Result<Value, String> {
    let name = &f.name;
    let text = match &raw {
        Raw::Text(t) => Some(*t),
        Raw::Json(Json::String(s)) => Some(s.as_str()),
        Raw::Json(_) => None,
    };
    let shown = match &raw {
        Raw::Text(t) => format!("`{t}`"),
        Raw::Json(j) => format!("`{j}`"),
    };
    match &f.kind {
        FieldKind::Enum(variants) => {
            let t = text.ok_or_else(|| {
                format!(
                    "`{name}` must be one of {}, not {shown}",
                    variants.join(", ")
                )
            })?;
            typing::variant(f, t)
                .map_err(|_| format!("`{name}`: `{t}` is not one of {}", variants.join(", ")))
        }
        FieldKind::Money | FieldKind::Decimal | FieldKind::Integer => {
            let number_text = match &raw {
                Raw::Json(Json::Number(n)) => n.to_string(),
                _ => text
                    .ok_or_else(|| format!("`{name}` must be a number, not {shown}"))?
                    .to_string(),
            };
            typing::number_text(f, &number_text).map_err(|e| e.as_written(&number_text).to_string())
        }
        FieldKind::Bool => match (&raw, text) {
            (Raw::Json(Json::Bool(b)), _) => typing::boolean(f, *b),
            (Raw::Text(_), Some("true")) => typing::boolean(f, true),
            (Raw::Text(_), Some("false")) => typing::boolean(f, false),
            _ => return Err(format!("`{name}` must be true or false, not {shown}")),
        }
        .map_err(|e| e.to_string()),
        FieldKind::String => {
            let t = text.ok_or_else(|| format!("`{name}` must be a string, not {shown}"))?;
            typing::string(f).map_err(|e| e.to_string())?;
            Ok(Value::Str(t.to_string()))
        }
        FieldKind::Timestamp => {
            let t =
                text.ok_or_else(|| format!("`{name}` must be an RFC 3339 timestamp, not {shown}"))?;
            let refused = |why: &dyn std::fmt::Display| {
                format!("`{name}`: `{t}` is not an RFC 3339 timestamp with an offset ({why})")
            };
            let dt = chrono::DateTime::parse_from_rfc3339(t).map_err(|e| refused(&e))?;
            typing::time(f, dt.timestamp_millis(), dt.offset().local_minus_utc())
                .map_err(|e| refused(&e))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;

    fn schema() -> Vec<FieldSpec> {
        vec![
            FieldSpec {
                name: "channel".into(),
                kind: FieldKind::Enum(vec!["credit_card".into(), "wechat".into()]),
                default: None,
                refunds: false,
            },
            FieldSpec {
                name: "amount".into(),
                kind: FieldKind::Money,
                default: None,
                refunds: false,
            },
            FieldSpec {
                name: "days".into(),
                kind: FieldKind::Integer,
                default: Some(Value::Num(Decimal::ZERO)),
                refunds: false,
            },
            FieldSpec {
                name: "at".into(),
                kind: FieldKind::Timestamp,
                default: Some(Value::Time {
                    unix_ms: 0,
                    offset_secs: 0,
                }),
                refunds: false,
            },
        ]
    }

    #[test]
    fn good_records() {
        let r = from_json(r#"{"channel":"wechat","amount":"800.00"}"#, &schema()).unwrap();
        assert_eq!(r[0], Value::Enum(1));
        assert_eq!(r[1], Value::Num("800.00".parse().unwrap()));
        assert_eq!(r[2], Value::Num(Decimal::ZERO));
        let r = from_json(
            r#"{"channel":"wechat","amount":800.10,"days":3,"at":"2026-11-25T12:30:00+08:00"}"#,
            &schema(),
        )
        .unwrap();
        assert_eq!(
            r[1],
            Value::Num("800.10".parse().unwrap()),
            "JSON numbers keep their exact text"
        );
        assert_eq!(
            r[3],
            Value::Time {
                unix_ms: 1_795_581_000_000,
                offset_secs: 8 * 3600
            }
        );
    }

    #[test]
    fn bad_records_say_what_is_wrong() {
        let err = |line: &str| from_json(line, &schema()).unwrap_err();
        assert_eq!(
            err(r#"{"channel":"wechat"}"#),
            "missing required field `amount`"
        );
        assert!(err(r#"{"channel":"wechat","amount":"1","chanel":1}"#)
            .contains("unknown field `chanel` (did you mean `channel`?)"));
        assert!(err(r#"{"channel":"bitcoin","amount":"1"}"#)
            .contains("`bitcoin` is not one of credit_card, wechat"));
        assert!(err(r#"{"channel":"wechat","amount":"1.2.3"}"#).contains("not a decimal number"));
        assert!(
            err(r#"{"channel":"wechat","amount":"99999999999999999999999999999999"}"#)
                .contains("significant digits")
        );
        assert!(err(r#"{"channel":"wechat","amount":"1","days":1.5}"#).contains("whole number"));
        assert!(
            err(r#"{"channel":"wechat","amount":"1","at":"2026-11-25 12:30"}"#)
                .contains("RFC 3339")
        );
        assert!(err(r#"[1,2]"#).contains("JSON object"));
        assert!(err(r#"{"channel":"wechat","amount":"1","days":1e20}"#).contains("64-bit"));
        assert_eq!(
            err(r#"{"channel":"wechat","amount":"1","channel":"wechat"}"#),
            "field `channel` appears twice in the record"
        );
        assert!(err(r#"{"channel":"wechat","#).contains("invalid JSON"));
    }

    #[test]
    fn null_is_not_a_missing_field() {
        let err = |line: &str| from_json(line, &schema()).unwrap_err();
        assert_eq!(
            err(r#"{"channel":"wechat","amount":null}"#),
            "field `amount` is null: write a value"
        );
        assert_eq!(
            err(r#"{"channel":"wechat","amount":"1","days":null}"#),
            "field `days` is null: write a value, or leave the field out for its default"
        );
    }

    #[test]
    fn numbers_hold_at_most_28_significant_digits() {
        let amount = &schema()[1];
        let num = |text: &str| typed(amount, Raw::Text(text));
        assert!(num("1234567890123456789012345678").is_ok());
        assert!(num("12345678901234567890123456789")
            .unwrap_err()
            .contains("more than 28 significant digits"));
        assert!(num("79228162514264337593543950335").is_err());
        assert!(num("0.0000000000000000000000000001").is_ok());
        assert_eq!(num("1.0e-28").unwrap(), num("1e-28").unwrap());
        assert_eq!(
            num("1.0e-28").unwrap(),
            Value::Num("0.0000000000000000000000000001".parse().unwrap())
        );
        assert!(num("1e-29").unwrap_err().contains("exponents go up to ±28"));
        assert!(num("9.9999999999999999999999999999e27").is_err());
        assert!(num("1e29").unwrap_err().contains("exponents go up to ±28"));
    }
}
