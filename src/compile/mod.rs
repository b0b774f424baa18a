//! Compiling a checked policy to a decision table ([`tollgate_runtime::table`]).

pub(crate) mod dnf;
pub mod notify;
pub mod print;
pub mod print_notify;
pub(crate) mod rows;

pub use print::print_table;

use crate::diagnostic::{Code, Diagnostic};
use crate::model::{self, Body, FieldKind, Policy};
use rust_decimal::Decimal;
use tollgate_runtime::position::FieldIndex;
use tollgate_runtime::table::{FieldSpec, Hit, Row, Rule, Schedule, Table, MAX_ENUM_VARIANTS};
use tollgate_runtime::value::Value;

/// Overlapping pairs shown per `unique` schedule that [`compile`] refuses.
const OVERLAP_EXAMPLES: usize = 3;

/// The most rows a compiled table (every schedule of a fees policy, or
/// every rule of a notifications policy) may have; beyond it compiling
/// fails (E0403). Rows are counted as conditions are expanded, rule by
/// rule, so a table past the limit is refused before it is built.
pub const MAX_TABLE_ROWS: usize = 131_072;

/// Compiles a checked fees policy.
///
/// # Errors
/// The diagnostics of [`build`], or one per overlap (E0402) when the
/// linter's analysis proves that two rules of a `unique` schedule match
/// one record.
pub(crate) fn compile(policy: &Policy) -> Result<Table, Vec<Diagnostic>> {
    let table = build(policy)?;
    let overlaps = overlap_errors(policy);
    if overlaps.is_empty() {
        Ok(table)
    } else {
        Err(overlaps)
    }
}

/// The overlaps of every `unique` schedule, as errors with a record that
/// both rules match. An overlap found is reported even when the analysis
/// ran out of its budget before checking every pair (the record proves
/// it). A schedule whose analysis found none before it could not go on (a
/// rule too large to expand, or the budget spent) is left to the run-time
/// check.
pub(crate) fn overlap_errors(policy: &Policy) -> Vec<Diagnostic> {
    let Body::Fees(schedules) = &policy.body else {
        return Vec::new();
    };
    let fields = field_specs(policy);
    let mut errors = Vec::new();
    for s in schedules.iter().filter(|s| s.hit == Hit::Unique) {
        let Some((pairs, more, done)) = crate::lint::table::overlaps(s, &fields, OVERLAP_EXAMPLES)
        else {
            continue;
        };
        let shown = pairs.len();
        for (k, ((a, b), record)) in pairs.into_iter().enumerate() {
            let (Some(ra), Some(rb)) = (s.rules.get(a as usize), s.rules.get(b as usize)) else {
                continue;
            };
            let also = match (k + 1 == shown, more, done) {
                (false, _, _) => String::new(),
                (true, 0, Ok(())) => String::new(),
                (true, more, Ok(())) => format!(
                    "; {more} more pairs of rules overlap too (`tollgate lint` lists them all)"
                ),
                (true, 0, Err(_)) => "; the analysis ran out of its budget before it checked every pair of rules, so others may overlap too (`tollgate lint --budget UNITS` looks further)".to_string(),
                (true, more, Err(_)) => format!(
                    "; {more} more pairs of rules overlap too, and the analysis ran out of its budget before it checked every pair, so others may as well (`tollgate lint --budget UNITS` looks further)"
                ),
            };
            errors.push(
                Diagnostic::error(
                    Code::E0402,
                    format!(
                        "rules `{}` and `{}` of unique schedule `{}` both match some records",
                        ra.name, rb.name, s.name
                    ),
                    rb.span,
                    "overlaps",
                )
                .with_label(ra.span, "this rule matches them too")
                .with_help(format!(
                    "for example {record} matches both, and every such record would be an error at run time{also}; make the conditions disjoint, or use `hit first`"
                )),
            );
        }
    }
    errors
}

/// Builds the decision table of a checked fees policy, without proving
/// `unique` schedules disjoint (their overlaps are then errors at run
/// time). [`compile`] is this plus that proof.
///
/// # Errors
/// A diagnostic when the policy is not a fees policy, an enum has more than
/// 64 variants, or a rule's condition expands to too many rows.
pub(crate) fn build(policy: &Policy) -> Result<Table, Vec<Diagnostic>> {
    let Body::Fees(schedules) = &policy.body else {
        let span = policy.fields.first().map(|f| f.span).unwrap_or_default();
        return Err(vec![Diagnostic::error(
            Code::E0401,
            format!("`{}` is a notifications policy; only fee policies compile to a table so far", policy.name),
            span,
            "in this policy",
        )
        .with_help("notification rules are evaluated by the throttling engine, which does not use a decision table")]);
    };
    let types: Vec<FieldKind> = policy.fields.iter().map(|f| f.ty.clone()).collect();
    let mut errors = variant_errors(policy);
    let fields = field_specs(policy);
    let mut out = Vec::with_capacity(schedules.len());
    errors.extend(expand(schedules, &types, |s, rows| {
        out.push(schedule(s, rows)?);
        Ok(())
    }));
    if !errors.is_empty() {
        return Err(errors);
    }
    let span = policy.fields.first().map(|f| f.span).unwrap_or_default();
    Table::new(
        policy.name.clone(),
        policy.version,
        policy.window,
        policy.currency.clone(),
        policy.timezone.clone(),
        fields,
        out,
    )
    .map_err(|e| vec![inconsistent(&e, span)])
}

/// The diagnostic for a table the runtime refuses to build from a checked
/// policy: the checker let through what a table cannot hold, a bug.
pub(crate) fn inconsistent(
    e: &tollgate_runtime::artifact::ArtifactError,
    span: crate::span::Span,
) -> Diagnostic {
    Diagnostic::error(
        Code::E0401,
        format!("internal error: the compiled policy is inconsistent ({e})"),
        span,
        "in this policy",
    )
    .with_help(
        "this is a bug in Tollgate: the checker should have refused the policy; please report it",
    )
}

/// What [`compile`] would refuse in a fees policy, found without building
/// the table (the linter needs the errors, not the index).
///
/// # Errors
/// The diagnostics `compile` would give.
pub(crate) fn validate(policy: &Policy) -> Result<(), Vec<Diagnostic>> {
    let Body::Fees(schedules) = &policy.body else {
        return compile(policy).map(|_| ());
    };
    let types: Vec<FieldKind> = policy.fields.iter().map(|f| f.ty.clone()).collect();
    let mut errors = variant_errors(policy);
    errors.extend(expand(schedules, &types, |_, _| Ok(())));
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Enum fields with more variants than a compiled table can hold.
fn variant_errors(policy: &Policy) -> Vec<Diagnostic> {
    let mut errors = Vec::new();
    for f in &policy.fields {
        if let FieldKind::Enum(vs) = &f.ty {
            if vs.len() > MAX_ENUM_VARIANTS {
                errors.push(
                    Diagnostic::error(
                        Code::E0401,
                        format!(
                            "`{}` has {} variants; a compiled enum has at most {MAX_ENUM_VARIANTS}",
                            f.name,
                            vs.len()
                        ),
                        f.span,
                        "too many variants",
                    )
                    .with_help("split the enum into two fields"),
                );
            }
        }
    }
    errors
}

/// Expands the rules of each schedule to rows, in order, and hands each
/// schedule whose rules all expand to `each`, with its rows rule by rule.
/// Returns the errors: per schedule, its first rule that does not expand
/// (or what `each` refuses); a table past its limit of rows (E0403) stops
/// the expansion.
fn expand(
    schedules: &[model::Schedule],
    types: &[FieldKind],
    mut each: impl FnMut(&model::Schedule, Vec<Vec<dnf::Conj>>) -> Result<(), Diagnostic>,
) -> Vec<Diagnostic> {
    let mut errors = Vec::new();
    let mut total = 0;
    for s in schedules {
        let rows: Result<Vec<_>, _> = s
            .rules
            .iter()
            .map(|r| rows::rule_rows(&r.name, &r.when, types, &mut total))
            .collect();
        if let Err(d) = rows.and_then(|rows| each(s, rows)) {
            let too_many = d.code == Code::E0403;
            errors.push(d);
            if too_many {
                break;
            }
        }
    }
    errors
}

/// One schedule's table from its rules' rows (rule by rule).
fn schedule(s: &model::Schedule, by_rule: Vec<Vec<dnf::Conj>>) -> Result<Schedule, Diagnostic> {
    let mut conjunctions: Vec<dnf::Conj> = Vec::new();
    let mut owners: Vec<u32> = Vec::new();
    let mut rules = Vec::with_capacity(s.rules.len());
    for ((i, r), rows) in s.rules.iter().enumerate().zip(by_rule) {
        owners.extend(std::iter::repeat_n(i as u32, rows.len()));
        conjunctions.extend(rows);
        rules.push(Rule {
            name: r.name.clone(),
            fee: r.fee.clone(),
            otherwise: r.otherwise,
        });
    }
    let rows::Grid { columns, cells } = rows::grid(&conjunctions);
    let rows = owners
        .into_iter()
        .zip(cells)
        .map(|(rule, cells)| Row {
            rule: rule.into(),
            cells,
        })
        .collect();
    Schedule::new(
        s.name.clone(),
        s.hit,
        FieldIndex::new(s.base as u32),
        s.rounding,
        rules,
        columns
            .into_iter()
            .map(|c| FieldIndex::new(c as u32))
            .collect(),
        rows,
    )
    .map_err(|e| inconsistent(&e, s.span))
}

/// The record schema of a checked policy, as the runtime sees it: each
/// field's name, kind, default and whether it takes refunds.
pub(crate) fn field_specs(policy: &Policy) -> Vec<FieldSpec> {
    policy
        .fields
        .iter()
        .map(|f| FieldSpec {
            name: f.name.clone(),
            kind: f.ty.clone(),
            default: f.default.as_ref().map(value),
            refunds: f.refunds,
        })
        .collect()
}

/// The runtime's value for a checked constant.
pub(crate) fn value(v: &model::Constant) -> Value {
    match v {
        model::Constant::Enum(i) => Value::Enum(*i),
        model::Constant::Money(d) | model::Constant::Decimal(d) => Value::Num(*d),
        model::Constant::Integer(i) => Value::Num(Decimal::from(*i)),
        model::Constant::Bool(b) => Value::Bool(*b),
        model::Constant::String(s) => Value::Str(s.clone()),
    }
}
