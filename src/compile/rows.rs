//! Conditions to table rows, for every kind of policy: a rule's condition
//! expanded to conjunctions (refused past the limits of one rule and of a
//! table), and conjunctions laid out as rows of cells over the columns
//! they read. Fee schedules, notification rules and the linter's boxes
//! are built from these.

use super::dnf::{self, Conj};
use super::MAX_TABLE_ROWS;
use crate::diagnostic::{Code, Diagnostic};
use crate::model::{Cond, FieldKind};
use crate::span::Span;
use tollgate_runtime::table::Cell;

/// The conjunctions of rule `name`'s condition `when`, added to the
/// running `total` of the table's rows.
///
/// # Errors
/// E0401 when the condition expands to more than
/// [`dnf::MAX_ROWS_PER_RULE`] rows; E0403 when the total passes
/// [`MAX_TABLE_ROWS`].
pub(crate) fn rule_rows(
    name: &str,
    when: &Cond,
    types: &[FieldKind],
    total: &mut usize,
) -> Result<Vec<Conj>, Diagnostic> {
    let rows = dnf::rows(when, types).map_err(|dnf::TooManyRows| {
        Diagnostic::error(
            Code::E0401,
            format!(
                "rule `{name}` expands to more than {} rows",
                dnf::MAX_ROWS_PER_RULE
            ),
            when.span,
            "this condition",
        )
        .with_help("simplify the condition: name parts of it, or split the rule in two")
    })?;
    count_rows(total, rows.len(), name, when.span)?;
    Ok(rows)
}

/// Adds the `rows` of rule `name` (its condition at `span`) to the running
/// `total` of a table, or the error when the total passes
/// [`MAX_TABLE_ROWS`].
fn count_rows(total: &mut usize, rows: usize, name: &str, span: Span) -> Result<(), Diagnostic> {
    match total.checked_add(rows) {
        Some(t) if t <= MAX_TABLE_ROWS => {
            *total = t;
            Ok(())
        }
        _ => Err(Diagnostic::error(
            Code::E0403,
            format!(
                "the table has more than {MAX_TABLE_ROWS} rows: rule `{name}` brings it to {}",
                total.saturating_add(rows)
            ),
            span,
            "the rows pass the limit here",
        )
        .with_help("each `or` inside an `and` multiplies a rule's rows; write conditions that expand less (a field that carries the combined fact), or split the policy")),
    }
}

/// Conjunctions laid out as a table: the columns (field indexes, ascending)
/// any of them constrains, and per conjunction, in order, its cell in each
/// column ([`Cell::Any`] where it says nothing).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Grid {
    /// The field index of each column, ascending.
    pub(crate) columns: Vec<usize>,
    /// One row of cells per conjunction, one cell per column.
    pub(crate) cells: Vec<Vec<Cell>>,
}

/// The [`Grid`] of `conjunctions`.
pub(crate) fn grid<'a, I>(conjunctions: I) -> Grid
where
    I: IntoIterator<Item = &'a Conj>,
    I::IntoIter: Clone,
{
    let conjunctions = conjunctions.into_iter();
    let mut columns: Vec<usize> = conjunctions
        .clone()
        .flat_map(|c| c.keys().copied())
        .collect();
    columns.sort_unstable();
    columns.dedup();
    let cells = conjunctions
        .map(|c| {
            columns
                .iter()
                .map(|f| c.get(f).cloned().unwrap_or(Cell::Any))
                .collect()
        })
        .collect();
    Grid { columns, cells }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conj(cells: &[(usize, bool)]) -> Conj {
        cells.iter().map(|&(f, b)| (f, Cell::Bool(b))).collect()
    }

    #[test]
    fn a_grid_has_the_columns_any_row_reads_and_any_elsewhere() {
        let rows = [
            conj(&[(3, true)]),
            conj(&[(1, false), (3, false)]),
            conj(&[]),
        ];
        let g = grid(&rows);
        assert_eq!(g.columns, vec![1, 3]);
        assert_eq!(
            g.cells,
            vec![
                vec![Cell::Any, Cell::Bool(true)],
                vec![Cell::Bool(false), Cell::Bool(false)],
                vec![Cell::Any, Cell::Any],
            ]
        );
    }

    #[test]
    fn the_total_is_refused_past_the_table_limit() {
        let mut total = MAX_TABLE_ROWS - 1;
        assert!(count_rows(&mut total, 1, "r", Span::default()).is_ok());
        assert_eq!(total, MAX_TABLE_ROWS);
        let e = count_rows(&mut total, 1, "s", Span::default()).unwrap_err();
        assert_eq!(e.code, Code::E0403);
        assert_eq!(total, MAX_TABLE_ROWS);
        let mut near = usize::MAX;
        assert!(count_rows(&mut near, 1, "t", Span::default()).is_err());
    }
}
