//! Typing one value for one field: the rules every reader of records
//! shares. [`RecordBuilder`](super::RecordBuilder) sets its fields through
//! these functions, and so do the host's readers of JSON Lines and CSV
//! (`tollgate eval`, `tollgate test`, `tollgate serve`), so a value is
//! accepted or refused alike wherever it is read.

use super::{number, RecordError};
use crate::table::{FieldKind, FieldSpec};
use crate::value::Value;
use crate::Decimal;
use alloc::string::ToString;

/// The value of the enum field `spec` for its variant named `variant`
/// (the first of two equal names).
///
/// # Errors
/// [`RecordError::WrongKind`] for a field that is not an enum,
/// [`RecordError::UnknownVariant`] for a name it does not declare.
pub fn variant(spec: &FieldSpec, variant: &str) -> Result<Value, RecordError> {
    let FieldKind::Enum(variants) = &spec.kind else {
        return Err(wrong(spec, "variant"));
    };
    let v =
        variants
            .iter()
            .position(|v| v == variant)
            .ok_or_else(|| RecordError::UnknownVariant {
                field: spec.name.clone(),
                variant: variant.to_string(),
            })?;
    Ok(Value::Enum(v as u32))
}

/// The value of the numeric field `spec` for `text` in the records'
/// number grammar, exactly.
///
/// # Errors
/// [`RecordError::WrongKind`] for a field that is not numeric,
/// [`RecordError::Number`] for a malformed or inexact number, and as
/// [`decimal`].
pub fn number_text(spec: &FieldSpec, text: &str) -> Result<Value, RecordError> {
    numeric(spec)?;
    let d = number::parse_decimal(text).map_err(|why| RecordError::Number {
        field: spec.name.clone(),
        why,
    })?;
    decimal(spec, d)
}

/// The value of the numeric field `spec` for `d`: an `integer` is whole
/// and within 64 bits (kept without a scale), `-0` is zero, and money
/// below zero needs a field declared `with refunds`.
///
/// # Errors
/// [`RecordError::WrongKind`] for a field that is not numeric,
/// [`RecordError::Number`] for an integer that is not whole or beyond 64
/// bits, [`RecordError::NegativeMoney`].
pub fn decimal(spec: &FieldSpec, mut d: Decimal) -> Result<Value, RecordError> {
    numeric(spec)?;
    if spec.kind == FieldKind::Integer {
        d = number::whole(d).map_err(|why| RecordError::Number {
            field: spec.name.clone(),
            why,
        })?;
    }
    if d.is_zero() {
        d.set_sign_positive(true);
    }
    if spec.kind == FieldKind::Money && d.is_sign_negative() && !spec.refunds {
        return Err(RecordError::NegativeMoney {
            field: spec.name.clone(),
        });
    }
    Ok(Value::Num(d))
}

/// The value of the bool field `spec`.
///
/// # Errors
/// [`RecordError::WrongKind`] for a field that is not a bool.
pub fn boolean(spec: &FieldSpec, value: bool) -> Result<Value, RecordError> {
    if spec.kind != FieldKind::Bool {
        return Err(wrong(spec, "bool"));
    }
    Ok(Value::Bool(value))
}

/// Checks that `spec` is a string field (any text is its value).
///
/// # Errors
/// [`RecordError::WrongKind`] for a field that is not a string.
pub fn string(spec: &FieldSpec) -> Result<(), RecordError> {
    if spec.kind != FieldKind::String {
        return Err(wrong(spec, "string"));
    }
    Ok(())
}

/// The value of the timestamp field `spec`: milliseconds since the Unix
/// epoch, and the UTC offset (seconds east) the local time is read with.
///
/// # Errors
/// [`RecordError::WrongKind`] for a field that is not a timestamp,
/// [`RecordError::BadOffset`] for an offset not strictly within ±24 hours.
pub fn time(spec: &FieldSpec, unix_ms: i64, offset_secs: i32) -> Result<Value, RecordError> {
    if spec.kind != FieldKind::Timestamp {
        return Err(wrong(spec, "timestamp"));
    }
    if offset_secs.unsigned_abs() >= 86_400 {
        return Err(RecordError::BadOffset {
            field: spec.name.clone(),
            offset_secs,
        });
    }
    Ok(Value::Time {
        unix_ms,
        offset_secs,
    })
}

/// The value of `spec` when a record leaves it out: its default.
///
/// # Errors
/// [`RecordError::Missing`] for a required field.
pub fn absent(spec: &FieldSpec) -> Result<&Value, RecordError> {
    spec.default.as_ref().ok_or_else(|| RecordError::Missing {
        field: spec.name.clone(),
    })
}

/// Checks that `spec` takes numbers.
///
/// # Errors
/// [`RecordError::WrongKind`].
pub fn numeric(spec: &FieldSpec) -> Result<(), RecordError> {
    match spec.kind {
        FieldKind::Money | FieldKind::Decimal | FieldKind::Integer => Ok(()),
        _ => Err(wrong(spec, "number")),
    }
}

fn wrong(spec: &FieldSpec, given: &'static str) -> RecordError {
    RecordError::WrongKind {
        field: spec.name.clone(),
        expected: spec.kind.name(),
        given,
    }
}
