//! What makes a decision table mean something: every index in range, every
//! cell of its column's kind, every fee well formed. [`super::Schedule::new`]
//! and [`super::Table::new`] check it, so a table that exists is valid; the
//! artifact loader reaches a table only through them.

use super::{Cell, FieldKind, FieldSpec, Row, Rule, Schedule, Variants, MAX_ENUM_VARIANTS};
use crate::activation::{Window, WindowError};
use crate::artifact::{ArtifactError, ArtifactErrorKind};
use crate::fee::FeeFormula;
use crate::position::{FieldIndex, RuleIndex};
use crate::rounding::Rounding;
use crate::value::Value;
use crate::Decimal;
use alloc::string::String;
use alloc::vec::Vec;

/// An [`ArtifactErrorKind::Invalid`] error saying `why`.
pub(crate) fn invalid(why: &'static str) -> ArtifactError {
    ArtifactError {
        kind: ArtifactErrorKind::Invalid(why),
        offset: 0,
    }
}

/// `Ok` when `ok`, else [`invalid`]`(why)`.
pub(crate) fn check(ok: bool, why: &'static str) -> Result<(), ArtifactError> {
    if ok {
        Ok(())
    } else {
        Err(invalid(why))
    }
}

/// Checks an activation window: in range and not empty.
pub(crate) fn window(w: &Window) -> Result<(), ArtifactError> {
    w.validate().map_err(|e| {
        invalid(match e {
            WindowError::OutOfRange => "an activation instant is out of range",
            WindowError::Empty => "the activation window ends before it starts",
        })
    })
}

/// Checks a record schema: names present and distinct, enums within their
/// limit, defaults of their field's kind.
pub(crate) fn fields(fields: &[FieldSpec]) -> Result<(), ArtifactError> {
    for (i, f) in fields.iter().enumerate() {
        check(!f.name.is_empty(), "a field has no name")?;
        check(
            !fields.iter().take(i).any(|g| g.name == f.name),
            "two fields share a name",
        )?;
        if let FieldKind::Enum(vs) = &f.kind {
            check(
                !vs.is_empty() && vs.len() <= MAX_ENUM_VARIANTS,
                "an enum has no variants or more than 4096",
            )?;
        }
        if let Some(v) = &f.default {
            check(value_fits(v, &f.kind), "a default does not fit its field")?;
        }
    }
    Ok(())
}

/// Checks what a schedule means on its own: a positive rounding step,
/// `otherwise` last, fees well formed, columns ascending, every row of an
/// existing rule, in rule order, with one cell per column.
pub(crate) fn schedule_shape(
    rounding: &Rounding,
    rules: &[Rule],
    columns: &[FieldIndex],
    rows: &[Row],
) -> Result<(), ArtifactError> {
    check(
        rounding.step > Decimal::ZERO,
        "a rounding step is not positive",
    )?;
    for (i, r) in rules.iter().enumerate() {
        check(
            !r.otherwise || i + 1 == rules.len(),
            "`otherwise` is not the last rule",
        )?;
        check_fee(&r.fee)?;
    }
    check(
        ascending(columns),
        "columns are not in ascending field order",
    )?;
    let mut last_rule = RuleIndex::new(0);
    for row in rows {
        check(
            (row.rule.get() as usize) < rules.len(),
            "a row points at a rule that does not exist",
        )?;
        check(row.rule >= last_rule, "rows are not in rule order")?;
        last_rule = row.rule;
        check(
            row.cells.len() == columns.len(),
            "a row has the wrong number of cells",
        )?;
        for cell in &row.cells {
            if let Cell::Enum(Variants::Large(words)) = cell {
                // At least two words, the last not zero (how many variants
                // the field has is checked by `Table::new`).
                check(
                    words.len() >= 2 && words.last().is_some_and(|&w| w != 0),
                    "an enum cell's variant set is not in its one form",
                )?;
            }
        }
    }
    Ok(())
}

/// Checks a schedule against the schema it is priced with: its amount is a
/// money field, its columns exist, and every cell fits its column's kind.
pub(crate) fn schedule_fields(s: &Schedule, fields: &[FieldSpec]) -> Result<(), ArtifactError> {
    let base = fields
        .get(s.base.get() as usize)
        .ok_or(invalid("a schedule's amount field does not exist"))?;
    check(
        base.kind == FieldKind::Money,
        "a schedule's amount field is not money",
    )?;
    let mut kinds = Vec::with_capacity(s.columns.len());
    for &c in &s.columns {
        kinds.push(
            &fields
                .get(c.get() as usize)
                .ok_or(invalid("a column's field does not exist"))?
                .kind,
        );
    }
    for row in &s.rows {
        for (cell, kind) in row.cells.iter().zip(&kinds) {
            check(cell_fits(cell, kind), "a cell does not fit its column")?;
        }
    }
    Ok(())
}

/// Whether `items` are strictly ascending (so also distinct).
pub(crate) fn ascending<T: PartialOrd>(items: &[T]) -> bool {
    items.iter().zip(items.iter().skip(1)).all(|(a, b)| a < b)
}

/// Whether a value is of a field's kind (an enum's variant in range, an
/// integer whole).
pub(crate) fn value_fits(v: &Value, kind: &FieldKind) -> bool {
    match (v, kind) {
        (Value::Enum(i), FieldKind::Enum(vs)) => (*i as usize) < vs.len(),
        (Value::Num(d), FieldKind::Integer) => d.scale() == 0,
        (Value::Num(_), FieldKind::Money | FieldKind::Decimal) => true,
        (Value::Bool(_), FieldKind::Bool) => true,
        (Value::Str(_), FieldKind::String) => true,
        (Value::Time { .. }, FieldKind::Timestamp) => true,
        _ => false,
    }
}

/// Whether a cell can stand in a column of `kind` (string sets sorted and
/// distinct, enum sets within the variants).
pub(crate) fn cell_fits(cell: &Cell, kind: &FieldKind) -> bool {
    let sorted = |set: &[String]| ascending(set);
    match (cell, kind) {
        (Cell::Any, _) => true,
        (Cell::Enum(set), FieldKind::Enum(vs)) => set.end() <= vs.len(),
        (Cell::Range(_), FieldKind::Money | FieldKind::Decimal | FieldKind::Integer) => true,
        (Cell::Bool(_), FieldKind::Bool) => true,
        (Cell::StrIn(set) | Cell::StrNotIn(set), FieldKind::String) => sorted(set),
        _ => false,
    }
}

/// Checks a fee: rates within 0..=100%, amounts not negative, caps not
/// below their minimums, bands ascending with the last one open.
fn check_fee(f: &FeeFormula) -> Result<(), ArtifactError> {
    let rate_ok = |r: Decimal| r >= Decimal::ZERO && r <= Decimal::ONE;
    check(rate_ok(f.rate), "a rate is outside 0..=100%")?;
    check(f.fixed >= Decimal::ZERO, "a fixed fee is negative")?;
    check(
        f.min.is_none_or(|m| m >= Decimal::ZERO),
        "a minimum is negative",
    )?;
    check(
        f.cap.is_none_or(|c| c >= Decimal::ZERO),
        "a cap is negative",
    )?;
    if let (Some(min), Some(cap)) = (f.min, f.cap) {
        check(cap >= min, "a cap is below its minimum")?;
    }
    check(
        f.total_min.is_none_or(|m| m >= Decimal::ZERO),
        "a total minimum is negative",
    )?;
    check(
        f.total_cap.is_none_or(|c| c >= Decimal::ZERO),
        "a total cap is negative",
    )?;
    if let (Some(min), Some(cap)) = (f.total_min, f.total_cap) {
        check(cap >= min, "a total cap is below its total minimum")?;
    }
    check(
        f.tier_mode.is_some() != f.tiers.is_empty(),
        "tiers and tier mode disagree",
    )?;
    let mut previous: Option<Decimal> = None;
    for (i, b) in f.tiers.iter().enumerate() {
        check(rate_ok(b.rate), "a band's rate is outside 0..=100%")?;
        let last = i + 1 == f.tiers.len();
        match b.up_to {
            None => check(last, "an open band is not the last")?,
            Some(up) => {
                check(!last, "the last band is not open")?;
                check(previous.is_none_or(|p| up > p), "bands are not ascending")?;
                previous = Some(up);
            }
        }
    }
    Ok(())
}
