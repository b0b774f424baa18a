//! Saving a terminal's [`BoundedState`] to bytes and restoring it, into
//! memory the caller owns, without allocating: what a terminal keeps in
//! flash across a reboot.
//!
//! Layout (integers little-endian): magic `TOLLTERM`, format version (2
//! bytes), the policy's name (2-byte length, UTF-8) and version (4), its
//! lateness (8), the evictions counter (8), the number of rules (4), then
//! per rule a flag (1: keeps state) and, for a rule that does, the
//! capacity (4), the instants kept per key (4), and per entry its key (8),
//! length (2) and instants (8 each); then the id capacity (4) and per id
//! entry a flag (1) and, when used, the id hash (8), the instant (8) and
//! the decision ([`DECISION_BYTES`]); last a CRC-32 of everything before.
//!
//! A state is restored into a state created for the same policy (name,
//! version, lateness) with the same capacities; anything else is refused,
//! and a refused restore leaves the state as it was.

use super::{BoundedState, Table};
use crate::notify::{Clamp, Decision, NotifyPolicy, Reason};
use crate::position::NotifyRuleIndex;
use crate::state_file::StateError;

/// The magic bytes of a saved terminal state.
pub const TERMINAL_STATE_MAGIC: &[u8; 8] = b"TOLLTERM";
/// The terminal state format version this runtime writes and reads.
pub const TERMINAL_STATE_VERSION: u16 = 1;
/// Bytes a saved decision takes: tag, reason tag, flag, rule, two
/// instants or values and two counts.
const DECISION_BYTES: usize = 1 + 1 + 1 + 4 + 8 + 4 + 4 + 8;

/// Why a state could not be saved into a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShortBuffer {
    /// The bytes the saved state needs.
    pub needed: usize,
}

impl core::fmt::Display for ShortBuffer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "the buffer is too short: the state needs {} bytes",
            self.needed
        )
    }
}

impl core::error::Error for ShortBuffer {}

/// Writes into a caller's buffer; `None` once it is full.
struct Out<'a> {
    buf: &'a mut [u8],
    pos: usize,
}

impl Out<'_> {
    fn put(&mut self, bytes: &[u8]) -> Option<()> {
        let end = self.pos.checked_add(bytes.len())?;
        self.buf.get_mut(self.pos..end)?.copy_from_slice(bytes);
        self.pos = end;
        Some(())
    }
}

/// Reads a saved state.
struct In<'a> {
    bytes: &'a [u8],
    pos: usize,
}

const DAMAGED: StateError = StateError::Damaged("truncated");

impl<'a> In<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], StateError> {
        let end = self.pos.checked_add(n).ok_or(DAMAGED)?;
        let out = self.bytes.get(self.pos..end).ok_or(DAMAGED)?;
        self.pos = end;
        Ok(out)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], StateError> {
        self.take(N)?.try_into().map_err(|_| DAMAGED)
    }
    fn u8(&mut self) -> Result<u8, StateError> {
        Ok(u8::from_le_bytes(self.array()?))
    }
    fn u16(&mut self) -> Result<u16, StateError> {
        Ok(u16::from_le_bytes(self.array()?))
    }
    fn u32(&mut self) -> Result<u32, StateError> {
        Ok(u32::from_le_bytes(self.array()?))
    }
    fn u64(&mut self) -> Result<u64, StateError> {
        Ok(u64::from_le_bytes(self.array()?))
    }
    fn i64(&mut self) -> Result<i64, StateError> {
        Ok(i64::from_le_bytes(self.array()?))
    }
    fn expect(&mut self, value: u64, bytes: usize, why: &'static str) -> Result<(), StateError> {
        let got = match bytes {
            1 => u64::from(self.u8()?),
            4 => u64::from(self.u32()?),
            _ => self.u64()?,
        };
        if got == value {
            Ok(())
        } else {
            Err(StateError::Damaged(why))
        }
    }
}

fn decision_bytes(d: &Decision) -> [u8; DECISION_BYTES] {
    // tag, reason tag, flag, rule, a (i64), b (u32), c (u32), e (i64)
    let (tag, sub, flag, rule, a, b, c, e): (u8, u8, u8, u32, i64, u32, u32, i64) = match *d {
        Decision::Deliver { clamped: None } => (0, 0, 0, 0, 0, 0, 0, 0),
        Decision::Deliver {
            clamped: Some(Clamp { rule, from, to }),
        } => (0, 0, 1, rule.get(), from, to, 0, 0),
        Decision::Suppress { rule, reason } => match reason {
            Reason::Duplicate { last_ms } => (1, 0, 0, rule.get(), last_ms, 0, 0, 0),
            Reason::Quiet => (1, 1, 0, rule.get(), 0, 0, 0, 0),
            Reason::Declared => (1, 2, 0, rule.get(), 0, 0, 0, 0),
            Reason::CapReached {
                count,
                cap,
                clamped_from,
            } => (
                1,
                3,
                u8::from(clamped_from.is_some()),
                rule.get(),
                0,
                count,
                cap,
                clamped_from.unwrap_or(0),
            ),
            Reason::StoreFull => (1, 4, 0, rule.get(), 0, 0, 0, 0),
        },
        Decision::Defer { rule, until_ms } => (2, 0, 0, rule.get(), until_ms, 0, 0, 0),
    };
    let mut out = [0u8; DECISION_BYTES];
    let parts: [&[u8]; 8] = [
        &[tag],
        &[sub],
        &[flag],
        &rule.to_le_bytes(),
        &a.to_le_bytes(),
        &b.to_le_bytes(),
        &c.to_le_bytes(),
        &e.to_le_bytes(),
    ];
    let mut w = Out {
        buf: &mut out,
        pos: 0,
    };
    for p in parts {
        let _ = w.put(p);
    }
    out
}

fn read_decision(r: &mut In<'_>, rules: u32) -> Result<Decision, StateError> {
    let (tag, sub, flag) = (r.u8()?, r.u8()?, r.u8()?);
    let rule = r.u32()?;
    let (a, b, c, e) = (r.i64()?, r.u32()?, r.u32()?, r.i64()?);
    let bad = StateError::Damaged("a remembered decision is not valid");
    if flag > 1 || (rule >= rules && !(tag == 0 && flag == 0)) {
        return Err(bad);
    }
    Ok(match (tag, sub) {
        (0, 0) => Decision::Deliver {
            clamped: (flag == 1).then_some(Clamp {
                rule: NotifyRuleIndex::new(rule),
                from: a,
                to: b,
            }),
        },
        (1, s) => Decision::Suppress {
            rule: NotifyRuleIndex::new(rule),
            reason: match s {
                0 => Reason::Duplicate { last_ms: a },
                1 => Reason::Quiet,
                2 => Reason::Declared,
                3 => Reason::CapReached {
                    count: b,
                    cap: c,
                    clamped_from: (flag == 1).then_some(e),
                },
                4 => Reason::StoreFull,
                _ => return Err(bad),
            },
        },
        (2, 0) => Decision::Defer {
            rule: NotifyRuleIndex::new(rule),
            until_ms: a,
        },
        _ => return Err(bad),
    })
}

impl BoundedState {
    /// The bytes [`BoundedState::save_into`] writes for `policy`.
    ///
    /// Saturates rather than wraps: on a 32-bit target a state whose saved
    /// form would not fit the address space asks for `usize::MAX` bytes,
    /// which no buffer has, so [`BoundedState::save_into`] refuses it.
    pub fn saved_len(&self, policy: &NotifyPolicy) -> usize {
        let mut n = (8usize + 2 + 2 + 4 + 8 + 8 + 4).saturating_add(policy.name().len());
        for t in &self.tables {
            n = n.saturating_add(1);
            if let Some(t) = t {
                n = n
                    .saturating_add(4 + 4)
                    .saturating_add(t.keys.len().saturating_mul(8 + 2))
                    .saturating_add(t.times.len().saturating_mul(8));
            }
        }
        let decided = self.ids.iter().flatten().count();
        n.saturating_add(4 + 4)
            .saturating_add(self.ids.len())
            .saturating_add(decided.saturating_mul(16 + DECISION_BYTES))
    }

    /// Saves the state, for `policy` (the one it was created for), into
    /// `out`, without allocating; returns the bytes written.
    ///
    /// # Errors
    /// [`ShortBuffer`] with the bytes needed when `out` is too short
    /// ([`BoundedState::saved_len`]).
    pub fn save_into(&self, policy: &NotifyPolicy, out: &mut [u8]) -> Result<usize, ShortBuffer> {
        let needed = self.saved_len(policy);
        let short = ShortBuffer { needed };
        if out.len() < needed || policy.name().len() > usize::from(u16::MAX) {
            return Err(short);
        }
        let mut w = Out { buf: out, pos: 0 };
        self.write(policy, &mut w).ok_or(short)?;
        let body = w.buf.get(..w.pos).ok_or(short)?;
        let crc = crate::crc::crc32(body);
        w.put(&crc.to_le_bytes()).ok_or(short)?;
        Ok(w.pos)
    }

    fn write(&self, policy: &NotifyPolicy, w: &mut Out<'_>) -> Option<()> {
        w.put(TERMINAL_STATE_MAGIC)?;
        w.put(&TERMINAL_STATE_VERSION.to_le_bytes())?;
        w.put(&(policy.name().len() as u16).to_le_bytes())?;
        w.put(policy.name().as_bytes())?;
        w.put(&policy.version().to_le_bytes())?;
        w.put(&self.lateness_ms.to_le_bytes())?;
        w.put(&self.evictions.to_le_bytes())?;
        w.put(&(self.tables.len() as u32).to_le_bytes())?;
        for t in &self.tables {
            let Some(t) = t else {
                w.put(&[0])?;
                continue;
            };
            w.put(&[1])?;
            w.put(&(t.keys.len() as u32).to_le_bytes())?;
            w.put(&(t.keep as u32).to_le_bytes())?;
            for (slot, (key, len)) in t.keys.iter().zip(&t.lens).enumerate() {
                w.put(&key.to_le_bytes())?;
                w.put(&len.to_le_bytes())?;
                for at in t.times.get(slot * t.keep..(slot + 1) * t.keep)? {
                    w.put(&at.to_le_bytes())?;
                }
            }
        }
        w.put(&(self.ids.len() as u32).to_le_bytes())?;
        for entry in &self.ids {
            match entry {
                None => w.put(&[0])?,
                Some((id, at, decision)) => {
                    w.put(&[1])?;
                    w.put(&id.to_le_bytes())?;
                    w.put(&at.to_le_bytes())?;
                    w.put(&decision_bytes(decision))?;
                }
            }
        }
        Some(())
    }

    /// Restores a state saved by [`BoundedState::save_into`] into this
    /// one, created for `policy` with the same capacities, without
    /// allocating. On an error the state is left as it was.
    ///
    /// # Errors
    /// [`StateError::Damaged`] for bytes that are not a saved terminal
    /// state, are damaged, or were saved with other capacities;
    /// [`StateError::UnsupportedVersion`]; [`StateError::OtherPolicy`] when
    /// saved for another policy or version (its name and version).
    pub fn restore(&mut self, policy: &NotifyPolicy, bytes: &[u8]) -> Result<(), StateError> {
        // Check everything first, then copy: a refused restore changes nothing.
        self.read(policy, bytes, false)?;
        self.read(policy, bytes, true)
    }

    fn read(&mut self, policy: &NotifyPolicy, bytes: &[u8], apply: bool) -> Result<(), StateError> {
        let body_len = bytes
            .len()
            .checked_sub(4)
            .ok_or(StateError::Damaged("too short"))?;
        let (body, crc) = bytes.split_at(body_len);
        if crate::crc::crc32(body).to_le_bytes() != crc {
            return Err(StateError::Damaged("checksum mismatch"));
        }
        let mut r = In {
            bytes: body,
            pos: 0,
        };
        if r.take(8)? != TERMINAL_STATE_MAGIC {
            return Err(StateError::Damaged("not a saved terminal state"));
        }
        let version = r.u16()?;
        if version != TERMINAL_STATE_VERSION {
            return Err(StateError::UnsupportedVersion(version));
        }
        let name_len = usize::from(r.u16()?);
        let name = core::str::from_utf8(r.take(name_len)?)
            .map_err(|_| StateError::Damaged("policy name is not UTF-8"))?;
        let saved_version = r.u32()?;
        if name != policy.name() || saved_version != policy.version() {
            return Err(StateError::OtherPolicy {
                name: name.into(),
                version: saved_version,
            });
        }
        r.expect(self.lateness_ms as u64, 8, "saved with another lateness")?;
        let evictions = r.u64()?;
        r.expect(self.tables.len() as u64, 4, "saved for other rules")?;
        let rules = self.tables.len() as u32;
        for t in self.tables.iter_mut() {
            let keeps = r.u8()?;
            let Some(t) = t else {
                if keeps != 0 {
                    return Err(StateError::Damaged("saved for other rules"));
                }
                continue;
            };
            if keeps != 1 {
                return Err(StateError::Damaged("saved for other rules"));
            }
            r.expect(t.keys.len() as u64, 4, "saved with another capacity")?;
            r.expect(t.keep as u64, 4, "saved for other limits")?;
            read_table(&mut r, t, apply)?;
        }
        r.expect(self.ids.len() as u64, 4, "saved with another id capacity")?;
        for i in 0..self.ids.len() {
            let entry = match r.u8()? {
                0 => None,
                1 => Some((r.u64()?, r.i64()?, read_decision(&mut r, rules)?)),
                _ => return Err(StateError::Damaged("bad id entry")),
            };
            if apply {
                if let Some(e) = self.ids.get_mut(i) {
                    *e = entry;
                }
            }
        }
        if r.pos != body.len() {
            return Err(StateError::Damaged("bytes left after the state"));
        }
        if apply {
            self.evictions = evictions;
        }
        Ok(())
    }
}

/// Reads one rule's entries, checking each length against what an entry
/// keeps and that its instants are in order; copies them when `apply`.
fn read_table(r: &mut In<'_>, t: &mut Table, apply: bool) -> Result<(), StateError> {
    let keep = t.keep;
    for slot in 0..t.keys.len() {
        let key = r.u64()?;
        let len = r.u16()?;
        if usize::from(len) > keep {
            return Err(StateError::Damaged("an entry holds more than it keeps"));
        }
        let mut previous = i64::MIN;
        for k in 0..keep {
            let at = r.i64()?;
            if k < usize::from(len) {
                if at < previous {
                    return Err(StateError::Damaged("deliveries out of order"));
                }
                previous = at;
            }
            if apply {
                if let Some(x) = t.times.get_mut(slot * keep + k) {
                    *x = at;
                }
            }
        }
        if apply {
            if let (Some(k), Some(l)) = (t.keys.get_mut(slot), t.lens.get_mut(slot)) {
                *k = key;
                *l = len;
            }
        }
    }
    Ok(())
}
