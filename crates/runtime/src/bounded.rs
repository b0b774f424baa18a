//! A throttle state for terminals: fixed capacity chosen at start, no
//! allocation after it.
//!
//! Each rule that keeps state (a de-duplication or a limit) gets its own
//! table of `capacity` entries. An entry is a key (8 bytes), the rule's
//! number of instants (8 bytes each: 1 for de-duplication, the largest cap
//! for a limit) and a length byte: 17 bytes for a de-duplication key, 25 for
//! a cap of 2. Keys are found by a linear scan of the rule's table: a
//! terminal has few keys (its own terminal and merchant), so capacities are
//! small.
//!
//! **Eviction.** A new key in a full table takes the place of an entry
//! whose last delivery no longer counts (older than the rule's window, or,
//! for a calendar-day cap, older than a day); if every entry is live, the
//! entry whose last delivery is oldest is evicted, and the eviction is
//! counted ([`BoundedState::evictions`]): forgetting a live entry can let a
//! message through that the policy would hold, so size the capacity for the
//! keys a terminal really sees and watch the counter.

use crate::notify::{Action, NotifyPolicy, Period, ThrottleState};
use alloc::vec;
use alloc::vec::Vec;

/// One rule's table.
#[derive(Debug, Clone)]
struct Table {
    /// Instants kept per entry.
    keep: usize,
    /// How long a delivery can count, in ms (a day for calendar caps).
    window_ms: i64,
    keys: Vec<u64>,
    lens: Vec<u8>,
    times: Vec<i64>,
}

/// A fixed-capacity throttle state.
#[derive(Debug, Clone)]
pub struct BoundedState {
    /// Per rule of the policy: its table, if it keeps state.
    tables: Vec<Option<Table>>,
    evictions: u64,
}

impl BoundedState {
    /// A state for `policy` with room for `capacity` keys per stateful rule.
    /// All memory is allocated here.
    pub fn new(policy: &NotifyPolicy, capacity: usize) -> BoundedState {
        let tables = policy
            .rules
            .iter()
            .map(|r| {
                let (keep, window_ms) = match &r.action {
                    Action::Dedup { window_ms, .. } => (1, *window_ms),
                    Action::Limit { cap, period, .. } => (
                        cap.most().clamp(1, 255) as usize,
                        match period {
                            Period::Rolling(ms) => *ms,
                            Period::CalendarDay => 86_400_000,
                        },
                    ),
                    _ => return None,
                };
                Some(Table {
                    keep,
                    window_ms,
                    keys: vec![0; capacity],
                    lens: vec![0; capacity],
                    times: vec![0; capacity * keep],
                })
            })
            .collect();
        BoundedState {
            tables,
            evictions: 0,
        }
    }

    /// How many live entries were evicted to make room.
    pub fn evictions(&self) -> u64 {
        self.evictions
    }

    /// Bytes the entries take per (rule, key) for a rule keeping `keep`
    /// instants: key, instants, length.
    pub const fn entry_bytes(keep: usize) -> usize {
        8 + 8 * keep + 1
    }
}

impl Table {
    fn find(&self, key: u64) -> Option<usize> {
        self.keys
            .iter()
            .zip(&self.lens)
            .position(|(&k, &len)| len > 0 && k == key)
    }

    fn last(&self, slot: usize) -> i64 {
        let len = self.lens.get(slot).copied().unwrap_or(0) as usize;
        self.times
            .get(slot * self.keep + len.saturating_sub(1))
            .copied()
            .unwrap_or(i64::MIN)
    }

    /// A slot for a new key at `now`: a free one, else an expired one, else
    /// the one whose last delivery is oldest (`true`: a live entry evicted).
    fn make_room(&self, now: i64) -> Option<(usize, bool)> {
        if let Some(free) = self.lens.iter().position(|&l| l == 0) {
            return Some((free, false));
        }
        let oldest = (0..self.keys.len()).min_by_key(|&s| self.last(s))?;
        let expired = now.saturating_sub(self.last(oldest)) >= self.window_ms;
        Some((oldest, !expired))
    }
}

impl ThrottleState for BoundedState {
    fn history(&self, rule: u32, key: u64) -> &[i64] {
        let Some(Some(t)) = self.tables.get(rule as usize) else {
            return &[];
        };
        match t.find(key) {
            Some(slot) => {
                let len = t.lens.get(slot).copied().unwrap_or(0) as usize;
                t.times
                    .get(slot * t.keep..slot * t.keep + len)
                    .unwrap_or(&[])
            }
            None => &[],
        }
    }

    fn record(&mut self, rule: u32, key: u64, at_ms: i64, _keep: usize) {
        let Some(Some(t)) = self.tables.get_mut(rule as usize) else {
            return;
        };
        let slot = match t.find(key) {
            Some(s) => s,
            None => {
                let Some((s, evicted)) = t.make_room(at_ms) else {
                    return;
                };
                if evicted {
                    self.evictions += 1;
                }
                if let (Some(k), Some(l)) = (t.keys.get_mut(s), t.lens.get_mut(s)) {
                    *k = key;
                    *l = 0;
                }
                s
            }
        };
        let keep = t.keep;
        let Some(len) = t.lens.get_mut(slot) else {
            return;
        };
        let Some(times) = t.times.get_mut(slot * keep..(slot + 1) * keep) else {
            return;
        };
        // Keep the instants in time order, the oldest dropped when full.
        let filled = (*len as usize).min(keep);
        let Some(kept) = times.get_mut(..filled) else {
            return;
        };
        let at = kept.partition_point(|&t| t <= at_ms);
        if filled < keep {
            if let Some(run) = times.get_mut(at..=filled) {
                run.rotate_right(1);
                if let Some(x) = run.first_mut() {
                    *x = at_ms;
                }
            }
            *len += 1;
        } else if at > 0 {
            // Drop the oldest: shift the older part left, insert before `at`.
            if let Some(run) = times.get_mut(..at) {
                run.rotate_left(1);
                if let Some(x) = run.last_mut() {
                    *x = at_ms;
                }
            }
        }
    }
}
