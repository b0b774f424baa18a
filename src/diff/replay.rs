//! Replaying a history of real records through both versions of a fees
//! policy: per group of the `--by` fields' values, how many records
//! change, the old and the new total, the ten largest changes, and the
//! lines each version refuses. Sums are exact; overflow is an error.

use super::history::{self, Entry};
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::io::BufRead;
use tollgate_runtime::exact;
use tollgate_runtime::table::{FieldSpec, Table};

/// How many of the largest changes are kept.
pub const LARGEST: usize = 10;

/// The sums of one group (or of the whole history).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sums {
    /// Records read.
    pub records: u64,
    /// Records whose fee changes, or that one version prices and the other
    /// refuses.
    pub changed: u64,
    /// Records the old version refuses.
    pub old_errors: u64,
    /// Records the new version refuses.
    pub new_errors: u64,
    /// The fees the old version charges (on the records it prices).
    pub old: Decimal,
    /// The fees the new version charges (on the records it prices).
    pub new: Decimal,
}

impl Sums {
    /// `new - old`.
    ///
    /// # Errors
    /// When the difference overflows.
    pub fn difference(&self) -> Result<Decimal, ReplayError> {
        sub(self.new, self.old)
    }
}

/// One record whose fee changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changed {
    /// Its line number (from 1).
    pub line: u64,
    /// The record as read.
    pub record: String,
    /// The old fee.
    pub old: Decimal,
    /// The new fee.
    pub new: Decimal,
    /// `new - old`.
    pub change: Decimal,
}

/// The first line a version refused, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirstError {
    /// Its line number.
    pub line: u64,
    /// The message `tollgate eval` gives.
    pub message: String,
}

/// What the replay found.
#[derive(Debug, Clone, Default)]
pub struct Replay {
    /// The fields records are grouped by.
    pub by: Vec<String>,
    /// Over the whole history.
    pub total: Sums,
    /// Per group: the `by` fields' values, in the order of `by`.
    pub groups: BTreeMap<Vec<String>, Sums>,
    /// The largest changes, largest first (by size, either way; ties by
    /// line).
    pub largest: Vec<Changed>,
    /// The change (`new - old`) of every record both versions price whose
    /// fee changes, in the history's order (for the distribution chart).
    pub changes: Vec<Decimal>,
    /// The first line each version refused (old, new).
    pub first_error: (Option<FirstError>, Option<FirstError>),
}

/// Why a replay could not be done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayError(pub String);

impl std::fmt::Display for ReplayError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// `b - a`, exactly, with no negative zero.
fn sub(b: Decimal, a: Decimal) -> Result<Decimal, ReplayError> {
    let mut d = exact::sub(b, a).map_err(|_| overflow())?;
    if d.is_zero() {
        d.set_sign_positive(true);
    }
    Ok(d)
}

fn overflow() -> ReplayError {
    ReplayError("the sum of the fees overflows".to_string())
}

/// Checks the `--by` fields: each must be a field of one of the versions.
///
/// # Errors
/// The first field neither version declares, with a suggestion.
pub fn check_by(by: &[String], old: &[FieldSpec], new: &[FieldSpec]) -> Result<(), ReplayError> {
    for f in by {
        if old.iter().chain(new).any(|x| &x.name == f) {
            continue;
        }
        let mut names: Vec<&str> = new.iter().map(|x| x.name.as_str()).collect();
        for x in old {
            if !names.contains(&x.name.as_str()) {
                names.push(&x.name);
            }
        }
        let hint = match crate::check::suggest::closest(f, names.iter().copied()) {
            Some(s) => format!(" (did you mean `{s}`?)"),
            None => format!("; the policy's fields are {}", names.join(", ")),
        };
        return Err(ReplayError(format!(
            "--by {f}: no version of the policy has a field `{f}`{hint}"
        )));
    }
    Ok(())
}

/// The spec of field `name` in either version (the new one's first).
pub fn spec<'a>(name: &str, old: &'a [FieldSpec], new: &'a [FieldSpec]) -> Option<&'a FieldSpec> {
    new.iter().chain(old).find(|f| f.name == name)
}

/// Replays `input` through `old` and `new`, grouped by `by`.
///
/// # Errors
/// When reading fails or a sum overflows.
pub fn replay(
    old: &Table,
    new: &Table,
    input: Box<dyn BufRead>,
    kind: history::Kind,
    by: &[String],
) -> Result<Replay, ReplayError> {
    let mut r = Replay {
        by: by.to_vec(),
        ..Replay::default()
    };
    let mut failed: Option<ReplayError> = None;
    let mut each = |e: Entry| -> Result<(), String> {
        if let Err(err) = one(&mut r, old, new, e) {
            let message = err.0.clone();
            failed = Some(err);
            return Err(message);
        }
        Ok(())
    };
    let read = history::read(input, kind, &mut each);
    if let Some(e) = failed {
        return Err(e);
    }
    read.map_err(ReplayError)?;
    Ok(r)
}

/// Prices one record with both versions and adds it up.
fn one(r: &mut Replay, old: &Table, new: &Table, e: Entry) -> Result<(), ReplayError> {
    let price = |t: &Table| -> Result<Decimal, String> {
        let record = e.typed(t.fields())?;
        t.total(&record)
            .map_err(|err| crate::cli::eval::describe_error(t, &err))
    };
    let (a, b) = (price(old), price(new));
    for (result, first) in [(&a, &mut r.first_error.0), (&b, &mut r.first_error.1)] {
        if let (Err(message), None) = (result, &first) {
            *first = Some(FirstError {
                line: e.line,
                message: message.clone(),
            });
        }
    }
    let key: Vec<String> =
        r.by.iter()
            .map(|f| e.group_value(f, spec(f, old.fields(), new.fields())))
            .collect();
    let (a, b) = (a.ok(), b.ok());
    add(&mut r.total, a, b)?;
    add(r.groups.entry(key).or_default(), a, b)?;
    if let (Some(a), Some(b)) = (a, b) {
        if a != b {
            let change = sub(b, a)?;
            r.changes.push(change);
            keep_largest(
                &mut r.largest,
                Changed {
                    line: e.line,
                    record: e.text,
                    old: a,
                    new: b,
                    change,
                },
            );
        }
    }
    Ok(())
}

/// Adds one record's fees (`None`: the version refuses it) to `s`.
fn add(s: &mut Sums, a: Option<Decimal>, b: Option<Decimal>) -> Result<(), ReplayError> {
    s.records += 1;
    s.changed += u64::from(a != b);
    s.old_errors += u64::from(a.is_none());
    s.new_errors += u64::from(b.is_none());
    if let Some(a) = a {
        s.old = exact::add(s.old, a).map_err(|_| overflow())?;
    }
    if let Some(b) = b {
        s.new = exact::add(s.new, b).map_err(|_| overflow())?;
    }
    Ok(())
}

/// Inserts `c` into `largest` (sorted by the size of the change, largest
/// first, then by line) and keeps [`LARGEST`].
fn keep_largest(largest: &mut Vec<Changed>, c: Changed) {
    let pos = largest
        .iter()
        .position(|x| x.change.abs() < c.change.abs())
        .unwrap_or(largest.len());
    if pos < LARGEST {
        largest.insert(pos, c);
        largest.truncate(LARGEST);
    }
}
