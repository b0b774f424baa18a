//! The linter: `check`, then the lints of `docs/lints.md`.
//!
//! Table analyses ([`table`]) are exact, on boxes of the input space
//! ([`space`]), within a work [`budget`]; value checks ([`values`], [`notify`]) read the checked
//! policy; token checks ([`tokens`]) read the text. Every finding is a
//! [`Diagnostic`] with an `L` code; its level comes from the lint's
//! default, the file's `lint` lines and the command line, in that order.

pub mod budget;
pub mod example;
mod notify;
mod plausible;
pub mod space;
pub mod table;
pub mod tokens;
mod unused;
mod values;

use crate::diagnostic::codes::Level;
use crate::diagnostic::{Code, Diagnostic, Severity};
use crate::model::{Body, Policy};
use crate::span::Span;
use budget::Budget;
use tollgate_runtime::table::FieldSpec;

/// A finding of lint `code` at its default level (set again by [`apply`]).
pub fn finding(
    code: Code,
    message: impl Into<String>,
    span: Span,
    label: impl Into<String>,
) -> Diagnostic {
    let mut d = Diagnostic::error(code, message, span, label);
    d.severity = severity(code.default_level()).unwrap_or(Severity::Warning);
    d
}

fn severity(level: Level) -> Option<Severity> {
    match level {
        Level::Allow => None,
        Level::Warn => Some(Severity::Warning),
        Level::Deny => Some(Severity::Error),
    }
}

/// Names joined for a message: "`a`", "`a` and `b`", "`a`, `b` and `c`".
pub fn list(names: &[String]) -> String {
    match names {
        [] => "(none)".into(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// The record schema of a checked policy, as the runtime sees it.
pub fn field_specs(policy: &Policy) -> Vec<FieldSpec> {
    policy
        .fields
        .iter()
        .map(|f| FieldSpec {
            name: f.name.clone(),
            kind: f.ty.clone(),
            default: f.default.as_ref().map(crate::compile::value),
            refunds: f.refunds,
        })
        .collect()
}

/// Lints one policy's text: token checks, then the checker's errors if it
/// has any, else every lint. `overrides` are the command line's levels
/// (the last one for a lint wins); they beat the file's `lint` lines. The
/// table analyses spend the file's budget, or the default one.
pub fn lint_source(source: &str, overrides: &[(Code, Level)]) -> Vec<Diagnostic> {
    lint_source_within(source, overrides, None)
}

/// [`lint_source`], with the command line's budget (in work units), which
/// beats the file's `lint budget` line and the default.
pub fn lint_source_within(
    source: &str,
    overrides: &[(Code, Level)],
    budget: Option<u64>,
) -> Vec<Diagnostic> {
    let mut out = tokens::lint(source);
    let file = match crate::syntax::parse(source) {
        Ok(f) => f,
        Err(errors) => {
            out.extend(errors);
            return apply(out, &[], overrides);
        }
    };
    let policy = match crate::check::check(&file) {
        Ok(p) => p,
        Err(errors) => {
            out.extend(errors);
            return apply(out, &[], overrides);
        }
    };
    let settings: Vec<(Code, Level)> = policy.lints.iter().map(|l| (l.code, l.level)).collect();
    // Each schedule (or a notification policy's rules) has the whole
    // budget: one expensive schedule does not hide another's findings.
    let limit = budget
        .or(policy.lint_budget)
        .unwrap_or(budget::DEFAULT_BUDGET);
    let fields = field_specs(&policy);
    let mut spaces = Vec::new();
    let mut undecided = Vec::new();
    match &policy.body {
        Body::Fees(schedules) => match crate::compile::validate(&policy) {
            Ok(()) => {
                for s in schedules {
                    let mut budget = Budget::new(limit);
                    let what = format!("schedule `{}`", s.name);
                    let Ok((space, owners, too_large)) =
                        table::rule_space_within(s, &fields, &mut budget)
                    else {
                        out.push(table::unfinished(&what, s.name_span, &budget));
                        undecided.extend(s.rules.iter().map(|r| &r.when));
                        continue;
                    };
                    if !too_large.is_empty() {
                        // Not reached: `validate` refuses such rules first.
                        for &i in &too_large {
                            if let Some(r) = s.rules.get(i as usize) {
                                out.push(table::undecided(&r.name, r.when.span));
                                undecided.push(&r.when);
                            }
                        }
                        continue;
                    }
                    let (found, done) =
                        table::analyse_within(s, &space, &owners, &fields, &mut budget);
                    table::schedule(s, &space, &found, done.is_ok(), &fields, &mut out);
                    if done.is_err() {
                        out.push(table::unfinished(&what, s.name_span, &budget));
                    }
                    values::schedule(s, &space, &found.rule_rows, &fields, &mut out);
                    spaces.push(space);
                }
            }
            Err(errors) => {
                out.extend(errors);
                return apply(out, &settings, overrides);
            }
        },
        Body::Notifications(n) => {
            if let Err(errors) = crate::compile::notify::compile(&policy) {
                out.extend(errors);
                return apply(out, &settings, overrides);
            }
            let mut budget = Budget::new(limit);
            match notify::rule_space(&policy, n, &mut budget) {
                Ok((space, owners, too_large)) => {
                    let boxes = (&space, owners.as_slice(), too_large.as_slice());
                    notify::lints(
                        &policy,
                        n,
                        Some(boxes),
                        &mut budget,
                        file.name.span,
                        &mut out,
                    );
                    undecided.extend(
                        too_large
                            .iter()
                            .filter_map(|&i| n.rules.get(i as usize).map(|r| &r.when)),
                    );
                    spaces.push(space);
                }
                Err(budget::OutOfBudget) => {
                    notify::lints(&policy, n, None, &mut budget, file.name.span, &mut out);
                    undecided.extend(n.rules.iter().map(|r| &r.when));
                }
            }
        }
    }
    let refs: Vec<&space::Space> = spaces.iter().collect();
    unused::lints(&file, &policy, &refs, &undecided, &mut out);
    apply(out, &settings, overrides)
}

/// Sets each lint finding's severity from its level, dropping allowed ones,
/// and orders everything by position.
fn apply(
    diagnostics: Vec<Diagnostic>,
    file: &[(Code, Level)],
    cli: &[(Code, Level)],
) -> Vec<Diagnostic> {
    let level = |code: Code| {
        let last =
            |set: &[(Code, Level)]| set.iter().rev().find(|(c, _)| *c == code).map(|(_, l)| *l);
        last(cli)
            .or_else(|| last(file))
            .unwrap_or(code.default_level())
    };
    let mut out: Vec<Diagnostic> = diagnostics
        .into_iter()
        .filter_map(|mut d| {
            if d.code.is_lint() {
                d.severity = severity(level(d.code))?;
            }
            Some(d)
        })
        .collect();
    out.sort_by_key(|d| (d.span().start, d.code));
    out
}
