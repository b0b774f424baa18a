//! Which rules apply to a record, and which of those a phase of the
//! decision reads. The rules' kinds are sorted into bit masks once, when
//! the policy is made ([`Kinds`]), and the rules that apply to a record
//! into one mask ([`Matching`]), so a phase finds its rules with an AND
//! and a count of trailing zeros: a phase none of whose rules apply costs
//! a test. Rules past the 128th are kept in a vector and tested by kind.

use super::{Action, NotifyRule};
use crate::value::Value;
use alloc::vec::Vec;

/// How many rules the masks cover; rules past them are handled one by one.
const MASKED: usize = 128;

/// A set of rule kinds, one bit per [`Action`] variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct KindSet(u8);

impl KindSet {
    /// `always deliver` rules.
    pub(super) const ALWAYS: KindSet = KindSet(1);
    /// `suppress` rules.
    pub(super) const SUPPRESS: KindSet = KindSet(2);
    /// `dedup` rules.
    pub(super) const DEDUP: KindSet = KindSet(4);
    /// `quiet` rules.
    pub(super) const QUIET: KindSet = KindSet(8);
    /// `limit` rules.
    pub(super) const LIMIT: KindSet = KindSet(16);
    /// The rules that keep state per key: `dedup` and `limit`.
    pub(super) const KEYED: KindSet = KindSet(4 | 16);

    /// The kind of `action`.
    fn of(action: &Action) -> KindSet {
        match action {
            Action::AlwaysDeliver => KindSet::ALWAYS,
            Action::Suppress { .. } => KindSet::SUPPRESS,
            Action::Dedup { .. } => KindSet::DEDUP,
            Action::Quiet { .. } => KindSet::QUIET,
            Action::Limit { .. } => KindSet::LIMIT,
        }
    }

    /// Whether `action` is of a kind in the set.
    fn holds(self, action: &Action) -> bool {
        self.0 & KindSet::of(action).0 != 0
    }
}

/// The first 128 rules of a policy by kind: bit `i` of a mask is set when
/// rule `i` is of one of the mask's kinds. Computed from the rules when the
/// policy is made, so it always agrees with them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct Kinds {
    always: u128,
    suppress: u128,
    dedup: u128,
    quiet: u128,
    limit: u128,
}

impl Kinds {
    /// The kinds of `rules`.
    pub(super) fn of(rules: &[NotifyRule]) -> Kinds {
        let mut k = Kinds::default();
        for (i, r) in rules.iter().enumerate().take(MASKED) {
            let mask = match r.action {
                Action::AlwaysDeliver => &mut k.always,
                Action::Suppress { .. } => &mut k.suppress,
                Action::Dedup { .. } => &mut k.dedup,
                Action::Quiet { .. } => &mut k.quiet,
                Action::Limit { .. } => &mut k.limit,
            };
            *mask |= 1 << i;
        }
        k
    }

    /// The rules (of the first 128) of a kind in `set`.
    #[inline]
    fn mask(&self, set: KindSet) -> u128 {
        let of = |kind: KindSet, mask: u128| if set.0 & kind.0 != 0 { mask } else { 0 };
        of(KindSet::ALWAYS, self.always)
            | of(KindSet::SUPPRESS, self.suppress)
            | of(KindSet::DEDUP, self.dedup)
            | of(KindSet::QUIET, self.quiet)
            | of(KindSet::LIMIT, self.limit)
    }
}

/// The rules that apply to one record: a mask for the first 128, a
/// vector (empty for smaller policies, so never allocated) for the rest.
pub(super) struct Matching {
    low: u128,
    beyond: Vec<bool>,
}

impl Matching {
    /// The rules of `rules` that apply to `record`.
    pub(super) fn of(rules: &[NotifyRule], record: &[Value]) -> Matching {
        let mut low = 0u128;
        for (i, r) in rules.iter().enumerate().take(MASKED) {
            if r.applies(record) {
                low |= 1 << i;
            }
        }
        let beyond = match rules.get(MASKED..) {
            Some(rest) if !rest.is_empty() => rest.iter().map(|r| r.applies(record)).collect(),
            _ => Vec::new(),
        };
        Matching { low, beyond }
    }

    /// The index of the one keyed rule that applies, when it is a limit,
    /// no quiet rule applies, and the policy has at most 128 rules: the
    /// decision then reads and writes one key.
    #[inline]
    pub(super) fn lone_limit(&self, kinds: &Kinds) -> Option<usize> {
        let keyed = self.low & (kinds.dedup | kinds.limit);
        (self.beyond.is_empty()
            && keyed.is_power_of_two()
            && keyed & kinds.limit != 0
            && self.low & kinds.quiet == 0)
            .then(|| keyed.trailing_zeros() as usize)
    }

    /// The applying rules of `rules` (the policy's, `kinds` theirs) of a
    /// kind in `set`, in file order, with their indexes.
    #[inline]
    pub(super) fn each<'r>(
        &'r self,
        rules: &'r [NotifyRule],
        kinds: &Kinds,
        set: KindSet,
    ) -> Each<'r> {
        Each {
            bits: self.low & kinds.mask(set),
            rules,
            beyond: &self.beyond,
            at: 0,
            set,
        }
    }
}

/// The rules [`Matching::each`] picks: the set bits of a mask, lowest
/// first, then the rules past the mask one by one.
pub(super) struct Each<'r> {
    bits: u128,
    rules: &'r [NotifyRule],
    beyond: &'r [bool],
    /// The next rule past the mask to test.
    at: usize,
    set: KindSet,
}

impl<'r> Iterator for Each<'r> {
    type Item = (usize, &'r NotifyRule);

    #[inline]
    fn next(&mut self) -> Option<(usize, &'r NotifyRule)> {
        if self.bits != 0 {
            let i = self.bits.trailing_zeros() as usize;
            self.bits &= self.bits - 1;
            return self.rules.get(i).map(|r| (i, r));
        }
        while let Some(&applies) = self.beyond.get(self.at) {
            let i = MASKED + self.at;
            self.at += 1;
            match self.rules.get(i) {
                Some(r) if applies && self.set.holds(&r.action) => return Some((i, r)),
                _ => {}
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::{Cap, Period};
    use alloc::vec;

    fn rule(i: usize) -> NotifyRule {
        let action = match i % 5 {
            0 => Action::AlwaysDeliver,
            1 => Action::Suppress {
                reason: "no".into(),
            },
            2 => Action::Dedup {
                keys: vec![],
                window_ms: 1_000,
            },
            3 => Action::Quiet {
                windows: vec![(0, 60)],
                drop: false,
            },
            _ => Action::Limit {
                cap: Cap::Fixed(1),
                period: Period::Rolling(1_000),
                keys: vec![],
            },
        };
        // Rule i applies to records whose field 0 is true when 3 divides i,
        // to every record otherwise.
        let (columns, rows) = if i.is_multiple_of(3) {
            (vec![0], vec![vec![crate::table::Cell::Bool(true)]])
        } else {
            (vec![], vec![vec![]])
        };
        NotifyRule::new(alloc::format!("r{i}"), columns, rows, action)
            .unwrap_or_else(|e| unreachable!("{e}"))
    }

    /// Every kind set picks, in file order, exactly the applying rules of
    /// its kinds, on both sides of the 128th rule.
    #[test]
    fn each_agrees_with_testing_every_rule() {
        let rules: Vec<NotifyRule> = (0..300).map(rule).collect();
        let kinds = Kinds::of(&rules);
        let sets = [
            KindSet::ALWAYS,
            KindSet::SUPPRESS,
            KindSet::DEDUP,
            KindSet::QUIET,
            KindSet::LIMIT,
            KindSet::KEYED,
        ];
        for flag in [true, false] {
            let record = [Value::Bool(flag)];
            let m = Matching::of(&rules, &record);
            for set in sets {
                let got: Vec<usize> = m.each(&rules, &kinds, set).map(|(i, _)| i).collect();
                let want: Vec<usize> = (0..rules.len())
                    .filter(|&i| rules[i].applies(&record) && set.holds(&rules[i].action))
                    .collect();
                assert_eq!(got, want, "{set:?} {flag}");
            }
        }
    }
}
