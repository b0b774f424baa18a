//! The compiled-policy artifact: a versioned binary encoding of a policy
//! that terminals load, of either kind: a fee [`Table`] or a notifications
//! [`NotifyPolicy`]. Built on the host; validated in full on the device
//! before it is trusted.
//!
//! Layout (integers little-endian):
//!
//! | bytes | content |
//! |---|---|
//! | 8 | magic `TOLLGATE` |
//! | 2 | format version ([`FORMAT_VERSION`], or [`PLAIN_VERSION`]) |
//! | 2 | flags, zero |
//! | 4 | body length `n` |
//! | n | body: a kind byte (0 fees, 1 notifications), the activation window (format 4 only), then the policy |
//! | 8 | content hash: XXH64 of the body |
//! | 4 | checksum: CRC-32 of every byte before it |
//!
//! A policy with an activation window ([`crate::activation`]) is written
//! in format 4, the window after the kind byte ([`window`] gives its
//! bytes); one without is written in format 3, byte for byte as before
//! windows existed, so each policy has one encoding and one content hash.
//! Format version 2 (fee tables only) had no kind byte; it is still read.
//! A fee body holds the policy name and version, schema, schedules and rows;
//! a notifications body is described in [`notify`].
//!
//! The loader checks the magic, version, lengths, checksum and hash, then
//! decodes the body with every count bounded by the bytes that remain (so no
//! input can make it allocate more than a small multiple of its own size),
//! then validates the policy's meaning (indexes in range, cells of the right
//! kind, rates within 0..=100%, bands ascending, windows within a day...).
//! Any failure is an [`ArtifactError`]; nothing panics.

mod notify;
pub mod trust;
mod window;

use crate::activation::Window;
use crate::fee::{Band, FeeFormula, TierMode};
use crate::notify::NotifyPolicy;
use crate::position::{FieldIndex, RuleIndex};
use crate::rounding::{Rounding, RoundingMode};
use crate::table::{
    check, Bound, Cell, FieldKind, FieldSpec, Hit, Interval, Row, Rule, Schedule, Table, Variants,
};
use crate::value::Value;
use crate::variants::MAX_WORDS;
use crate::Decimal;
use alloc::string::String;
use alloc::vec::Vec;

/// The magic bytes every artifact starts with.
pub const MAGIC: &[u8; 8] = b"TOLLGATE";
/// The format version this runtime writes for a policy with an
/// activation window (it reads this one, [`PLAIN_VERSION`] and
/// [`FEES_ONLY_VERSION`]).
pub const FORMAT_VERSION: u16 = 4;
/// The format version this runtime writes for a policy without an
/// activation window: format 4 less the window.
pub const PLAIN_VERSION: u16 = 3;
/// The previous format version, of fee artifacts without a kind byte:
/// still read.
pub const FEES_ONLY_VERSION: u16 = 2;
/// The kind byte of a fee artifact's body.
const KIND_FEES: u8 = 0;
/// The kind byte of a notifications artifact's body.
const KIND_NOTIFICATIONS: u8 = 1;
const HEADER_LEN: usize = 16;
const TRAILER_LEN: usize = 12;

/// Why an artifact was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArtifactError {
    /// What was wrong.
    pub kind: ArtifactErrorKind,
    /// Byte offset where it was found.
    pub offset: usize,
}

/// The kinds of artifact errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ArtifactErrorKind {
    /// Shorter than a header and trailer.
    TooShort,
    /// Does not start with [`MAGIC`].
    BadMagic,
    /// A format version this runtime does not read.
    UnsupportedVersion(u16),
    /// Flags this runtime does not know.
    UnknownFlags,
    /// The body length disagrees with the file's length.
    LengthMismatch,
    /// The CRC-32 does not match: the file was damaged.
    ChecksumMismatch,
    /// The content hash does not match the body.
    ContentHashMismatch,
    /// The body ends in the middle of a value.
    Truncated,
    /// Bytes are left after the body's last value.
    TrailingBytes,
    /// A count is larger than the bytes that remain could hold.
    CountTooLarge,
    /// A string is not UTF-8.
    BadUtf8,
    /// An unknown tag byte.
    BadTag,
    /// A decimal out of range.
    BadDecimal,
    /// The policy is inconsistent: what the text says is wrong, whether
    /// the policy was decoded (at `offset` 0: found once it was read) or
    /// built by a host through a constructor such as
    /// [`Table::new`](crate::table::Table::new).
    Invalid(&'static str),
    /// A valid artifact of the other policy kind than the one asked for.
    WrongKind,
    /// Trusted keys were given and the artifact carries no signature.
    Unsigned,
    /// The artifact is signed by a key that is not among the trusted ones;
    /// its key id.
    UnknownKey(trust::KeyId),
    /// The signature does not verify against the named trusted key: the
    /// artifact was changed after signing, or signed by another key.
    BadSignature,
    /// The same policy at a lower version than the one installed.
    Rollback {
        /// The installed version (the floor).
        installed: u32,
        /// The version offered.
        offered: u32,
    },
    /// The same policy at the installed version with other contents: a
    /// change must ship as a new version.
    VersionReused(u32),
}

impl core::fmt::Display for ArtifactError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        use ArtifactErrorKind::*;
        match self.kind {
            TooShort => write!(f, "file too short to be a compiled policy"),
            BadMagic => write!(f, "not a compiled Tollgate policy (bad magic bytes)"),
            UnsupportedVersion(v) => write!(f, "artifact format version {v} is not supported (this runtime reads {FEES_ONLY_VERSION} to {FORMAT_VERSION})"),
            UnknownFlags => write!(f, "artifact has unknown flags"),
            LengthMismatch => write!(f, "artifact length does not match its header"),
            ChecksumMismatch => write!(f, "artifact checksum mismatch: the file is damaged"),
            ContentHashMismatch => write!(f, "artifact content hash mismatch"),
            Truncated => write!(f, "artifact body is truncated at byte {}", self.offset),
            TrailingBytes => write!(f, "unexpected bytes after the artifact body at byte {}", self.offset),
            CountTooLarge => write!(f, "a count at byte {} exceeds the data that follows", self.offset),
            BadUtf8 => write!(f, "a string at byte {} is not UTF-8", self.offset),
            BadTag => write!(f, "unknown tag at byte {}", self.offset),
            BadDecimal => write!(f, "invalid decimal at byte {}", self.offset),
            Invalid(why) => write!(f, "inconsistent policy: {why}"),
            WrongKind => write!(f, "the artifact holds the other kind of policy (fees or notifications)"),
            Unsigned => write!(f, "the artifact is not signed, and trusted keys were given"),
            UnknownKey(id) => write!(f, "the artifact is signed by key {}, which is not trusted", trust::KeyIdHex(&id)),
            BadSignature => write!(f, "the artifact's signature does not verify: it was changed after signing"),
            Rollback { installed, offered } => write!(f, "rollback refused: version {offered} is older than the installed version {installed}"),
            VersionReused(v) => write!(f, "version {v} is installed with other contents: a changed policy must carry a new version"),
        }
    }
}

impl core::error::Error for ArtifactError {}

fn err(kind: ArtifactErrorKind, offset: usize) -> ArtifactError {
    ArtifactError { kind, offset }
}

/// A decoded artifact of either kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Compiled {
    /// A fees policy's decision table.
    Fees(Table),
    /// A notifications policy.
    Notifications(NotifyPolicy),
}

/// Encodes `table` as a fee artifact.
pub fn encode(table: &Table) -> Vec<u8> {
    let mut w = Writer(alloc::vec![KIND_FEES]);
    if !table.window().is_always() {
        w.window(&table.window());
    }
    w.table(table);
    seal(&w.0, table.window().is_always())
}

/// Encodes `policy` as a notifications artifact.
pub fn encode_notify(policy: &NotifyPolicy) -> Vec<u8> {
    let mut w = Writer(alloc::vec![KIND_NOTIFICATIONS]);
    if !policy.window().is_always() {
        w.window(&policy.window());
    }
    w.notify_policy(policy);
    seal(&w.0, policy.window().is_always())
}

/// Wraps a body in the header and trailer: format 3 for a policy without
/// an activation window (`plain`), else format 4.
fn seal(body: &[u8], plain: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + body.len() + TRAILER_LEN);
    out.extend_from_slice(MAGIC);
    let version = if plain { PLAIN_VERSION } else { FORMAT_VERSION };
    out.extend_from_slice(&version.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(body);
    out.extend_from_slice(&content_hash(body).to_le_bytes());
    let crc = crate::crc::crc32(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// The content hash of an artifact body: XXH64 with seed 0.
pub fn content_hash(body: &[u8]) -> u64 {
    xxhash_rust::xxh64::xxh64(body, 0)
}

/// Reads the policy name, version and content hash without decoding the
/// policy: what a terminal management system shows. Checks everything but
/// the policy's meaning.
///
/// # Errors
/// [`ArtifactError`] for any damage to the envelope.
pub fn identify(bytes: &[u8]) -> Result<(String, u32, u64), ArtifactError> {
    let (mut r, _, _) = open(bytes)?;
    let name = r.string()?;
    let version = r.u32()?;
    Ok((name, version, content_hash(r.bytes)))
}

/// Decodes and validates a fee artifact.
///
/// # Errors
/// [`ArtifactError`] for any damaged, truncated, hostile or inconsistent
/// input; [`ArtifactErrorKind::WrongKind`] for a notifications artifact.
pub fn decode(bytes: &[u8]) -> Result<Table, ArtifactError> {
    match decode_any(bytes)? {
        Compiled::Fees(table) => Ok(table),
        Compiled::Notifications(_) => Err(err(ArtifactErrorKind::WrongKind, HEADER_LEN)),
    }
}

/// Decodes and validates a notifications artifact.
///
/// # Errors
/// [`ArtifactError`] for any damaged, truncated, hostile or inconsistent
/// input; [`ArtifactErrorKind::WrongKind`] for a fee artifact.
pub fn decode_notify(bytes: &[u8]) -> Result<NotifyPolicy, ArtifactError> {
    match decode_any(bytes)? {
        Compiled::Notifications(policy) => Ok(policy),
        Compiled::Fees(_) => Err(err(ArtifactErrorKind::WrongKind, HEADER_LEN)),
    }
}

/// Decodes and validates an artifact of either kind.
///
/// # Errors
/// [`ArtifactError`] for any damaged, truncated, hostile or inconsistent input.
pub fn decode_any(bytes: &[u8]) -> Result<Compiled, ArtifactError> {
    let (mut r, kind, window) = open(bytes)?;
    let compiled = match kind {
        KIND_FEES => Compiled::Fees(r.table(window)?),
        _ => Compiled::Notifications(r.notify_policy(window)?),
    };
    if r.pos != r.bytes.len() {
        return Err(err(ArtifactErrorKind::TrailingBytes, r.offset()));
    }
    Ok(compiled)
}

/// Checks the envelope and reads the kind byte and the activation window:
/// a reader at the start of the policy, its kind and its window.
fn open(bytes: &[u8]) -> Result<(Reader<'_>, u8, Window), ArtifactError> {
    let (version, body) = envelope(bytes)?;
    let mut r = Reader {
        bytes: body,
        pos: 0,
        base: HEADER_LEN,
    };
    let kind = if version == FEES_ONLY_VERSION {
        KIND_FEES
    } else {
        r.tag(KIND_NOTIFICATIONS)?
    };
    let window = if version == FORMAT_VERSION {
        r.window()?
    } else {
        Window::ALWAYS
    };
    Ok((r, kind, window))
}

/// The activation window of an artifact, read without decoding the
/// policy (checks everything but the policy's meaning).
///
/// # Errors
/// [`ArtifactError`] for any damage to the envelope or the window.
pub fn window_of(bytes: &[u8]) -> Result<Window, ArtifactError> {
    open(bytes).map(|(_, _, w)| w)
}

/// What the fixed header says: format version, flags and body length.
#[derive(Debug, Clone, Copy)]
struct Header {
    version: u16,
    signed: bool,
    body_len: usize,
}

impl Header {
    /// Where the checksum stands: after the body and its content hash.
    fn crc_at(&self) -> usize {
        HEADER_LEN + self.body_len + 8
    }
}

/// Checks the header alone: magic, format version, flags, and that the
/// file's length is the one the header implies.
fn header(bytes: &[u8]) -> Result<Header, ArtifactError> {
    use ArtifactErrorKind::*;
    if bytes.len() < HEADER_LEN + TRAILER_LEN {
        return Err(err(TooShort, bytes.len()));
    }
    if bytes.get(..8) != Some(MAGIC.as_slice()) {
        return Err(err(BadMagic, 0));
    }
    let u16_at = |i: usize| {
        bytes
            .get(i..i + 2)
            .and_then(|b| b.try_into().ok())
            .map(u16::from_le_bytes)
    };
    let version = u16_at(8).ok_or(err(TooShort, 8))?;
    if !(FEES_ONLY_VERSION..=FORMAT_VERSION).contains(&version) {
        return Err(err(UnsupportedVersion(version), 8));
    }
    let signed = match u16_at(10) {
        Some(0) => false,
        Some(trust::FLAG_SIGNED) if version >= PLAIN_VERSION => true,
        _ => return Err(err(UnknownFlags, 10)),
    };
    let body_len = bytes
        .get(12..16)
        .and_then(|b| b.try_into().ok())
        .map(u32::from_le_bytes)
        .ok_or(err(TooShort, 12))? as usize;
    let block = if signed {
        trust::SIGNATURE_BLOCK_LEN
    } else {
        0
    };
    let expected = body_len
        .checked_add(HEADER_LEN + TRAILER_LEN + block)
        .ok_or(err(LengthMismatch, 12))?;
    if bytes.len() != expected {
        return Err(err(LengthMismatch, 12));
    }
    Ok(Header {
        version,
        signed,
        body_len,
    })
}

/// Checks the header and trailer; returns the format version and the body.
/// A signature block is skipped, not checked: [`trust::verify`] checks it.
fn envelope(bytes: &[u8]) -> Result<(u16, &[u8]), ArtifactError> {
    use ArtifactErrorKind::*;
    let head = header(bytes)?;
    let crc_at = head.crc_at();
    let stored_crc = bytes
        .get(crc_at..crc_at + 4)
        .and_then(|b| b.try_into().ok())
        .map(u32::from_le_bytes);
    let covered = bytes.get(..crc_at).unwrap_or(&[]);
    if stored_crc != Some(crate::crc::crc32(covered)) {
        return Err(err(ChecksumMismatch, crc_at));
    }
    let body_end = HEADER_LEN + head.body_len;
    let body = bytes
        .get(HEADER_LEN..body_end)
        .ok_or(err(Truncated, HEADER_LEN))?;
    let stored_hash = bytes
        .get(body_end..body_end + 8)
        .and_then(|b| b.try_into().ok())
        .map(u64::from_le_bytes);
    if stored_hash != Some(content_hash(body)) {
        return Err(err(ContentHashMismatch, body_end));
    }
    Ok((head.version, body))
}

// ---------------------------------------------------------------------------
// Writing.

impl Writer {
    /// A fee table, after the kind byte.
    fn table(&mut self, t: &Table) {
        let w = self;
        w.string(t.name());
        w.u32(t.version());
        w.string(t.currency());
        w.string(t.timezone());
        w.fields(t.fields());
        w.schedules(t.schedules());
    }

    /// A record schema.
    fn fields(&mut self, fields: &[FieldSpec]) {
        let w = self;
        w.u32(fields.len() as u32);
        for f in fields {
            w.string(&f.name);
            match &f.kind {
                FieldKind::Enum(vs) => {
                    w.u8(0);
                    w.u32(vs.len() as u32);
                    for v in vs {
                        w.string(v);
                    }
                }
                FieldKind::Money if f.refunds => w.u8(7),
                FieldKind::Money => w.u8(1),
                FieldKind::Decimal => w.u8(2),
                FieldKind::Integer => w.u8(3),
                FieldKind::Bool => w.u8(4),
                FieldKind::String => w.u8(5),
                FieldKind::Timestamp => w.u8(6),
            }
            match &f.default {
                None => w.u8(0),
                Some(v) => {
                    w.u8(1);
                    w.value(v);
                }
            }
        }
    }

    fn schedules(&mut self, schedules: &[Schedule]) {
        let w = self;
        w.u32(schedules.len() as u32);
        for s in schedules {
            w.string(s.name());
            w.u8(match s.hit() {
                Hit::First => 0,
                Hit::Unique => 1,
            });
            w.u32(s.base().get());
            w.u8(match s.rounding().mode {
                RoundingMode::HalfUp => 0,
                RoundingMode::HalfEven => 1,
                RoundingMode::TowardZero => 2,
                RoundingMode::AwayFromZero => 3,
            });
            w.decimal(s.rounding().step);
            w.u32(s.rules().len() as u32);
            for r in s.rules() {
                w.string(&r.name);
                w.u8(u8::from(r.otherwise));
                w.fee(&r.fee);
            }
            w.u32(s.columns().len() as u32);
            for c in s.columns() {
                w.u32(c.get());
            }
            w.u32(s.rows().len() as u32);
            for row in s.rows() {
                w.u32(row.rule.get());
                for cell in &row.cells {
                    w.cell(cell);
                }
            }
        }
    }
}

struct Writer(Vec<u8>);

impl Writer {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn string(&mut self, s: &str) {
        self.u32(s.len() as u32);
        self.0.extend_from_slice(s.as_bytes());
    }
    fn decimal(&mut self, d: Decimal) {
        self.0.extend_from_slice(&d.mantissa().to_le_bytes());
        self.u8(d.scale() as u8);
    }
    fn opt_decimal(&mut self, d: Option<Decimal>) {
        match d {
            None => self.u8(0),
            Some(d) => {
                self.u8(1);
                self.decimal(d);
            }
        }
    }
    fn value(&mut self, v: &Value) {
        match v {
            Value::Enum(i) => {
                self.u8(0);
                self.u32(*i);
            }
            Value::Num(d) => {
                self.u8(1);
                self.decimal(*d);
            }
            Value::Bool(b) => {
                self.u8(2);
                self.u8(u8::from(*b));
            }
            Value::Str(s) => {
                self.u8(3);
                self.string(s);
            }
            Value::Time {
                unix_ms,
                offset_secs,
            } => {
                self.u8(4);
                self.0.extend_from_slice(&unix_ms.to_le_bytes());
                self.0.extend_from_slice(&offset_secs.to_le_bytes());
            }
        }
    }
    fn fee(&mut self, f: &FeeFormula) {
        self.decimal(f.rate);
        self.decimal(f.fixed);
        self.opt_decimal(f.min);
        self.opt_decimal(f.cap);
        self.u8(match f.tier_mode {
            None => 0,
            Some(TierMode::Whole) => 1,
            Some(TierMode::Marginal) => 2,
        });
        self.u32(f.tiers.len() as u32);
        for b in &f.tiers {
            self.opt_decimal(b.up_to);
            self.decimal(b.rate);
        }
        self.opt_decimal(f.total_min);
        self.opt_decimal(f.total_cap);
    }
    fn bound(&mut self, b: Bound) {
        match b {
            Bound::Unbounded => self.u8(0),
            Bound::Incl(d) => {
                self.u8(1);
                self.decimal(d);
            }
            Bound::Excl(d) => {
                self.u8(2);
                self.decimal(d);
            }
        }
    }
    fn strings(&mut self, set: &[String]) {
        self.u32(set.len() as u32);
        for s in set {
            self.string(s);
        }
    }
    fn cell(&mut self, c: &Cell) {
        match c {
            Cell::Any => self.u8(0),
            Cell::Enum(Variants::Small(mask)) => {
                self.u8(1);
                self.0.extend_from_slice(&mask.to_le_bytes());
            }
            Cell::Enum(Variants::Large(words)) => {
                self.u8(6);
                self.u32(words.len() as u32);
                for w in words {
                    self.0.extend_from_slice(&w.to_le_bytes());
                }
            }
            Cell::Range(iv) => {
                self.u8(2);
                self.bound(iv.lo);
                self.bound(iv.hi);
            }
            Cell::Bool(b) => {
                self.u8(3);
                self.u8(u8::from(*b));
            }
            Cell::StrIn(set) => {
                self.u8(4);
                self.strings(set);
            }
            Cell::StrNotIn(set) => {
                self.u8(5);
                self.strings(set);
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Reading, with every count bounded by what remains.

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// Offset of `bytes` in the artifact, for error positions.
    base: usize,
}

impl<'a> Reader<'a> {
    fn offset(&self) -> usize {
        self.base + self.pos
    }

    #[inline(never)]
    fn take(&mut self, n: usize) -> Result<&'a [u8], ArtifactError> {
        let end = self
            .pos
            .checked_add(n)
            .ok_or(err(ArtifactErrorKind::Truncated, self.offset()))?;
        let out = self
            .bytes
            .get(self.pos..end)
            .ok_or(err(ArtifactErrorKind::Truncated, self.offset()))?;
        self.pos = end;
        Ok(out)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], ArtifactError> {
        let at = self.offset();
        self.take(N)?
            .try_into()
            .map_err(|_| err(ArtifactErrorKind::Truncated, at))
    }

    #[inline(never)]
    fn u8(&mut self) -> Result<u8, ArtifactError> {
        Ok(self.array::<1>()?[0])
    }

    #[inline(never)]
    fn u32(&mut self) -> Result<u32, ArtifactError> {
        self.array::<4>().map(u32::from_le_bytes)
    }

    #[inline(never)]
    fn bool(&mut self) -> Result<bool, ArtifactError> {
        let at = self.offset();
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(err(ArtifactErrorKind::BadTag, at)),
        }
    }

    /// A count of items each at least `min_size` bytes long.
    #[inline(never)]
    fn count(&mut self, min_size: usize) -> Result<usize, ArtifactError> {
        let at = self.offset();
        let n = self.u32()? as usize;
        let remaining = self.bytes.len().saturating_sub(self.pos);
        if n.saturating_mul(min_size.max(1)) > remaining {
            return Err(err(ArtifactErrorKind::CountTooLarge, at));
        }
        Ok(n)
    }

    #[inline(never)]
    fn string(&mut self) -> Result<String, ArtifactError> {
        let n = self.count(1)?;
        let at = self.offset();
        let bytes = self.take(n)?;
        core::str::from_utf8(bytes)
            .map(String::from)
            .map_err(|_| err(ArtifactErrorKind::BadUtf8, at))
    }

    #[inline(never)]
    fn tag(&mut self, max: u8) -> Result<u8, ArtifactError> {
        let at = self.offset();
        let t = self.u8()?;
        if t > max {
            return Err(err(ArtifactErrorKind::BadTag, at));
        }
        Ok(t)
    }

    #[inline(never)]
    fn decimal(&mut self) -> Result<Decimal, ArtifactError> {
        let at = self.offset();
        let mantissa = i128::from_le_bytes(self.array::<16>()?);
        let scale = u32::from(self.u8()?);
        Decimal::try_from_i128_with_scale(mantissa, scale)
            .map_err(|_| err(ArtifactErrorKind::BadDecimal, at))
    }

    #[inline(never)]
    fn opt_decimal(&mut self) -> Result<Option<Decimal>, ArtifactError> {
        match self.tag(1)? {
            0 => Ok(None),
            _ => self.decimal().map(Some),
        }
    }

    #[inline(never)]
    fn value(&mut self) -> Result<Value, ArtifactError> {
        Ok(match self.tag(4)? {
            0 => Value::Enum(self.u32()?),
            1 => Value::Num(self.decimal()?),
            2 => Value::Bool(self.bool()?),
            3 => Value::Str(self.string()?),
            _ => Value::Time {
                unix_ms: i64::from_le_bytes(self.array::<8>()?),
                offset_secs: i32::from_le_bytes(self.array::<4>()?),
            },
        })
    }

    /// A fee table, after the kind byte, decided within `window`.
    #[inline(never)]
    fn table(&mut self, window: Window) -> Result<Table, ArtifactError> {
        let name = self.string()?;
        let version = self.u32()?;
        let currency = self.string()?;
        let timezone = self.string()?;
        let fields = self.fields()?;
        let n_schedules = self.count(40)?;
        let mut schedules = Vec::with_capacity(n_schedules);
        for _ in 0..n_schedules {
            schedules.push(self.schedule()?);
        }
        Table::new(name, version, window, currency, timezone, fields, schedules)
    }

    /// A record schema.
    #[inline(never)]
    fn fields(&mut self) -> Result<Vec<FieldSpec>, ArtifactError> {
        let n_fields = self.count(6)?;
        let mut fields = Vec::with_capacity(n_fields);
        for _ in 0..n_fields {
            let name = self.string()?;
            let tag = self.tag(7)?;
            let kind = match tag {
                0 => {
                    let n = self.count(4)?;
                    let mut vs = Vec::with_capacity(n);
                    for _ in 0..n {
                        vs.push(self.string()?);
                    }
                    FieldKind::Enum(vs)
                }
                1 | 7 => FieldKind::Money,
                2 => FieldKind::Decimal,
                3 => FieldKind::Integer,
                4 => FieldKind::Bool,
                5 => FieldKind::String,
                _ => FieldKind::Timestamp,
            };
            let default = match self.tag(1)? {
                0 => None,
                _ => Some(self.value()?),
            };
            fields.push(FieldSpec {
                name,
                kind,
                default,
                refunds: tag == 7,
            });
        }
        Ok(fields)
    }

    #[inline(never)]
    fn schedule(&mut self) -> Result<Schedule, ArtifactError> {
        let name = self.string()?;
        let hit = if self.tag(1)? == 0 {
            Hit::First
        } else {
            Hit::Unique
        };
        let base = FieldIndex::new(self.u32()?);
        let mode = match self.tag(3)? {
            0 => RoundingMode::HalfUp,
            1 => RoundingMode::HalfEven,
            2 => RoundingMode::TowardZero,
            _ => RoundingMode::AwayFromZero,
        };
        let step = self.decimal()?;
        let n_rules = self.count(45)?;
        let mut rules = Vec::with_capacity(n_rules);
        for _ in 0..n_rules {
            let name = self.string()?;
            let otherwise = self.bool()?;
            let fee = self.fee()?;
            rules.push(Rule {
                name,
                fee,
                otherwise,
            });
        }
        let n_cols = self.count(4)?;
        let mut columns = Vec::with_capacity(n_cols);
        for _ in 0..n_cols {
            columns.push(FieldIndex::new(self.u32()?));
        }
        let n_rows = self.count(4 + n_cols)?;
        let mut rows = Vec::with_capacity(n_rows);
        for _ in 0..n_rows {
            let rule = self.u32()?;
            let mut cells = Vec::with_capacity(n_cols);
            for _ in 0..n_cols {
                cells.push(self.cell()?);
            }
            rows.push(Row {
                rule: RuleIndex::new(rule),
                cells,
            });
        }
        Schedule::new(
            name,
            hit,
            base,
            Rounding { mode, step },
            rules,
            columns,
            rows,
        )
    }

    #[inline(never)]
    fn fee(&mut self) -> Result<FeeFormula, ArtifactError> {
        let rate = self.decimal()?;
        let fixed = self.decimal()?;
        let min = self.opt_decimal()?;
        let cap = self.opt_decimal()?;
        let tier_mode = match self.tag(2)? {
            0 => None,
            1 => Some(TierMode::Whole),
            _ => Some(TierMode::Marginal),
        };
        let n = self.count(18)?;
        let mut tiers = Vec::with_capacity(n);
        for _ in 0..n {
            let up_to = self.opt_decimal()?;
            let rate = self.decimal()?;
            tiers.push(Band { up_to, rate });
        }
        let total_min = self.opt_decimal()?;
        let total_cap = self.opt_decimal()?;
        Ok(FeeFormula {
            rate,
            tiers,
            tier_mode,
            min,
            cap,
            fixed,
            total_min,
            total_cap,
        })
    }

    #[inline(never)]
    fn bound(&mut self) -> Result<Bound, ArtifactError> {
        Ok(match self.tag(2)? {
            0 => Bound::Unbounded,
            1 => Bound::Incl(self.decimal()?),
            _ => Bound::Excl(self.decimal()?),
        })
    }

    #[inline(never)]
    fn strings(&mut self) -> Result<Vec<String>, ArtifactError> {
        let n = self.count(4)?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(self.string()?);
        }
        Ok(out)
    }

    #[inline(never)]
    fn cell(&mut self) -> Result<Cell, ArtifactError> {
        Ok(match self.tag(6)? {
            0 => Cell::Any,
            1 => Cell::Enum(Variants::Small(u64::from_le_bytes(self.array::<8>()?))),
            6 => {
                // A large set in its one form: 2 to MAX_WORDS words, the
                // last not zero (anything else is refused, not repaired).
                let n = self.count(8)?;
                let mut words = Vec::with_capacity(n);
                for _ in 0..n {
                    words.push(u64::from_le_bytes(self.array::<8>()?));
                }
                let canonical =
                    (2..=MAX_WORDS).contains(&n) && words.last().is_some_and(|&w| w != 0);
                check(
                    canonical,
                    "an enum cell's variant set is not in its one form",
                )?;
                Cell::Enum(Variants::Large(words))
            }
            2 => {
                let lo = self.bound()?;
                let hi = self.bound()?;
                Cell::Range(Interval { lo, hi })
            }
            3 => Cell::Bool(self.bool()?),
            4 => Cell::StrIn(self.strings()?),
            _ => Cell::StrNotIn(self.strings()?),
        })
    }
}
