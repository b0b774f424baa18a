//! A notifications policy's rules as boxes, which its lints read.

use super::budget::{Budget, OutOfBudget};
use super::space::Space;
use super::table::boxes_within;
use crate::model::{Notifications, Policy};

/// A notifications policy's rules as boxes, built within `budget`: the
/// space and each row's rule. Also the rules too large to analyse.
pub fn rule_space(
    policy: &Policy,
    n: &Notifications,
    budget: &mut Budget,
) -> Result<(Space, Vec<u32>, Vec<u32>), OutOfBudget> {
    let conds = n.conditions();
    boxes_within(&conds, &crate::compile::field_specs(policy), budget)
}

/// The rules of a notifications policy as boxes: the space, each row's
/// rule, and the rules too large to expand (which get L0111 instead of
/// findings that would rest on their missing rows).
pub type RuleBoxes<'a> = (&'a Space, &'a [u32], &'a [u32]);
