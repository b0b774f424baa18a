//! The batch reader of JSON Lines records: a typed, borrowing scanner
//! bound to a policy's schema.
//!
//! [`crate::record`] reads a record into a generic JSON tree and then types
//! it; that costs an allocation per key and per value. This reader scans
//! the line once, borrowing the keys and values from it, looks each key up
//! in the schema, parses numbers straight into decimals and resolves enum
//! variants through a table built once per run.
//!
//! It decides every record it fully understands and is correct: that is
//! the fast path, and it is the common case. Anything else (a string with
//! an escape, a nested value, `null`, a missing required field, and every
//! record that is wrong in any way) goes to [`crate::record`], which types
//! it or writes the error. So the messages of bad records are the ones of
//! [`crate::record`], word for word, and `tests/typed_reader.rs` checks on
//! generated records, good and malformed, that both readers give the same
//! values and refuse the same records. Both type a value through the
//! runtime's [`typing`] rules, as the terminals' record builder does
//! (`tests/typing_paths.rs` proves the three agree).

pub mod csv;

use crate::record::{self, Reading};
use rust_decimal::Decimal;
use std::collections::HashMap;
use tollgate_runtime::record::{number, typing};
use tollgate_runtime::table::{FieldKind, FieldSpec};
use tollgate_runtime::value::Value;

/// A JSON scalar as written in the line, borrowed from it.
#[derive(Clone, Copy)]
enum Token<'a> {
    /// A string without escapes, without its quotes.
    Str(&'a str),
    /// A number, as written.
    Num(&'a str),
    /// `true` or `false`.
    Bool(bool),
}

/// The variants of an enum field, found by name.
pub(crate) enum Variants {
    /// Few variants: compared in turn; `true` when all are plain (see
    /// [`plain`]).
    Few(Vec<String>, bool),
    /// Many variants: hashed.
    Many(HashMap<String, u32>),
}

/// Per field of `schema`, the lookup of its variants (`None` for a field
/// that is not an enum).
pub(crate) fn lookups(schema: &[FieldSpec]) -> Vec<Option<Variants>> {
    schema
        .iter()
        .map(|f| match &f.kind {
            FieldKind::Enum(vs) => Some(Variants::new(vs)),
            _ => None,
        })
        .collect()
}

/// Enums with more variants than this are looked up in a hash map.
const FEW_VARIANTS: usize = 16;

impl Variants {
    /// The lookup of `names`, built once per run.
    pub(crate) fn new(names: &[String]) -> Variants {
        if names.len() <= FEW_VARIANTS {
            Variants::Few(names.to_vec(), names.iter().all(|n| plain(n)))
        } else {
            let mut map = HashMap::with_capacity(names.len());
            for (i, name) in names.iter().enumerate() {
                if let Ok(i) = u32::try_from(i) {
                    // The first of two equal names wins, as in `record`.
                    map.entry(name.clone()).or_insert(i);
                }
            }
            Variants::Many(map)
        }
    }

    /// The index of the variant `name`.
    pub(crate) fn find(&self, name: &str) -> Option<u32> {
        match self {
            Variants::Few(names, _) => names
                .iter()
                .position(|v| same(v, name))
                .and_then(|i| u32::try_from(i).ok()),
            Variants::Many(map) => map.get(name).copied(),
        }
    }
}

/// A reader of JSON records for one schema, built once per run.
pub struct Reader<'a> {
    schema: &'a [FieldSpec],
    reading: Reading<'a>,
    /// Per field, its enum variants (empty for other kinds).
    variants: Vec<Option<Variants>>,
    /// Per field, the value read from the current line.
    slots: Vec<Option<Value>>,
    /// Where the current line's undeclared keys are in it, to refuse one
    /// written twice.
    unknown: Vec<(usize, usize)>,
    /// Per field, whether its name is plain (see [`plain`]).
    plain: Vec<bool>,
    /// The field after the last key found: records usually list their
    /// fields in one order, so it is tried first.
    next: usize,
}

impl<'a> Reader<'a> {
    /// A reader of records for `schema`, strict or lenient as `reading` says.
    pub fn new(schema: &'a [FieldSpec], reading: Reading<'a>) -> Reader<'a> {
        Reader {
            schema,
            reading,
            variants: lookups(schema),
            slots: schema.iter().map(|_| None).collect(),
            unknown: Vec::new(),
            plain: schema.iter().map(|f| plain(&f.name)).collect(),
            next: 0,
        }
    }

    /// Types one line of JSON Lines into `out` (cleared first), exactly as
    /// [`record::parse_json`] and [`record::from_json_fields`] do.
    ///
    /// # Errors
    /// The message of [`crate::record`] for a bad record.
    pub fn read(&mut self, line: &str, out: &mut Vec<Value>) -> Result<(), String> {
        out.clear();
        if self.fast(line, out).is_some() {
            return Ok(());
        }
        out.clear();
        let fields = record::parse_json(line)?;
        out.extend(record::from_json_fields(
            &fields,
            self.schema,
            self.reading,
        )?);
        Ok(())
    }

    /// The fast path: `Some` when the line is a record this scanner fully
    /// understands and it is correct, with its values in `out`; `None`
    /// leaves the line to [`crate::record`].
    pub fn fast(&mut self, line: &str, out: &mut Vec<Value>) -> Option<()> {
        for slot in &mut self.slots {
            *slot = None;
        }
        self.unknown.clear();
        let mut s = Scan {
            b: line.as_bytes(),
            i: 0,
            line,
        };
        s.ws();
        s.eat(b'{')?;
        s.ws();
        if !s.try_eat(b'}') {
            loop {
                // The key expected next, matched in place when its name is
                // plain; any other key is scanned and looked up.
                let guess = self.next;
                let at = match self.schema.get(guess) {
                    Some(f) if self.plain.get(guess) == Some(&true) && s.literal(&f.name) => {
                        Some(guess)
                    }
                    _ => {
                        let key_at = s.i + 1;
                        let key = s.string()?;
                        let at = self.schema.iter().position(|f| same(&f.name, key));
                        if at.is_none() {
                            // An undeclared key that may appear is skipped,
                            // once.
                            let known = self.reading.ignore_unknown
                                || self.reading.keep.iter().any(|k| k == key);
                            let twice =
                                |&(from, to): &(usize, usize)| line.get(from..to) == Some(key);
                            if !known || self.unknown.iter().any(twice) {
                                return None;
                            }
                            self.unknown.push((key_at, key_at + key.len()));
                        }
                        at
                    }
                };
                s.ws();
                s.eat(b':')?;
                s.ws();
                match at {
                    Some(at) => self.value(at, &mut s)?,
                    None => {
                        s.scalar()?;
                    }
                }
                s.ws();
                if s.try_eat(b',') {
                    s.ws();
                    continue;
                }
                s.eat(b'}')?;
                break;
            }
        }
        s.ws();
        if s.i != s.b.len() {
            return None;
        }
        for (f, slot) in self.schema.iter().zip(&mut self.slots) {
            match slot.take() {
                Some(v) => out.push(v),
                None => out.push(f.default.clone()?),
            }
        }
        Some(())
    }

    /// Reads the value of field `at` from `s` into its slot; `None` for a
    /// record to leave to [`crate::record`] (a repeated field, a bad
    /// value).
    fn value(&mut self, at: usize, s: &mut Scan<'_>) -> Option<()> {
        self.next = at + 1;
        // An enum variant written plainly is matched in place.
        if let Some(Some(Variants::Few(names, true))) = self.variants.get(at) {
            if let Some(i) = names.iter().position(|v| s.literal(v)) {
                let slot = self.slots.get_mut(at)?;
                if slot.is_some() {
                    return None;
                }
                *slot = Some(Value::Enum(u32::try_from(i).ok()?));
                return Some(());
            }
        }
        let value = s.scalar()?;
        let f = self.schema.get(at)?;
        let slot = self.slots.get_mut(at)?;
        if slot.is_some() {
            return None;
        }
        let v = match (&f.kind, value) {
            (FieldKind::Bool, Token::Bool(b)) => Value::Bool(b),
            (FieldKind::Money | FieldKind::Decimal | FieldKind::Integer, Token::Num(t)) => {
                number_value(f, t)?
            }
            (FieldKind::Bool, Token::Str(_)) => return None,
            (_, Token::Str(t)) => text_value(f, self.variants.get(at)?.as_ref(), t)?,
            _ => return None,
        };
        *slot = Some(v);
        Some(())
    }
}

/// Types `text` (a JSON string's content, or a CSV cell) as the value of
/// field `f` of any kind but `bool` (whose spelling differs between the
/// two); `None` for a value to leave to [`crate::record`]. `variants` is
/// the field's lookup when it is an enum.
pub(crate) fn text_value(f: &FieldSpec, variants: Option<&Variants>, text: &str) -> Option<Value> {
    Some(match &f.kind {
        FieldKind::Enum(_) => Value::Enum(variants?.find(text)?),
        FieldKind::Money | FieldKind::Decimal | FieldKind::Integer => number_value(f, text)?,
        FieldKind::String => Value::Str(text.to_string()),
        FieldKind::Timestamp => {
            let dt = chrono::DateTime::parse_from_rfc3339(text).ok()?;
            typing::time(f, dt.timestamp_millis(), dt.offset().local_minus_utc()).ok()?
        }
        FieldKind::Bool => return None,
    })
}

/// Types the number `text` as the value of the numeric field `f`.
fn number_value(f: &FieldSpec, text: &str) -> Option<Value> {
    let d = match simple_decimal(text) {
        Some(d) => d,
        None => number::parse_decimal(text).ok()?,
    };
    typing::decimal(f, d).ok()
}

/// The most digits [`simple_decimal`] reads: any 18 digits fit an `i64`.
const SIMPLE_DIGITS: usize = 18;

/// A number of the form `-?(0|[1-9][0-9]*)(\.[0-9]+)?` with at most 18
/// digits, as the exact decimal `Decimal::from_str_exact` makes of it (the
/// scale is the number of decimals written); `None` for anything else,
/// which [`number::parse_decimal`] reads or refuses.
fn simple_decimal(text: &str) -> Option<Decimal> {
    let b = text.as_bytes();
    let (negative, digits) = match b.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, b),
    };
    if digits.len() > SIMPLE_DIGITS + 1 {
        return None;
    }
    let mut mantissa: i64 = 0;
    let mut scale: Option<u32> = None;
    let mut count = 0usize;
    for (i, &c) in digits.iter().enumerate() {
        match c {
            b'0'..=b'9' => {
                if i == 1 && digits.first() == Some(&b'0') {
                    // `01`: not the number grammar.
                    return None;
                }
                if count == SIMPLE_DIGITS {
                    return None;
                }
                mantissa = mantissa * 10 + i64::from(c - b'0');
                count += 1;
                if let Some(s) = &mut scale {
                    *s += 1;
                }
            }
            b'.' if scale.is_none() && i > 0 => scale = Some(0),
            _ => return None,
        }
    }
    if count == 0 || scale == Some(0) {
        return None;
    }
    let mut d = Decimal::new(mantissa, scale.unwrap_or(0));
    // `Decimal::from_str_exact` reads `-0` as zero, without a sign.
    if negative && mantissa != 0 {
        d.set_sign_negative(true);
    }
    Some(d)
}

/// Whether two short names are equal: lengths, then bytes, compared
/// inline (names are a few bytes long; a library call costs more).
#[inline]
fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

/// Whether `name` is written in JSON as itself between quotes (no byte
/// that needs an escape), so that it can be matched in place.
fn plain(name: &str) -> bool {
    !name.bytes().any(stops_string)
}

/// Whether `c` ends the plain run of a JSON string: the quote, the
/// backslash or a control character.
#[inline]
fn stops_string(c: u8) -> bool {
    c < 0x20 || c == b'"' || c == b'\\'
}

/// A cursor over one line.
struct Scan<'a> {
    b: &'a [u8],
    i: usize,
    line: &'a str,
}

impl<'a> Scan<'a> {
    /// Skips JSON white space.
    fn ws(&mut self) {
        while matches!(self.b.get(self.i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn try_eat(&mut self, c: u8) -> bool {
        if self.b.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        self.try_eat(c).then_some(())
    }

    /// Steps over `"word"` if the line has it here.
    fn literal(&mut self, word: &str) -> bool {
        let w = word.as_bytes();
        let end = self.i + w.len() + 2;
        match self.b.get(self.i..end) {
            Some([b'"', mid @ .., b'"']) if mid.iter().zip(w).all(|(x, y)| x == y) => {
                self.i = end;
                true
            }
            _ => false,
        }
    }

    /// A string without escapes or control characters.
    fn string(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let start = self.i;
        let rest = self.b.get(start..)?;
        let stop = rest.iter().position(|&c| stops_string(c))?;
        self.i = start + stop;
        if self.b.get(self.i) != Some(&b'"') {
            return None;
        }
        let text = self.line.get(start..self.i)?;
        self.i += 1;
        Some(text)
    }

    /// A string, a number or a boolean.
    fn scalar(&mut self) -> Option<Token<'a>> {
        match self.b.get(self.i)? {
            b'"' => self.string().map(Token::Str),
            b'-' | b'0'..=b'9' => {
                let start = self.i;
                while matches!(
                    self.b.get(self.i),
                    Some(b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')
                ) {
                    self.i += 1;
                }
                let text = self.line.get(start..self.i)?;
                tollgate_runtime::record::number::is_number(text).then_some(Token::Num(text))
            }
            b't' => self.word("true").map(|()| Token::Bool(true)),
            b'f' => self.word("false").map(|()| Token::Bool(false)),
            _ => None,
        }
    }

    fn word(&mut self, w: &str) -> Option<()> {
        let end = self.i + w.len();
        (self.b.get(self.i..end)? == w.as_bytes()).then(|| self.i = end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_decimals_keep_their_scale() {
        for t in [
            "0",
            "-0",
            "-0.00",
            "12.50",
            "-3.000",
            "999999999999999999",
            "0.01",
        ] {
            let fast = simple_decimal(t).unwrap();
            let exact = Decimal::from_str_exact(t).unwrap();
            assert_eq!(fast.to_string(), exact.to_string(), "{t}");
            assert_eq!(fast.scale(), exact.scale(), "{t}");
        }
        for t in [
            "01",
            "1.",
            ".5",
            "1e3",
            "-",
            "",
            "1.2.3",
            "1234567890123456789",
            "9223372036854775808",
            "99999999999999999999",
            "+1",
        ] {
            assert!(simple_decimal(t).is_none(), "{t}");
        }
    }
}
