//! The answer to one JSON Lines record of a fees policy, written into a
//! reused buffer: the work of `tollgate eval` on a fees policy, shared by
//! the single-threaded run and the workers of `--jobs`.
//!
//! A priced record's line is written straight into the buffer, without a
//! JSON tree or an allocation per record; with `--explain` or `--keep` the
//! line is built as a JSON value (those outputs carry more than the fee).

use super::amount_text::write_amount;
use super::eval::{describe_error, BLANK, MAX_RECORD_BYTES};
use super::fee_window::FeeClock;
use crate::record::Reading;
use crate::typed::Reader;
use serde_json::{json, Map, Value as Json};
use std::io::Write;
use tollgate_runtime::eval::Component;
use tollgate_runtime::table::Table;
use tollgate_runtime::trace::FeeTrace;
use tollgate_runtime::value::Value;
use tollgate_runtime::Decimal;

/// The byte-order mark, in UTF-8.
const BOM: &[u8] = "\u{feff}".as_bytes();

/// What each line out says about its record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum OutputKind {
    /// One JSON object per record: the fee and its components.
    #[default]
    Json,
    /// Only the fee, one per line (a bad record still gets its JSON error
    /// line).
    Fee,
    /// CSV: a header, then a row per record with the `--keep` columns, the
    /// fee and the error (one of the two empty).
    Csv,
}

/// One line of input as the batch reader hands it over.
pub enum Line<'a> {
    /// The line's bytes, with its `\n` if it has one.
    Text(&'a [u8]),
    /// A line longer than [`MAX_RECORD_BYTES`], skipped.
    TooLong,
}

/// Answers records of one fees policy, one line each.
pub struct FeeLines<'a> {
    table: &'a Table,
    reader: Reader<'a>,
    reading: Reading<'a>,
    explain: bool,
    output: OutputKind,
    /// The currency's decimals.
    dp: u32,
    /// Where a record's instant comes from, for the activation window.
    clock: FeeClock,
    /// Per schedule, per rule: `{"schedule":"S","rule":"R","fee":"`.
    prefixes: Vec<Vec<Vec<u8>>>,
    /// The typed record, reused.
    record: Vec<Value>,
    components: Vec<Component>,
    /// The engine's trace of the last record priced, with `--explain`.
    trace: FeeTrace,
    /// Lines answered for records.
    pub records: usize,
    /// Error lines among them.
    pub errors: usize,
}

impl<'a> FeeLines<'a> {
    /// Answers records of `table`.
    pub fn new(
        table: &'a Table,
        reading: Reading<'a>,
        explain: bool,
        output: OutputKind,
    ) -> FeeLines<'a> {
        let prefixes = table
            .schedules()
            .iter()
            .map(|s| {
                s.rules()
                    .iter()
                    .map(|r| component_prefix(s.name(), &r.name))
                    .collect()
            })
            .collect();
        FeeLines {
            table,
            reader: Reader::new(table.fields(), reading),
            reading,
            explain,
            output,
            dp: crate::currency::display_decimals(table.currency()),
            clock: FeeClock::new(None),
            prefixes,
            record: Vec::with_capacity(table.fields().len()),
            components: Vec::with_capacity(table.schedules().len()),
            trace: FeeTrace::default(),
            records: 0,
            errors: 0,
        }
    }

    /// Prices records without an instant of their own as if stamped at
    /// `at` (`eval --at`), for the activation window.
    pub fn at(mut self, at: Option<tollgate_runtime::activation::Stamp>) -> FeeLines<'a> {
        self.clock = FeeClock::new(at);
        self
    }

    /// Appends the answer to record `n` (1-based), read from `line`, to
    /// `out`.
    pub fn answer(&mut self, n: usize, line: Line<'_>, out: &mut Vec<u8>) {
        self.records += 1;
        let bytes = match line {
            Line::Text(b) => b,
            Line::TooLong => {
                let why = format!("record is longer than {MAX_RECORD_BYTES} bytes");
                return self.error(n, why, None, out);
            }
        };
        let bytes = if n == 1 {
            // A byte-order mark opens the input, not the record.
            bytes.strip_prefix(BOM).unwrap_or(bytes)
        } else {
            bytes
        };
        let tree = self.explain || !self.reading.keep.is_empty();
        // The common case: a good record read in place (a line the fast
        // path accepts is UTF-8 and not blank).
        if !tree && self.reader.fast(bytes, &mut self.record).is_some() {
            return self.price(n, out);
        }
        let Ok(text) = std::str::from_utf8(bytes) else {
            return self.error(n, "line is not valid UTF-8".into(), None, out);
        };
        if text.trim().is_empty() {
            return self.error(n, BLANK.into(), None, out);
        }
        if tree {
            return self.answer_tree(n, text, out);
        }
        if let Err(e) = self.reader.read_tree(text, &mut self.record) {
            return self.error(n, e, None, out);
        }
        self.price(n, out);
    }

    /// Appends the answer to record `n` to `out`, the record typed by
    /// `read` (the reader of another input format) into the buffer it is
    /// given. For runs without `--explain` and `--keep`, whose lines need
    /// more than the typed record.
    pub fn answer_typed(
        &mut self,
        n: usize,
        read: impl FnOnce(&mut Vec<Value>) -> Result<(), String>,
        out: &mut Vec<u8>,
    ) {
        self.records += 1;
        if let Err(e) = read(&mut self.record) {
            return self.error(n, e, None, out);
        }
        self.price(n, out);
    }

    /// Appends the line of the record just read: its fee, or its error.
    fn price(&mut self, n: usize, out: &mut Vec<u8>) {
        if let Some(why) = self.clock.refusal(self.table, &self.record) {
            return self.error(n, why, None, out);
        }
        // Only the total is printed: the path that builds no breakdown.
        let priced = if self.output == OutputKind::Fee {
            self.table.total(&self.record)
        } else {
            self.table.fee(&self.record, &mut self.components)
        };
        match priced {
            Ok(total) => self.write_fee(total, out),
            Err(e) => {
                let message = describe_error(self.table, &e);
                self.error(n, message, None, out);
            }
        }
    }

    /// The line of a priced record, written straight into `out`.
    fn write_fee(&self, total: Decimal, out: &mut Vec<u8>) {
        match self.output {
            OutputKind::Fee => {
                write_amount(out, total, self.dp);
                out.extend_from_slice(b"\n");
                return;
            }
            OutputKind::Csv => {
                // No kept columns on this path: the fee and an empty error.
                write_amount(out, total, self.dp);
                out.extend_from_slice(b",\n");
                return;
            }
            OutputKind::Json => {}
        }
        out.extend_from_slice(b"{\"fee\":\"");
        write_amount(out, total, self.dp);
        out.extend_from_slice(b"\",\"components\":[");
        for (i, c) in self.components.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            match self
                .prefixes
                .get(c.schedule.get() as usize)
                .and_then(|s| s.get(c.rule.get() as usize))
            {
                Some(prefix) => out.extend_from_slice(prefix),
                None => {
                    let s = self.table.schedules().get(c.schedule.get() as usize);
                    let name = s.map_or("?", |s| s.name());
                    out.extend_from_slice(&component_prefix(name, "?"));
                }
            }
            write_amount(out, c.fee.total, self.dp);
            out.extend_from_slice(b"\"}");
        }
        out.extend_from_slice(b"]}\n");
    }

    /// A record read into a JSON tree, for `--explain` and `--keep`.
    fn answer_tree(&mut self, n: usize, text: &str, out: &mut Vec<u8>) {
        let fields = match crate::record::parse_json(text) {
            Ok(f) => f,
            Err(e) => return self.error(n, e, None, out),
        };
        let kept = kept(self.reading.keep, |name| fields.get(name).cloned());
        let record =
            match crate::record::from_json_fields(&fields, self.table.fields(), self.reading) {
                Ok(r) => r,
                Err(e) => return self.error(n, e, kept, out),
            };
        if let Some(why) = self.clock.refusal(self.table, &record) {
            return self.error(n, why, kept, out);
        }
        let priced = if self.explain {
            self.table
                .fee_traced(&record, &mut self.components, &mut self.trace)
        } else {
            self.table.fee(&record, &mut self.components)
        };
        match priced {
            Ok(total) => {
                if self.output == OutputKind::Csv {
                    let fee = crate::compile::print::amount(total, self.dp);
                    return csv_row(out, self.reading.keep, kept.as_ref(), &fee, "");
                }
                if self.output == OutputKind::Fee {
                    return self.write_fee(total, out);
                }
                let line = super::eval::decision(
                    self.table,
                    &self.components,
                    self.explain.then_some(&self.trace),
                    total,
                );
                write_json(out, line, kept);
            }
            Err(e) => {
                let message = describe_error(self.table, &e);
                self.error(n, message, kept, out);
            }
        }
    }

    /// The error line of record `n`, with the kept fields when the record
    /// could be read that far.
    fn error(
        &mut self,
        n: usize,
        message: String,
        kept: Option<Map<String, Json>>,
        out: &mut Vec<u8>,
    ) {
        self.errors += 1;
        if self.output == OutputKind::Csv {
            return csv_row(out, self.reading.keep, kept.as_ref(), "", &message);
        }
        write_json(out, json!({ "error": message, "record": n }), kept);
    }
}

/// The `--keep` fields of a record, read by `get` (absent ones are null);
/// `None` when nothing is kept.
pub fn kept(keep: &[String], get: impl Fn(&str) -> Option<Json>) -> Option<Map<String, Json>> {
    if keep.is_empty() {
        return None;
    }
    Some(
        keep.iter()
            .map(|k| (k.clone(), get(k).unwrap_or(Json::Null)))
            .collect(),
    )
}

/// Appends one JSON line, with the kept input fields under `"input"`.
pub fn write_json(out: &mut Vec<u8>, mut line: Json, kept: Option<Map<String, Json>>) {
    if let (Json::Object(m), Some(kept)) = (&mut line, kept) {
        m.insert("input".into(), Json::Object(kept));
    }
    // Writing into a vector cannot fail.
    let _ = writeln!(out, "{line}");
}

/// The header of `--output csv`: the kept columns, `fee`, `error`.
pub fn csv_header(keep: &[String]) -> Vec<u8> {
    let mut out = Vec::new();
    for k in keep {
        csv_cell(&mut out, k);
        out.push(b',');
    }
    out.extend_from_slice(b"fee,error\n");
    out
}

/// Appends one row of `--output csv`: the kept fields' values (a string
/// as its text, another value as JSON, an absent one empty), then `fee`
/// and `error`.
pub fn csv_row(
    out: &mut Vec<u8>,
    keep: &[String],
    kept: Option<&Map<String, Json>>,
    fee: &str,
    error: &str,
) {
    for k in keep {
        match kept.and_then(|m| m.get(k)) {
            None | Some(Json::Null) => {}
            Some(Json::String(s)) => csv_cell(out, s),
            Some(other) => csv_cell(out, &other.to_string()),
        }
        out.push(b',');
    }
    csv_cell(out, fee);
    out.push(b',');
    csv_cell(out, error);
    out.push(b'\n');
}

/// Appends a CSV cell, quoted (its quotes doubled) when it holds a comma,
/// a quote or a line break.
fn csv_cell(out: &mut Vec<u8>, text: &str) {
    if text.contains([',', '"', '\n', '\r']) {
        out.push(b'"');
        out.extend_from_slice(text.replace('"', "\"\"").as_bytes());
        out.push(b'"');
    } else {
        out.extend_from_slice(text.as_bytes());
    }
}

/// `{"schedule":"S","rule":"R","fee":"`, with the names escaped as JSON.
fn component_prefix(schedule: &str, rule: &str) -> Vec<u8> {
    let mut out = b"{\"schedule\":".to_vec();
    out.extend_from_slice(Json::from(schedule).to_string().as_bytes());
    out.extend_from_slice(b",\"rule\":");
    out.extend_from_slice(Json::from(rule).to_string().as_bytes());
    out.extend_from_slice(b",\"fee\":\"");
    out
}
