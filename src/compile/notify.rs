//! Compiling a checked notifications policy for the runtime's decision
//! engine ([`tollgate_runtime::notify`]).

use super::dnf;
use crate::diagnostic::{Code, Diagnostic};
use crate::model::{self, Body, CapAmount, LimitPeriod, Policy, QuietMode};
use tollgate_runtime::notify::{Action, Cap, NotifyPolicy, NotifyRule, Period};
use tollgate_runtime::table::{Cell, FieldSpec};

/// The years a compiled zone covers, both included (UTC): records outside
/// them are refused. The database knows offsets through 2099.
pub const ZONE_YEARS: (i32, i32) = (2000, crate::zone::LAST_YEAR);

/// Compiles a checked notifications policy.
///
/// # Errors
/// A diagnostic when the policy is not a notifications policy, its zone is
/// unknown, or a rule's condition expands to too many rows.
pub fn compile(policy: &Policy) -> Result<NotifyPolicy, Vec<Diagnostic>> {
    let span = policy.fields.first().map(|f| f.span).unwrap_or_default();
    let Body::Notifications(n) = &policy.body else {
        return Err(vec![Diagnostic::error(
            Code::E0401,
            format!(
                "`{}` is a fees policy, not a notifications policy",
                policy.name
            ),
            span,
            "in this policy",
        )]);
    };
    let Some(zone) = crate::zone::build(&policy.timezone, ZONE_YEARS.0, ZONE_YEARS.1) else {
        return Err(vec![Diagnostic::error(
            Code::E0205,
            format!("unknown time zone `{}`", policy.timezone),
            span,
            "in this policy",
        )]);
    };
    let types: Vec<_> = policy.fields.iter().map(|f| f.ty.clone()).collect();
    let mut rules = Vec::with_capacity(n.rules.len());
    let mut total = 0;
    for r in &n.rules {
        let conjunctions = dnf::rows(&r.when, &types).map_err(|_| {
            vec![Diagnostic::error(
                Code::E0401,
                format!(
                    "rule `{}` expands to more than {} rows",
                    r.name,
                    dnf::MAX_ROWS_PER_RULE
                ),
                r.when.span,
                "this condition",
            )]
        })?;
        super::count_rows(&mut total, conjunctions.len(), &r.name, r.when.span)
            .map_err(|d| vec![d])?;
        let mut columns: Vec<usize> = conjunctions
            .iter()
            .flat_map(|c| c.keys().copied())
            .collect();
        columns.sort_unstable();
        columns.dedup();
        let rows = conjunctions
            .iter()
            .map(|c| {
                columns
                    .iter()
                    .map(|f| c.get(f).cloned().unwrap_or(Cell::Any))
                    .collect()
            })
            .collect();
        rules.push(NotifyRule {
            name: r.name.clone(),
            columns: columns.into_iter().map(|c| c as u32).collect(),
            rows,
            action: action(&r.action),
        });
    }
    Ok(NotifyPolicy {
        name: policy.name.clone(),
        version: policy.version,
        fields: policy
            .fields
            .iter()
            .map(|f| FieldSpec {
                name: f.name.clone(),
                kind: f.ty.clone(),
                default: f.default.as_ref().map(super::value),
                refunds: f.refunds,
            })
            .collect(),
        clock: n.clock as u32,
        zone,
        lateness_ms: i64::try_from(n.lateness_secs)
            .unwrap_or(i64::MAX / 1000)
            .saturating_mul(1000),
        message_id: n.message_id.map(|f| f as u32),
        rules,
    })
}

fn keys(k: &[usize]) -> Vec<u32> {
    k.iter().map(|&f| f as u32).collect()
}

fn action(a: &model::Action) -> Action {
    let ms = |secs: u64| {
        i64::try_from(secs)
            .unwrap_or(i64::MAX / 1000)
            .saturating_mul(1000)
    };
    match a {
        model::Action::AlwaysDeliver => Action::AlwaysDeliver,
        model::Action::Suppress { reason } => Action::Suppress {
            reason: reason.clone(),
        },
        model::Action::Dedup {
            keys: k,
            window_secs,
        } => Action::Dedup {
            keys: keys(k),
            window_ms: ms(*window_secs),
        },
        model::Action::Quiet { windows, mode } => Action::Quiet {
            windows: windows.clone(),
            drop: *mode == QuietMode::Drop,
        },
        model::Action::Limit {
            max,
            period,
            keys: k,
        } => Action::Limit {
            cap: match max {
                CapAmount::Fixed(n) => Cap::Fixed(*n),
                CapAmount::Field { field, low, high } => Cap::Field {
                    field: *field as u32,
                    low: *low,
                    high: *high,
                },
            },
            period: match period {
                LimitPeriod::Rolling(secs) => Period::Rolling(ms(*secs)),
                LimitPeriod::CalendarDay => Period::CalendarDay,
            },
            keys: keys(k),
        },
    }
}
