//! The batch reader of CSV rows: each cell typed straight into its field,
//! the header resolved against the schema once per run.
//!
//! [`crate::record::from_csv`] looks every field's column up in the header
//! and formats the cell for a message it may need, per row. This reader
//! maps the fields to their columns once, and types each cell as the JSON
//! reader types a string ([`super::text_value`]): numbers parsed straight
//! into decimals, enum variants resolved through a table built once.
//!
//! A row it does not fully understand, or a wrong one, goes to
//! [`crate::record::from_csv`], which types it or writes the error: the
//! messages of bad rows are that reader's, word for word, and
//! `tests/typed_reader.rs` checks on generated rows that both readers give
//! the same values and refuse the same rows.

use super::{lookups, text_value, Variants};
use crate::record;
use tollgate_runtime::table::{FieldKind, FieldSpec};
use tollgate_runtime::value::Value;

/// A reader of CSV rows for one schema and one header, built once per run.
pub struct CsvReader<'a> {
    schema: &'a [FieldSpec],
    header: &'a [String],
    /// Per field, its column (`None`: not in the header).
    columns: Vec<Option<usize>>,
    /// Per field, its enum variants (`None` for other kinds).
    variants: Vec<Option<Variants>>,
}

impl<'a> CsvReader<'a> {
    /// A reader of rows under `header` (a header [`record::check_header`]
    /// accepted) for `schema`.
    pub fn new(schema: &'a [FieldSpec], header: &'a [String]) -> CsvReader<'a> {
        CsvReader {
            schema,
            header,
            columns: schema
                .iter()
                .map(|f| header.iter().position(|h| h == &f.name))
                .collect(),
            variants: lookups(schema),
        }
    }

    /// Types one row into `out` (cleared first), exactly as
    /// [`record::from_csv`] does.
    ///
    /// # Errors
    /// The message of [`record::from_csv`] for a bad row.
    pub fn read(&self, row: &csv::StringRecord, out: &mut Vec<Value>) -> Result<(), String> {
        out.clear();
        if self.fast(row, out).is_some() {
            return Ok(());
        }
        out.clear();
        out.extend(record::from_csv(self.header, row, self.schema)?);
        Ok(())
    }

    /// The fast path: `Some` when every cell of the row is typed and the
    /// row is correct, with its values in `out`; `None` leaves the row to
    /// [`record::from_csv`].
    pub fn fast(&self, row: &csv::StringRecord, out: &mut Vec<Value>) -> Option<()> {
        if row.len() != self.header.len() {
            return None;
        }
        for ((f, column), variants) in self.schema.iter().zip(&self.columns).zip(&self.variants) {
            let v = match column.and_then(|c| row.get(c)) {
                None | Some("") => f.default.clone()?,
                Some(text) if f.kind == FieldKind::Bool => match text {
                    "true" => Value::Bool(true),
                    "false" => Value::Bool(false),
                    _ => return None,
                },
                Some(text) => text_value(f, variants.as_ref(), text)?,
            };
            out.push(v);
        }
        Some(())
    }
}
