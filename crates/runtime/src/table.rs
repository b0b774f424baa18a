//! The decision table: what a policy compiles to, and what terminals load.
//!
//! Columns are the fields that conditions read; each row belongs to one rule
//! (rows are in priority order, and an `or` may give a rule several rows);
//! each cell says which values of its column the row admits.

mod validate;

pub(crate) use validate::{
    ascending, cell_fits, check, fields as validate_fields, invalid, window as validate_window,
};

use crate::activation::{Outside, Window};
use crate::artifact::ArtifactError;
use crate::fee::FeeFormula;
use crate::index::Index;
pub use crate::index::Lookup;
use crate::position::{FieldIndex, RuleIndex};
use crate::rounding::Rounding;
use crate::value::Value;
use crate::Decimal;
use alloc::string::String;
use alloc::vec::Vec;
use core::cmp::Ordering;

pub use crate::variants::{Variants, MAX_ENUM_VARIANTS};

/// A compiled fees policy: its schema and schedules, valid by construction.
///
/// A table is made only by [`Table::new`] (or by loading an artifact,
/// which ends there), which checks that every index is in range, every
/// cell fits its column and every fee is well formed. Its parts are read
/// through accessors and cannot be changed afterwards, so the lookup
/// index each schedule builds always answers for the rows it was built
/// from. Clearing a schedule's rows does not compile:
///
/// ```compile_fail,E0616
/// fn clear(table: &mut tollgate_runtime::table::Table) {
///     table.schedules[0].rows.clear(); // private: the index depends on it
/// }
/// ```
///
/// ```compile_fail,E0599
/// fn clear(table: &mut tollgate_runtime::table::Table) {
///     table.schedules_mut()[0].rows.clear(); // no mutable access at all
/// }
/// ```
///
/// What a caller can do is read:
///
/// ```
/// fn rows(table: &tollgate_runtime::table::Table) -> usize {
///     table.schedules().iter().map(|s| s.rows().len()).sum()
/// }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    name: String,
    version: u32,
    window: Window,
    currency: String,
    timezone: String,
    fields: Vec<FieldSpec>,
    /// The field records are placed in time by ([`Table::clock_field`]).
    clock: Option<usize>,
    schedules: Vec<Schedule>,
}

impl Table {
    /// A table of `schedules` over the schema `fields`.
    ///
    /// # Errors
    /// [`ArtifactErrorKind::Invalid`](crate::artifact::ArtifactErrorKind::Invalid)
    /// naming the first thing wrong: an activation window that is empty or
    /// out of range, a field without a name or sharing one,
    /// an enum without variants or with too many, a default of the wrong
    /// kind, a schedule whose amount is not a money field, a column that is
    /// not a field, a cell that does not fit its column.
    pub fn new(
        name: String,
        version: u32,
        window: Window,
        currency: String,
        timezone: String,
        fields: Vec<FieldSpec>,
        schedules: Vec<Schedule>,
    ) -> Result<Table, ArtifactError> {
        validate::window(&window)?;
        validate::fields(&fields)?;
        for s in &schedules {
            validate::schedule_fields(s, &fields)?;
        }
        let mut stamps = fields
            .iter()
            .enumerate()
            .filter(|(_, f)| f.kind == FieldKind::Timestamp)
            .map(|(i, _)| i);
        let clock = match (stamps.next(), stamps.next()) {
            (Some(i), None) => Some(i),
            _ => None,
        };
        Ok(Table {
            name,
            version,
            window,
            currency,
            timezone,
            fields,
            clock,
            schedules,
        })
    }

    /// The policy's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The policy's version.
    pub fn version(&self) -> u32 {
        self.version
    }

    /// When the policy decides records ([`crate::activation`]).
    pub fn window(&self) -> Window {
        self.window
    }

    /// The same table decided within `window` instead (its activation
    /// window is the one part that changes nothing else).
    ///
    /// # Errors
    /// [`ArtifactErrorKind::Invalid`](crate::artifact::ArtifactErrorKind::Invalid)
    /// for a window that is empty or out of range.
    pub fn with_window(mut self, window: Window) -> Result<Table, ArtifactError> {
        validate::window(&window)?;
        self.window = window;
        Ok(self)
    }

    /// ISO 4217 code of every amount.
    pub fn currency(&self) -> &str {
        &self.currency
    }

    /// IANA time zone name.
    pub fn timezone(&self) -> &str {
        &self.timezone
    }

    /// The record schema: a record holds one value per field, in this order.
    pub fn fields(&self) -> &[FieldSpec] {
        &self.fields
    }

    /// The field a record's instant is read from: the schema's `timestamp`
    /// field when it has exactly one. With none or several, records carry
    /// no instant of their own and the caller's instant applies.
    pub fn clock_field(&self) -> Option<usize> {
        self.clock
    }

    /// The instant `record` is priced at (Unix ms): the value of its clock
    /// field when it sets one, else `default` (a record with no instant is
    /// not placed in time, and its window is not checked).
    pub fn instant_of(&self, record: &[Value], default: Option<i64>) -> Option<i64> {
        self.clock
            .and_then(|i| record.get(i))
            .and_then(Value::instant)
            .or(default)
    }

    /// Checks that the activation window holds `record`'s instant
    /// ([`Table::instant_of`]); a record without one passes.
    ///
    /// # Errors
    /// [`Outside`]: the instant is before the window's start or at or
    /// after its end.
    pub fn admit(&self, record: &[Value], default: Option<i64>) -> Result<(), Outside> {
        match self.instant_of(record, default) {
            Some(at) => self.window.admit(at),
            None => Ok(()),
        }
    }

    /// The fee schedules; the fee is the sum of their components.
    pub fn schedules(&self) -> &[Schedule] {
        &self.schedules
    }

    /// Overrides every schedule's lookup: `Some(choice)` builds that one
    /// where possible (a grid or bitsets too large fall back to a scan),
    /// `None` restores the measured default. For benchmarks and tests: all
    /// give the same answers.
    pub fn set_lookup(&mut self, choice: Option<Lookup>) {
        for s in &mut self.schedules {
            s.set_lookup(choice);
        }
    }
}

/// One field of the record schema.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldSpec {
    /// Its name in records.
    pub name: String,
    /// Its type.
    pub kind: FieldKind,
    /// The value when a record leaves it out; `None` if required.
    pub default: Option<Value>,
    /// Whether a money field accepts amounts below zero (refunds); always
    /// false for other kinds.
    pub refunds: bool,
}

/// The type of a field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldKind {
    /// One of these variants.
    Enum(Vec<String>),
    /// Money.
    Money,
    /// A decimal.
    Decimal,
    /// A whole number.
    Integer,
    /// A boolean.
    Bool,
    /// A string key.
    String,
    /// An instant.
    Timestamp,
}

impl FieldKind {
    /// The type's name as written in policies (`enum` for enums).
    pub fn name(&self) -> &'static str {
        match self {
            FieldKind::Enum(_) => "enum",
            FieldKind::Money => "money",
            FieldKind::Decimal => "decimal",
            FieldKind::Integer => "integer",
            FieldKind::Bool => "bool",
            FieldKind::String => "string",
            FieldKind::Timestamp => "timestamp",
        }
    }

    /// Type names that can be written after `field NAME:` (besides `enum {..}`).
    pub const NAMES: [&'static str; 6] =
        ["money", "decimal", "integer", "bool", "string", "timestamp"];
}

/// How a schedule picks among matching rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Hit {
    /// The first matching rule.
    First,
    /// Exactly one rule may match.
    Unique,
}

/// One schedule's table: its rules, and the rows that say which records
/// each rule takes, with the lookup index built from them.
///
/// Made by [`Schedule::new`], which checks the rows against the rules and
/// builds the index; read through accessors.
#[derive(Debug, Clone)]
pub struct Schedule {
    name: String,
    hit: Hit,
    base: FieldIndex,
    rounding: Rounding,
    rules: Vec<Rule>,
    columns: Vec<FieldIndex>,
    rows: Vec<Row>,
    /// The lookup index, built from the rows (not serialized).
    pub(crate) index: Index,
    /// Whether no two rules' rows can match one record, proven when the
    /// table was built (not serialized): a `unique` schedule then needs no
    /// check at run time.
    pub(crate) disjoint: bool,
    /// Per rule, what the fee's fast path needs, precomputed (not serialized).
    pub(crate) fast: Vec<Option<FastFee>>,
}

/// What a flat fee (no tiers, rounded to a power of ten) needs on the hot
/// path, computed once when the table is built.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FastFee {
    /// Bits in the rate's mantissa.
    pub(crate) rate_bits: u32,
    /// The rate's scale.
    pub(crate) rate_scale: u32,
    /// Decimal places to round to.
    pub(crate) dp: u32,
}

impl PartialEq for Schedule {
    fn eq(&self, other: &Schedule) -> bool {
        self.name == other.name
            && self.hit == other.hit
            && self.base == other.base
            && self.rounding == other.rounding
            && self.rules == other.rules
            && self.columns == other.columns
            && self.rows == other.rows
    }
}

impl Schedule {
    /// A schedule named `name` that charges the money field `base` (an
    /// index into the table's fields), rounded as `rounding`; `rules` in
    /// priority order; `columns` the ascending field indexes its rows'
    /// cells read; `rows` in rule order. Its lookup index is built here.
    ///
    /// # Errors
    /// [`ArtifactErrorKind::Invalid`](crate::artifact::ArtifactErrorKind::Invalid)
    /// naming the first thing wrong: a rounding step not positive, an
    /// `otherwise` rule not last, a fee out of range, columns not ascending,
    /// a row of a rule that does not exist, rows out of rule order, a row
    /// with a cell count other than the columns'. (The fields themselves
    /// are checked by [`Table::new`].)
    pub fn new(
        name: String,
        hit: Hit,
        base: FieldIndex,
        rounding: Rounding,
        rules: Vec<Rule>,
        columns: Vec<FieldIndex>,
        rows: Vec<Row>,
    ) -> Result<Schedule, ArtifactError> {
        validate::schedule_shape(&rounding, &rules, &columns, &rows)?;
        let index = Index::build(&rows, columns.len());
        let otherwise = rules
            .iter()
            .position(|r| r.otherwise)
            .map(|i| RuleIndex::new(i as u32));
        let disjoint = hit == Hit::Unique && rules_disjoint(&rows, otherwise);
        let fast = rules
            .iter()
            .map(|r| {
                (r.fee.tier_mode.is_none() && rounding.step.mantissa() == 1).then(|| FastFee {
                    rate_bits: 128 - r.fee.rate.mantissa().unsigned_abs().leading_zeros(),
                    rate_scale: r.fee.rate.scale(),
                    dp: rounding.step.scale(),
                })
            })
            .collect();
        Ok(Schedule {
            name,
            hit,
            base,
            rounding,
            rules,
            columns,
            rows,
            index,
            disjoint,
            fast,
        })
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How rules are picked.
    pub fn hit(&self) -> Hit {
        self.hit
    }

    /// Index of the money field fees are charged on.
    pub fn base(&self) -> FieldIndex {
        self.base
    }

    /// How fees are rounded.
    pub fn rounding(&self) -> Rounding {
        self.rounding
    }

    /// The rules, in priority order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Field index of each column, ascending.
    pub fn columns(&self) -> &[FieldIndex] {
        &self.columns
    }

    /// The rows, in rule order (so in priority order).
    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    /// How lookups find the matching row.
    pub fn lookup(&self) -> Lookup {
        self.index.lookup()
    }

    /// Overrides the lookup: `Some(choice)` builds that one where possible
    /// (a grid or bitsets too large fall back to a scan), `None` restores the
    /// measured default. For benchmarks and tests: all give the same answers.
    fn set_lookup(&mut self, choice: Option<Lookup>) {
        self.index = match choice {
            Some(c) => Index::build_as(&self.rows, self.columns.len(), c),
            None => Index::build(&self.rows, self.columns.len()),
        };
    }
}

/// Above this many rows, rule disjointness is not proven when a table is
/// built (the pairwise proof is quadratic); `unique` is then checked at run
/// time on every record.
pub const MAX_ROWS_FOR_PROOF: usize = 512;

/// Whether rows of different rules never match the same record: for every
/// such pair some column's cells admit no common value. The `otherwise`
/// rule takes only records no other rule matched, so it overlaps nothing.
fn rules_disjoint(rows: &[Row], otherwise: Option<RuleIndex>) -> bool {
    if rows.len() > MAX_ROWS_FOR_PROOF {
        return false;
    }
    let ruled: Vec<&Row> = rows.iter().filter(|r| Some(r.rule) != otherwise).collect();
    ruled.iter().enumerate().all(|(i, a)| {
        ruled
            .iter()
            .skip(i + 1)
            .filter(|b| b.rule != a.rule)
            .all(|b| a.cells.iter().zip(&b.cells).any(|(x, y)| x.disjoint(y)))
    })
}

/// One rule of a schedule.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// Its name.
    pub name: String,
    /// The fee it charges.
    pub fee: FeeFormula,
    /// Whether it is the `otherwise` rule: the default for records no
    /// other rule matches, so under `unique` it never overlaps them.
    pub otherwise: bool,
}

/// One row: a rule and the values it admits in each column.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The schedule's rule it belongs to.
    pub rule: RuleIndex,
    /// One cell per column.
    pub cells: Vec<Cell>,
}

/// The values of one column that a row admits.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Every value.
    Any,
    /// These enum variants.
    Enum(Variants),
    /// Numbers inside an interval.
    Range(Interval),
    /// This boolean.
    Bool(bool),
    /// One of these strings (sorted, distinct).
    StrIn(Vec<String>),
    /// None of these strings (sorted, distinct).
    StrNotIn(Vec<String>),
}

impl Cell {
    /// Whether the cell admits `value`. A value of another type is not admitted.
    #[inline]
    pub fn admits(&self, value: &Value) -> bool {
        match (self, value) {
            (Cell::Any, _) => true,
            (Cell::Enum(set), Value::Enum(v)) => set.contains(*v),
            (Cell::Range(iv), Value::Num(x)) => iv.contains(*x),
            (Cell::Bool(b), Value::Bool(x)) => b == x,
            (Cell::StrIn(set), Value::Str(s)) => set.binary_search(s).is_ok(),
            (Cell::StrNotIn(set), Value::Str(s)) => set.binary_search(s).is_err(),
            _ => false,
        }
    }
}

impl Cell {
    /// Whether no value is admitted by both cells. Exact for cells of one
    /// column; cells of different kinds are never called disjoint.
    pub fn disjoint(&self, other: &Cell) -> bool {
        use Cell::*;
        match (self, other) {
            (Enum(a), Enum(b)) => !a.meets(b),
            (Enum(a), Any) | (Any, Enum(a)) => a.is_empty(),
            (Range(a), Range(b)) => a.intersect(b).is_empty(),
            (Range(a), Any) | (Any, Range(a)) => a.is_empty(),
            (Bool(a), Bool(b)) => a != b,
            (StrIn(a), StrIn(b)) => !a.iter().any(|s| b.binary_search(s).is_ok()),
            (StrIn(a), StrNotIn(b)) | (StrNotIn(b), StrIn(a)) => {
                a.iter().all(|s| b.binary_search(s).is_ok())
            }
            (StrIn(a), Any) | (Any, StrIn(a)) => a.is_empty(),
            _ => false,
        }
    }
}

/// One end of an interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// No bound.
    Unbounded,
    /// The value is included.
    Incl(Decimal),
    /// The value is excluded.
    Excl(Decimal),
}

impl Bound {
    /// The bound's value, if any.
    pub fn value(self) -> Option<Decimal> {
        match self {
            Bound::Unbounded => None,
            Bound::Incl(v) | Bound::Excl(v) => Some(v),
        }
    }
}

/// An interval of numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interval {
    /// Lower end.
    pub lo: Bound,
    /// Upper end.
    pub hi: Bound,
}

impl Interval {
    /// Every number.
    pub const ALL: Interval = Interval {
        lo: Bound::Unbounded,
        hi: Bound::Unbounded,
    };

    /// Whether `x` lies inside.
    #[inline]
    pub fn contains(&self, x: Decimal) -> bool {
        let above = match self.lo {
            Bound::Unbounded => true,
            Bound::Incl(v) => x >= v,
            Bound::Excl(v) => x > v,
        };
        let below = match self.hi {
            Bound::Unbounded => true,
            Bound::Incl(v) => x <= v,
            Bound::Excl(v) => x < v,
        };
        above && below
    }

    /// Whether no number lies inside.
    pub fn is_empty(&self) -> bool {
        match (self.lo, self.hi) {
            (Bound::Unbounded, _) | (_, Bound::Unbounded) => false,
            (Bound::Incl(a), Bound::Incl(b)) => a > b,
            (lo, hi) => match (lo.value(), hi.value()) {
                (Some(a), Some(b)) => a >= b,
                _ => false,
            },
        }
    }

    /// The numbers in both.
    pub fn intersect(&self, other: &Interval) -> Interval {
        Interval {
            lo: tighter(self.lo, other.lo, Ordering::Greater),
            hi: tighter(self.hi, other.hi, Ordering::Less),
        }
    }
}

/// The tighter of two bounds: for a lower bound the greater, for an upper the lesser.
fn tighter(a: Bound, b: Bound, want: Ordering) -> Bound {
    match (a.value(), b.value()) {
        (None, _) => b,
        (_, None) => a,
        (Some(x), Some(y)) => match x.cmp(&y) {
            Ordering::Equal => {
                if matches!(a, Bound::Excl(_)) {
                    a
                } else {
                    b
                }
            }
            o if o == want => a,
            _ => b,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(n: i64) -> Decimal {
        Decimal::from(n)
    }

    #[test]
    fn intervals() {
        let a = Interval {
            lo: Bound::Incl(d(1)),
            hi: Bound::Excl(d(5)),
        };
        let b = Interval {
            lo: Bound::Excl(d(1)),
            hi: Bound::Unbounded,
        };
        let both = a.intersect(&b);
        assert_eq!(
            both,
            Interval {
                lo: Bound::Excl(d(1)),
                hi: Bound::Excl(d(5))
            }
        );
        assert!(!both.contains(d(1)) && both.contains(d(2)) && !both.contains(d(5)));
        assert!(Interval {
            lo: Bound::Incl(d(2)),
            hi: Bound::Excl(d(2))
        }
        .is_empty());
        assert!(!Interval {
            lo: Bound::Incl(d(2)),
            hi: Bound::Incl(d(2))
        }
        .is_empty());
        assert!(!Interval::ALL.is_empty());
    }
}
