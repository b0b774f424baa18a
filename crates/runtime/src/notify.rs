//! Notification decisions: deliver, suppress or defer a message, from the
//! policy, the message record, its timestamp and the throttle state. The
//! decision is a pure function of those; the state changes only when the
//! message is delivered. Time comes from the record, never from a clock.
//!
//! Phases, in the order the language fixes: always-deliver rules;
//! suppress rules; de-duplication; quiet windows; caps (all must admit);
//! deliver and record.

use crate::table::{Cell, FieldSpec};
use crate::times::Times;
use crate::value::Value;
use crate::zone::Zone;
use alloc::string::String;
use alloc::vec::Vec;
use core::hash::{BuildHasherDefault, Hasher};
use hashbrown::HashMap;

/// A compiled notifications policy.
#[derive(Debug, Clone, PartialEq)]
pub struct NotifyPolicy {
    /// The policy's name.
    pub name: String,
    /// The policy's version.
    pub version: u32,
    /// The record schema.
    pub fields: Vec<FieldSpec>,
    /// Index of the timestamp field decisions are made at.
    pub clock: u32,
    /// The policy's time zone.
    pub zone: Zone,
    /// The rules in file order.
    pub rules: Vec<NotifyRule>,
}

/// One rule: which messages it applies to, and what it does to them.
#[derive(Debug, Clone, PartialEq)]
pub struct NotifyRule {
    /// Its name, reported in decisions.
    pub name: String,
    /// Field index of each column of `rows`.
    pub columns: Vec<u32>,
    /// The rule applies when any row admits the record.
    pub rows: Vec<Vec<Cell>>,
    /// What it does.
    pub action: Action,
}

/// What a rule does to the messages it applies to.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Deliver, exempt from everything else, counted nowhere.
    AlwaysDeliver,
    /// Suppress every message it covers (unless an always-deliver rule
    /// covers it too), with the reason the policy states.
    Suppress {
        /// Why, as the policy states it.
        reason: String,
    },
    /// Suppress a key delivered less than `window_ms` ago.
    Dedup {
        /// Field indexes of the key.
        keys: Vec<u32>,
        /// The window in milliseconds.
        window_ms: i64,
    },
    /// Local wall-clock windows `(start, end)` in seconds after midnight,
    /// start included, end excluded, wrapping past midnight when start > end.
    Quiet {
        /// The windows.
        windows: Vec<(u32, u32)>,
        /// Drop the message instead of deferring it.
        drop: bool,
    },
    /// At most `cap` deliveries per period per key.
    Limit {
        /// The cap.
        cap: Cap,
        /// The period.
        period: Period,
        /// Field indexes of the key; empty for one counter.
        keys: Vec<u32>,
    },
}

/// The cap of a limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cap {
    /// Written in the policy.
    Fixed(u32),
    /// Read from an integer field, clamped to `low..=high`.
    Field {
        /// The field's index.
        field: u32,
        /// Smallest allowed.
        low: u32,
        /// Largest allowed.
        high: u32,
    },
}

impl Cap {
    /// The most deliveries any record could be allowed.
    pub fn most(self) -> u32 {
        match self {
            Cap::Fixed(n) => n,
            Cap::Field { high, .. } => high,
        }
    }
}

/// The period of a limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    /// A delivery at t counts while now − t < this many milliseconds.
    Rolling(i64),
    /// A delivery counts until local midnight.
    CalendarDay,
}

/// What happens to a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Send it now. `clamped` reports a merchant-adjustable cap whose value
    /// in the record was outside its bounds (the first such rule).
    Deliver {
        /// The clamped cap, if any.
        clamped: Option<Clamp>,
    },
    /// Do not send it.
    Suppress {
        /// The rule that decided.
        rule: u32,
        /// Why.
        reason: Reason,
    },
    /// Send it again at `until_ms` (it is then evaluated as new).
    Defer {
        /// The quiet rule that decided.
        rule: u32,
        /// The first instant at which none of the rule's windows applies.
        until_ms: i64,
    },
}

/// A cap read from the record and clamped to the policy's bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clamp {
    /// The limit rule.
    pub rule: u32,
    /// The record's value.
    pub from: i64,
    /// The cap applied.
    pub to: u32,
}

/// Why a message was suppressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// The same key was delivered at `last_ms`, within the window.
    Duplicate {
        /// The earlier delivery.
        last_ms: i64,
    },
    /// A quiet window with `then drop`.
    Quiet,
    /// A `suppress` rule: the rule's own reason says why.
    Declared,
    /// The cap is reached: `count` deliveries in the period already.
    CapReached {
        /// Deliveries counted in the period.
        count: u32,
        /// The cap that applied.
        cap: u32,
        /// The record's own value, when it was outside the bounds and clamped.
        clamped_from: Option<i64>,
    },
}

/// Why a record could not be decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotifyError {
    /// The clock field is missing or not a timestamp.
    NoTimestamp,
}

/// Where deliveries are remembered, per rule and key.
pub trait ThrottleState {
    /// The kept deliveries of `(rule, key)`, oldest first.
    fn history(&self, rule: u32, key: u64) -> &[i64];
    /// Records a delivery at `at_ms`, keeping only the `keep` most recent.
    fn record(&mut self, rule: u32, key: u64, at_ms: i64, keep: usize);
}

/// Hashes (rule, key) pairs whose key is already a 64-bit hash: one
/// multiply-and-mix instead of a general-purpose hash function.
#[derive(Debug, Clone, Copy, Default)]
pub struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn write_u32(&mut self, n: u32) {
        self.0 = (self.0 ^ u64::from(n)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// An in-memory store for servers: one entry per (rule, key) ever
/// delivered, each holding at most as many instants as its rule needs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryState {
    entries: HashMap<(u32, u64), Times, BuildHasherDefault<KeyHasher>>,
}

impl MemoryState {
    /// An empty store.
    pub fn new() -> MemoryState {
        MemoryState::default()
    }

    /// How many (rule, key) entries it holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Drops what can no longer count at `now_ms` under `policy`: instants
    /// older than their rule's window (a day for calendar caps, kept two
    /// days to be safe across time zones), and entries left with none, so
    /// that memory follows the live keys and short histories move back
    /// inline. Returns how many entries were dropped. Decisions are
    /// unchanged by pruning as long as the records that follow are not older
    /// than `now_ms`.
    pub fn prune(&mut self, policy: &NotifyPolicy, now_ms: i64) -> usize {
        let before = self.entries.len();
        self.entries.retain(|&(rule, _), times| {
            let window = match policy.rules.get(rule as usize).map(|r| &r.action) {
                Some(Action::Dedup { window_ms, .. }) => *window_ms,
                Some(Action::Limit {
                    period: Period::Rolling(ms),
                    ..
                }) => *ms,
                Some(Action::Limit {
                    period: Period::CalendarDay,
                    ..
                }) => 2 * 86_400_000,
                _ => return false,
            };
            // t can count while now − t < window: keep t > now − window.
            times.keep_after(now_ms.saturating_sub(window));
            !times.is_empty()
        });
        before - self.entries.len()
    }

    /// How many decisions a stream should make between two calls of
    /// [`MemoryState::prune`]: four times as many as there are entries, at
    /// least 4,096, so that pruning visits a quarter of an entry per decision
    /// however large the store grows.
    pub fn prune_interval(&self) -> usize {
        self.entries.len().saturating_mul(4).max(4096)
    }
}

impl ThrottleState for MemoryState {
    fn history(&self, rule: u32, key: u64) -> &[i64] {
        self.entries.get(&(rule, key)).map_or(&[], Times::as_slice)
    }

    fn record(&mut self, rule: u32, key: u64, at_ms: i64, keep: usize) {
        self.entries
            .entry((rule, key))
            .or_default()
            .insert(at_ms, keep);
    }
}

impl NotifyRule {
    /// Whether the rule applies to `record`.
    pub fn applies(&self, record: &[Value]) -> bool {
        self.rows.iter().any(|cells| {
            cells
                .iter()
                .zip(&self.columns)
                .all(|(cell, &f)| record.get(f as usize).is_some_and(|v| cell.admits(v)))
        })
    }
}

/// The key of a record for the fields `keys`: a 64-bit hash of their values
/// (numbers normalized, so 1.0 and 1.00 are one key).
pub fn key_of(record: &[Value], keys: &[u32]) -> u64 {
    let mut h = xxhash_rust::xxh64::Xxh64::new(0x7011_6a7e);
    for &k in keys {
        match record.get(k as usize) {
            Some(Value::Enum(i)) => {
                h.update(&[1]);
                h.update(&i.to_le_bytes());
            }
            Some(Value::Num(d)) => {
                let n = d.normalize();
                h.update(&[2]);
                h.update(&n.mantissa().to_le_bytes());
                h.update(&[n.scale() as u8]);
            }
            Some(Value::Bool(b)) => h.update(&[3, u8::from(*b)]),
            Some(Value::Str(s)) => {
                h.update(&[4]);
                h.update(&(s.len() as u64).to_le_bytes());
                h.update(s.as_bytes());
            }
            Some(Value::Time { unix_ms, .. }) => {
                h.update(&[5]);
                h.update(&unix_ms.to_le_bytes());
            }
            None => h.update(&[0]),
        }
    }
    h.digest()
}

/// The keys already hashed for one decision (the first 16 rules with state;
/// any beyond are hashed again when needed). No allocation.
#[derive(Default)]
struct KeyCache {
    slots: [(usize, u64); 16],
    len: usize,
}

impl KeyCache {
    fn key(&mut self, rule: usize, record: &[Value], keys: &[u32]) -> u64 {
        if let Some(&(_, k)) = self.slots.iter().take(self.len).find(|(r, _)| *r == rule) {
            return k;
        }
        let k = key_of(record, keys);
        if let Some(slot) = self.slots.get_mut(self.len) {
            *slot = (rule, k);
            self.len += 1;
        }
        k
    }
}

/// How many of the (time-ordered) `history` count in the period at `now_ms`:
/// a delivery at t counts while now − t < D, or on the same local day.
pub fn count_in_period(history: &[i64], period: Period, now_ms: i64, zone: &Zone) -> usize {
    match period {
        Period::Rolling(d) => {
            // now − t < d, i.e. t > now − d: everything after the first such t.
            let from = history.partition_point(|&t| now_ms.saturating_sub(t) >= d);
            history.len() - from
        }
        Period::CalendarDay => {
            let today = zone.day(now_ms.div_euclid(1000));
            let day = |t: i64| zone.day(t.div_euclid(1000));
            let from = history.partition_point(|&t| day(t) < today);
            let to = history.partition_point(|&t| day(t) <= today);
            to.saturating_sub(from)
        }
    }
}

/// Whether local time of day `tod` lies in window `(start, end)`: start
/// included, end excluded, wrapping past midnight when start > end.
pub fn in_window(tod: u32, (start, end): (u32, u32)) -> bool {
    if start <= end {
        start <= tod && tod < end
    } else {
        tod >= start || tod < end
    }
}

impl NotifyPolicy {
    /// Decides `record` against `state`, and records the delivery in it if
    /// the decision is to deliver.
    ///
    /// # Errors
    /// [`NotifyError::NoTimestamp`] when the record has no timestamp.
    pub fn decide(
        &self,
        record: &[Value],
        state: &mut impl ThrottleState,
    ) -> Result<Decision, NotifyError> {
        let now_ms = match record.get(self.clock as usize) {
            Some(Value::Time { unix_ms, .. }) => *unix_ms,
            _ => return Err(NotifyError::NoTimestamp),
        };
        let now_s = now_ms.div_euclid(1000);
        // Which rules apply, decided once: a bit mask for the first 128
        // rules (no allocation), a vector only for policies with more.
        let mut mask = 0u128;
        for (i, r) in self.rules.iter().enumerate().take(128) {
            if r.applies(record) {
                mask |= 1 << i;
            }
        }
        let beyond: Vec<bool> = self
            .rules
            .iter()
            .skip(128)
            .map(|r| r.applies(record))
            .collect();
        let applies = |i: usize| match i.checked_sub(128) {
            None => mask & (1 << i) != 0,
            Some(j) => beyond.get(j) == Some(&true),
        };
        let matching = || {
            self.rules
                .iter()
                .enumerate()
                .filter(move |(i, _)| applies(*i))
        };
        // Each rule's key is hashed once, though it is read and then recorded.
        let mut cache = KeyCache::default();
        if matching().any(|(_, r)| r.action == Action::AlwaysDeliver) {
            return Ok(Decision::Deliver { clamped: None });
        }
        if let Some((i, _)) = matching().find(|(_, r)| matches!(r.action, Action::Suppress { .. }))
        {
            return Ok(Decision::Suppress {
                rule: i as u32,
                reason: Reason::Declared,
            });
        }
        for (i, r) in matching() {
            if let Action::Dedup { keys, window_ms } = &r.action {
                if let Some(&last) = state.history(i as u32, cache.key(i, record, keys)).last() {
                    if now_ms.saturating_sub(last) < *window_ms {
                        return Ok(Decision::Suppress {
                            rule: i as u32,
                            reason: Reason::Duplicate { last_ms: last },
                        });
                    }
                }
            }
        }
        for (i, r) in matching() {
            if let Action::Quiet { windows, drop } = &r.action {
                if windows
                    .iter()
                    .any(|&w| in_window(self.zone.time_of_day(now_s), w))
                {
                    if *drop {
                        return Ok(Decision::Suppress {
                            rule: i as u32,
                            reason: Reason::Quiet,
                        });
                    }
                    return Ok(Decision::Defer {
                        rule: i as u32,
                        until_ms: self.quiet_end(now_s, windows).saturating_mul(1000),
                    });
                }
            }
        }
        let mut clamped = None;
        for (i, r) in matching() {
            if let Action::Limit { cap, period, keys } = &r.action {
                let (allowed, clamped_from) = self.cap_for(*cap, record);
                if let (None, Some(from)) = (clamped, clamped_from) {
                    clamped = Some(Clamp {
                        rule: i as u32,
                        from,
                        to: allowed,
                    });
                }
                let history = state.history(i as u32, cache.key(i, record, keys));
                let count = count_in_period(history, *period, now_ms, &self.zone) as u32;
                if count >= allowed {
                    return Ok(Decision::Suppress {
                        rule: i as u32,
                        reason: Reason::CapReached {
                            count,
                            cap: allowed,
                            clamped_from,
                        },
                    });
                }
            }
        }
        for (i, r) in matching() {
            match &r.action {
                Action::Dedup { keys, .. } => {
                    state.record(i as u32, cache.key(i, record, keys), now_ms, 1)
                }
                Action::Limit { cap, keys, .. } => state.record(
                    i as u32,
                    cache.key(i, record, keys),
                    now_ms,
                    cap.most() as usize,
                ),
                _ => {}
            }
        }
        Ok(Decision::Deliver { clamped })
    }

    /// The cap for `record`, and the record's value when it was clamped.
    pub fn cap_for(&self, cap: Cap, record: &[Value]) -> (u32, Option<i64>) {
        match cap {
            Cap::Fixed(n) => (n, None),
            Cap::Field { field, low, high } => {
                let wanted = match record.get(field as usize) {
                    Some(Value::Num(d)) => {
                        i64::try_from(d.mantissa()).ok().filter(|_| d.scale() == 0)
                    }
                    _ => None,
                };
                match wanted {
                    Some(v) if v < i64::from(low) => (low, Some(v)),
                    Some(v) if v > i64::from(high) => (high, Some(v)),
                    Some(v) => (v as u32, None),
                    None => (high, None),
                }
            }
        }
    }

    /// The first instant (seconds) at or after `now_s` outside every window.
    fn quiet_end(&self, now_s: i64, windows: &[(u32, u32)]) -> i64 {
        let mut t = now_s;
        // Each step leaves one window; adjacent windows chain.
        for _ in 0..=windows.len() {
            let tod = self.zone.time_of_day(t);
            let Some(&(_, end)) = windows.iter().find(|&&w| in_window(tod, w)) else {
                return t;
            };
            t = self
                .zone
                .next_time_of_day(t.saturating_add(1), end % 86_400);
        }
        t
    }
}

/// The magic bytes of a saved throttle state.
pub const STATE_MAGIC: &[u8; 8] = b"TOLLSTAT";
/// The state format version this runtime writes and reads.
pub const STATE_VERSION: u16 = 1;

/// Why a saved state was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateError {
    /// Not a saved state, or damaged (bad magic, checksum or structure).
    Damaged(&'static str),
    /// A format version this runtime does not read.
    UnsupportedVersion(u16),
    /// Saved for another policy or version: rule numbers would mean other rules.
    OtherPolicy {
        /// The policy it was saved for.
        name: String,
        /// Its version.
        version: u32,
    },
}

impl core::fmt::Display for StateError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            StateError::Damaged(why) => write!(f, "saved state is damaged: {why}"),
            StateError::UnsupportedVersion(v) => write!(
                f,
                "saved state format {v} is not supported (this runtime reads {STATE_VERSION})"
            ),
            StateError::OtherPolicy { name, version } => {
                write!(
                    f,
                    "saved state belongs to policy `{name}` version {version}"
                )
            }
        }
    }
}

impl MemoryState {
    /// Encodes the state for `policy`: magic, format version, the policy's
    /// name and version, the entries, and a CRC-32 of everything before it.
    pub fn save(&self, policy: &NotifyPolicy) -> Vec<u8> {
        let mut out = Vec::new();
        // Entries go out in (rule, key) order, whatever the map's order.
        let mut sorted: Vec<(&(u32, u64), &Times)> = self.entries.iter().collect();
        sorted.sort_unstable_by_key(|(k, _)| **k);
        out.extend_from_slice(STATE_MAGIC);
        out.extend_from_slice(&STATE_VERSION.to_le_bytes());
        out.extend_from_slice(&(policy.name.len() as u32).to_le_bytes());
        out.extend_from_slice(policy.name.as_bytes());
        out.extend_from_slice(&policy.version.to_le_bytes());
        out.extend_from_slice(&(self.entries.len() as u32).to_le_bytes());
        for ((rule, key), times) in sorted {
            out.extend_from_slice(&rule.to_le_bytes());
            out.extend_from_slice(&key.to_le_bytes());
            out.extend_from_slice(&(times.len() as u32).to_le_bytes());
            for t in times.as_slice() {
                out.extend_from_slice(&t.to_le_bytes());
            }
        }
        let crc = crc32fast::hash(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        out
    }

    /// Decodes a state saved for `policy`, validating all of it.
    ///
    /// # Errors
    /// [`StateError`] for damaged, truncated or hostile bytes, another
    /// format version, or another policy.
    pub fn load(bytes: &[u8], policy: &NotifyPolicy) -> Result<MemoryState, StateError> {
        let damaged = StateError::Damaged;
        let (body, crc) = bytes
            .split_at_checked(bytes.len().checked_sub(4).ok_or(damaged("too short"))?)
            .ok_or(damaged("too short"))?;
        if crc != crc32fast::hash(body).to_le_bytes() {
            return Err(damaged("checksum mismatch"));
        }
        let mut r = StateReader {
            bytes: body,
            pos: 0,
        };
        if r.take(8)? != STATE_MAGIC {
            return Err(damaged("not a saved throttle state"));
        }
        let version = u16::from_le_bytes(r.array()?);
        if version != STATE_VERSION {
            return Err(StateError::UnsupportedVersion(version));
        }
        let name_len = r.count(1)?;
        let name = core::str::from_utf8(r.take(name_len)?)
            .map_err(|_| damaged("policy name is not UTF-8"))?;
        let version = u32::from_le_bytes(r.array()?);
        if name != policy.name || version != policy.version {
            return Err(StateError::OtherPolicy {
                name: String::from(name),
                version,
            });
        }
        let n = r.count(20)?;
        let mut entries = HashMap::default();
        let mut previous: Option<(u32, u64)> = None;
        for _ in 0..n {
            let rule = u32::from_le_bytes(r.array()?);
            let key = u64::from_le_bytes(r.array()?);
            if previous.is_some_and(|p| p >= (rule, key)) {
                return Err(damaged("entries out of order"));
            }
            previous = Some((rule, key));
            let rule_ok = policy
                .rules
                .get(rule as usize)
                .is_some_and(|r| matches!(r.action, Action::Dedup { .. } | Action::Limit { .. }));
            if !rule_ok {
                return Err(damaged("an entry names a rule that keeps no state"));
            }
            let m = r.count(8)?;
            if m == 0 {
                return Err(damaged("an entry has no deliveries"));
            }
            let mut times = Vec::with_capacity(m);
            for _ in 0..m {
                let t = i64::from_le_bytes(r.array()?);
                if times.last().is_some_and(|&p| p > t) {
                    return Err(damaged("deliveries out of order"));
                }
                times.push(t);
            }
            entries.insert((rule, key), Times::from_slice(&times));
        }
        if r.pos != body.len() {
            return Err(damaged("bytes after the last entry"));
        }
        Ok(MemoryState { entries })
    }
}

struct StateReader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> StateReader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], StateError> {
        let end = self
            .pos
            .checked_add(n)
            .ok_or(StateError::Damaged("truncated"))?;
        let out = self
            .bytes
            .get(self.pos..end)
            .ok_or(StateError::Damaged("truncated"))?;
        self.pos = end;
        Ok(out)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], StateError> {
        self.take(N)?
            .try_into()
            .map_err(|_| StateError::Damaged("truncated"))
    }

    /// A count of items of at least `min` bytes each, bounded by what remains.
    fn count(&mut self, min: usize) -> Result<usize, StateError> {
        let n = u32::from_le_bytes(self.array()?) as usize;
        if n.saturating_mul(min) > self.bytes.len().saturating_sub(self.pos) {
            return Err(StateError::Damaged("a count exceeds the data that follows"));
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_stays_in_time_order_when_records_arrive_out_of_order() {
        let mut s = MemoryState::new();
        for at in [50, 10, 30, 40, 20] {
            s.record(0, 7, at, 3);
        }
        assert_eq!(s.history(0, 7), &[30, 40, 50]);
        let mut b = crate::bounded::BoundedState::new(
            &NotifyPolicy {
                name: "p".into(),
                version: 1,
                fields: Vec::new(),
                clock: 0,
                zone: Zone::fixed("UTC".into(), 0),
                rules: alloc::vec![NotifyRule {
                    name: "cap".into(),
                    columns: Vec::new(),
                    rows: alloc::vec![Vec::new()],
                    action: Action::Limit {
                        cap: Cap::Fixed(3),
                        period: Period::Rolling(1_000),
                        keys: Vec::new()
                    },
                }],
            },
            2,
        );
        for at in [50, 10, 30, 40, 20] {
            b.record(0, 7, at, 3);
        }
        assert_eq!(b.history(0, 7), &[30, 40, 50]);
    }

    #[test]
    fn always_deliver_wins_over_suppress_and_suppress_changes_no_state() {
        let rule = |name: &str, action: Action| NotifyRule {
            name: name.into(),
            columns: Vec::new(),
            rows: alloc::vec![Vec::new()],
            action,
        };
        let mut policy = NotifyPolicy {
            name: "p".into(),
            version: 1,
            fields: Vec::new(),
            clock: 0,
            zone: Zone::fixed("UTC".into(), 0),
            rules: alloc::vec![
                rule(
                    "cap",
                    Action::Limit {
                        cap: Cap::Fixed(1),
                        period: Period::Rolling(1_000),
                        keys: Vec::new(),
                    }
                ),
                rule(
                    "out",
                    Action::Suppress {
                        reason: "opted out".into()
                    }
                ),
            ],
        };
        let record = [Value::Time {
            unix_ms: 5,
            offset_secs: 0,
        }];
        let mut state = MemoryState::new();
        assert_eq!(
            policy.decide(&record, &mut state),
            Ok(Decision::Suppress {
                rule: 1,
                reason: Reason::Declared
            })
        );
        assert!(state.is_empty(), "a suppressed message records nothing");
        policy.rules.push(rule("always", Action::AlwaysDeliver));
        assert_eq!(
            policy.decide(&record, &mut state),
            Ok(Decision::Deliver { clamped: None })
        );
    }

    #[test]
    fn counting_in_a_period() {
        let zone = Zone::fixed("UTC".into(), 0);
        let h = [1_000, 2_000, 3_000, 90_000_000];
        assert_eq!(count_in_period(&h, Period::Rolling(2_000), 3_000, &zone), 3);
        assert_eq!(count_in_period(&h, Period::Rolling(2_001), 3_000, &zone), 4);
        // A delivery later than now still counts in a rolling window.
        assert_eq!(count_in_period(&h, Period::Rolling(10), 3_000, &zone), 2);
        assert_eq!(count_in_period(&h, Period::CalendarDay, 5_000, &zone), 3);
        assert_eq!(
            count_in_period(&h, Period::CalendarDay, 90_000_001, &zone),
            1
        );
    }
}
