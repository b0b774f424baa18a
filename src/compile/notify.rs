//! Compiling a checked notifications policy for the runtime's decision
//! engine ([`tollgate_runtime::notify`]).

use crate::diagnostic::{Code, Diagnostic};
use crate::model::{self, Body, CapAmount, LimitPeriod, Policy, QuietMode};
use tollgate_runtime::notify::{Action, Cap, NotifyParts, NotifyPolicy, NotifyRule, Period};

/// The years a compiled zone covers by default, both included (UTC):
/// records outside them are refused. The database knows offsets from 2000
/// (the first year a span may name) through 2099; `tollgate compile
/// --zone-years A..B` chooses a shorter span.
pub const ZONE_YEARS: (i32, i32) = (FIRST_YEAR, crate::tzdb::LAST_YEAR);

/// The first year a zone's span may start.
pub const FIRST_YEAR: i32 = 2000;

/// Parses a span of years as `--zone-years` writes it, `A..B` (both
/// included), within [`ZONE_YEARS`].
///
/// # Errors
/// A sentence saying what is wrong with the text.
pub fn parse_zone_years(text: &str) -> Result<(i32, i32), String> {
    let (first, last) = ZONE_YEARS;
    let Some((a, b)) = text.split_once("..") else {
        return Err(format!(
            "`{text}` is not a span of years: write FIRST..LAST, both included, e.g. 2026..2035"
        ));
    };
    let year = |s: &str| {
        if s.is_empty() {
            return Err(format!(
                "`{text}` lacks a year: write FIRST..LAST, both included, e.g. 2026..2035"
            ));
        }
        let digits = s.len() == 4 && s.bytes().all(|c| c.is_ascii_digit());
        digits
            .then(|| s.parse::<i32>().ok())
            .flatten()
            .ok_or_else(|| format!("`{s}` in `{text}` is not a year (four digits, e.g. 2026)"))
    };
    let (a, b) = (year(a)?, year(b)?);
    if b < a {
        return Err(format!(
            "the span {a}..{b} ends before it starts: write the first year first"
        ));
    }
    if a < first || b > last {
        return Err(format!(
            "the span {a}..{b} reaches outside {first}..{last}, the years the time zone database covers"
        ));
    }
    Ok((a, b))
}

/// Compiles a checked notifications policy, its zone built for the years
/// `first..=last` (UTC, [`ZONE_YEARS`] by default); see
/// [`parse_zone_years`] for the spans allowed.
///
/// # Errors
/// A diagnostic when the policy is not a notifications policy, its zone is
/// unknown, or a rule's condition expands to too many rows.
pub(crate) fn compile_for_years(
    policy: &Policy,
    (first, last): (i32, i32),
) -> Result<NotifyPolicy, Vec<Diagnostic>> {
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
    let Some(zone) = crate::tzdb::build(&policy.timezone, first, last) else {
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
        let conjunctions =
            super::rows::rule_rows(&r.name, &r.when, &types, &mut total).map_err(|d| vec![d])?;
        let super::rows::Grid {
            columns,
            cells: rows,
        } = super::rows::grid(&conjunctions);
        rules.push(
            NotifyRule::new(
                r.name.clone(),
                columns.into_iter().map(|c| c as u32).collect(),
                rows,
                action(&r.action),
            )
            .map_err(|e| vec![super::inconsistent(&e, r.when.span)])?,
        );
    }
    NotifyPolicy::new(NotifyParts {
        name: policy.name.clone(),
        version: policy.version,
        window: policy.window,
        fields: super::field_specs(policy),
        clock: n.clock as u32,
        zone,
        lateness_ms: i64::try_from(n.lateness_secs)
            .unwrap_or(i64::MAX / 1000)
            .saturating_mul(1000),
        message_id: n.message_id.map(|f| f as u32),
        rules,
    })
    .map_err(|e| vec![super::inconsistent(&e, span)])
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
