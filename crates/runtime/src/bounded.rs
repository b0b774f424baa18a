//! A throttle state for terminals: fixed capacity chosen at start, no
//! allocation after it.
//!
//! Each rule that keeps state (a de-duplication or a limit) gets its own
//! table of `capacity` entries. An entry is a key (8 bytes), room for the
//! most instants one key of the rule can need (8 bytes each) and a 2-byte
//! length. That most is exact, from the cap N, the period D and the
//! policy's lateness L (see `window::most_kept`): `N × (1 + ⌈L/D⌉)`
//! for a rolling cap, `1 + ⌈L/W⌉` for a de-duplication window W, and
//! `N × (2 + ⌊L / shortest local day⌋)` for a calendar-day cap. Every cap
//! is enforced exactly; a policy whose rule would need more than
//! [`MAX_INSTANTS`] instants per key is refused by [`BoundedState::new`],
//! naming the rule; so is a capacity of 0 ([`CapacityError::NoKeys`]),
//! and an id capacity of 0 for a policy that names a message id
//! ([`CapacityError::NoIds`]).
//!
//! **When a table is full.** A new key takes the place of an entry none of
//! whose deliveries can meet a record at or after the new record's time
//! less the lateness. If every entry is live, the caller's [`WhenFull`]
//! decides: evict the entry whose last delivery is oldest (counted by
//! [`BoundedState::evictions`]; forgetting a live entry can let a message
//! through that the policy would hold), or refuse the new key, so that its
//! message is suppressed (`Reason::StoreFull`) and nothing is forgotten.
//! Size the capacity for the keys a terminal really sees (its own terminal
//! and merchant) and watch the counter.
//!
//! **Message ids.** When the policy names a message id, the store keeps a
//! table of the decisions made for ids, of `capacity` entries unless
//! [`BoundedState::with_ids`] says otherwise ([`BoundedState::id_capacity`];
//! [`BoundedState::id_entry_bytes`] each). A new id takes a free entry, or
//! the entry whose decision is oldest once no record at or after the new
//! record's time less the lateness can repeat it. While it has room, no
//! repeat is ever decided twice. When every entry can still be repeated, the
//! table fails safe: it never forgets a live id, and a message with a new id
//! is not decided (`NotifyError::IdMemoryFull`, nothing sent, nothing
//! counted; a message an always-deliver rule covers is delivered,
//! unremembered). Size it for the messages a terminal sees in twice the
//! lateness.

mod carry;
mod save;

pub use save::{ShortBuffer, TERMINAL_STATE_MAGIC, TERMINAL_STATE_VERSION};

use crate::hashes::{KeyHash, MessageIdHash};
use crate::ids;
use crate::notify::{Action, Decision, NotifyPolicy, ThrottleState};
use crate::position::NotifyRuleIndex;
use crate::window::{self, Span};
use crate::zone::Zone;
use alloc::string::String;
use alloc::vec::Vec;

/// The most instants one key of a rule may need in this store.
pub const MAX_INSTANTS: u64 = u16::MAX as u64;

/// What a full table does with a new key when every entry is live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WhenFull {
    /// Evict the entry whose last delivery is oldest (fail open), counted.
    #[default]
    EvictOldest,
    /// Keep every entry and suppress the new key's message (fail closed).
    RefuseNewKeys,
}

/// Why a policy can't be kept in a bounded store.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CapacityError {
    /// A rule needs more instants per key than the store keeps.
    TooManyInstants {
        /// The rule's name.
        rule: String,
        /// Instants one key can need.
        needs: u64,
    },
    /// The tables would not fit in memory.
    TooLarge {
        /// The rule whose table overflowed.
        rule: String,
    },
    /// The room for message ids would not fit in memory.
    TooManyIds {
        /// The ids asked for.
        capacity: usize,
    },
    /// A capacity of 0 keys: a state without room for a single key
    /// would refuse (or evict) every key of every stateful rule.
    NoKeys,
    /// An id capacity of 0 for a policy that names a message id: every
    /// message with an id would go undecided.
    NoIds {
        /// The policy's message id field.
        field: String,
    },
}

/// `n` copies of `value`, or `None` when their size overflows the address
/// space or the allocator refuses them: on a 32-bit terminal a capacity
/// read from a caller can ask for more than exists, and that is an error,
/// not a panic or an abort.
fn filled<T: Clone>(n: usize, value: T) -> Option<Vec<T>> {
    let mut v = Vec::new();
    v.try_reserve_exact(n).ok()?;
    v.resize(n, value);
    Some(v)
}

impl core::fmt::Display for CapacityError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            CapacityError::TooManyInstants { rule, needs } => write!(
                f,
                "rule `{rule}` needs up to {needs} deliveries per key to enforce its cap exactly \
                 (cap, period and lateness); the terminal store keeps at most {MAX_INSTANTS}"
            ),
            CapacityError::TooLarge { rule } => write!(
                f,
                "rule `{rule}`: the table for this capacity does not fit in memory"
            ),
            CapacityError::TooManyIds { capacity } => {
                write!(f, "room for {capacity} message ids does not fit in memory")
            }
            CapacityError::NoKeys => write!(
                f,
                "a capacity of 0 keys: a state needs room for at least one key per stateful rule"
            ),
            CapacityError::NoIds { field } => write!(
                f,
                "an id capacity of 0, and the policy's message id is `{field}`: a state needs \
                 room for at least one message id"
            ),
        }
    }
}

impl core::error::Error for CapacityError {}

/// One rule's table.
#[derive(Debug, Clone)]
struct Table {
    /// Instants kept per entry.
    keep: usize,
    span: Span,
    keys: Vec<u64>,
    lens: Vec<u16>,
    times: Vec<i64>,
}

/// A fixed-capacity throttle state.
#[derive(Debug, Clone)]
pub struct BoundedState {
    /// Per rule of the policy: its table, if it keeps state.
    tables: Vec<Option<Table>>,
    /// The shape of the policy it was sized from.
    shape: u64,
    lateness_ms: i64,
    zone: Zone,
    when_full: WhenFull,
    evictions: u64,
    /// The decisions made for message ids: (id hash, instant, decision);
    /// `None` for a free entry.
    ids: Vec<Option<(u64, i64, Decision)>>,
}

impl BoundedState {
    /// A state for `policy` with room for `capacity` keys per stateful rule,
    /// evicting the oldest entry when a table is full. All memory is
    /// allocated here.
    ///
    /// # Errors
    /// [`CapacityError`] naming a rule whose cap can't be enforced exactly;
    /// [`CapacityError::NoKeys`] for a capacity of 0.
    pub fn new(policy: &NotifyPolicy, capacity: usize) -> Result<BoundedState, CapacityError> {
        BoundedState::with(policy, capacity, WhenFull::EvictOldest)
    }

    /// As [`BoundedState::new`], choosing what a full table does.
    ///
    /// # Errors
    /// [`CapacityError`] naming a rule whose cap can't be enforced exactly.
    pub fn with(
        policy: &NotifyPolicy,
        capacity: usize,
        when_full: WhenFull,
    ) -> Result<BoundedState, CapacityError> {
        BoundedState::with_ids(policy, capacity, when_full, capacity)
    }

    /// As [`BoundedState::with`], with room for `id_capacity` message ids
    /// (none when the policy names no message id).
    ///
    /// # Errors
    /// [`CapacityError`] naming a rule whose cap can't be enforced exactly;
    /// [`CapacityError::NoKeys`] for a `capacity` of 0, and
    /// [`CapacityError::NoIds`] for an `id_capacity` of 0 when the policy
    /// names a message id (0 is right when it names none).
    pub fn with_ids(
        policy: &NotifyPolicy,
        capacity: usize,
        when_full: WhenFull,
        id_capacity: usize,
    ) -> Result<BoundedState, CapacityError> {
        if capacity == 0 {
            return Err(CapacityError::NoKeys);
        }
        if let (0, Some(field)) = (id_capacity, policy.message_id()) {
            let field = policy.fields().get(field as usize);
            return Err(CapacityError::NoIds {
                field: field.map(|f| f.name.clone()).unwrap_or_default(),
            });
        }
        let mut tables = Vec::with_capacity(policy.rules().len());
        for r in policy.rules() {
            let Some(span) = r.span() else {
                tables.push(None);
                continue;
            };
            let cap = match r.action() {
                Action::Limit { cap, .. } => cap.most(),
                _ => 1,
            };
            let too_large = || CapacityError::TooLarge {
                rule: r.name().into(),
            };
            let needs = window::most_kept(span, cap, policy.lateness_ms(), policy.zone())
                .ok_or_else(too_large)?;
            if needs > MAX_INSTANTS {
                return Err(CapacityError::TooManyInstants {
                    rule: r.name().into(),
                    needs,
                });
            }
            let keep = (needs as usize).max(1);
            let slots = capacity.checked_mul(keep).ok_or_else(too_large)?;
            tables.push(Some(Table {
                keep,
                span,
                keys: filled(capacity, 0).ok_or_else(too_large)?,
                lens: filled(capacity, 0).ok_or_else(too_large)?,
                times: filled(slots, 0).ok_or_else(too_large)?,
            }));
        }
        Ok(BoundedState {
            tables,
            shape: policy.shape(),
            lateness_ms: policy.lateness_ms(),
            zone: policy.zone().clone(),
            when_full,
            evictions: 0,
            ids: match policy.message_id() {
                Some(_) => filled(id_capacity, None).ok_or(CapacityError::TooManyIds {
                    capacity: id_capacity,
                })?,
                None => Vec::new(),
            },
        })
    }

    /// How many message ids it has room for.
    pub fn id_capacity(&self) -> usize {
        self.ids.len()
    }

    /// Bytes one message id's entry takes: its hash, the instant, the
    /// decision and the tag of a free entry.
    pub const fn id_entry_bytes() -> usize {
        core::mem::size_of::<Option<(u64, i64, Decision)>>()
    }

    /// The entry a new id at `now` may take: a free one, else the one
    /// decided earliest if no record at or after `now − lateness` can repeat
    /// it.
    fn id_room(&self, now: i64) -> Option<usize> {
        if let Some(free) = self.ids.iter().position(Option::is_none) {
            return Some(free);
        }
        let (slot, at) = self
            .ids
            .iter()
            .enumerate()
            .filter_map(|(i, e)| e.map(|(_, at, _)| (i, at)))
            .min_by_key(|&(_, at)| at)?;
        let floor = now.saturating_sub(self.lateness_ms);
        ids::stale(at, floor, self.lateness_ms).then_some(slot)
    }

    fn id_slot(&self, id: u64) -> Option<usize> {
        self.ids
            .iter()
            .position(|e| e.is_some_and(|(h, _, _)| h == id))
    }

    /// How many live entries were evicted to make room.
    pub fn evictions(&self) -> u64 {
        self.evictions
    }

    /// Instants kept per key for each rule of the policy (0: no state).
    pub fn instants_per_key(&self) -> Vec<usize> {
        self.tables
            .iter()
            .map(|t| t.as_ref().map_or(0, |t| t.keep))
            .collect()
    }

    /// Bytes the entries take per (rule, key) for a rule keeping `keep`
    /// instants: key, instants, length.
    pub const fn entry_bytes(keep: usize) -> usize {
        8 + 8 * keep + 2
    }

    /// A slot for a new key of `rule` at `now`: a free one, else one whose
    /// deliveries no accepted record can meet, else (when evicting) the one
    /// whose last delivery is oldest (`true`: a live entry evicted).
    fn room(&self, rule: u32, now: i64) -> Option<(usize, bool)> {
        let t = self.tables.get(rule as usize)?.as_ref()?;
        if let Some(free) = t.lens.iter().position(|&l| l == 0) {
            return Some((free, false));
        }
        let oldest = (0..t.keys.len()).min_by_key(|&s| t.last(s))?;
        let floor = now.saturating_sub(self.lateness_ms);
        if window::stale(t.span, t.last(oldest), floor, &self.zone) {
            return Some((oldest, false));
        }
        match self.when_full {
            WhenFull::EvictOldest => Some((oldest, true)),
            WhenFull::RefuseNewKeys => None,
        }
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
}

impl ThrottleState for BoundedState {
    fn sized_for(&self) -> Option<u64> {
        Some(self.shape)
    }

    fn decided(&self, id: MessageIdHash) -> Option<(i64, Decision)> {
        let slot = self.id_slot(id.get())?;
        self.ids
            .get(slot)
            .copied()
            .flatten()
            .map(|(_, at, d)| (at, d))
    }

    fn remember(&mut self, id: MessageIdHash, at_ms: i64, decision: Decision) {
        let id = id.get();
        let Some(slot) = self.id_slot(id).or_else(|| self.id_room(at_ms)) else {
            return;
        };
        if let Some(entry) = self.ids.get_mut(slot) {
            *entry = Some((id, at_ms, decision));
        }
    }

    fn has_room_for_id(&self, id: MessageIdHash, at_ms: i64) -> bool {
        self.id_slot(id.get()).is_some() || self.id_room(at_ms).is_some()
    }

    fn history(&self, rule: NotifyRuleIndex, key: KeyHash) -> &[i64] {
        let Some(Some(t)) = self.tables.get(rule.get() as usize) else {
            return &[];
        };
        match t.find(key.get()) {
            Some(slot) => {
                let len = t.lens.get(slot).copied().unwrap_or(0) as usize;
                t.times
                    .get(slot * t.keep..slot * t.keep + len)
                    .unwrap_or(&[])
            }
            None => &[],
        }
    }

    fn has_room(&self, rule: NotifyRuleIndex, key: KeyHash, at_ms: i64) -> bool {
        let rule = rule.get();
        match self.tables.get(rule as usize) {
            Some(Some(t)) => t.find(key.get()).is_some() || self.room(rule, at_ms).is_some(),
            _ => true,
        }
    }

    fn record(&mut self, rule: NotifyRuleIndex, key: KeyHash, at_ms: i64, forget_through_ms: i64) {
        let (rule, key) = (rule.get(), key.get());
        let found = match self.tables.get(rule as usize) {
            Some(Some(t)) => t.find(key),
            _ => return,
        };
        let slot = match found {
            Some(s) => s,
            None => {
                let Some((s, evicted)) = self.room(rule, at_ms) else {
                    return;
                };
                if evicted {
                    self.evictions += 1;
                }
                let Some(Some(t)) = self.tables.get_mut(rule as usize) else {
                    return;
                };
                if let (Some(k), Some(l)) = (t.keys.get_mut(s), t.lens.get_mut(s)) {
                    *k = key;
                    *l = 0;
                }
                s
            }
        };
        let Some(Some(t)) = self.tables.get_mut(rule as usize) else {
            return;
        };
        let keep = t.keep;
        let (Some(len), Some(times)) = (
            t.lens.get_mut(slot),
            t.times.get_mut(slot * keep..(slot + 1) * keep),
        ) else {
            return;
        };
        let filled = (*len as usize).min(keep);
        // Forget what no accepted record can meet, then insert in order.
        let cut = times
            .get(..filled)
            .map_or(0, |k| k.partition_point(|&t| t <= forget_through_ms));
        if let Some(run) = times.get_mut(..filled) {
            run.rotate_left(cut);
        }
        let mut filled = filled - cut;
        if filled == keep {
            // Unreachable while the bound holds; drop the oldest rather
            // than overrun.
            if let Some(run) = times.get_mut(..filled) {
                run.rotate_left(1);
            }
            filled -= 1;
        }
        let at = times
            .get(..filled)
            .map_or(0, |k| k.partition_point(|&t| t <= at_ms));
        if let Some(run) = times.get_mut(at..=filled) {
            run.rotate_right(1);
            if let Some(x) = run.first_mut() {
                *x = at_ms;
            }
        }
        *len = (filled + 1) as u16;
    }
}
