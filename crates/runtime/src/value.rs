//! Typed values of a record, as the evaluator reads them.

use crate::Decimal;
use alloc::string::String;

/// One field's value in a record.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Value {
    /// An enum variant, by index into the field's variants.
    Enum(u32),
    /// Money, a decimal or an integer: all are exact decimals here.
    Num(Decimal),
    /// A boolean.
    Bool(bool),
    /// A string key.
    Str(String),
    /// An instant: milliseconds since the Unix epoch, and the UTC offset in
    /// seconds it was written with.
    Time {
        /// Milliseconds since 1970-01-01T00:00:00Z.
        unix_ms: i64,
        /// The offset the timestamp was written with, in seconds east of UTC.
        offset_secs: i32,
    },
}

impl Value {
    /// The instant this value holds (Unix ms), if it is a timestamp.
    pub fn instant(&self) -> Option<i64> {
        match self {
            Value::Time { unix_ms, .. } => Some(*unix_ms),
            _ => None,
        }
    }
}
