//! The linter's work budget: how much analysis one schedule may cost.
//!
//! The table analyses are exact, and on some small inputs exactness is
//! expensive (conditions whose `or`s multiply into thousands of
//! overlapping boxes). The budget bounds their time and memory in
//! deterministic *work units*, never in seconds, so a result is the same
//! on every machine: one unit is one row handled at one step of the sweep
//! (split, carried to a piece, remembered as a visited subproblem, paired
//! at a leaf) or one cell of a row built. Each unit costs a bounded amount
//! of time and at most a few dozen bytes, so the budget bounds both.
//!
//! An analysis that would spend more than the budget stops where it is,
//! keeps only findings that are exact on their own (each is shown by a
//! record), and the linter reports that it did not finish (L0111,
//! `undecided`). `docs/lint-algorithm.md` (section 6) describes it.

/// The budget of each schedule when neither the command line (`--budget`)
/// nor the file (`lint budget N`) sets one: 100 million units, a few
/// seconds and at most a few hundred megabytes.
pub const DEFAULT_BUDGET: u64 = 100_000_000;

/// Work units left for one schedule's analyses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    limit: u64,
    spent: u64,
    exhausted: bool,
}

/// The analysis ran out of budget before it was complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutOfBudget;

impl Default for Budget {
    fn default() -> Self {
        Budget::new(DEFAULT_BUDGET)
    }
}

impl Budget {
    /// A budget of `limit` units.
    pub fn new(limit: u64) -> Budget {
        Budget {
            limit,
            spent: 0,
            exhausted: false,
        }
    }

    /// Spends `units`, or fails (spending nothing) when they are more than
    /// what is left; once failed, every later call fails too, so that an
    /// analysis that stopped is never resumed by a cheaper step.
    pub fn spend(&mut self, units: u64) -> Result<(), OutOfBudget> {
        if self.exhausted {
            return Err(OutOfBudget);
        }
        match self.spent.checked_add(units) {
            Some(total) if total <= self.limit => {
                self.spent = total;
                Ok(())
            }
            _ => {
                self.exhausted = true;
                Err(OutOfBudget)
            }
        }
    }

    /// [`Budget::spend`] for a count of rows or cells.
    pub fn spend_n(&mut self, units: usize) -> Result<(), OutOfBudget> {
        self.spend(u64::try_from(units).unwrap_or(u64::MAX))
    }

    /// Whether some analysis ran out.
    pub fn is_exhausted(&self) -> bool {
        self.exhausted
    }

    /// The units allowed.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// The units not spent yet.
    pub fn remaining(&self) -> u64 {
        if self.exhausted {
            0
        } else {
            self.limit.saturating_sub(self.spent)
        }
    }

    /// The units spent so far.
    pub fn spent(&self) -> u64 {
        self.spent
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spent_budget_stays_spent() {
        let mut b = Budget::new(10);
        assert_eq!(b.spend(6), Ok(()));
        assert_eq!(b.spend(5), Err(OutOfBudget));
        // A cheaper step after the failure fails too.
        assert_eq!(b.spend(1), Err(OutOfBudget));
        assert!(b.is_exhausted());
        assert_eq!(b.spent(), 6);
        assert_eq!(Budget::new(u64::MAX).spend(u64::MAX), Ok(()));
    }
}
