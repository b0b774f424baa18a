//! What the checks of the lints read: the facts of a text, of one fee
//! schedule, of a notifications policy's rules and of a checked policy's
//! declarations, each built once and shared by every check that needs it.

use super::notify::RuleBoxes;
use super::ranges::Declared;
use super::rules::duplicate_rule;
use super::space::Space;
use super::table::{rows_by_owner, Found};
use super::tokens::{tokens, Token};
use super::uses;
use crate::ast::File;
#[cfg(test)]
use crate::diagnostic::{Code, Diagnostic};
use crate::model::{Cond, Notifications, Policy, Schedule};
use crate::span::Span;
use std::collections::HashSet;
use tollgate_runtime::table::FieldSpec;

/// A policy's text and its tokens (comments and whitespace kept).
#[derive(Debug)]
pub struct Text<'a> {
    /// The whole text.
    pub source: &'a str,
    /// Its tokens with their spans; a character no token takes is `None`.
    pub tokens: Vec<(Option<Token>, Span)>,
}

impl<'a> Text<'a> {
    /// The text and its tokens.
    pub fn new(source: &'a str) -> Text<'a> {
        Text {
            source,
            tokens: tokens(source),
        }
    }

    /// The text of `span` (empty if it is not in the text).
    pub fn slice(&self, span: Span) -> &'a str {
        self.source.get(span.range()).unwrap_or("")
    }

    /// The codes a check of the text finds in `source`, in order.
    #[cfg(test)]
    pub(crate) fn codes(check: fn(&Text<'_>, &mut Vec<Diagnostic>), source: &str) -> Vec<Code> {
        let mut out = Vec::new();
        check(&Text::new(source), &mut out);
        out.iter().map(|d| d.code).collect()
    }
}

/// One fee schedule, after the sweep of its decision table.
#[derive(Debug)]
pub struct ScheduleFacts<'a> {
    /// The schedule.
    pub schedule: &'a Schedule,
    /// Its rules as boxes.
    pub space: &'a Space,
    /// What the sweep found.
    pub found: &'a Found,
    /// Whether the sweep finished within the budget. When it did not, only
    /// findings that hold on their own are reported: not "never reached",
    /// which needs every region.
    pub complete: bool,
    /// The record schema.
    pub fields: &'a [FieldSpec],
    /// Decimals of the policy's currency, for amounts in messages (2 for
    /// CNY, 0 for JPY).
    pub dp: u32,
    /// Per rule, the earlier rule it repeats (`duplicate-rule`): the other
    /// lints say nothing more about a repeat.
    pub duplicate_of: Vec<Option<usize>>,
    /// The ranges the schedule declares (`expect`), beside its rules;
    /// `None` when it declares none.
    pub declared: Option<Declared>,
}

impl<'a> ScheduleFacts<'a> {
    /// The facts of schedule `s`, whose rules are `space`, from what the
    /// sweep `found`; amounts are written with `dp` decimals.
    pub fn new(
        s: &'a Schedule,
        space: &'a Space,
        found: &'a Found,
        complete: bool,
        fields: &'a [FieldSpec],
        dp: u32,
    ) -> ScheduleFacts<'a> {
        ScheduleFacts {
            schedule: s,
            space,
            found,
            complete,
            fields,
            dp,
            duplicate_of: duplicate_rule::duplicates(s, space, found),
            declared: (!s.expects.is_empty()).then(|| Declared::new(s, fields)),
        }
    }

    /// Whether no record meets rule `i`'s condition.
    pub fn unsat(&self, i: usize) -> bool {
        self.found.unsat.get(i) == Some(&true)
    }

    /// Whether rule `i` repeats an earlier rule.
    pub fn is_duplicate(&self, i: usize) -> bool {
        self.duplicate_of.get(i).is_some_and(Option::is_some)
    }
}

/// A notifications policy's rules.
#[derive(Debug)]
pub struct RuleFacts<'a> {
    /// The checked policy.
    pub policy: &'a Policy,
    /// Its rules.
    pub rules: &'a Notifications,
    /// The rules as boxes; `None` when the budget ran out while building
    /// them, and nothing is known of the rules' inputs.
    pub boxes: Option<RuleBoxes<'a>>,
    /// Per rule, its rows that admit something (none without boxes).
    pub rows: Vec<Vec<u32>>,
    /// The record schema.
    pub fields: Vec<FieldSpec>,
}

impl<'a> RuleFacts<'a> {
    /// The facts of `policy`'s rules `n`, with their boxes if built.
    pub fn new(policy: &'a Policy, n: &'a Notifications, boxes: Option<RuleBoxes<'a>>) -> Self {
        let rows = match boxes {
            Some((space, owners, _)) => rows_by_owner(space, owners, n.rules.len()),
            None => vec![Vec::new(); n.rules.len()],
        };
        RuleFacts {
            policy,
            rules: n,
            boxes,
            rows,
            fields: crate::compile::field_specs(policy),
        }
    }

    /// Whether rule `i`'s rows are known: the boxes were built and its
    /// condition was not too large to expand.
    pub fn analysed(&self, i: usize) -> bool {
        self.boxes
            .is_some_and(|(_, _, too_large)| !too_large.contains(&(i as u32)))
    }
}

/// A checked policy's declarations, after every analysis of its rules.
#[derive(Debug)]
pub struct Declarations<'a> {
    /// The parsed file.
    pub file: &'a File,
    /// The checked policy.
    pub policy: &'a Policy,
    /// The rules of each schedule (or the notification rules) as boxes.
    pub spaces: &'a [&'a Space],
    /// Conditions the analyses could not expand: the variants they select
    /// are unknown.
    pub undecided: &'a [&'a Cond],
    /// The fields something reads: a condition, a fee, a key, a cap, the
    /// clock or the message id.
    pub read: HashSet<usize>,
}

impl<'a> Declarations<'a> {
    /// The declarations of `file`, checked as `policy`.
    pub fn new(
        file: &'a File,
        policy: &'a Policy,
        spaces: &'a [&'a Space],
        undecided: &'a [&'a Cond],
    ) -> Self {
        Declarations {
            file,
            policy,
            spaces,
            undecided,
            read: uses::fields_read(policy, file),
        }
    }
}
