//! The batch reader of JSON Lines records: a typed, borrowing scanner
//! bound to a policy's schema.
//!
//! [`crate::record`] reads a record into a generic JSON tree and then types
//! it; that costs an allocation per key and per value. This reader scans
//! the line's bytes once ([`scan`]), borrowing the keys and values from
//! them, looks each key up in the schema, parses numbers straight into
//! decimals, resolves enum variants through a table built once per run,
//! and writes each value into its field's place in the record.
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
mod scan;

use crate::record::{self, Reading};
use scan::{Scan, Span};
use std::collections::HashMap;
use tollgate_runtime::record::{number, typing};
use tollgate_runtime::table::{FieldKind, FieldSpec};
use tollgate_runtime::value::Value;

/// The variants of an enum field, found by name.
pub(crate) enum Variants {
    /// Few variants: compared in turn.
    Few(Vec<String>),
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
            Variants::Few(names.to_vec())
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
            Variants::Few(names) => Variants::position(names, name.as_bytes()),
            Variants::Many(map) => map.get(name).copied(),
        }
    }

    /// The index of the variant written `name` in a line.
    #[inline]
    fn find_span(&self, name: Span<'_>) -> Option<u32> {
        match self {
            Variants::Few(names) => Variants::position(names, name.bytes),
            Variants::Many(map) => map.get(name.text()?).copied(),
        }
    }

    /// The index of `name` among a few `names`.
    #[inline]
    fn position(names: &[String], name: &[u8]) -> Option<u32> {
        names
            .iter()
            .position(|v| scan::same(v.as_bytes(), name))
            .and_then(|i| u32::try_from(i).ok())
    }
}

/// A reader of JSON records for one schema, built once per run.
pub struct Reader<'a> {
    schema: &'a [FieldSpec],
    reading: Reading<'a>,
    /// Per field, its enum variants (empty for other kinds).
    variants: Vec<Option<Variants>>,
    /// Per field, the number of the last line that gave it a value: a
    /// field is read in the current line when this is [`Reader::line`].
    seen: Vec<u32>,
    /// The number of the current line (never 0 once a line is read).
    line: u32,
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
            seen: vec![0; schema.len()],
            line: 0,
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
        if self.fast(line.as_bytes(), out).is_some() {
            return Ok(());
        }
        self.read_tree(line, out)
    }

    /// Types one line into `out` (cleared first) through a JSON tree, as
    /// [`Reader::read`] does with a line [`Reader::fast`] leaves.
    ///
    /// # Errors
    /// The message of [`crate::record`] for a bad record.
    pub fn read_tree(&self, line: &str, out: &mut Vec<Value>) -> Result<(), String> {
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
    /// understands and it is correct, with its values in `out` (one per
    /// field); `None` leaves the line to [`Reader::read_tree`]. The line
    /// need not be UTF-8: one this path accepts is (see [`scan`]).
    pub fn fast(&mut self, line: &[u8], out: &mut Vec<Value>) -> Option<()> {
        self.start(out);
        let mut s = Scan::new(line);
        s.ws();
        s.eat(b'{')?;
        s.ws();
        if !s.try_eat(b'}') {
            loop {
                match self.key(&mut s, line)? {
                    Some(at) => {
                        s.ws();
                        s.eat(b':')?;
                        s.ws();
                        self.value(at, &mut s, out)?;
                    }
                    None => {
                        s.ws();
                        s.eat(b':')?;
                        s.ws();
                        s.skip_scalar()?;
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
        if !s.at_end() {
            return None;
        }
        // The fields the line leaves out take their defaults.
        for ((f, seen), slot) in self.schema.iter().zip(&self.seen).zip(out.iter_mut()) {
            if *seen != self.line {
                *slot = f.default.clone()?;
            }
        }
        Some(())
    }

    /// Starts a line: a new line number, `out` one value per field.
    fn start(&mut self, out: &mut Vec<Value>) {
        self.unknown.clear();
        self.line = match self.line.checked_add(1) {
            Some(n) => n,
            None => {
                // Numbers start again: no field may look read.
                self.seen.iter_mut().for_each(|s| *s = 0);
                1
            }
        };
        if out.len() != self.schema.len() {
            out.clear();
            out.resize(self.schema.len(), Value::Bool(false));
        }
    }

    /// The key at `s`: `Some(field)` for a declared one, `None` for one to
    /// skip; `None` outside for a line to leave to the tree reader.
    #[inline]
    fn key(&mut self, s: &mut Scan<'_>, line: &[u8]) -> Option<Option<usize>> {
        // The key expected next, matched in place when its name is plain;
        // any other key is scanned and looked up.
        let guess = self.next;
        if let Some(f) = self.schema.get(guess) {
            if self.plain.get(guess) == Some(&true) && s.literal(f.name.as_bytes()) {
                return Some(Some(guess));
            }
        }
        let key_at = s.i + 1;
        let key = s.string()?.bytes;
        if let Some(at) = self
            .schema
            .iter()
            .position(|f| scan::same(f.name.as_bytes(), key))
        {
            return Some(Some(at));
        }
        // An undeclared key that may appear is skipped, once.
        let known = self.reading.ignore_unknown
            || self
                .reading
                .keep
                .iter()
                .any(|k| scan::same(k.as_bytes(), key));
        let twice = |&(from, to): &(usize, usize)| line.get(from..to) == Some(key);
        if !known || self.unknown.iter().any(twice) {
            return None;
        }
        self.unknown.push((key_at, key_at + key.len()));
        Some(None)
    }

    /// Reads the value of field `at` from `s` into `out`; `None` for a
    /// record to leave to the tree reader (a repeated field, a bad value).
    #[inline]
    fn value(&mut self, at: usize, s: &mut Scan<'_>, out: &mut [Value]) -> Option<()> {
        self.next = at + 1;
        let seen = self.seen.get_mut(at)?;
        if *seen == self.line {
            return None;
        }
        *seen = self.line;
        let f = self.schema.get(at)?;
        let slot = out.get_mut(at)?;
        match &f.kind {
            FieldKind::Bool => *slot = Value::Bool(s.boolean()?),
            FieldKind::Enum(_) => {
                let text = s.string()?;
                *slot = Value::Enum(self.variants.get(at)?.as_ref()?.find_span(text)?);
            }
            FieldKind::Money | FieldKind::Decimal | FieldKind::Integer => {
                let text = match s.peek()? {
                    b'"' => s.string()?.bytes,
                    _ => s.number(),
                };
                *slot = number_bytes(f, text)?;
            }
            FieldKind::String => {
                let text = s.string()?.text()?;
                match slot {
                    // The string of the line before is reused.
                    Value::Str(old) => {
                        old.clear();
                        old.push_str(text);
                    }
                    _ => *slot = Value::Str(text.to_string()),
                }
            }
            FieldKind::Timestamp => {
                let text = s.string()?.text()?;
                *slot = text_value(f, None, text)?;
            }
        }
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
    number_bytes(f, text.as_bytes())
}

/// Types the number written `text` as the value of the numeric field `f`,
/// as [`typing::decimal`] does; `None` for a value to leave to
/// [`crate::record`].
#[inline]
fn number_bytes(f: &FieldSpec, text: &[u8]) -> Option<Value> {
    let Some(n) = scan::simple(text) else {
        let text = core::str::from_utf8(text).ok()?;
        return typing::decimal(f, number::parse_decimal(text).ok()?).ok();
    };
    match f.kind {
        // A whole number written without decimals is the integer itself
        // (18 digits fit 64 bits); others are normalised by `typing`.
        FieldKind::Integer if n.scale == 0 => Some(Value::Num(n.decimal())),
        // A negative amount is refused by `typing` (or accepted, with
        // refunds).
        FieldKind::Decimal => Some(Value::Num(n.decimal())),
        FieldKind::Money if !n.negative || n.digits == 0 => Some(Value::Num(n.decimal())),
        _ => typing::decimal(f, n.decimal()).ok(),
    }
}

/// Whether `name` is written in JSON as itself between quotes (no byte
/// that needs an escape), so that it can be matched in place.
fn plain(name: &str) -> bool {
    !name.bytes().any(|c| c < 0x20 || c == b'"' || c == b'\\')
}
