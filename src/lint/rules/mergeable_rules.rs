//! L0107 `mergeable-rules`: neighbouring rules with the same fee whose
//! conditions together are one condition. Documented in
//! `docs/codes/L0107.md`.

use crate::diagnostic::{Code, Diagnostic};
use crate::lint::facts::ScheduleFacts;
use crate::lint::finding;
use crate::lint::registry::{Check, Lint};
use crate::lint::space::SegCell;
use crate::lint::table::describe_cell;

/// The lint.
pub const LINT: Lint = Lint {
    code: Code::L0107,
    checks: &[Check::Schedule(check)],
};

/// Neighbouring rules with the same fee whose single rows differ in one
/// column, where the two cells together are one cell.
fn check(f: &ScheduleFacts<'_>, out: &mut Vec<Diagnostic>) {
    let ScheduleFacts {
        schedule: s,
        space,
        fields,
        ..
    } = f;
    let rule_rows = &f.found.rule_rows;
    for i in 1..s.rules.len() {
        let (Some(a), Some(b)) = (s.rules.get(i - 1), s.rules.get(i)) else {
            continue;
        };
        if a.otherwise || b.otherwise || a.fee != b.fee {
            continue;
        }
        if f.unsat(i) || f.unsat(i - 1) || f.is_duplicate(i) {
            continue;
        }
        let (Some([ra]), Some([rb])) = (
            rule_rows.get(i - 1).map(Vec::as_slice),
            rule_rows.get(i).map(Vec::as_slice),
        ) else {
            continue;
        };
        let (Some(x), Some(y)) = (space.rows.get(*ra as usize), space.rows.get(*rb as usize))
        else {
            continue;
        };
        let differ: Vec<usize> = (0..x.len()).filter(|&c| x.get(c) != y.get(c)).collect();
        let [c] = differ.as_slice() else { continue };
        let (Some(p), Some(q), Some(axis)) = (x.get(*c), y.get(*c), space.axes.get(*c)) else {
            continue;
        };
        let Some(merged) = union(p, q) else { continue };
        let field = space.fields.get(*c).and_then(|&i| fields.get(i));
        let name = field.map_or("?", |f| f.name.as_str());
        let merged_text = describe_cell(axis, &merged, field)
            .map_or_else(|| format!("no condition on `{name}`"), |t| format!("`{t}`"));
        out.push(
            finding(
                Code::L0107,
                format!(
                    "rules `{}` and `{}` charge the same fee and differ only in `{name}`",
                    a.name, b.name
                ),
                b.span,
                "could be merged with the rule above",
            )
            .with_label(a.span, "same fee")
            .with_help(format!(
                "one rule with {merged_text} in place of the two says the same"
            )),
        );
    }
}

/// Two cells of one column as one, when they make one.
fn union(p: &SegCell, q: &SegCell) -> Option<SegCell> {
    use SegCell::*;
    Some(match (p, q) {
        (Span(a, b), Span(c, d)) => {
            if a.max(c) > b.min(d) {
                return None;
            }
            Span(*a.min(c), *b.max(d))
        }
        (Only(x), Only(y)) => {
            let mut ids: Vec<u32> = x.iter().chain(y).copied().collect();
            ids.sort_unstable();
            ids.dedup();
            Only(ids)
        }
        (AllBut(x), AllBut(y)) => AllBut(
            x.iter()
                .copied()
                .filter(|s| y.binary_search(s).is_ok())
                .collect(),
        ),
        (Only(o), AllBut(e)) | (AllBut(e), Only(o)) => AllBut(
            e.iter()
                .copied()
                .filter(|s| o.binary_search(s).is_err())
                .collect(),
        ),
        _ => return None,
    })
}
