//! The linter: `check`, then the lints of `docs/lints.md`.
//!
//! Every lint is a unit of [`rules`], listed in [`registry`]; each runs
//! where its [`Check`] says, on the [`facts`] of a text, a fee schedule, a
//! notifications policy's rules or a policy's declarations. The table
//! analyses behind them are exact, on boxes of the input space
//! ([`space`], [`table`]), within a work [`budget`]. Every finding is a
//! [`Diagnostic`] with an `L` code; its level comes from the lint's
//! default, the file's `lint` lines and the command line, in that order.

pub mod budget;
pub mod example;
pub mod facts;
pub mod notify;
pub mod ranges;
pub mod registry;
pub mod rules;
pub mod space;
pub mod table;
pub mod tokens;
pub mod uses;

use crate::ast::File;
use crate::compile::field_specs;
use crate::diagnostic::codes::Level;
use crate::diagnostic::{Code, Diagnostic, Severity};
use crate::model::{Body, Cond, Notifications, Policy, Schedule};
use crate::pipeline::{self, Goal, Options, Stages};
use crate::span::Span;
use budget::{Budget, OutOfBudget};
use facts::{Declarations, RuleFacts, ScheduleFacts, Text};
use registry::Check;
use rules::undecided;
use space::Space;
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

/// Lints one policy's text: the lints of the text, then the checker's
/// errors if it has any, else every lint. `overrides` are the command
/// line's levels (the last one for a lint wins); they beat the file's
/// `lint` lines. The table analyses spend the file's budget, or the
/// default one.
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
    let mut out = Vec::new();
    let text = Text::new(source);
    for check in registry::checks() {
        if let Check::Text(run) = check {
            run(&text, &mut out);
        }
    }
    let Stages {
        file,
        policy,
        diagnostics,
        ..
    } = pipeline::run(source, &Options::default(), Goal::Validate);
    let settings: Vec<(Code, Level)> = policy
        .iter()
        .flat_map(|p| p.lints.iter().map(|l| (l.code, l.level)))
        .collect();
    let (Some(file), Some(policy), true) = (file, policy, diagnostics.is_empty()) else {
        // The file's `lint` lines hold once it checks.
        out.extend(diagnostics);
        return apply(out, &settings, overrides);
    };
    // Each schedule (or a notification policy's rules) has the whole
    // budget: one expensive schedule does not hide another's findings.
    let limit = budget
        .or(policy.lint_budget)
        .unwrap_or(budget::DEFAULT_BUDGET);
    let mut analysed = Analysed::default();
    match &policy.body {
        Body::Fees(schedules) => {
            let fields = field_specs(&policy);
            let dp = crate::currency::display_decimals(&policy.currency);
            for s in schedules {
                let mut budget = Budget::new(limit);
                schedule(s, &fields, dp, &mut budget, &mut analysed, &mut out);
            }
        }
        Body::Notifications(n) => {
            let mut budget = Budget::new(limit);
            let span = file.name.span;
            notifications(&policy, n, &mut budget, span, &mut analysed, &mut out);
        }
    }
    declarations(&file, &policy, &analysed, &mut out);
    apply(out, &settings, overrides)
}

/// What the analyses of a policy's rules leave for the lints of its
/// declarations.
#[derive(Default)]
struct Analysed<'a> {
    /// The rules of each schedule (or the notification rules) as boxes.
    spaces: Vec<Space>,
    /// The conditions the analyses could not expand.
    undecided: Vec<&'a Cond>,
}

/// The lints of fee schedule `s` (amounts written with `dp` decimals),
/// within `budget`; what they analysed joins `analysed`.
fn schedule<'a>(
    s: &'a Schedule,
    fields: &[FieldSpec],
    dp: u32,
    budget: &mut Budget,
    analysed: &mut Analysed<'a>,
    out: &mut Vec<Diagnostic>,
) {
    let what = format!("schedule `{}`", s.name);
    let Ok((space, owners, too_large)) = table::rule_space_within(s, fields, budget) else {
        out.push(undecided::unfinished(&what, s.name_span, budget));
        analysed.undecided.extend(s.rules.iter().map(|r| &r.when));
        return;
    };
    if !too_large.is_empty() {
        // Not reached: `validate` refuses such rules first.
        for &i in &too_large {
            if let Some(r) = s.rules.get(i as usize) {
                out.push(undecided::rule_too_large(&r.name, r.when.span));
                analysed.undecided.push(&r.when);
            }
        }
        return;
    }
    let (found, done) = table::analyse_within(s, &space, &owners, fields, budget);
    if done.is_err() {
        out.push(undecided::unfinished(&what, s.name_span, budget));
    }
    let facts = ScheduleFacts::new(s, &space, &found, done.is_ok(), fields, dp);
    for check in registry::checks() {
        if let Check::Schedule(run) = check {
            run(&facts, out);
        }
    }
    analysed.spaces.push(space);
}

/// The lints of notifications policy `policy`'s rules `n`, within
/// `budget`; `span` is where a finding about all of them goes. What they
/// analysed joins `analysed`.
fn notifications<'a>(
    policy: &Policy,
    n: &'a Notifications,
    budget: &mut Budget,
    span: Span,
    analysed: &mut Analysed<'a>,
    out: &mut Vec<Diagnostic>,
) {
    let built = notify::rule_space(policy, n, budget);
    let boxes = built
        .as_ref()
        .ok()
        .map(|(space, owners, too_large)| (space, owners.as_slice(), too_large.as_slice()));
    let facts = RuleFacts::new(policy, n, boxes);
    if let Some((_, _, too_large)) = boxes {
        for r in too_large.iter().filter_map(|&i| n.rules.get(i as usize)) {
            out.push(undecided::rule_too_large(&r.name, r.when.span));
            analysed.undecided.push(&r.when);
        }
    } else {
        analysed.undecided.extend(n.rules.iter().map(|r| &r.when));
    }
    for check in registry::checks() {
        if let Check::Rules(run) = check {
            run(&facts, out);
        }
    }
    // The budgeted checks run while the budget lasts; without boxes, the
    // budget ran out before any could.
    let mut done = if boxes.is_some() {
        Ok(())
    } else {
        Err(OutOfBudget)
    };
    for check in registry::checks() {
        if let (Check::RulesWithin(run), Ok(())) = (check, done) {
            done = run(&facts, budget, out);
        }
    }
    if done.is_err() {
        out.push(undecided::unfinished(
            "the notification rules",
            span,
            budget,
        ));
    }
    if let Ok((space, _, _)) = built {
        analysed.spaces.push(space);
    }
}

/// The lints of `file`'s declarations, checked as `policy`, after the
/// analyses of its rules.
fn declarations(file: &File, policy: &Policy, analysed: &Analysed<'_>, out: &mut Vec<Diagnostic>) {
    let refs: Vec<&Space> = analysed.spaces.iter().collect();
    let facts = Declarations::new(file, policy, &refs, &analysed.undecided);
    for check in registry::checks() {
        if let Check::Declarations(run) = check {
            run(&facts, out);
        }
    }
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
