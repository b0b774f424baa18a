//! The saved throttle state: its byte format, strict validation of every
//! byte on load, and carrying state across versions of a policy.
//!
//! Format 3, little-endian throughout: magic `TOLLSTAT`, the format
//! version, the policy's name and version, its time zone's name and its
//! lateness (ms); then a description of each rule that keeps state (its
//! number, name, action, window, key fields with their types, and the
//! point at which pruning forgot its keys, if it did); then the entries in
//! ascending (rule, key) order, each with its instants in ascending order;
//! then the message ids (the point at which pruning forgot ids, if it did,
//! and each id's hash, in ascending order, with the instant and the
//! decision made for it); last a CRC-32 of everything before it. Strings
//! are a `u32` length and UTF-8 bytes. Format 2 is format 3 without the
//! message ids.
//!
//! A state saved for another version of the same policy is carried rule by
//! rule: a rule keeps its deliveries when the new version has a rule of the
//! same name with the same action kind, window, key fields (names, order
//! and types), and the policy's lateness and time zone are unchanged. A
//! changed cap keeps them (they stay true). Everything else is dropped, and
//! [`Carried`] says what was kept and dropped. The decisions of message ids
//! name rules by number, so they are carried only into the very policy
//! version that made them (with the same lateness); otherwise they are
//! dropped, and listed as `message ids`. Format 1 (no descriptions) is read
//! only for the very policy version it was saved for.

use crate::ids::DecidedIds;
use crate::notify::{Action, Clamp, Decision, MemoryState, NotifyPolicy, Period, Reason};
use crate::position::NotifyRuleIndex;
use crate::table::FieldKind;
use alloc::string::String;
use alloc::vec::Vec;

/// The magic bytes of a saved throttle state.
pub const STATE_MAGIC: &[u8; 8] = b"TOLLSTAT";
/// The state format version this runtime writes.
pub const STATE_VERSION: u16 = 3;
/// The format before message ids, still read.
const STATE_VERSION_2: u16 = 2;
/// The oldest format it still reads (for the policy version it was saved for).
const STATE_VERSION_1: u16 = 1;
/// The name under which [`Carried`] lists dropped message ids (no rule can
/// have it: names have no spaces).
pub const MESSAGE_IDS: &str = "message ids";
/// No pruning point: the rule forgot no keys.
const NEVER: i64 = i64::MIN;

/// Why a saved state was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StateError {
    /// Not a saved state, or damaged (bad magic, checksum or structure).
    Damaged(&'static str),
    /// A format version this runtime does not read.
    UnsupportedVersion(u16),
    /// Saved for another policy (or, in format 1, another version of it).
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
                "saved state format {v} is not supported (this runtime reads {STATE_VERSION_1} to {STATE_VERSION})"
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

impl core::error::Error for StateError {}

/// What loading a saved state carried into the current policy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Carried {
    /// The policy version the state was saved for.
    pub from_version: u32,
    /// Rules whose deliveries were kept, by name.
    pub kept: Vec<String>,
    /// Rules whose deliveries were dropped, by name, with the reason.
    pub dropped: Vec<(String, Dropped)>,
}

/// Why a saved rule's deliveries were dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dropped {
    /// The policy has no stateful rule of that name any more.
    Gone,
    /// The rule is now another kind of action (de-duplication or limit).
    Action,
    /// Its window or period changed.
    Window,
    /// Its key fields changed (names, order or types).
    Keys,
    /// The policy's lateness changed.
    Lateness,
    /// The policy's time zone changed.
    Zone,
    /// Saved for another version of the policy (message ids only: their
    /// decisions name rules by number).
    Version,
}

impl Dropped {
    /// What changed, in words.
    pub fn describe(self) -> &'static str {
        match self {
            Dropped::Gone => "no rule of that name keeps state now",
            Dropped::Action => "its action changed",
            Dropped::Window => "its window changed",
            Dropped::Keys => "its key fields changed",
            Dropped::Lateness => "the policy's lateness changed",
            Dropped::Zone => "the policy's time zone changed",
            Dropped::Version => "decisions are carried only into the policy version that made them",
        }
    }
}

/// A stateful rule as a saved state describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RuleShape {
    name: String,
    /// 0: de-duplication; 1: limit.
    action: u8,
    /// 0: rolling (or a de-duplication window); 1: calendar day.
    period: u8,
    window_ms: i64,
    keys: Vec<(String, FieldKind)>,
}

fn shape(policy: &NotifyPolicy, rule: usize) -> Option<RuleShape> {
    let r = policy.rules().get(rule)?;
    let (action, period, window_ms, keys) = match r.action() {
        Action::Dedup { keys, window_ms } => (0, 0, *window_ms, keys),
        Action::Limit {
            period: Period::Rolling(ms),
            keys,
            ..
        } => (1, 0, *ms, keys),
        Action::Limit {
            period: Period::CalendarDay,
            keys,
            ..
        } => (1, 1, 0, keys),
        _ => return None,
    };
    let keys = keys
        .iter()
        .filter_map(|&k| policy.fields().get(k as usize))
        .map(|f| (f.name.clone(), f.kind.clone()))
        .collect();
    Some(RuleShape {
        name: r.name().into(),
        action,
        period,
        window_ms,
        keys,
    })
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn put_kind(out: &mut Vec<u8>, kind: &FieldKind) {
    let tag: u8 = match kind {
        FieldKind::Enum(_) => 0,
        FieldKind::Money => 1,
        FieldKind::Decimal => 2,
        FieldKind::Integer => 3,
        FieldKind::Bool => 4,
        FieldKind::String => 5,
        FieldKind::Timestamp => 6,
    };
    out.push(tag);
    if let FieldKind::Enum(variants) = kind {
        out.extend_from_slice(&(variants.len() as u32).to_le_bytes());
        for v in variants {
            put_str(out, v);
        }
    }
}

impl MemoryState {
    /// Encodes the state for `policy` in format 3 (see [`crate::state_file`]).
    pub fn save(&self, policy: &NotifyPolicy) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(STATE_MAGIC);
        out.extend_from_slice(&STATE_VERSION.to_le_bytes());
        put_str(&mut out, policy.name());
        out.extend_from_slice(&policy.version().to_le_bytes());
        put_str(&mut out, &policy.zone().name);
        out.extend_from_slice(&policy.lateness_ms().to_le_bytes());
        let shapes: Vec<(usize, RuleShape)> = (0..policy.rules().len())
            .filter_map(|i| shape(policy, i).map(|s| (i, s)))
            .collect();
        out.extend_from_slice(&(shapes.len() as u32).to_le_bytes());
        for (i, s) in &shapes {
            out.extend_from_slice(&(*i as u32).to_le_bytes());
            put_str(&mut out, &s.name);
            out.push(s.action);
            out.push(s.period);
            out.extend_from_slice(&s.window_ms.to_le_bytes());
            out.extend_from_slice(&(s.keys.len() as u32).to_le_bytes());
            for (name, kind) in &s.keys {
                put_str(&mut out, name);
                put_kind(&mut out, kind);
            }
            let forgotten = self
                .forgotten
                .iter()
                .find(|(r, _)| *r as usize == *i)
                .map_or(NEVER, |&(_, at)| at);
            out.extend_from_slice(&forgotten.to_le_bytes());
        }
        // Entries go out in (rule, key) order, whatever the map's order;
        // only those of rules that keep state.
        let mut sorted: Vec<((u32, u64), &[i64])> = self
            .entries()
            .filter(|((r, _), _)| shapes.iter().any(|(i, _)| *i == *r as usize))
            .collect();
        sorted.sort_unstable_by_key(|(k, _)| *k);
        out.extend_from_slice(&(sorted.len() as u32).to_le_bytes());
        for ((rule, key), times) in sorted {
            out.extend_from_slice(&rule.to_le_bytes());
            out.extend_from_slice(&key.to_le_bytes());
            out.extend_from_slice(&(times.len() as u32).to_le_bytes());
            for t in times {
                out.extend_from_slice(&t.to_le_bytes());
            }
        }
        out.extend_from_slice(&self.ids.forgotten.unwrap_or(NEVER).to_le_bytes());
        let mut ids: Vec<(&u64, &(i64, Decision))> = self.ids.map.iter().collect();
        ids.sort_unstable_by_key(|(id, _)| **id);
        out.extend_from_slice(&(ids.len() as u32).to_le_bytes());
        for (id, (at, decision)) in ids {
            out.extend_from_slice(&id.to_le_bytes());
            out.extend_from_slice(&at.to_le_bytes());
            put_decision(&mut out, decision);
        }
        let crc = crate::crc::crc32(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        out
    }

    /// Decodes a state saved for `policy` or another version of it,
    /// validating all of it, and keeps what it can (see [`Carried`]).
    ///
    /// # Errors
    /// [`StateError`] for damaged, truncated or hostile bytes, an unknown
    /// format version, or another policy.
    pub fn load(bytes: &[u8], policy: &NotifyPolicy) -> Result<MemoryState, StateError> {
        MemoryState::load_carried(bytes, policy).map(|(state, _)| state)
    }

    /// As [`MemoryState::load`], also saying which rules' deliveries were
    /// kept and which dropped.
    ///
    /// # Errors
    /// As [`MemoryState::load`].
    pub fn load_carried(
        bytes: &[u8],
        policy: &NotifyPolicy,
    ) -> Result<(MemoryState, Carried), StateError> {
        let damaged = StateError::Damaged;
        let (body, crc) = bytes
            .split_at_checked(bytes.len().checked_sub(4).ok_or(damaged("too short"))?)
            .ok_or(damaged("too short"))?;
        if crc != crate::crc::crc32(body).to_le_bytes() {
            return Err(damaged("checksum mismatch"));
        }
        let mut r = Reader {
            bytes: body,
            pos: 0,
        };
        if r.take(8)? != STATE_MAGIC {
            return Err(damaged("not a saved throttle state"));
        }
        let format = u16::from_le_bytes(r.array()?);
        if ![STATE_VERSION_1, STATE_VERSION_2, STATE_VERSION].contains(&format) {
            return Err(StateError::UnsupportedVersion(format));
        }
        let name = r.string()?;
        let version = u32::from_le_bytes(r.array()?);
        let same_version = name == policy.name() && version == policy.version();
        if name != policy.name() || (format == STATE_VERSION_1 && !same_version) {
            return Err(StateError::OtherPolicy {
                name: String::from(name),
                version,
            });
        }
        // Saved rule number → (this policy's rule number, or why dropped).
        let mut map: Vec<(u32, Result<u32, Dropped>)> = Vec::new();
        let mut forgotten = Vec::new();
        let mut carried = Carried {
            from_version: version,
            ..Carried::default()
        };
        let mut same_lateness = true;
        if format == STATE_VERSION_1 {
            for i in 0..policy.rules().len() {
                if let Some(s) = shape(policy, i) {
                    map.push((i as u32, Ok(i as u32)));
                    carried.kept.push(s.name);
                }
            }
        } else {
            let zone = r.string()?;
            let lateness = i64::from_le_bytes(r.array()?);
            same_lateness = lateness == policy.lateness_ms();
            let n = r.count(30)?;
            for _ in 0..n {
                let saved = u32::from_le_bytes(r.array()?);
                if map.last().is_some_and(|(p, _)| *p >= saved) {
                    return Err(damaged("rules out of order"));
                }
                let shape_saved = r.shape()?;
                let at = i64::from_le_bytes(r.array()?);
                let seen = carried
                    .kept
                    .iter()
                    .chain(carried.dropped.iter().map(|(n, _)| n));
                if seen.into_iter().any(|n| *n == shape_saved.name) {
                    return Err(damaged("a rule is described twice"));
                }
                let verdict = judge(policy, &shape_saved, zone, lateness);
                match verdict {
                    Ok(now) => {
                        carried.kept.push(shape_saved.name);
                        if at != NEVER {
                            forgotten.push((now, at));
                        }
                    }
                    Err(why) => carried.dropped.push((shape_saved.name, why)),
                }
                map.push((saved, verdict));
            }
        }
        let n = r.count(20)?;
        let mut state = MemoryState::new();
        let mut previous: Option<(u32, u64)> = None;
        for _ in 0..n {
            let rule = u32::from_le_bytes(r.array()?);
            let key = u64::from_le_bytes(r.array()?);
            if previous.is_some_and(|p| p >= (rule, key)) {
                return Err(damaged("entries out of order"));
            }
            previous = Some((rule, key));
            let Some((_, target)) = map.iter().find(|(saved, _)| *saved == rule) else {
                return Err(damaged("an entry names a rule that keeps no state"));
            };
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
            if let Ok(now) = target {
                state.put(*now, key, &times);
            }
        }
        let mut ids = DecidedIds::default();
        if format == STATE_VERSION {
            let keep = same_version && same_lateness && policy.message_id().is_some();
            let at = i64::from_le_bytes(r.array()?);
            let n = r.count(18)?;
            let mut previous: Option<u64> = None;
            for _ in 0..n {
                let id = u64::from_le_bytes(r.array()?);
                if previous.is_some_and(|p| p >= id) {
                    return Err(damaged("message ids out of order"));
                }
                previous = Some(id);
                let when = i64::from_le_bytes(r.array()?);
                let decision = r.decision()?;
                if keep {
                    if !fits(policy, &decision) {
                        return Err(damaged("a decision names a rule that could not make it"));
                    }
                    ids.map.insert(id, (when, decision));
                }
            }
            if keep {
                ids.forgotten = (at != NEVER).then_some(at);
            } else if n > 0 && policy.message_id().is_some() {
                let why = if same_version {
                    Dropped::Lateness
                } else {
                    Dropped::Version
                };
                carried.dropped.push((String::from(MESSAGE_IDS), why));
            }
        }
        if r.pos != body.len() {
            return Err(damaged("bytes after the last entry"));
        }
        forgotten.sort_unstable();
        state.forgotten = forgotten;
        state.ids = ids;
        Ok((state, carried))
    }
}

/// Appends a decision as saved states write it: a tag (0 deliver, 1
/// suppress, 2 defer), then its fields; an optional part is a flag byte (0
/// or 1) and the part. (The journal of `tollgate eval --state` uses it too.)
pub fn put_decision(out: &mut Vec<u8>, d: &Decision) {
    match *d {
        Decision::Deliver { clamped } => {
            out.push(0);
            match clamped {
                None => out.push(0),
                Some(c) => {
                    out.push(1);
                    out.extend_from_slice(&c.rule.get().to_le_bytes());
                    out.extend_from_slice(&c.from.to_le_bytes());
                    out.extend_from_slice(&c.to.to_le_bytes());
                }
            }
        }
        Decision::Suppress { rule, reason } => {
            out.push(1);
            out.extend_from_slice(&rule.get().to_le_bytes());
            match reason {
                Reason::Duplicate { last_ms } => {
                    out.push(0);
                    out.extend_from_slice(&last_ms.to_le_bytes());
                }
                Reason::Quiet => out.push(1),
                Reason::Declared => out.push(2),
                Reason::CapReached {
                    count,
                    cap,
                    clamped_from,
                } => {
                    out.push(3);
                    out.extend_from_slice(&count.to_le_bytes());
                    out.extend_from_slice(&cap.to_le_bytes());
                    match clamped_from {
                        None => out.push(0),
                        Some(v) => {
                            out.push(1);
                            out.extend_from_slice(&v.to_le_bytes());
                        }
                    }
                }
                Reason::StoreFull => out.push(4),
            }
        }
        Decision::Defer { rule, until_ms } => {
            out.push(2);
            out.extend_from_slice(&rule.get().to_le_bytes());
            out.extend_from_slice(&until_ms.to_le_bytes());
        }
    }
}

/// Reads a decision written by [`put_decision`] that takes all of `bytes`.
///
/// # Errors
/// [`StateError::Damaged`] for an unknown tag or flag, or bytes missing or
/// left over.
pub fn read_decision(bytes: &[u8]) -> Result<Decision, StateError> {
    let mut r = Reader { bytes, pos: 0 };
    let d = r.decision()?;
    if r.pos != bytes.len() {
        return Err(StateError::Damaged("bytes after a decision"));
    }
    Ok(d)
}

/// Whether `policy` has the rules a saved decision names, with actions that
/// could have made it.
pub fn fits(policy: &NotifyPolicy, d: &Decision) -> bool {
    let action = |rule: u32| policy.rules().get(rule as usize).map(|r| r.action());
    match *d {
        Decision::Deliver { clamped: None } => true,
        Decision::Deliver {
            clamped: Some(Clamp { rule, .. }),
        }
        | Decision::Suppress {
            rule,
            reason: Reason::CapReached { .. },
        } => matches!(action(rule.get()), Some(Action::Limit { .. })),
        Decision::Suppress {
            rule,
            reason: Reason::Duplicate { .. },
        } => matches!(action(rule.get()), Some(Action::Dedup { .. })),
        Decision::Suppress {
            rule,
            reason: Reason::Quiet,
        }
        | Decision::Defer { rule, .. } => matches!(action(rule.get()), Some(Action::Quiet { .. })),
        Decision::Suppress {
            rule,
            reason: Reason::Declared,
        } => matches!(action(rule.get()), Some(Action::Suppress { .. })),
        Decision::Suppress {
            rule,
            reason: Reason::StoreFull,
        } => matches!(
            action(rule.get()),
            Some(Action::Limit { .. } | Action::Dedup { .. })
        ),
    }
}

/// Whether a saved rule carries into `policy`: the rule it maps to, or why not.
fn judge(
    policy: &NotifyPolicy,
    saved: &RuleShape,
    zone: &str,
    lateness: i64,
) -> Result<u32, Dropped> {
    let (i, now) = (0..policy.rules().len())
        .filter_map(|i| shape(policy, i).map(|s| (i, s)))
        .find(|(_, s)| s.name == saved.name)
        .ok_or(Dropped::Gone)?;
    if now.action != saved.action {
        return Err(Dropped::Action);
    }
    if now.period != saved.period || now.window_ms != saved.window_ms {
        return Err(Dropped::Window);
    }
    if now.keys != saved.keys {
        return Err(Dropped::Keys);
    }
    if lateness != policy.lateness_ms() {
        return Err(Dropped::Lateness);
    }
    if zone != policy.zone().name {
        return Err(Dropped::Zone);
    }
    Ok(i as u32)
}

/// How a state kept for `old` carries into `new`, another version of the
/// same policy, without saving it: for each rule of `old`, the rule of
/// `new` its deliveries go to (by the rule of [`MemoryState::load_carried`]),
/// and what was kept and dropped. Message ids are listed as dropped when
/// both versions name one (their decisions name rules by number).
pub fn carry_plan(old: &NotifyPolicy, new: &NotifyPolicy) -> (Vec<Option<u32>>, Carried) {
    let mut carried = Carried {
        from_version: old.version(),
        ..Carried::default()
    };
    let into = (0..old.rules().len())
        .map(|i| {
            let saved = shape(old, i)?;
            match judge(new, &saved, &old.zone().name, old.lateness_ms()) {
                Ok(j) => {
                    carried.kept.push(saved.name);
                    Some(j)
                }
                Err(why) => {
                    carried.dropped.push((saved.name, why));
                    None
                }
            }
        })
        .collect();
    if old.message_id().is_some() && new.message_id().is_some() {
        carried
            .dropped
            .push((String::from(MESSAGE_IDS), Dropped::Version));
    }
    (into, carried)
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
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

    fn byte(&mut self) -> Result<u8, StateError> {
        Ok(u8::from_le_bytes(self.array()?))
    }

    /// A count of items of at least `min` bytes each, bounded by what remains.
    fn count(&mut self, min: usize) -> Result<usize, StateError> {
        let n = u32::from_le_bytes(self.array()?) as usize;
        if n.saturating_mul(min) > self.bytes.len().saturating_sub(self.pos) {
            return Err(StateError::Damaged("a count exceeds the data that follows"));
        }
        Ok(n)
    }

    fn string(&mut self) -> Result<&'a str, StateError> {
        let n = self.count(1)?;
        core::str::from_utf8(self.take(n)?).map_err(|_| StateError::Damaged("a name is not UTF-8"))
    }

    fn kind(&mut self) -> Result<FieldKind, StateError> {
        Ok(match self.byte()? {
            0 => {
                let n = self.count(4)?;
                let mut variants = Vec::with_capacity(n);
                for _ in 0..n {
                    variants.push(String::from(self.string()?));
                }
                FieldKind::Enum(variants)
            }
            1 => FieldKind::Money,
            2 => FieldKind::Decimal,
            3 => FieldKind::Integer,
            4 => FieldKind::Bool,
            5 => FieldKind::String,
            6 => FieldKind::Timestamp,
            _ => return Err(StateError::Damaged("an unknown field type")),
        })
    }

    /// A flag byte: 0 or 1.
    fn flag(&mut self) -> Result<bool, StateError> {
        match self.byte()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(StateError::Damaged("a flag is neither 0 nor 1")),
        }
    }

    /// A decision, as [`put_decision`] writes it.
    fn decision(&mut self) -> Result<Decision, StateError> {
        let bad = StateError::Damaged("an unknown decision");
        Ok(match self.byte()? {
            0 => Decision::Deliver {
                clamped: if self.flag()? {
                    Some(Clamp {
                        rule: NotifyRuleIndex::new(u32::from_le_bytes(self.array()?)),
                        from: i64::from_le_bytes(self.array()?),
                        to: u32::from_le_bytes(self.array()?),
                    })
                } else {
                    None
                },
            },
            1 => {
                let rule = u32::from_le_bytes(self.array()?);
                let reason = match self.byte()? {
                    0 => Reason::Duplicate {
                        last_ms: i64::from_le_bytes(self.array()?),
                    },
                    1 => Reason::Quiet,
                    2 => Reason::Declared,
                    3 => Reason::CapReached {
                        count: u32::from_le_bytes(self.array()?),
                        cap: u32::from_le_bytes(self.array()?),
                        clamped_from: if self.flag()? {
                            Some(i64::from_le_bytes(self.array()?))
                        } else {
                            None
                        },
                    },
                    4 => Reason::StoreFull,
                    _ => return Err(bad),
                };
                Decision::Suppress {
                    rule: NotifyRuleIndex::new(rule),
                    reason,
                }
            }
            2 => Decision::Defer {
                rule: NotifyRuleIndex::new(u32::from_le_bytes(self.array()?)),
                until_ms: i64::from_le_bytes(self.array()?),
            },
            _ => return Err(bad),
        })
    }

    fn shape(&mut self) -> Result<RuleShape, StateError> {
        let name = String::from(self.string()?);
        let action = self.byte()?;
        let period = self.byte()?;
        let window_ms = i64::from_le_bytes(self.array()?);
        let valid = match (action, period) {
            (0, 0) | (1, 0) => window_ms > 0,
            (1, 1) => window_ms == 0,
            _ => false,
        };
        if !valid {
            return Err(StateError::Damaged("a rule's action or window is invalid"));
        }
        let n = self.count(5)?;
        let mut keys = Vec::with_capacity(n);
        for _ in 0..n {
            let field = String::from(self.string()?);
            keys.push((field, self.kind()?));
        }
        Ok(RuleShape {
            name,
            action,
            period,
            window_ms,
            keys,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hashes::{KeyHash, MessageIdHash};
    use crate::notify::{Cap, NotifyParts, NotifyRule, ThrottleState};
    use crate::table::{FieldKind, FieldSpec};
    use crate::value::Value;
    use crate::zone::Zone;
    use alloc::vec;

    /// A policy with a rule of every kind a decision can name, and a
    /// message id.
    fn policy(version: u32) -> NotifyPolicy {
        let field = |name: &str, kind: FieldKind, default: Option<Value>| FieldSpec {
            name: name.into(),
            kind,
            default,
            refunds: false,
        };
        let rule = |name: &str, action: Action| {
            NotifyRule::new(name.into(), Vec::new(), vec![Vec::new()], action).unwrap()
        };
        NotifyPolicy::new(NotifyParts {
            name: "ids".into(),
            version,
            window: crate::activation::Window::ALWAYS,
            fields: vec![
                field("at", FieldKind::Timestamp, None),
                field("terminal", FieldKind::String, None),
                field("msg_id", FieldKind::String, Some(Value::Str(String::new()))),
                field("limit", FieldKind::Integer, None),
            ],
            clock: 0,
            zone: Zone::fixed("UTC".into(), 0),
            lateness_ms: 3_600_000,
            message_id: Some(2),
            rules: vec![
                rule(
                    "dedup",
                    Action::Dedup {
                        keys: vec![1],
                        window_ms: 600_000,
                    },
                ),
                rule(
                    "cap",
                    Action::Limit {
                        cap: Cap::Field {
                            field: 3,
                            low: 0,
                            high: 2,
                        },
                        period: Period::Rolling(3_600_000),
                        keys: vec![1],
                    },
                ),
                rule(
                    "quiet",
                    Action::Quiet {
                        windows: vec![(0, 3_600)],
                        drop: false,
                    },
                ),
                rule(
                    "out",
                    Action::Suppress {
                        reason: "opted out".into(),
                    },
                ),
            ],
        })
        .unwrap()
    }

    /// A decision of every kind.
    fn decisions() -> Vec<Decision> {
        let suppress = |rule, reason| Decision::Suppress { rule, reason };
        vec![
            Decision::Deliver { clamped: None },
            Decision::Deliver {
                clamped: Some(Clamp {
                    rule: NotifyRuleIndex::new(1),
                    from: -5,
                    to: 0,
                }),
            },
            suppress(NotifyRuleIndex::new(0), Reason::Duplicate { last_ms: -7 }),
            suppress(NotifyRuleIndex::new(2), Reason::Quiet),
            suppress(NotifyRuleIndex::new(3), Reason::Declared),
            suppress(
                NotifyRuleIndex::new(1),
                Reason::CapReached {
                    count: 2,
                    cap: 2,
                    clamped_from: None,
                },
            ),
            suppress(
                NotifyRuleIndex::new(1),
                Reason::CapReached {
                    count: 0,
                    cap: 0,
                    clamped_from: Some(i64::MIN),
                },
            ),
            suppress(NotifyRuleIndex::new(0), Reason::StoreFull),
            Decision::Defer {
                rule: NotifyRuleIndex::new(2),
                until_ms: 3_600_000,
            },
        ]
    }

    fn state() -> MemoryState {
        let mut s = MemoryState::new();
        s.record(NotifyRuleIndex::new(0), KeyHash::new(11), 1_000, 0);
        s.record(NotifyRuleIndex::new(1), KeyHash::new(11), 2_000, 0);
        for (i, d) in decisions().into_iter().enumerate() {
            s.remember(MessageIdHash::new(i as u64 * 7919), 1_000 + i as i64, d);
        }
        s
    }

    fn with_crc(mut body: Vec<u8>) -> Vec<u8> {
        let crc = crate::crc::crc32(&body);
        body.extend_from_slice(&crc.to_le_bytes());
        body
    }

    #[test]
    fn every_decision_of_an_id_survives_saving() {
        let p = policy(1);
        let s = state();
        assert_eq!(s.ids().len(), decisions().len());
        let loaded = MemoryState::load(&s.save(&p), &p);
        assert_eq!(loaded, Ok(s));
        for d in decisions() {
            let mut bytes = Vec::new();
            put_decision(&mut bytes, &d);
            assert_eq!(read_decision(&bytes), Ok(d));
            assert!(fits(&p, &d));
            for cut in 0..bytes.len() {
                assert!(read_decision(bytes.get(..cut).unwrap_or_default()).is_err());
            }
            bytes.push(0);
            assert!(read_decision(&bytes).is_err());
        }
    }

    #[test]
    fn ids_are_carried_only_into_the_version_that_decided_them() {
        let saved = state().save(&policy(1));
        let (loaded, carried) = MemoryState::load_carried(&saved, &policy(2)).unwrap_or_default();
        assert!(loaded.ids().is_empty());
        assert_eq!(loaded.len(), 2, "the deliveries are carried");
        assert_eq!(
            carried.dropped,
            [(String::from(MESSAGE_IDS), Dropped::Version)]
        );
    }

    #[test]
    fn a_decision_naming_a_rule_that_could_not_make_it_is_refused() {
        let p = policy(1);
        let mut s = MemoryState::new();
        // A defer names a quiet rule; rule 0 de-duplicates.
        s.remember(
            MessageIdHash::new(1),
            5,
            Decision::Defer {
                rule: NotifyRuleIndex::new(0),
                until_ms: 9,
            },
        );
        assert_eq!(
            MemoryState::load(&s.save(&p), &p),
            Err(StateError::Damaged(
                "a decision names a rule that could not make it"
            ))
        );
    }

    #[test]
    fn formats_1_and_2_are_still_read() {
        let p = policy(1);
        let s = state();
        let v3 = s.save(&p);
        let body = v3.get(..v3.len() - 4).unwrap_or_default();
        // Format 2 is format 3 without the ids section (its pruning point,
        // its count and the ids) at the end.
        let ids_bytes: usize = 8
            + 4
            + s.ids()
                .map
                .values()
                .map(|(_, d)| {
                    let mut out = Vec::new();
                    put_decision(&mut out, d);
                    16 + out.len()
                })
                .sum::<usize>();
        let mut v2 = body
            .get(..body.len() - ids_bytes)
            .unwrap_or_default()
            .to_vec();
        if let Some(v) = v2.get_mut(8..10) {
            v.copy_from_slice(&2u16.to_le_bytes());
        }
        let from_v2 = MemoryState::load(&with_crc(v2), &p).unwrap_or_default();
        assert!(from_v2.ids().is_empty());
        assert!(from_v2.same_entries(&s));
        // Format 1: the policy's name and version, then the entries.
        let mut v1 = Vec::new();
        v1.extend_from_slice(STATE_MAGIC);
        v1.extend_from_slice(&1u16.to_le_bytes());
        put_str(&mut v1, "ids");
        v1.extend_from_slice(&1u32.to_le_bytes());
        v1.extend_from_slice(&2u32.to_le_bytes());
        for (rule, at) in [(0u32, 1_000i64), (1, 2_000)] {
            v1.extend_from_slice(&rule.to_le_bytes());
            v1.extend_from_slice(&11u64.to_le_bytes());
            v1.extend_from_slice(&1u32.to_le_bytes());
            v1.extend_from_slice(&at.to_le_bytes());
        }
        let from_v1 = MemoryState::load(&with_crc(v1), &p).unwrap_or_default();
        assert!(from_v1.same_entries(&s));
    }
}
