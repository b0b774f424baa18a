//! Building records on the device: typed values for a policy's fields,
//! checked as `tollgate eval` checks the records it reads.
//!
//! A [`RecordBuilder`] is made once from a policy's field list (a fee
//! table's [`Table::fields`](crate::table::Table) or a notifications
//! policy's [`NotifyPolicy::fields`](crate::notify::NotifyPolicy)). Resolve
//! each field's [`FieldIndex`] by name once, then, per record: set the
//! fields ([`Field`] is a name or an index), [`finish`](RecordBuilder::finish)
//! (defaults applied, missing required fields reported) and
//! [`reset`](RecordBuilder::reset) for the next one, which keeps every
//! buffer it allocated.
//!
//! The typing rules are those of records (`docs/records.md`): an enum takes
//! one of its variants by name; `money`, `decimal` and `integer` take exact
//! numbers (from text in the records' number grammar, from integer minor
//! units with an explicit scale, or from a [`Decimal`]); an `integer` is
//! whole and within 64 bits; money below zero needs a field declared `with
//! refunds` (`-0` is zero); a timestamp is Unix milliseconds plus the UTC
//! offset it was written with, strictly within ±24 hours.
//!
//! ```
//! use tollgate_runtime::record::RecordBuilder;
//! use tollgate_runtime::table::{FieldKind, FieldSpec};
//! use tollgate_runtime::value::Value;
//! use tollgate_runtime::Decimal;
//!
//! let fields = vec![
//!     FieldSpec { name: "channel".into(), default: None, refunds: false,
//!                 kind: FieldKind::Enum(vec!["credit_card".into(), "wechat".into()]) },
//!     FieldSpec { name: "amount".into(), kind: FieldKind::Money, default: None, refunds: false },
//! ];
//! let mut b = RecordBuilder::new(&fields);
//! let amount = b.field("amount")?; // resolved once
//! b.set_enum("channel", "wechat")?;
//! b.set_money_minor(amount, 80_000, 2)?; // 800.00
//! let record = b.finish()?;
//! assert_eq!(record[0], Value::Enum(1));
//! assert_eq!(record[1], Value::Num(Decimal::new(80_000, 2)));
//!
//! b.reset();
//! b.set_enum("channel", "credit_card")?;
//! assert!(b.finish().is_err(), "amount is required");
//! # Ok::<(), Box<dyn core::error::Error>>(())
//! ```

pub mod number;
pub mod typing;

use crate::table::FieldSpec;
use crate::value::Value;
use crate::Decimal;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
pub use number::NumberError;

pub use crate::position::FieldIndex;

/// How a setter names its field: by name (`&str`) or by a resolved
/// [`FieldIndex`].
pub trait Field {
    /// The field's index in `fields`.
    ///
    /// # Errors
    /// [`RecordError::UnknownField`] or [`RecordError::NoSuchIndex`].
    fn resolve(&self, fields: &[FieldSpec]) -> Result<u32, RecordError>;
}

impl Field for FieldIndex {
    fn resolve(&self, fields: &[FieldSpec]) -> Result<u32, RecordError> {
        if (self.get() as usize) < fields.len() {
            Ok(self.get())
        } else {
            Err(RecordError::NoSuchIndex(self.get()))
        }
    }
}

impl Field for &str {
    fn resolve(&self, fields: &[FieldSpec]) -> Result<u32, RecordError> {
        fields
            .iter()
            .position(|f| f.name == *self)
            .map(|i| i as u32)
            .ok_or_else(|| RecordError::UnknownField(self.to_string()))
    }
}

/// Why a value could not be set, or a record not finished.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecordError {
    /// The policy declares no field of this name.
    UnknownField(String),
    /// The index is beyond the policy's fields (an index resolved for
    /// another policy).
    NoSuchIndex(u32),
    /// The value is of another type than the field's.
    WrongKind {
        /// The field.
        field: String,
        /// The field's type (`enum`, `money`...).
        expected: &'static str,
        /// What was given.
        given: &'static str,
    },
    /// The enum field has no such variant.
    UnknownVariant {
        /// The field.
        field: String,
        /// The variant given.
        variant: String,
    },
    /// A number refused by the records' number rules.
    Number {
        /// The field.
        field: String,
        /// Why.
        why: NumberError,
    },
    /// A negative amount for a money field without refunds.
    NegativeMoney {
        /// The field.
        field: String,
    },
    /// A timestamp's UTC offset is not strictly within ±24 hours.
    BadOffset {
        /// The field.
        field: String,
        /// The offset given, in seconds.
        offset_secs: i32,
    },
    /// A required field was not set.
    Missing {
        /// The field.
        field: String,
    },
}

impl core::fmt::Display for RecordError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            RecordError::UnknownField(name) => write!(f, "unknown field `{name}`"),
            RecordError::NoSuchIndex(i) => {
                write!(f, "field index {i} is beyond the policy's fields")
            }
            RecordError::WrongKind {
                field,
                expected,
                given,
            } => write!(f, "`{field}` is a {expected} field, not a {given}"),
            RecordError::UnknownVariant { field, variant } => {
                write!(f, "`{field}`: `{variant}` is not one of its variants")
            }
            RecordError::Number { field, why } => write!(f, "`{field}`: the number {why}"),
            RecordError::NegativeMoney { field } => write!(
                f,
                "`{field}` is negative, and the policy does not accept refunds \
                 (declare `field {field}: money with refunds`)"
            ),
            RecordError::BadOffset { field, offset_secs } => write!(
                f,
                "`{field}`: UTC offset {offset_secs} s is not within ±24 hours"
            ),
            RecordError::Missing { field } => write!(f, "missing required field `{field}`"),
        }
    }
}

impl core::error::Error for RecordError {}

impl RecordError {
    /// This error about a number written `text`, in the words that name the
    /// value as written, in backticks (``(`-500.00`)``): what `eval` says of
    /// a record's number and the C ABI of `tg_record_set_number`'s text. An
    /// error about anything else than the number reads as its own `Display`.
    pub fn as_written<'a>(&'a self, text: &'a str) -> AsWritten<'a> {
        AsWritten { error: self, text }
    }
}

/// A [`RecordError`] about a number, naming it as written
/// ([`RecordError::as_written`]).
#[derive(Debug, Clone, Copy)]
pub struct AsWritten<'a> {
    error: &'a RecordError,
    text: &'a str,
}

impl core::fmt::Display for AsWritten<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let text = self.text;
        match self.error {
            RecordError::Number {
                field,
                why: NumberError::NotWhole,
            } => write!(f, "`{field}` must be a whole number, not `{text}`"),
            RecordError::Number {
                field,
                why: NumberError::OutOfRange,
            } => write!(
                f,
                "`{field}` must be a 64-bit integer ({} to {}), not `{text}`",
                i64::MIN,
                i64::MAX
            ),
            RecordError::Number { field, why } => write!(f, "`{field}`: `{text}` {why}"),
            RecordError::NegativeMoney { field } => write!(
                f,
                "`{field}` is negative (`{text}`), and the policy does not accept refunds \
                 (declare `field {field}: money with refunds`)"
            ),
            other => write!(f, "{other}"),
        }
    }
}

/// A reusable builder of records for one policy's fields. Once its
/// buffers have grown to the values set (strings are copied in), setting
/// fields and finishing records allocate nothing.
#[derive(Debug, Clone)]
pub struct RecordBuilder {
    fields: Vec<FieldSpec>,
    /// The value of each field, meaningful where `is_set` says so (kept
    /// when unset, so that a string's buffer is reused).
    values: Vec<Value>,
    is_set: Vec<bool>,
    out: Vec<Value>,
}

/// Copies `src` into `dst`, reusing a string's buffer.
fn assign(dst: &mut Value, src: &Value) {
    match (dst, src) {
        (Value::Str(d), Value::Str(s)) => {
            d.clear();
            d.push_str(s);
        }
        (d, s) => *d = s.clone(),
    }
}

impl RecordBuilder {
    /// A builder for records of `fields` (a copy is kept, so the builder
    /// outlives the policy it was made for). Allocates its buffers here.
    pub fn new(fields: &[FieldSpec]) -> RecordBuilder {
        RecordBuilder {
            fields: fields.to_vec(),
            values: alloc::vec![Value::Bool(false); fields.len()],
            is_set: alloc::vec![false; fields.len()],
            out: alloc::vec![Value::Bool(false); fields.len()],
        }
    }

    /// The fields records are built for.
    pub fn fields(&self) -> &[FieldSpec] {
        &self.fields
    }

    /// The index of the field named `name`: resolve once, set many times.
    ///
    /// # Errors
    /// [`RecordError::UnknownField`].
    pub fn field(&self, name: &str) -> Result<FieldIndex, RecordError> {
        name.resolve(&self.fields).map(FieldIndex::new)
    }

    /// Forgets every value set, keeping the buffers.
    pub fn reset(&mut self) {
        self.is_set.iter_mut().for_each(|s| *s = false);
    }

    /// Leaves `field` unset again (its default applies).
    ///
    /// # Errors
    /// [`RecordError::UnknownField`] or [`RecordError::NoSuchIndex`].
    pub fn unset(&mut self, field: impl Field) -> Result<(), RecordError> {
        let i = field.resolve(&self.fields)?;
        if let Some(s) = self.is_set.get_mut(i as usize) {
            *s = false;
        }
        Ok(())
    }

    /// The field at `i` and its slot.
    fn spec(&self, field: &impl Field) -> Result<(u32, &FieldSpec), RecordError> {
        let i = field.resolve(&self.fields)?;
        let spec = self
            .fields
            .get(i as usize)
            .ok_or(RecordError::NoSuchIndex(i))?;
        Ok((i, spec))
    }

    fn put(&mut self, i: u32, value: Value) {
        if let (Some(slot), Some(s)) = (
            self.values.get_mut(i as usize),
            self.is_set.get_mut(i as usize),
        ) {
            *slot = value;
            *s = true;
        }
    }

    /// Sets an enum field to its variant named `variant`.
    ///
    /// # Errors
    /// An unknown field, a field that is not an enum, or an unknown variant.
    pub fn set_enum(&mut self, field: impl Field, variant: &str) -> Result<(), RecordError> {
        let (i, spec) = self.spec(&field)?;
        let v = typing::variant(spec, variant)?;
        self.put(i, v);
        Ok(())
    }

    /// Sets a `money`, `decimal` or `integer` field from text in the
    /// records' number grammar (`800.00`, `-12.5`, `1e3`), exactly.
    ///
    /// # Errors
    /// An unknown or non-numeric field, a malformed or inexact number, a
    /// non-whole or out-of-range integer, or negative money without refunds.
    pub fn set_number(&mut self, field: impl Field, text: &str) -> Result<(), RecordError> {
        let (i, spec) = self.spec(&field)?;
        let v = typing::number_text(spec, text)?;
        self.put(i, v);
        Ok(())
    }

    /// Sets a numeric field to an exact [`Decimal`].
    ///
    /// # Errors
    /// As [`RecordBuilder::set_number`], but for the text.
    pub fn set_decimal(&mut self, field: impl Field, value: Decimal) -> Result<(), RecordError> {
        let (i, spec) = self.spec(&field)?;
        let v = typing::decimal(spec, value)?;
        self.put(i, v);
        Ok(())
    }

    /// Sets a numeric field to `units × 10^-scale`: money in minor units
    /// (`80_000` at scale 2 is 800.00), the scale being the currency's
    /// minor-unit exponent (2 for CNY, 0 for JPY, 3 for KWD).
    ///
    /// # Errors
    /// A scale above 28 ([`NumberError::NotExact`]), and as
    /// [`RecordBuilder::set_decimal`].
    pub fn set_money_minor(
        &mut self,
        field: impl Field,
        units: i64,
        scale: u32,
    ) -> Result<(), RecordError> {
        let (i, spec) = self.spec(&field)?;
        typing::numeric(spec)?;
        let d = Decimal::try_from_i128_with_scale(i128::from(units), scale).map_err(|_| {
            RecordError::Number {
                field: spec.name.clone(),
                why: NumberError::NotExact,
            }
        })?;
        let v = typing::decimal(spec, d)?;
        self.put(i, v);
        Ok(())
    }

    /// Sets a numeric field to a whole number.
    ///
    /// # Errors
    /// As [`RecordBuilder::set_decimal`].
    pub fn set_integer(&mut self, field: impl Field, value: i64) -> Result<(), RecordError> {
        self.set_money_minor(field, value, 0)
    }

    /// Sets a bool field.
    ///
    /// # Errors
    /// An unknown field, or a field that is not a bool.
    pub fn set_bool(&mut self, field: impl Field, value: bool) -> Result<(), RecordError> {
        let (i, spec) = self.spec(&field)?;
        let v = typing::boolean(spec, value)?;
        self.put(i, v);
        Ok(())
    }

    /// Sets a string field.
    ///
    /// # Errors
    /// An unknown field, or a field that is not a string.
    pub fn set_str(&mut self, field: impl Field, value: &str) -> Result<(), RecordError> {
        let (i, spec) = self.spec(&field)?;
        typing::string(spec)?;
        // Reuse the string already in the slot, when there is one.
        if let (Some(Value::Str(s)), Some(flag)) = (
            self.values.get_mut(i as usize),
            self.is_set.get_mut(i as usize),
        ) {
            s.clear();
            s.push_str(value);
            *flag = true;
            return Ok(());
        }
        self.put(i, Value::Str(value.to_string()));
        Ok(())
    }

    /// Sets a timestamp field: milliseconds since the Unix epoch, and the
    /// UTC offset (seconds east) the local time is read with.
    ///
    /// # Errors
    /// An unknown field, a field that is not a timestamp, or an offset not
    /// strictly within ±24 hours.
    pub fn set_time(
        &mut self,
        field: impl Field,
        unix_ms: i64,
        offset_secs: i32,
    ) -> Result<(), RecordError> {
        let (i, spec) = self.spec(&field)?;
        let v = typing::time(spec, unix_ms, offset_secs)?;
        self.put(i, v);
        Ok(())
    }

    /// The record: every field set, or its default. The builder keeps its
    /// values (set one field and finish again for a variant of the record).
    ///
    /// # Errors
    /// [`RecordError::Missing`] for the first required field (in the
    /// policy's order) that was not set.
    pub fn finish(&mut self) -> Result<&[Value], RecordError> {
        let fields = self.fields.iter().zip(&self.values).zip(&self.is_set);
        for (((spec, value), set), out) in fields.zip(self.out.iter_mut()) {
            let v = if *set { value } else { typing::absent(spec)? };
            assign(out, v);
        }
        Ok(&self.out)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::table::FieldKind;
    use alloc::vec;

    fn fields() -> Vec<FieldSpec> {
        let f = |name: &str, kind, default| FieldSpec {
            name: name.into(),
            kind,
            default,
            refunds: false,
        };
        vec![
            f(
                "channel",
                FieldKind::Enum(vec!["credit_card".into(), "wechat".into()]),
                None,
            ),
            f("amount", FieldKind::Money, None),
            FieldSpec {
                refunds: true,
                ..f("net", FieldKind::Money, Some(Value::Num(Decimal::ZERO)))
            },
            f("days", FieldKind::Integer, Some(Value::Num(Decimal::ZERO))),
            f("rate", FieldKind::Decimal, Some(Value::Num(Decimal::ONE))),
            f("vip", FieldKind::Bool, Some(Value::Bool(false))),
            f("merchant", FieldKind::String, Some(Value::Str("".into()))),
            f("at", FieldKind::Timestamp, None),
        ]
    }

    fn num(s: &str) -> Value {
        Value::Num(s.parse().unwrap())
    }

    #[test]
    fn builds_typed_records_with_defaults() {
        let mut b = RecordBuilder::new(&fields());
        let at = b.field("at").unwrap();
        b.set_enum("channel", "wechat").unwrap();
        b.set_number("amount", "800.10").unwrap();
        b.set_time(at, 1_795_581_000_000, 8 * 3600).unwrap();
        let r = b.finish().unwrap().to_vec();
        assert_eq!(
            r,
            vec![
                Value::Enum(1),
                num("800.10"),
                num("0"),
                num("0"),
                num("1"),
                Value::Bool(false),
                Value::Str("".into()),
                Value::Time {
                    unix_ms: 1_795_581_000_000,
                    offset_secs: 28_800
                },
            ]
        );
        b.set_money_minor("amount", 12_345, 2).unwrap();
        b.set_number("net", "-1.50").unwrap();
        b.set_integer("days", 90).unwrap();
        b.set_number("rate", "1.5E2").unwrap();
        b.set_bool("vip", true).unwrap();
        b.set_str("merchant", "m1").unwrap();
        b.set_str("merchant", "m2").unwrap();
        let r = b.finish().unwrap();
        assert_eq!(r[1], num("123.45"));
        assert_eq!(r[2], num("-1.50"));
        assert_eq!(r[3], num("90"));
        assert_eq!(r[4], num("150"));
        assert_eq!(r[5], Value::Bool(true));
        assert_eq!(r[6], Value::Str("m2".into()));
    }

    #[test]
    fn reset_forgets_values_and_reports_missing() {
        let mut b = RecordBuilder::new(&fields());
        b.set_enum("channel", "wechat").unwrap();
        b.set_number("amount", "1").unwrap();
        b.reset();
        b.set_enum("channel", "wechat").unwrap();
        let e = b.finish().unwrap_err();
        assert_eq!(
            e,
            RecordError::Missing {
                field: "amount".into()
            }
        );
        assert_eq!(e.to_string(), "missing required field `amount`");
        b.set_number("amount", "1").unwrap();
        b.unset("amount").unwrap();
        assert!(b.finish().is_err());
    }

    #[test]
    fn bad_values_say_what_is_wrong() {
        let mut b = RecordBuilder::new(&fields());
        let e = |r: Result<(), RecordError>| r.unwrap_err().to_string();
        assert_eq!(e(b.set_bool("vipp", true)), "unknown field `vipp`");
        assert!(matches!(
            b.set_bool(FieldIndex::new(99), true),
            Err(RecordError::NoSuchIndex(99))
        ));
        assert_eq!(
            e(b.set_bool("amount", true)),
            "`amount` is a money field, not a bool"
        );
        assert_eq!(
            e(b.set_enum("channel", "bitcoin")),
            "`channel`: `bitcoin` is not one of its variants"
        );
        assert!(e(b.set_number("amount", "1,000")).contains("not a decimal number"));
        assert!(e(b.set_number("amount", "-5")).contains("does not accept refunds"));
        assert!(e(b.set_money_minor("amount", -5, 2)).contains("refunds"));
        b.set_number("amount", "-0.00").unwrap();
        assert_eq!(b.values.get(1), Some(&num("0.00")));
        assert!(e(b.set_number("days", "1.5")).contains("whole"));
        assert!(e(b.set_number("days", "1e20")).contains("64-bit"));
        assert!(e(b.set_money_minor("amount", 1, 29)).contains("exactly"));
        assert!(e(b.set_time("at", 0, 86_400)).contains("24 hours"));
        assert!(e(b.set_str("at", "x")).contains("timestamp field, not a string"));
    }
}
