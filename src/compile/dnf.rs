//! Conditions to rows: a condition becomes a disjunction of conjunctions
//! (each conjunction one row), every literal a constraint on one column.

use crate::ast::CmpOp;
use crate::model::{Cond, CondKind, Constant, FieldKind};
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use tollgate_runtime::table::{Bound, Cell, Interval, Variants};

/// The most rows one rule may expand to; beyond it compiling fails.
pub const MAX_ROWS_PER_RULE: usize = 16_384;

/// A conjunction: field index → the cell it must satisfy. Fields not
/// mentioned admit anything.
pub type Conj = BTreeMap<usize, Cell>;

/// Why a condition could not become rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooManyRows;

/// The rows of `cond` over `fields`: a list of conjunctions, none
/// unsatisfiable. An empty list never matches.
///
/// # Errors
/// [`TooManyRows`] when the expansion exceeds [`MAX_ROWS_PER_RULE`].
pub fn rows(cond: &Cond, fields: &[FieldKind]) -> Result<Vec<Conj>, TooManyRows> {
    dnf(cond, false, fields, MAX_ROWS_PER_RULE)
}

/// The rows of `cond`, as [`rows`], up to `limit` of them.
///
/// # Errors
/// [`TooManyRows`] when the expansion exceeds `limit`.
pub fn rows_within(
    cond: &Cond,
    fields: &[FieldKind],
    limit: usize,
) -> Result<Vec<Conj>, TooManyRows> {
    dnf(cond, false, fields, limit)
}

fn dnf(
    cond: &Cond,
    negate: bool,
    fields: &[FieldKind],
    limit: usize,
) -> Result<Vec<Conj>, TooManyRows> {
    Ok(match &cond.kind {
        CondKind::Const(b) => {
            if *b != negate {
                vec![Conj::new()]
            } else {
                Vec::new()
            }
        }
        CondKind::Not(inner) => dnf(inner, !negate, fields, limit)?,
        CondKind::All(parts) | CondKind::Any(parts) => {
            // Under negation, all becomes any and any becomes all.
            let conjunctive = matches!(cond.kind, CondKind::All(_)) != negate;
            let mut acc: Vec<Conj> = if conjunctive {
                vec![Conj::new()]
            } else {
                Vec::new()
            };
            for p in parts {
                let sub = dnf(p, negate, fields, limit)?;
                if conjunctive {
                    let mut next = Vec::new();
                    for a in &acc {
                        for b in &sub {
                            if let Some(c) = and(a, b) {
                                next.push(c);
                                if next.len() > limit {
                                    return Err(TooManyRows);
                                }
                            }
                        }
                    }
                    acc = next;
                } else {
                    acc.extend(sub);
                    if acc.len() > limit {
                        return Err(TooManyRows);
                    }
                }
            }
            acc
        }
        CondKind::Field(f) => single(*f, Cell::Bool(!negate)),
        CondKind::Compare { field, op, value } => {
            let ty = fields.get(*field);
            compare(*field, ty, *op, value, negate)
        }
        CondKind::In { field, set } => {
            let ty = fields.get(*field);
            member(*field, ty, set, negate)
        }
    })
}

fn single(field: usize, cell: Cell) -> Vec<Conj> {
    let mut c = Conj::new();
    c.insert(field, cell);
    vec![c]
}

fn num(v: &Constant) -> Option<Decimal> {
    match v {
        Constant::Money(d) | Constant::Decimal(d) => Some(*d),
        Constant::Integer(i) => Some(Decimal::from(*i)),
        _ => None,
    }
}

fn range(lo: Bound, hi: Bound) -> Cell {
    Cell::Range(Interval { lo, hi })
}

fn compare(
    field: usize,
    ty: Option<&FieldKind>,
    op: CmpOp,
    value: &Constant,
    negate: bool,
) -> Vec<Conj> {
    let op = if negate {
        match op {
            CmpOp::Eq => CmpOp::Ne,
            CmpOp::Ne => CmpOp::Eq,
            CmpOp::Lt => CmpOp::Ge,
            CmpOp::Le => CmpOp::Gt,
            CmpOp::Gt => CmpOp::Le,
            CmpOp::Ge => CmpOp::Lt,
        }
    } else {
        op
    };
    match (ty, value) {
        (Some(FieldKind::Enum(vs)), Constant::Enum(i)) => {
            let one = Variants::single(*i);
            let set = if op == CmpOp::Eq {
                one
            } else {
                one.complement(vs.len())
            };
            single(field, Cell::Enum(set))
        }
        (Some(FieldKind::Bool), Constant::Bool(b)) => {
            single(field, Cell::Bool((op == CmpOp::Eq) == *b))
        }
        (Some(FieldKind::String), Constant::String(s)) => {
            let set = vec![s.clone()];
            single(
                field,
                if op == CmpOp::Eq {
                    Cell::StrIn(set)
                } else {
                    Cell::StrNotIn(set)
                },
            )
        }
        (_, v) => {
            let Some(d) = num(v) else { return Vec::new() };
            match op {
                CmpOp::Eq => single(field, range(Bound::Incl(d), Bound::Incl(d))),
                CmpOp::Ne => {
                    let mut out = single(field, range(Bound::Unbounded, Bound::Excl(d)));
                    out.extend(single(field, range(Bound::Excl(d), Bound::Unbounded)));
                    out
                }
                CmpOp::Lt => single(field, range(Bound::Unbounded, Bound::Excl(d))),
                CmpOp::Le => single(field, range(Bound::Unbounded, Bound::Incl(d))),
                CmpOp::Gt => single(field, range(Bound::Excl(d), Bound::Unbounded)),
                CmpOp::Ge => single(field, range(Bound::Incl(d), Bound::Unbounded)),
            }
        }
    }
}

fn member(field: usize, ty: Option<&FieldKind>, set: &[Constant], negate: bool) -> Vec<Conj> {
    match ty {
        Some(FieldKind::Enum(vs)) => {
            let mut named = Variants::NONE;
            for v in set {
                if let Constant::Enum(i) = v {
                    named = named.union(&Variants::single(*i));
                }
            }
            if negate {
                named = named.complement(vs.len());
            }
            if named.is_empty() {
                Vec::new()
            } else {
                single(field, Cell::Enum(named))
            }
        }
        Some(FieldKind::Bool) => {
            let has = |b: bool| set.contains(&Constant::Bool(b)) != negate;
            match (has(false), has(true)) {
                (true, true) => vec![Conj::new()],
                (false, false) => Vec::new(),
                (f, _) => single(field, Cell::Bool(!f)),
            }
        }
        Some(FieldKind::String) => {
            let mut strings: Vec<String> = set
                .iter()
                .filter_map(|v| match v {
                    Constant::String(s) => Some(s.clone()),
                    _ => None,
                })
                .collect();
            strings.sort();
            strings.dedup();
            single(
                field,
                if negate {
                    Cell::StrNotIn(strings)
                } else {
                    Cell::StrIn(strings)
                },
            )
        }
        _ => {
            let mut points: Vec<Decimal> = set.iter().filter_map(num).collect();
            points.sort();
            points.dedup();
            if !negate {
                return points
                    .iter()
                    .flat_map(|p| single(field, range(Bound::Incl(*p), Bound::Incl(*p))))
                    .collect();
            }
            // Not in {p1 < p2 < ...}: the gaps between the points.
            let mut out = Vec::with_capacity(points.len() + 1);
            let mut lo = Bound::Unbounded;
            for p in &points {
                out.extend(single(field, range(lo, Bound::Excl(*p))));
                lo = Bound::Excl(*p);
            }
            out.extend(single(field, range(lo, Bound::Unbounded)));
            out
        }
    }
}

/// Both conjunctions at once, or `None` when no record satisfies both.
fn and(a: &Conj, b: &Conj) -> Option<Conj> {
    let mut out = a.clone();
    for (field, cell) in b {
        let merged = match out.get(field) {
            None => cell.clone(),
            Some(existing) => intersect(existing, cell)?,
        };
        out.insert(*field, merged);
    }
    Some(out)
}

/// The cell admitting what both admit, or `None` when that is nothing.
pub fn intersect(a: &Cell, b: &Cell) -> Option<Cell> {
    use Cell::*;
    let cell = match (a, b) {
        (Any, x) | (x, Any) => x.clone(),
        (Enum(x), Enum(y)) => Enum(x.intersect(y)),
        (Range(x), Range(y)) => Range(x.intersect(y)),
        (Bool(x), Bool(y)) if x == y => Bool(*x),
        (Bool(_), Bool(_)) => return None,
        (StrIn(x), StrIn(y)) => StrIn(
            x.iter()
                .filter(|s| y.binary_search(s).is_ok())
                .cloned()
                .collect(),
        ),
        (StrIn(x), StrNotIn(y)) | (StrNotIn(y), StrIn(x)) => StrIn(
            x.iter()
                .filter(|s| y.binary_search(s).is_err())
                .cloned()
                .collect(),
        ),
        (StrNotIn(x), StrNotIn(y)) => {
            let mut all: Vec<String> = x.iter().chain(y).cloned().collect();
            all.sort();
            all.dedup();
            StrNotIn(all)
        }
        _ => return None,
    };
    let empty = match &cell {
        Enum(m) => m.is_empty(),
        Range(iv) => iv.is_empty(),
        StrIn(s) => s.is_empty(),
        _ => false,
    };
    (!empty).then_some(cell)
}
