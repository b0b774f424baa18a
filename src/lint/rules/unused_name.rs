//! L0110 `unused-name`: `const` and `condition` declarations nothing
//! refers to. Documented in `docs/codes/L0110.md`.

use crate::ast::{self, Expr, FeeTerm, File, Item, Outcome};
use crate::diagnostic::{Code, Diagnostic};
use crate::lint::facts::Declarations;
use crate::lint::finding;
use crate::lint::registry::{Check, Lint};
use std::collections::HashSet;

/// The lint.
pub const LINT: Lint = Lint {
    code: Code::L0110,
    checks: &[Check::Declarations(check)],
};

fn check(d: &Declarations<'_>, out: &mut Vec<Diagnostic>) {
    let names = referenced_names(d.file);
    for item in &d.file.items {
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
