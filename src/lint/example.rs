//! Concrete records for findings: every gap, overlap and shadowed rule is
//! shown with an input a product team can paste into `tollgate eval`.

use super::space::{Axis, Piece, Region, Seg, SegCell, Space};
use rust_decimal::Decimal;
use serde_json::{Map, Value as Json};
use tollgate_runtime::table::{FieldKind, FieldSpec};

/// A value of one segment of `axis`.
pub fn segment_value(axis: &Axis, seg: u32, kind: &FieldKind) -> Json {
    match axis {
        Axis::Range { segs, integer } => {
            let v = match segs.get(seg as usize) {
                Some(Seg::Point(p)) => *p,
                Some(Seg::Open(lo, hi)) => inside(*lo, *hi, *integer),
                None => Decimal::ZERO,
            };
            number(v, kind)
        }
        Axis::Set { names, other } => {
            let last = names.len().saturating_sub(1);
            match kind {
                FieldKind::Bool => Json::Bool(seg == 1),
                FieldKind::Enum(vs) => vs
                    .get(seg as usize)
                    .map_or(Json::Null, |v| Json::String(v.clone())),
                _ if *other && seg as usize == last => Json::String(fresh(names)),
                _ => names
                    .get(seg as usize)
                    .map_or(Json::Null, |v| Json::String(v.clone())),
            }
        }
    }
}

/// A number strictly between `lo` and `hi`, as round as possible: one unit
/// past the lower bound (a cent, or 1 for integers), else the midpoint.
fn inside(lo: Option<Decimal>, hi: Option<Decimal>, integer: bool) -> Decimal {
    let unit = |v: Decimal| {
        if integer {
            Decimal::ONE
        } else {
            // One step of the finer of the value's own places and cents.
            Decimal::new(1, v.scale().max(2))
        }
    };
    match (lo, hi) {
        (None, None) => Decimal::from(100),
        (Some(a), None) => a.checked_add(unit(a)).unwrap_or(a),
        (None, Some(b)) => b.checked_sub(unit(b)).unwrap_or(b),
        (Some(a), Some(b)) => {
            let step = a.checked_add(unit(a)).unwrap_or(a);
            if step < b {
                step
            } else {
                a.checked_add(b)
                    .and_then(|s| s.checked_div(Decimal::TWO))
                    .unwrap_or(a)
            }
        }
    }
}

/// A string none of `names` is.
fn fresh(names: &[String]) -> String {
    let mut s = String::from("other");
    let mut n = 1;
    while names.contains(&s) {
        n += 1;
        s = format!("other{n}");
    }
    s
}

fn number(v: Decimal, kind: &FieldKind) -> Json {
    match kind {
        FieldKind::Integer => i64::try_from(v.trunc().mantissa())
            .ok()
            .filter(|_| v.trunc().scale() == 0)
            .map_or_else(|| Json::String(v.to_string()), |n| Json::Number(n.into())),
        _ => Json::String(super::space::show(v, kind)),
    }
}

/// A value for a field no finding constrains: its default if it has one,
/// else a plain value of its type.
fn plain(field: &FieldSpec) -> Option<Json> {
    if field.default.is_some() {
        return None;
    }
    Some(match &field.kind {
        FieldKind::Enum(vs) => vs.first().map_or(Json::Null, |v| Json::String(v.clone())),
        FieldKind::Money | FieldKind::Decimal => Json::String("100.00".into()),
        FieldKind::Integer => Json::Number(0.into()),
        FieldKind::Bool => Json::Bool(false),
        FieldKind::String => Json::String("x".into()),
        FieldKind::Timestamp => Json::String("2026-11-25T12:00:00+08:00".into()),
    })
}

/// A record inside `region` and, where the region leaves a column free,
/// inside row `within` (when given): one JSON object, fields in schema
/// order.
pub fn record(
    space: &Space,
    region: Region<'_>,
    within: Option<u32>,
    fields: &[FieldSpec],
) -> String {
    let mut map = Map::new();
    for (i, f) in fields.iter().enumerate() {
        let column = space.fields.iter().position(|&x| x == i);
        let value = column.and_then(|c| {
            let axis = space.axes.get(c)?;
            let seg = match region.piece(c) {
                Some(p) => p.first(),
                None => within
                    .and_then(|r| space.rows.get(r as usize))
                    .and_then(|cells| cells.get(c))
                    .and_then(|cell| cell.first(axis)),
            };
            seg.map(|s| segment_value(axis, s, &f.kind))
        });
        if let Some(v) = value.or_else(|| plain(f)) {
            map.insert(f.name.clone(), v);
        }
    }
    Json::Object(map).to_string()
}

/// A record inside both rows `a` and `b` of `space` (which must meet).
pub fn record_in_both(space: &Space, a: u32, b: u32, fields: &[FieldSpec]) -> String {
    let (Some(x), Some(y)) = (space.rows.get(a as usize), space.rows.get(b as usize)) else {
        return String::from("{}");
    };
    let pieces: Vec<Piece> = x
        .iter()
        .zip(y)
        .zip(&space.axes)
        .map(|((p, q), axis)| Piece::Ids(common(p, q, axis).into_iter().collect()))
        .collect();
    let columns: Vec<usize> = (0..pieces.len()).collect();
    record(
        space,
        Region {
            columns: &columns,
            pieces: &pieces,
        },
        None,
        fields,
    )
}

/// A segment both cells admit.
fn common(p: &SegCell, q: &SegCell, axis: &Axis) -> Option<u32> {
    use SegCell::*;
    match (p, q) {
        (Span(a, b), Span(c, d)) => Some(*a.max(c)).filter(|s| s < b.min(d)),
        (Only(ids), other) | (other, Only(ids)) => ids.iter().copied().find(|&s| other.contains(s)),
        // Few exclusions: a segment past them, or a gap between them.
        _ => (0..axis.len() as u32).find(|&s| p.contains(s) && q.contains(s)),
    }
}
