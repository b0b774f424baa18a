//! Value checks on notification policies: whole-day quiet windows, caps of
//! 0, merchant caps that loosen the policy's own limit, always-deliver
//! rules that make other rules inert, and rules no message meets.

use super::budget::{Budget, OutOfBudget};
use super::space::{sweep, Mode, Region, Space, Visitor};
use super::table::{boxes_within, rows_by_owner, unfinished};
use super::{example, field_specs, finding};
use crate::diagnostic::{Code, Diagnostic};
use crate::model::{Action, CapAmount, Cond, Constant, Notifications, Policy};
use tollgate_runtime::table::FieldSpec;

const DAY: u32 = 86_400;

/// A notifications policy's rules as boxes, built within `budget`: the
/// space and each row's rule. Also the rules too large to analyse.
pub fn rule_space(
    policy: &Policy,
    n: &Notifications,
    budget: &mut Budget,
) -> Result<(Space, Vec<u32>, Vec<u32>), OutOfBudget> {
    let conds: Vec<(u32, &Cond)> = n
        .rules
        .iter()
        .enumerate()
        .map(|(i, r)| (i as u32, &r.when))
        .collect();
    boxes_within(&conds, &field_specs(policy), budget)
}

/// The rules of a notifications policy as boxes: the space, each row's
/// rule, and the rules too large to expand (which get L0111 instead of
/// findings that would rest on their missing rows).
pub type RuleBoxes<'a> = (&'a Space, &'a [u32], &'a [u32]);

/// The lints of a notifications policy. `boxes` is `None` when the budget
/// ran out while building them: then only the checks of values are made,
/// and the finding at `span` says the rules were not analysed.
pub fn lints(
    policy: &Policy,
    n: &Notifications,
    boxes: Option<RuleBoxes<'_>>,
    budget: &mut Budget,
    span: crate::span::Span,
    out: &mut Vec<Diagnostic>,
) {
    let fields = field_specs(policy);
    let rows = match boxes {
        Some((space, owners, _)) => rows_by_owner(space, owners, n.rules.len()),
        None => vec![Vec::new(); n.rules.len()],
    };
    let undecided = boxes.map_or(&[][..], |(_, _, u)| u);
    for (i, (r, own)) in n.rules.iter().zip(&rows).enumerate() {
        if boxes.is_none() {
            // Not analysed: nothing is known of its rows.
        } else if undecided.contains(&(i as u32)) {
            out.push(super::table::undecided(&r.name, r.when.span));
        } else if own.is_empty() {
            out.push(
                finding(
                    Code::L0106,
                    format!(
                        "rule `{}` can never apply: no message meets its condition",
                        r.name
                    ),
                    r.when.span,
                    "no message meets this",
                )
                .with_help("check for `and` written for `or`, or bounds that cross"),
            );
        }
        if let Action::Limit { max, .. } = &r.action {
            match *max {
                CapAmount::Fixed(0) => out.push(
                    finding(
                        Code::L0204,
                        format!("rule `{}` allows 0 messages: every message it covers is suppressed", r.name),
                        r.span,
                        "cap of 0",
                    )
                    .with_help("if these messages must never be sent, say so in a comment and allow the lint; otherwise write the cap you mean"),
                ),
                CapAmount::Field { high: 0, .. } => out.push(
                    finding(
                        Code::L0204,
                        format!("rule `{}` clamps every merchant's cap to 0: every message it covers is suppressed", r.name),
                        r.span,
                        "upper bound 0",
                    )
                    .with_help("raise the upper bound to the most a merchant may choose"),
                ),
                CapAmount::Field { field, high, .. } => {
                    let default = policy.fields.get(field).and_then(|f| f.default.as_ref());
                    if let Some(Constant::Integer(d)) = default {
                        if i64::from(high) > *d {
                            let name = policy.fields.get(field).map_or("?", |f| f.name.as_str());
                            out.push(
                                finding(
                                    Code::L0205,
                                    format!(
                                        "rule `{}` lets a merchant raise `{name}` to {high}, above the policy's own {d}",
                                        r.name
                                    ),
                                    r.span,
                                    format!("up to {high}"),
                                )
                                .with_help(format!("bound it by the default: `within LOW..{d}`, or raise the default if {high} is the policy")),
                            );
                        }
                    }
                }
                CapAmount::Fixed(_) => {}
            }
        }
    }
    let done = match boxes {
        Some((space, owners, _)) => exempt(n, space, &rows, &fields, budget, out)
            .and_then(|()| always_quiet(n, space, owners, &fields, budget, out)),
        None => Err(OutOfBudget),
    };
    if done.is_err() {
        out.push(unfinished("the notification rules", span, budget));
    }
}

/// Always-deliver rules whose messages another restricting rule covers.
/// Each pair of rows compared costs a unit of `budget`.
fn exempt(
    n: &Notifications,
    space: &Space,
    rows: &[Vec<u32>],
    fields: &[FieldSpec],
    budget: &mut Budget,
    out: &mut Vec<Diagnostic>,
) -> Result<(), OutOfBudget> {
    for (ra, rows_a) in n.rules.iter().zip(rows) {
        if ra.action != Action::AlwaysDeliver {
            continue;
        }
        for (rb, rows_b) in n.rules.iter().zip(rows) {
            if rb.action == Action::AlwaysDeliver {
                continue;
            }
            budget.spend_n(rows_a.len().saturating_mul(rows_b.len()))?;
            let Some((x, y)) = space.meeting(rows_a, rows_b) else {
                continue;
            };
            let record = example::record_in_both(space, x, y, fields);
            out.push(
                finding(
                    Code::L0206,
                    format!("rule `{}` never acts on messages that `{}` always delivers", rb.name, ra.name),
                    rb.span,
                    "inert for those messages",
                )
                .with_label(ra.span, "exempts them from every other rule")
                .with_help(format!("for example {record}; exclude those messages from `{}`, or drop them from `{}`", rb.name, ra.name)),
            );
        }
    }
    Ok(())
}

/// Whether windows `(start, end)` (end excluded, wrapping past midnight
/// when start > end) cover the whole day.
pub fn whole_day(windows: &[(u32, u32)]) -> bool {
    let mut spans: Vec<(u32, u32)> = Vec::new();
    for &(s, e) in windows {
        if s < e {
            spans.push((s, e));
        } else if s > e {
            spans.push((s, DAY));
            spans.push((0, e));
        }
    }
    spans.sort_unstable();
    let mut reach = 0;
    for (s, e) in spans {
        if s > reach {
            return false;
        }
        reach = reach.max(e);
    }
    reach >= DAY
}

struct Quiet<'a> {
    n: &'a Notifications,
    space: &'a Space,
    owners: &'a [u32],
    fields: &'a [FieldSpec],
    found: Vec<(Vec<usize>, String)>,
}

impl Visitor for Quiet<'_> {
    fn gap(&mut self, _: Region<'_>) {}

    fn leaf(&mut self, active: &[u32], exact: bool, region: Region<'_>) {
        // Without `exact` only the first row is known to cover the region.
        let rows = if exact {
            active
        } else {
            active.get(..1).unwrap_or(&[])
        };
        let mut rules: Vec<usize> = rows
            .iter()
            .filter_map(|&r| self.owners.get(r as usize).map(|&o| o as usize))
            .collect();
        rules.sort_unstable();
        rules.dedup();
        let windows: Vec<(u32, u32)> = rules
            .iter()
            .filter_map(|&i| match self.n.rules.get(i).map(|r| &r.action) {
                Some(Action::Quiet { windows, .. }) => Some(windows.clone()),
                _ => None,
            })
            .flatten()
            .collect();
        if whole_day(&windows) && !self.found.iter().any(|(r, _)| *r == rules) {
            let record = example::record(self.space, region, rows.first().copied(), self.fields);
            self.found.push((rules, record));
        }
    }
}

/// Messages that quiet windows hold all day. The windows found before
/// the budget ran out are reported: each is shown by a message.
fn always_quiet(
    n: &Notifications,
    space: &Space,
    owners: &[u32],
    fields: &[FieldSpec],
    budget: &mut Budget,
    out: &mut Vec<Diagnostic>,
) -> Result<(), OutOfBudget> {
    let quiet: Vec<u32> = owners
        .iter()
        .enumerate()
        .filter(|(r, &o)| {
            !space.row_empty(*r)
                && matches!(
                    n.rules.get(o as usize).map(|x| &x.action),
                    Some(Action::Quiet { .. })
                )
        })
        .map(|(r, _)| r as u32)
        .collect();
    let mut v = Quiet {
        n,
        space,
        owners,
        fields,
        found: Vec::new(),
    };
    let done = sweep(space, &quiet, Mode::Exact, &mut v, budget);
    for (rules, record) in v.found {
        let names: Vec<String> = rules
            .iter()
            .filter_map(|&i| n.rules.get(i))
            .map(|r| format!("`{}`", r.name))
            .collect();
        let Some(first) = rules.first().and_then(|&i| n.rules.get(i)) else {
            continue;
        };
        let mut d = finding(
            Code::L0203,
            format!("quiet windows of {} together cover the whole day", super::list(&names)),
            first.span,
            "quiet at every hour",
        )
        .with_help(format!(
            "a message such as {record} is never delivered; shorten the windows, or use `limit 0` if it must never be sent"
        ));
        for r in rules.iter().skip(1).filter_map(|&i| n.rules.get(i)) {
            d = d.with_label(r.span, "also quiet");
        }
        out.push(d);
    }
    done
}

#[cfg(test)]
mod tests {
    use super::whole_day;

    #[test]
    fn windows_cover_the_day_only_together() {
        let h = |x: u32| x * 3600;
        assert!(!whole_day(&[(h(8), h(20))]));
        assert!(whole_day(&[(h(8), h(20)), (h(20), h(8))]));
        assert!(!whole_day(&[(h(8), h(20)), (h(21), h(8))]));
        assert!(whole_day(&[(h(0), h(12)), (h(12), 0)]));
        assert!(!whole_day(&[]));
    }
}
