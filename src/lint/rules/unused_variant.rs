//! L0109 `unused-variant`: enum variants no rule selects. Documented in
//! `docs/codes/L0109.md`.

use crate::ast::{self, File, Item};
use crate::diagnostic::{Code, Diagnostic};
use crate::lint::facts::Declarations;
use crate::lint::finding;
use crate::lint::registry::{Check, Lint};
use crate::lint::uses::cond_fields;
use crate::model::Body;
use std::collections::{HashMap, HashSet};
use tollgate_runtime::table::FieldKind;

/// The lint.
pub const LINT: Lint = Lint {
    code: Code::L0109,
    checks: &[Check::Declarations(check)],
};

/// Variants of read enum fields that no rule's cell singles out.
fn check(d: &Declarations<'_>, out: &mut Vec<Diagnostic>) {
    let Declarations {
        file,
        policy,
        spaces,
        read,
        ..
    } = d;
    // Conditions the analyses could not expand select unknown variants.
    let mut unknown = HashSet::new();
    for c in d.undecided {
        cond_fields(c, &mut unknown);
    }
    // Fields a schedule with `otherwise` reads: their unnamed variants take
    // the `otherwise` on purpose.
    let mut fallthrough = HashSet::new();
    if let Body::Fees(schedules) = &policy.body {
        for s in schedules
            .iter()
            .filter(|s| s.rules.iter().any(|r| r.otherwise))
        {
            for r in &s.rules {
                cond_fields(&r.when, &mut fallthrough);
            }
        }
    }
    // Per enum field, the variants some row's cell singles out.
    let mut selected: HashMap<usize, Vec<bool>> = HashMap::new();
    for space in spaces.iter() {
        for (c, axis) in space.axes.iter().enumerate() {
            let Some(&f) = space.fields.get(c) else {
                continue;
            };
            let Some(FieldKind::Enum(variants)) = policy.fields.get(f).map(|x| &x.ty) else {
                continue;
            };
            let marks = selected
                .entry(f)
                .or_insert_with(|| vec![false; variants.len()]);
            for row in &space.rows {
                let Some(cell) = row.get(c) else { continue };
                if cell.is_full(axis) || cell.is_empty(axis) {
                    continue;
                }
                for (v, s) in marks.iter_mut().enumerate() {
                    if cell.contains(v as u32) {
                        *s = true;
                    }
                }
            }
        }
    }
    for (f, field) in policy.fields.iter().enumerate() {
        let FieldKind::Enum(variants) = &field.ty else {
            continue;
        };
        if !read.contains(&f) || fallthrough.contains(&f) || unknown.contains(&f) {
            continue;
        }
        let none = vec![false; variants.len()];
        let selected = selected.get(&f).unwrap_or(&none);
        let spans = variant_spans(file, &field.name);
        for (v, name) in variants.iter().enumerate() {
            if selected.get(v) == Some(&false) {
                out.push(
                    finding(
                        Code::L0109,
                        format!("no rule selects `{name}` of `{}`", field.name),
                        spans.get(v).copied().unwrap_or(field.span),
                        "no rule names it",
                    )
                    .with_help(format!(
                        "records with `{name}` only reach rules that ignore `{}`; add the rule it needs, or allow the lint if the fall-through is meant",
                        field.name
                    )),
                );
            }
        }
    }
}

/// Where each variant of enum field `name` is written.
fn variant_spans(file: &File, name: &str) -> Vec<crate::span::Span> {
    file.items
        .iter()
        .find_map(|i| match i {
            Item::Field(f) if f.name.name == name => match &f.ty {
                ast::TypeExpr::Enum { variants, .. } => {
                    Some(variants.iter().map(|v| v.span).collect())
                }
                ast::TypeExpr::Named(_) => None,
            },
            _ => None,
        })
        .unwrap_or_default()
}
