//! L0105 `duplicate-rule`: a rule with the same condition and the same
//! fee as an earlier rule. Documented in `docs/codes/L0105.md`.

use crate::diagnostic::{Code, Diagnostic};
use crate::lint::facts::ScheduleFacts;
use crate::lint::finding;
use crate::lint::registry::{Check, Lint};
use crate::lint::space::{SegCell, Space};
use crate::lint::table::Found;
use crate::model::Schedule;
use std::collections::HashMap;
use tollgate_runtime::fee::FeeFormula;

/// The lint.
pub const LINT: Lint = Lint {
    code: Code::L0105,
    checks: &[Check::Schedule(check)],
};

/// Per rule of `s`, the first earlier rule with the same non-empty rows
/// and the same fee (`otherwise` and rules no record meets repeat none).
/// The other lints of a schedule leave a repeat to this one.
pub fn duplicates(s: &Schedule, space: &Space, found: &Found) -> Vec<Option<usize>> {
    let signature = |i: usize| -> Vec<&Vec<SegCell>> {
        let mut rows: Vec<&Vec<SegCell>> = found
            .rule_rows
            .get(i)
            .into_iter()
            .flatten()
            .filter_map(|&r| space.rows.get(r as usize))
            .collect();
        rows.sort();
        rows.dedup();
        rows
    };
    let mut first_with: HashMap<(Vec<&Vec<SegCell>>, &FeeFormula), usize> = HashMap::new();
    let mut duplicate_of: Vec<Option<usize>> = vec![None; s.rules.len()];
    for (i, r) in s.rules.iter().enumerate() {
        if found.unsat.get(i) == Some(&true) || r.otherwise {
            continue;
        }
        let key = (signature(i), &r.fee);
        match first_with.get(&key) {
            Some(&j) => {
                if let Some(d) = duplicate_of.get_mut(i) {
                    *d = Some(j);
                }
            }
            None => {
                first_with.insert(key, i);
            }
        }
    }
    duplicate_of
}

fn check(f: &ScheduleFacts<'_>, out: &mut Vec<Diagnostic>) {
    let rules = &f.schedule.rules;
    for (r, j) in rules.iter().zip(&f.duplicate_of) {
        let Some(q) = j.and_then(|j| rules.get(j)) else {
            continue;
        };
        out.push(
            finding(
                Code::L0105,
                format!(
                    "rule `{}` repeats rule `{}`: same condition, same fee",
                    r.name, q.name
                ),
                r.span,
                "the repeat",
            )
            .with_label(q.span, "first written here")
            .with_help("delete one of them"),
        );
    }
}
