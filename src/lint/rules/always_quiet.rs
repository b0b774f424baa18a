//! L0203 `always-quiet`: messages that quiet windows hold at every time
//! of day. Documented in `docs/codes/L0203.md`.

use crate::diagnostic::{Code, Diagnostic};
use crate::lint::budget::{Budget, OutOfBudget};
use crate::lint::facts::RuleFacts;
use crate::lint::registry::{Check, Lint};
use crate::lint::space::{sweep, Mode, Region, Space, Visitor};
use crate::lint::{example, finding, list};
use crate::model::{Action, Notifications};
use tollgate_runtime::table::FieldSpec;

/// The lint.
pub const LINT: Lint = Lint {
    code: Code::L0203,
    checks: &[Check::RulesWithin(check)],
};

const DAY: u32 = 86_400;

/// Whether windows `(start, end)` (end excluded, wrapping past midnight
/// when start > end) cover the whole day.
fn whole_day(windows: &[(u32, u32)]) -> bool {
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
fn check(
    f: &RuleFacts<'_>,
    budget: &mut Budget,
    out: &mut Vec<Diagnostic>,
) -> Result<(), OutOfBudget> {
    let Some((space, owners, _)) = f.boxes else {
        return Err(OutOfBudget);
    };
    let (n, fields) = (f.rules, f.fields.as_slice());
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
            format!("quiet windows of {} together cover the whole day", list(&names)),
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
