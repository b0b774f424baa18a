//! L0101 `shadowed-rule`: rules of a `hit first` schedule that no input
//! reaches, because earlier rules together match every input they match.
//! Documented in `docs/codes/L0101.md`.

use crate::diagnostic::{Code, Diagnostic};
use crate::lint::facts::ScheduleFacts;
use crate::lint::registry::{Check, Lint};
use crate::lint::{finding, list};
use crate::model::Hit;

/// The lint.
pub const LINT: Lint = Lint {
    code: Code::L0101,
    checks: &[Check::Schedule(check)],
};

/// A rule no region of the sweep reached. Only a complete sweep tells:
/// a rule it did not reach before the budget ran out may be reached later.
fn check(f: &ScheduleFacts<'_>, out: &mut Vec<Diagnostic>) {
    let s = f.schedule;
    if s.hit == Hit::Unique || !f.complete {
        return;
    }
    // The rules that apply where a later rule matches: its covering rules.
    let mut covering: Vec<Vec<usize>> = vec![Vec::new(); s.rules.len()];
    for &(a, b) in f.found.pairs.keys() {
        if let Some(c) = covering.get_mut(b as usize) {
            c.push(a as usize);
        }
    }
    for (i, r) in s.rules.iter().enumerate() {
        let reached = f.found.wins.get(i) == Some(&true);
        if reached || f.unsat(i) || f.is_duplicate(i) {
            continue;
        }
        let cover = covering.get(i).map_or(&[][..], Vec::as_slice);
        let names: Vec<String> = cover
            .iter()
            .filter_map(|&j| s.rules.get(j).map(|q| format!("`{}`", q.name)))
            .collect();
        let what = if r.otherwise {
            "`otherwise` is never reached".to_string()
        } else {
            format!("rule `{}` is never reached", r.name)
        };
        let mut d = finding(
            Code::L0101,
            format!(
                "{what}: earlier rules {} match every record it matches",
                list(&names)
            ),
            r.span,
            "shadowed",
        );
        for &j in cover {
            if let Some(q) = s.rules.get(j) {
                d = d.with_label(q.span, "covers part of it");
            }
        }
        if let Some(example) = cover
            .first()
            .and_then(|&j| f.found.pairs.get(&(j as u32, i as u32)))
        {
            d = d.with_help(format!(
                "for example {example} matches it but takes `{}`; move the rule up or delete it",
                cover
                    .first()
                    .and_then(|&j| s.rules.get(j))
                    .map_or("?", |q| q.name.as_str())
            ));
        }
        out.push(d);
    }
}
