//! The journal's byte format: a header that binds the journal to the
//! snapshot it extends, then entries, each tagged by kind, length-prefixed
//! and checksummed on its own, so that a torn tail is found and ignored.
//!
//! Little-endian throughout (`docs/durability.md`):
//!
//! - header: magic `TOLLJRNL`, format `u16`, the policy's fingerprint `u64`,
//!   its version `u32`, the base (`u8` 0: no snapshot, 1: a snapshot, then
//!   its length `u64` and XXH64 `u64`), the policy's name (`u32` length and
//!   UTF-8), then a CRC-32 of the header's bytes before it;
//! - entry: kind `u8`, payload length `u32`, payload, then a CRC-32 of the
//!   kind, length and payload. Kind 1, a delivery: rule `u32`, key hash
//!   `u64`, instant `i64`, forget point `i64`. Kind 2, a message id's
//!   decision: id hash `u64`, the record's instant `i64`, then the decision
//!   as saved states write it (`state_file::put_decision`).

use tollgate_runtime::notify::{Decision, MemoryState, NotifyPolicy};
use tollgate_runtime::state_file::{put_decision, read_decision};

/// The magic bytes of a journal.
pub const MAGIC: &[u8; 8] = b"TOLLJRNL";
/// The journal format this version writes and reads.
pub const FORMAT: u16 = 1;
/// Entry kind: a delivery recorded in the throttle state.
pub const KIND_DELIVERY: u8 = 1;
/// Entry kind: the decision remembered for a message id.
pub const KIND_MESSAGE_ID: u8 = 2;
/// The largest payload an entry may declare; a longer one is damage.
const MAX_PAYLOAD: u32 = 1 << 16;
/// The payload of a delivery: rule `u32`, key `u64`, instant and forget
/// point `i64`.
const DELIVERY_LEN: u32 = 28;
/// The fixed part of a message id's payload: the id's hash `u64` and the
/// record's instant `i64`; the decision follows, as saved states write it.
const MESSAGE_ID_LEN: u32 = 16;

/// The snapshot a journal extends: its entries apply to that snapshot only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Base {
    /// No snapshot file existed.
    Empty,
    /// A snapshot of this length and XXH64 hash of its bytes.
    Snapshot {
        /// Its length in bytes.
        len: u64,
        /// XXH64 (seed 0) of its bytes.
        hash: u64,
    },
}

impl Base {
    /// The base for a snapshot's bytes, or for none.
    pub fn of(snapshot: Option<&[u8]>) -> Base {
        match snapshot {
            None => Base::Empty,
            Some(bytes) => Base::Snapshot {
                len: bytes.len() as u64,
                hash: xxhash_rust::xxh64::xxh64(bytes, 0),
            },
        }
    }
}

/// A journal's header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The policy's name.
    pub policy: String,
    /// The policy's version.
    pub version: u32,
    /// A hash of everything about the policy that gives rule numbers their
    /// meaning (see [`fingerprint`]).
    pub fingerprint: u64,
    /// The snapshot the entries extend.
    pub base: Base,
}

/// One mutation of the throttle state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    /// `ThrottleState::record(rule, key, at_ms, forget_through_ms)`.
    Delivery {
        /// The rule.
        rule: u32,
        /// The key's hash.
        key: u64,
        /// The delivery's instant.
        at_ms: i64,
        /// The key forgets its deliveries at or before this instant.
        forget_through_ms: i64,
    },
    /// `ThrottleState::remember(id, at_ms, decision)`.
    MessageId {
        /// The message id's hash.
        id: u64,
        /// The instant of the record it was decided for.
        at_ms: i64,
        /// The decision.
        decision: Decision,
    },
}

/// Why a journal's header was not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderError {
    /// Too short or its checksum fails: a header whose writing was cut
    /// short (nothing after it can have been printed).
    Torn,
    /// Not a journal at all.
    NotAJournal,
    /// A journal format this version does not read.
    Format(u16),
}

/// The fingerprint of `policy`: XXH64 of its empty saved state, which
/// holds its name, version, zone, lateness and every stateful rule's
/// number, name, action, window and key fields.
pub fn fingerprint(policy: &NotifyPolicy) -> u64 {
    xxhash_rust::xxh64::xxh64(&MemoryState::new().save(policy), 0)
}

/// Encodes a header.
pub fn header(h: &Header) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + h.policy.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT.to_le_bytes());
    out.extend_from_slice(&h.fingerprint.to_le_bytes());
    out.extend_from_slice(&h.version.to_le_bytes());
    match h.base {
        Base::Empty => out.extend_from_slice(&[0; 17]),
        Base::Snapshot { len, hash } => {
            out.push(1);
            out.extend_from_slice(&len.to_le_bytes());
            out.extend_from_slice(&hash.to_le_bytes());
        }
    }
    out.extend_from_slice(&(h.policy.len() as u32).to_le_bytes());
    out.extend_from_slice(h.policy.as_bytes());
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Reads the header at the start of `bytes`: the header and its length.
///
/// # Errors
/// [`HeaderError`] when it is torn, not a journal's, or of another format.
pub fn read_header(bytes: &[u8]) -> Result<(Header, usize), HeaderError> {
    let mut r = Cursor { bytes, pos: 0 };
    let magic = r.take(8).ok_or(HeaderError::Torn)?;
    if magic != MAGIC {
        // A prefix of the magic is a header cut short.
        return Err(if MAGIC.starts_with(magic) {
            HeaderError::Torn
        } else {
            HeaderError::NotAJournal
        });
    }
    let format = r.u16().ok_or(HeaderError::Torn)?;
    let fingerprint = r.u64().ok_or(HeaderError::Torn)?;
    let version = r.u32().ok_or(HeaderError::Torn)?;
    let tag = r.take(1).ok_or(HeaderError::Torn)?;
    let len = r.u64().ok_or(HeaderError::Torn)?;
    let hash = r.u64().ok_or(HeaderError::Torn)?;
    let name_len = r.u32().ok_or(HeaderError::Torn)?;
    let name = r.take(name_len as usize).ok_or(HeaderError::Torn)?;
    let end = r.pos;
    let crc = r.u32().ok_or(HeaderError::Torn)?;
    if bytes.get(..end).map(crc32fast::hash) != Some(crc) {
        return Err(HeaderError::Torn);
    }
    if format != FORMAT {
        return Err(HeaderError::Format(format));
    }
    let base = match tag {
        [0] => Base::Empty,
        [1] => Base::Snapshot { len, hash },
        _ => return Err(HeaderError::NotAJournal),
    };
    let policy = std::str::from_utf8(name)
        .map_err(|_| HeaderError::NotAJournal)?
        .to_string();
    Ok((
        Header {
            policy,
            version,
            fingerprint,
            base,
        },
        r.pos,
    ))
}

/// Appends an entry to `out`.
pub fn put_entry(entry: &Entry, out: &mut Vec<u8>) {
    let start = out.len();
    match *entry {
        Entry::Delivery {
            rule,
            key,
            at_ms,
            forget_through_ms,
        } => {
            out.push(KIND_DELIVERY);
            out.extend_from_slice(&DELIVERY_LEN.to_le_bytes());
            out.extend_from_slice(&rule.to_le_bytes());
            out.extend_from_slice(&key.to_le_bytes());
            out.extend_from_slice(&at_ms.to_le_bytes());
            out.extend_from_slice(&forget_through_ms.to_le_bytes());
        }
        Entry::MessageId {
            id,
            at_ms,
            decision,
        } => {
            let mut payload = Vec::with_capacity(48);
            payload.extend_from_slice(&id.to_le_bytes());
            payload.extend_from_slice(&at_ms.to_le_bytes());
            put_decision(&mut payload, &decision);
            out.push(KIND_MESSAGE_ID);
            out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
            out.extend_from_slice(&payload);
        }
    }
    let crc = crc32fast::hash(out.get(start..).unwrap_or(&[]));
    out.extend_from_slice(&crc.to_le_bytes());
}

/// What [`scan`] found after the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scanned {
    /// Bytes of whole, valid entries from the start.
    pub valid: usize,
    /// Whole entries read.
    pub entries: usize,
    /// Why reading stopped before the end, if it did.
    pub stopped: Option<&'static str>,
    /// Whole, valid entries found after the one reading stopped at (from
    /// the first that follows it, up to the next damage): 0 for a torn
    /// tail, the final entry cut short or garbled by a run that stopped
    /// while writing it; more for damage in the middle of the journal.
    pub after: usize,
}

/// Reads the entries of `bytes` (what follows the header) in order, giving
/// each to `each`, up to the first torn or damaged one or the first that
/// `each` refuses (returns `false` for).
pub fn scan(bytes: &[u8], mut each: impl FnMut(Entry) -> bool) -> Scanned {
    let mut r = Cursor { bytes, pos: 0 };
    let mut entries = 0;
    let stop = |valid: usize, entries: usize, why: &'static str| Scanned {
        valid,
        entries,
        stopped: Some(why),
        after: entries_after(bytes, valid),
    };
    while r.pos < bytes.len() {
        let start = r.pos;
        let (Some(kind), Some(len)) = (r.take(1), r.u32()) else {
            return stop(start, entries, "an entry cut short");
        };
        if len > MAX_PAYLOAD {
            return stop(start, entries, "an entry of impossible length");
        }
        let Some(payload) = r.take(len as usize) else {
            return stop(start, entries, "an entry cut short");
        };
        let end = r.pos;
        let Some(crc) = r.u32() else {
            return stop(start, entries, "an entry cut short");
        };
        if bytes.get(start..end).map(crc32fast::hash) != Some(crc) {
            return stop(start, entries, "an entry whose checksum fails");
        }
        let entry = match (kind, len) {
            ([KIND_DELIVERY], DELIVERY_LEN) => {
                let mut p = Cursor {
                    bytes: payload,
                    pos: 0,
                };
                match (p.u32(), p.u64(), p.i64(), p.i64()) {
                    (Some(rule), Some(key), Some(at_ms), Some(forget_through_ms)) => {
                        Entry::Delivery {
                            rule,
                            key,
                            at_ms,
                            forget_through_ms,
                        }
                    }
                    _ => return stop(start, entries, "an entry cut short"),
                }
            }
            ([KIND_MESSAGE_ID], len) if len >= MESSAGE_ID_LEN => {
                let mut p = Cursor {
                    bytes: payload,
                    pos: 0,
                };
                let decision = payload.get(MESSAGE_ID_LEN as usize..).map(read_decision);
                match (p.u64(), p.i64(), decision) {
                    (Some(id), Some(at_ms), Some(Ok(decision))) => Entry::MessageId {
                        id,
                        at_ms,
                        decision,
                    },
                    _ => return stop(start, entries, "an entry with a damaged decision"),
                }
            }
            _ => return stop(start, entries, "an entry of an unknown kind"),
        };
        if !each(entry) {
            return stop(start, entries, "an entry this policy has no rule for");
        }
        entries += 1;
    }
    Scanned {
        valid: r.pos,
        entries,
        stopped: None,
        after: 0,
    }
}

/// Whether a whole entry of a known kind and length, whose checksum holds,
/// starts at `at`: the entry's length if so.
fn entry_at(bytes: &[u8], at: usize) -> Option<usize> {
    let mut r = Cursor { bytes, pos: at };
    let kind = r.take(1)?;
    let len = r.u32()?;
    let known = match kind {
        [KIND_DELIVERY] => len == DELIVERY_LEN,
        [KIND_MESSAGE_ID] => (MESSAGE_ID_LEN..=MAX_PAYLOAD).contains(&len),
        _ => false,
    };
    if !known {
        return None;
    }
    r.take(len as usize)?;
    let end = r.pos;
    let crc = r.u32()?;
    (bytes.get(at..end).map(crc32fast::hash) == Some(crc)).then_some(r.pos - at)
}

/// The whole, valid entries after the entry at `stopped` (where reading
/// stopped): from the first offset past its start where one begins, up to
/// the next that does not. A run appends whole entries one after another,
/// so valid entries there mean the damage is not a torn tail.
fn entries_after(bytes: &[u8], stopped: usize) -> usize {
    let Some(mut at) = (stopped + 1..bytes.len()).find(|&at| entry_at(bytes, at).is_some()) else {
        return 0;
    };
    let mut found = 0;
    while let Some(len) = entry_at(bytes, at) {
        found += 1;
        at += len;
    }
    found
}

/// Reads fixed-size fields from a byte slice.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let out = self.bytes.get(self.pos..end)?;
        self.pos = end;
        Some(out)
    }

    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }

    fn u16(&mut self) -> Option<u16> {
        self.array().map(u16::from_le_bytes)
    }

    fn u32(&mut self) -> Option<u32> {
        self.array().map(u32::from_le_bytes)
    }

    fn u64(&mut self) -> Option<u64> {
        self.array().map(u64::from_le_bytes)
    }

    fn i64(&mut self) -> Option<i64> {
        self.array().map(i64::from_le_bytes)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn sample() -> Header {
        Header {
            policy: "durable".into(),
            version: 3,
            fingerprint: 0xfeed,
            base: Base::of(Some(b"snapshot")),
        }
    }

    fn delivery(i: i64) -> Entry {
        Entry::Delivery {
            rule: 1,
            key: 42,
            at_ms: i,
            forget_through_ms: i - 10,
        }
    }

    #[test]
    fn a_header_reads_back_and_every_cut_of_it_is_torn() {
        let bytes = header(&sample());
        assert_eq!(read_header(&bytes), Ok((sample(), bytes.len())));
        for cut in 0..bytes.len() {
            assert_eq!(read_header(&bytes[..cut]), Err(HeaderError::Torn), "{cut}");
        }
        assert_eq!(
            read_header(b"TOLLSTAT and more bytes than a header needs......."),
            Err(HeaderError::NotAJournal)
        );
    }

    #[test]
    fn entries_read_back_up_to_the_first_torn_or_damaged_one() {
        let mut bytes = Vec::new();
        for i in 0..5 {
            put_entry(&delivery(i), &mut bytes);
        }
        let whole = bytes.len();
        let mut with_id = bytes.clone();
        let remembered = Entry::MessageId {
            id: 9,
            at_ms: 77,
            decision: Decision::Defer {
                rule: tollgate_runtime::position::NotifyRuleIndex::new(2),
                until_ms: 1000,
            },
        };
        put_entry(&remembered, &mut with_id);
        let mut last = None;
        let s = scan(&with_id, |e| {
            last = Some(e);
            true
        });
        assert_eq!((s.entries, s.stopped, last), (6, None, Some(remembered)));
        let mut seen = Vec::new();
        let scanned = scan(&bytes, |e| {
            seen.push(e);
            true
        });
        assert_eq!(scanned.valid, whole);
        assert_eq!(scanned.stopped, None);
        assert_eq!(seen, (0..5).map(delivery).collect::<Vec<_>>());
        let one = whole / 5;
        for cut in 0..whole {
            let s = scan(&bytes[..cut], |_| true);
            assert_eq!(s.valid, cut / one * one, "{cut}");
            assert_eq!(s.entries, cut / one);
        }
        // A torn tail: nothing whole after the entry reading stopped at.
        for cut in (one * 3 + 1)..(one * 4) {
            let mut torn = bytes[..cut].to_vec();
            assert_eq!(scan(&torn, |_| true).after, 0, "{cut}");
            // The final entry written whole, then garbled or zeroed.
            torn = bytes[..one * 4].to_vec();
            torn[cut] ^= 0x5a;
            assert_eq!(scan(&torn, |_| true).after, 0, "{cut}");
            torn[one * 3..].fill(0);
            assert_eq!(scan(&torn, |_| true).after, 0, "{cut}");
        }
        // Damage in the middle: any byte of the third entry, and the two
        // entries after it are found.
        for at in (one * 2)..(one * 3) {
            let mut damaged = bytes.clone();
            damaged[at] ^= 0x5a;
            let s = scan(&damaged, |_| true);
            assert_eq!((s.valid, s.entries, s.after), (one * 2, 2, 2), "{at}");
            assert!(s.stopped.is_some());
        }
        bytes[one * 2 + 7] ^= 1;
        let s = scan(&bytes, |_| true);
        assert_eq!((s.valid, s.entries), (one * 2, 2));
        assert_eq!(s.stopped, Some("an entry whose checksum fails"));
    }
}
