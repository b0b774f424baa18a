//! The saved throttle state: its byte format, strict validation of every
//! byte on load, and carrying state across versions of a policy.
//!
//! Format 2, little-endian throughout: magic `TOLLSTAT`, the format
//! version, the policy's name and version, its time zone's name and its
//! lateness (ms); then a description of each rule that keeps state (its
//! number, name, action, window, key fields with their types, and the
//! point at which pruning forgot its keys, if it did); then the entries in
//! ascending (rule, key) order, each with its instants in ascending order;
//! last a CRC-32 of everything before it. Strings are a `u32` length and
//! UTF-8 bytes.
//!
//! A state saved for another version of the same policy is carried rule by
//! rule: a rule keeps its deliveries when the new version has a rule of the
//! same name with the same action kind, window, key fields (names, order
//! and types), and the policy's lateness and time zone are unchanged. A
//! changed cap keeps them (they stay true). Everything else is dropped, and
//! [`Carried`] says what was kept and dropped. Format 1 (no descriptions)
//! is read only for the very policy version it was saved for.

use crate::notify::{Action, MemoryState, NotifyPolicy, Period};
use crate::table::FieldKind;
use crate::times::Times;
use alloc::string::String;
use alloc::vec::Vec;
use hashbrown::HashMap;

/// The magic bytes of a saved throttle state.
pub const STATE_MAGIC: &[u8; 8] = b"TOLLSTAT";
/// The state format version this runtime writes.
pub const STATE_VERSION: u16 = 2;
/// The older format it still reads (for the policy version it was saved for).
const STATE_VERSION_1: u16 = 1;
/// No pruning point: the rule forgot no keys.
const NEVER: i64 = i64::MIN;

/// Why a saved state was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
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
                "saved state format {v} is not supported (this runtime reads {STATE_VERSION_1} and {STATE_VERSION})"
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
    let r = policy.rules.get(rule)?;
    let (action, period, window_ms, keys) = match &r.action {
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
        .filter_map(|&k| policy.fields.get(k as usize))
        .map(|f| (f.name.clone(), f.kind.clone()))
        .collect();
    Some(RuleShape {
        name: r.name.clone(),
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
    /// Encodes the state for `policy` in format 2 (see [`crate::state_file`]).
    pub fn save(&self, policy: &NotifyPolicy) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(STATE_MAGIC);
        out.extend_from_slice(&STATE_VERSION.to_le_bytes());
        put_str(&mut out, &policy.name);
        out.extend_from_slice(&policy.version.to_le_bytes());
        put_str(&mut out, &policy.zone.name);
        out.extend_from_slice(&policy.lateness_ms.to_le_bytes());
        let shapes: Vec<(usize, RuleShape)> = (0..policy.rules.len())
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
        let mut sorted: Vec<(&(u32, u64), &Times)> = self
            .entries
            .iter()
            .filter(|((r, _), _)| shapes.iter().any(|(i, _)| *i == *r as usize))
            .collect();
        sorted.sort_unstable_by_key(|(k, _)| **k);
        out.extend_from_slice(&(sorted.len() as u32).to_le_bytes());
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
        if crc != crc32fast::hash(body).to_le_bytes() {
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
        if format != STATE_VERSION && format != STATE_VERSION_1 {
            return Err(StateError::UnsupportedVersion(format));
        }
        let name = r.string()?;
        let version = u32::from_le_bytes(r.array()?);
        let same_version = name == policy.name && version == policy.version;
        if name != policy.name || (format == STATE_VERSION_1 && !same_version) {
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
        if format == STATE_VERSION_1 {
            for i in 0..policy.rules.len() {
                if let Some(s) = shape(policy, i) {
                    map.push((i as u32, Ok(i as u32)));
                    carried.kept.push(s.name);
                }
            }
        } else {
            let zone = r.string()?;
            let lateness = i64::from_le_bytes(r.array()?);
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
        let mut entries = HashMap::default();
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
                entries.insert((*now, key), Times::from_slice(&times));
            }
        }
        if r.pos != body.len() {
            return Err(damaged("bytes after the last entry"));
        }
        forgotten.sort_unstable();
        Ok((MemoryState { entries, forgotten }, carried))
    }
}

/// Whether a saved rule carries into `policy`: the rule it maps to, or why not.
fn judge(
    policy: &NotifyPolicy,
    saved: &RuleShape,
    zone: &str,
    lateness: i64,
) -> Result<u32, Dropped> {
    let (i, now) = (0..policy.rules.len())
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
    if lateness != policy.lateness_ms {
        return Err(Dropped::Lateness);
    }
    if zone != policy.zone.name {
        return Err(Dropped::Zone);
    }
    Ok(i as u32)
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
