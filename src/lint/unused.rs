//! Declarations nothing uses: fields no rule reads, enum variants no rule
//! selects, constants and named conditions never referred to.

use super::finding;
use super::space::Space;
use crate::ast::{self, Expr, FeeTerm, File, Item, Outcome};
use crate::diagnostic::{Code, Diagnostic};
use crate::model::{Action, Body, CapAmount, Cond, CondKind, Policy};
use std::collections::{HashMap, HashSet};
use tollgate_runtime::table::FieldKind;

/// The unused-declaration lints of a checked policy whose rules are
/// `spaces` (one per schedule, or the notification rules').
///
/// `undecided` are conditions the table analyses could not expand: the
/// variants they select are unknown, so no variant of a field they read
/// is reported as selected by no rule.
pub fn lints(
    file: &File,
    policy: &Policy,
    spaces: &[&Space],
    undecided: &[&Cond],
    out: &mut Vec<Diagnostic>,
) {
    let names = referenced_names(file);
    for item in &file.items {
        let (id, what) = match item {
            Item::Const(c) => (&c.name, "constant"),
            Item::Condition(c) => (&c.name, "condition"),
            _ => continue,
        };
        if !names.contains(id.name.as_str()) {
            out.push(
                finding(
                    Code::L0110,
                    format!("{what} `{}` is never used", id.name),
                    id.span,
                    "declared here, used nowhere",
                )
                .with_help("delete it, or use it where it was meant to be"),
            );
        }
    }
    let read = fields_read(policy, file);
    for (i, f) in policy.fields.iter().enumerate() {
        if !read.contains(&i) {
            out.push(
                finding(
                    Code::L0108,
                    format!("field `{}` is read by no rule", f.name),
                    f.span,
                    "never read",
                )
                .with_help(
                    "remove it from the schema, or add the condition that was meant to read it",
                ),
            );
        }
    }
    let mut unknown = HashSet::new();
    for c in undecided {
        cond_fields(c, &mut unknown);
    }
    unselected_variants(file, policy, spaces, &read, &unknown, out);
}

/// Every name written where a value or condition is expected.
fn referenced_names(file: &File) -> HashSet<&str> {
    let mut names = HashSet::new();
    collect_items(file, &mut names);
    names
}

fn collect_items<'a>(file: &'a File, names: &mut HashSet<&'a str>) {
    for item in &file.items {
        match item {
            Item::Const(c) => value(&c.value, names),
            Item::Condition(c) => expr(&c.expr, names),
            Item::Field(f) => {
                if let Some(v) = &f.default {
                    value(v, names);
                }
            }
            Item::Rounding(r) => {
                if let Some(v) = &r.step {
                    value(v, names);
                }
            }
            Item::Schedule(s) => {
                for r in &s.roundings {
                    if let Some(v) = &r.step {
                        value(v, names);
                    }
                }
                for e in &s.expects {
                    value(&e.low, names);
                    value(&e.high, names);
                    if let Some(x) = &e.when {
                        expr(x, names);
                    }
                }
                for r in &s.rules {
                    rule(r, names);
                }
            }
            Item::Rule(r) => rule(r, names),
            _ => {}
        }
    }
}

fn rule<'a>(r: &'a ast::RuleDecl, names: &mut HashSet<&'a str>) {
    if let Some(x) = &r.when {
        expr(x, names);
    }
    match &r.outcome {
        Outcome::Fee(f) => {
            for t in &f.terms {
                match t {
                    FeeTerm::Operand { value: v, .. } => value(v, names),
                    FeeTerm::Tiered(t) => {
                        for b in &t.bands {
                            if let Some(v) = &b.up_to {
                                value(v, names);
                            }
                            value(&b.rate, names);
                        }
                    }
                }
            }
            for b in &f.bounds {
                value(&b.value, names);
            }
        }
        Outcome::Action(a) => match a {
            ast::Action::AlwaysDeliver(_) => {}
            ast::Action::Suppress { reason, .. } => value(reason, names),
            ast::Action::Dedup { within, .. } => value(within, names),
            ast::Action::Quiet { windows, .. } => {
                for (a, b) in windows {
                    value(a, names);
                    value(b, names);
                }
            }
            ast::Action::Limit {
                max,
                bounds,
                period,
                ..
            } => {
                value(max, names);
                if let Some((a, b)) = bounds {
                    value(a, names);
                    value(b, names);
                }
                if let ast::Period::Rolling(v) = period {
                    value(v, names);
                }
            }
        },
    }
}

fn value<'a>(v: &'a ast::Operand, names: &mut HashSet<&'a str>) {
    if let ast::Operand::Name(id) = v {
        names.insert(&id.name);
    }
}

fn expr<'a>(e: &'a Expr, names: &mut HashSet<&'a str>) {
    match e {
        Expr::Or(xs, _) | Expr::And(xs, _) => xs.iter().for_each(|x| expr(x, names)),
        Expr::Not(x, _) => expr(x, names),
        Expr::Compare { left, right, .. } => {
            value(left, names);
            value(right, names);
        }
        Expr::Member { value: v, set, .. } => {
            value(v, names);
            set.iter().for_each(|x| value(x, names));
        }
        Expr::Between {
            value: v,
            low,
            high,
            ..
        } => {
            value(v, names);
            value(low, names);
            value(high, names);
        }
        Expr::Bool(..) => {}
        Expr::Name(id) => {
            names.insert(&id.name);
        }
    }
}

/// Fields read by a condition, a fee, a key, a cap, the clock or the
/// message id.
fn fields_read(policy: &Policy, file: &File) -> HashSet<usize> {
    let mut read = HashSet::new();
    let index = |name: &str| policy.fields.iter().position(|f| f.name == name);
    match &policy.body {
        Body::Fees(schedules) => {
            for s in schedules {
                read.insert(s.base);
                for r in &s.rules {
                    cond_fields(&r.when, &mut read);
                }
                for e in &s.expects {
                    cond_fields(&e.when, &mut read);
                }
            }
        }
        Body::Notifications(n) => {
            read.insert(n.clock);
            read.extend(n.message_id);
            for r in &n.rules {
                cond_fields(&r.when, &mut read);
                match &r.action {
                    Action::Dedup { keys, .. } => read.extend(keys.iter().copied()),
                    Action::Limit { keys, max, .. } => {
                        read.extend(keys.iter().copied());
                        if let CapAmount::Field { field, .. } = max {
                            read.insert(*field);
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    // `RATE of FIELD` terms.
    for item in &file.items {
        let Item::Schedule(s) = item else { continue };
        for r in &s.rules {
            if let Outcome::Fee(f) = &r.outcome {
                for t in &f.terms {
                    if let FeeTerm::Operand { of: Some(id), .. } = t {
                        read.extend(index(&id.name));
                    }
                }
            }
        }
    }
    read
}

fn cond_fields(c: &Cond, read: &mut HashSet<usize>) {
    match &c.kind {
        CondKind::Const(_) => {}
        CondKind::Field(f) | CondKind::Compare { field: f, .. } | CondKind::In { field: f, .. } => {
            read.insert(*f);
        }
        CondKind::Not(x) => cond_fields(x, read),
        CondKind::All(xs) | CondKind::Any(xs) => xs.iter().for_each(|x| cond_fields(x, read)),
    }
}

/// Variants of read enum fields that no rule's cell singles out.
fn unselected_variants(
    file: &File,
    policy: &Policy,
    spaces: &[&Space],
    read: &HashSet<usize>,
    unknown: &HashSet<usize>,
    out: &mut Vec<Diagnostic>,
) {
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
    for space in spaces {
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
