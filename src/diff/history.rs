//! Reading a history of records for a replay: JSON Lines or CSV, one
//! record at a time, in bounded memory, each with its line number and the
//! raw values of its fields, typed later against each version's schema.

use crate::cli::eval::MAX_RECORD_BYTES;
use crate::record::{JsonRecord, Reading};
use serde_json::Value as Json;
use std::io::{BufRead, Read};
use tollgate_runtime::table::{FieldKind, FieldSpec};
use tollgate_runtime::value::Value;

/// One record of the history, as read.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Its line number (from 1; a CSV row's first line).
    pub line: u64,
    /// The record as written (a JSON line, or a CSV row as a JSON object of
    /// its cells), for reports.
    pub text: String,
    /// Its fields, or why the line is not a record at all.
    pub body: Result<Body, String>,
}

/// A record's fields before typing.
#[derive(Debug, Clone)]
pub enum Body {
    /// A JSON object.
    Json(JsonRecord),
    /// A CSV row with the header's column names.
    Csv(std::sync::Arc<Vec<String>>, csv::StringRecord),
}

impl Entry {
    /// The record typed against `schema`, strictly, as `tollgate eval`
    /// reads it: every field must be declared.
    ///
    /// # Errors
    /// Why the record does not fit the schema (or is not a record).
    pub fn typed(&self, schema: &[FieldSpec]) -> Result<Vec<Value>, String> {
        match &self.body {
            Err(e) => Err(e.clone()),
            Ok(Body::Json(r)) => crate::record::from_json_fields(r, schema, Reading::default()),
            Ok(Body::Csv(header, row)) => {
                crate::record::check_header(header, schema, Reading::default())?;
                crate::record::from_csv(header, row, schema)
            }
        }
    }

    /// The value of field `name` as written, for grouping: a string as is,
    /// another JSON value as JSON; `spec`'s default when the record leaves
    /// the field out; `(absent)` when it has none.
    pub fn group_value(&self, name: &str, spec: Option<&FieldSpec>) -> String {
        let raw = match &self.body {
            Err(_) => return "(not a record)".to_string(),
            Ok(Body::Json(r)) => match r.get(name) {
                Some(Json::String(s)) => Some(s.clone()),
                Some(Json::Null) | None => None,
                Some(v) => Some(v.to_string()),
            },
            Ok(Body::Csv(header, row)) => header
                .iter()
                .position(|h| h == name)
                .and_then(|i| row.get(i))
                .filter(|cell| !cell.is_empty())
                .map(str::to_string),
        };
        raw.or_else(|| spec.and_then(default_text))
            .unwrap_or_else(|| "(absent)".to_string())
    }
}

/// A field's default value in words, if it has one.
fn default_text(spec: &FieldSpec) -> Option<String> {
    Some(match (spec.default.as_ref()?, &spec.kind) {
        (Value::Enum(i), FieldKind::Enum(vs)) => vs.get(*i as usize)?.clone(),
        (Value::Num(d), _) => d.to_string(),
        (Value::Bool(b), _) => b.to_string(),
        (Value::Str(s), _) => s.clone(),
        _ => return None,
    })
}

/// The kinds of history files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// One JSON object per line.
    Jsonl,
    /// A header line of field names, then one row per record.
    Csv,
}

impl Kind {
    /// The kind a file name implies: CSV for `.csv`, else JSON Lines.
    pub fn of(path: &str) -> Kind {
        if path.ends_with(".csv") {
            Kind::Csv
        } else {
            Kind::Jsonl
        }
    }
}

/// Calls `each` on every record of `input` in order. Blank lines are
/// skipped (they are not records).
///
/// # Errors
/// A message when reading fails, a line is longer than the limit `eval`
/// keeps, or `each` fails.
pub fn read(
    input: Box<dyn BufRead>,
    kind: Kind,
    each: &mut dyn FnMut(Entry) -> Result<(), String>,
) -> Result<(), String> {
    match kind {
        Kind::Jsonl => jsonl(input, each),
        Kind::Csv => csv_rows(input, each),
    }
}

fn too_long(line: u64) -> String {
    format!("line {line} is longer than {MAX_RECORD_BYTES} bytes: the history is not read further")
}

fn jsonl(
    mut input: Box<dyn BufRead>,
    each: &mut dyn FnMut(Entry) -> Result<(), String>,
) -> Result<(), String> {
    let mut buf = Vec::new();
    let mut line: u64 = 0;
    loop {
        buf.clear();
        let limit = u64::try_from(MAX_RECORD_BYTES).unwrap_or(u64::MAX);
        let n = (&mut input)
            .take(limit.saturating_add(2))
            .read_until(b'\n', &mut buf)
            .map_err(|e| format!("cannot read the history: {e}"))?;
        if n == 0 {
            return Ok(());
        }
        line += 1;
        while buf.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
            buf.pop();
        }
        if buf.len() > MAX_RECORD_BYTES {
            return Err(too_long(line));
        }
        let text = match std::str::from_utf8(&buf) {
            Ok(t) => t.to_string(),
            Err(_) => {
                each(Entry {
                    line,
                    text: String::from_utf8_lossy(&buf).into_owned(),
                    body: Err("the line is not UTF-8".to_string()),
                })?;
                continue;
            }
        };
        if text.trim().is_empty() {
            continue;
        }
        // A record that writes a field twice is not a record here either,
        // so that it is not grouped by one of its two values.
        let body = crate::record::parse_json(&text).and_then(|r| match r.repeated_error() {
            Some(e) => Err(e),
            None => Ok(Body::Json(r)),
        });
        each(Entry { line, text, body })?;
    }
}

/// A reader that fails once a line grows past [`MAX_RECORD_BYTES`].
struct Capped {
    inner: Box<dyn BufRead>,
    since_newline: usize,
}

impl Read for Capped {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        for &b in buf.get(..n).unwrap_or(&[]) {
            if b == b'\n' {
                self.since_newline = 0;
            } else {
                self.since_newline += 1;
                if self.since_newline > MAX_RECORD_BYTES {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!("a line is longer than {MAX_RECORD_BYTES} bytes"),
                    ));
                }
            }
        }
        Ok(n)
    }
}

fn csv_rows(
    input: Box<dyn BufRead>,
    each: &mut dyn FnMut(Entry) -> Result<(), String>,
) -> Result<(), String> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(Capped {
            inner: input,
            since_newline: 0,
        });
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| format!("cannot read the CSV header: {e}"))?
        .iter()
        .map(|s| s.trim().to_string())
        .collect();
    let header = std::sync::Arc::new(header);
    let mut row = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut row) {
            Ok(false) => return Ok(()),
            Ok(true) => {
                let line = row.position().map_or(0, csv::Position::line);
                if row.iter().all(|cell| cell.trim().is_empty()) {
                    continue;
                }
                let cells: serde_json::Map<String, Json> = header
                    .iter()
                    .zip(row.iter())
                    .map(|(h, c)| (h.clone(), Json::String(c.to_string())))
                    .collect();
                let text = Json::Object(cells).to_string();
                each(Entry {
                    line,
                    text,
                    body: Ok(Body::Csv(header.clone(), row.clone())),
                })?;
            }
            Err(e) => {
                if let csv::ErrorKind::Io(io) = e.kind() {
                    let line = e.position().map_or(0, csv::Position::line);
                    return Err(if io.kind() == std::io::ErrorKind::InvalidData {
                        too_long(line)
                    } else {
                        format!("cannot read the history: {io}")
                    });
                }
                let line = e.position().map_or(0, csv::Position::line);
                each(Entry {
                    line,
                    text: String::new(),
                    body: Err(format!("malformed CSV: {e}")),
                })?;
            }
        }
    }
}
