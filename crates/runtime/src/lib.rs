//! Tollgate's terminal runtime: the part of the engine that runs on payment
//! terminals and servers alike.
//!
//! A policy is written, checked and compiled on a host (`tollgate compile
//! POLICY -o FILE`); this crate is what runs the result. It is
//! `#![no_std]` with `alloc`, depends on `rust_decimal`, `hashbrown`,
//! `xxhash-rust`, and `ed25519-dalek` and `sha2` (verifying signed
//! artifacts, [`artifact::trust`]) alone, and assumes no 64-bit target
//! (see [below](#targets-narrower-than-64-bits)). The C library
//! (`crates/ffi`, `docs/ffi.md`) is a thin layer over it.
//!
//! A [`table::Table`] and a [`notify::NotifyPolicy`] are valid by
//! construction: they are made only through constructors that check them
//! ([`table::Table::new`], [`table::Schedule::new`],
//! [`notify::NotifyPolicy::new`], [`notify::NotifyRule::new`], or loading
//! an artifact, which ends there), and their parts are read, never
//! changed, so the lookup index a schedule builds always answers for its
//! rows, and a terminal's state always fits the policy it was sized from.
//! Positions are typed ([`position`]), and so are the hashes a throttle
//! state is keyed by ([`hashes`]).
//!
//! # Targets narrower than 64 bits
//!
//! Only x86-64 can be built here, so this was checked by reading, and is
//! what to re-check when the code changes:
//!
//! - Encodings: the artifact (both kinds, the activation window, the
//!   signature block) and both saved states ([`bounded`]'s and
//!   [`state_file`]'s) write every count, index and length as a `u8`,
//!   `u16` or `u32`, instants as `i64` and hashes as `u64`; never a
//!   `usize`. Counts are read as `u32` and bounded by the bytes that remain
//!   before anything is allocated. Typed positions ([`position`]) are
//!   `u32`.
//! - `usize` is left only for lengths and offsets in memory
//!   (`ArtifactError::offset`, buffer lengths, the capacities a caller
//!   gives). Where a size is computed from a caller's capacity, it is
//!   checked: [`bounded::BoundedState`] allocates its tables with checked
//!   sizes and `try_reserve`, so a capacity a 32-bit address space cannot
//!   hold is a [`bounded::CapacityError`], not a panic or an abort, and
//!   [`bounded::BoundedState::saved_len`] saturates rather than wraps.
//! - `u64`, `i64` and `i128` arithmetic (instants, hashes, `Decimal`'s
//!   96-bit mantissa, the lookup index's 64-bit bitset words) is ordinary
//!   integer arithmetic, which 32-bit targets compile as multi-word
//!   operations.
//! - Atomics: none in this crate or in `crates/ffi`. In the dependency
//!   graph (`cargo tree` of `crates/ffi`), hashbrown uses atomics only in
//!   its tests and rayon support (off), and `cpufeatures` (through `sha2`)
//!   keeps one `AtomicU8`, compiled only on x86, AArch64 and LoongArch; no
//!   crate uses a 64-bit atomic.
//! - `crates/nostd-check` proves that nothing in the graph links `std`
//!   (the test suite builds it).
//!
//! # What it owns
//!
//! - [`artifact`]: the binary form of both policy kinds, decoded strictly
//!   (checksum, content hash, every count and index, the policy's meaning)
//!   before anything is trusted.
//! - [`table`] and [`eval`]: a fees policy's decision table, its lookup
//!   index, and pricing; [`fee`] and [`rounding`]: fee arithmetic in the
//!   order the language fixes, every overflow an error.
//! - [`notify`]: the notification engine (always-deliver, suppress,
//!   de-duplication, quiet windows, caps), deciding from a
//!   [`notify::ThrottleState`]; [`bounded::BoundedState`] is the terminal's
//!   fixed-capacity state, saved to and restored from a caller's buffer;
//!   [`zone`] answers local times without a time zone database.
//! - [`activation`]: a policy's activation window; [`staged::Terminal`]:
//!   the current policy, a verified and staged successor that takes over
//!   at its activation, and the previous one kept for late records.
//! - [`record::RecordBuilder`]: records typed field by field, as
//!   `tollgate eval` types the records it reads.
//! - [`trace`]: explanations built while deciding, for fees and for
//!   notifications; a host words them (`eval --explain`), and they cost
//!   nothing when not asked for.
//!
//! # The life of a fee
//!
//! Load the artifact once, resolve the fields once, then per transaction:
//! build the record and price it. (Here the table is built and encoded in
//! place of reading the file `tollgate compile` writes.)
//!
//! ```
//! use tollgate_runtime::artifact::{self, Compiled};
//! use tollgate_runtime::fee::FeeFormula;
//! # use tollgate_runtime::position::{FieldIndex, RuleIndex};
//! use tollgate_runtime::record::RecordBuilder;
//! use tollgate_runtime::rounding::Rounding;
//! use tollgate_runtime::table::{FieldKind, FieldSpec, Hit, Row, Rule, Schedule, Table};
//! use tollgate_runtime::Decimal;
//!
//! # let table = Table::new(
//! #     "debit".into(), 1, Default::default(), "CNY".into(), "Asia/Shanghai".into(),
//! #     vec![FieldSpec { name: "amount".into(), kind: FieldKind::Money,
//! #                      default: None, refunds: false }],
//! #     vec![Schedule::new(
//! #         "mdr".into(), Hit::First, FieldIndex::new(0), Rounding::half_up_fen(),
//! #         vec![Rule { name: "debit".into(), otherwise: false, fee: FeeFormula {
//! #             rate: Decimal::new(5, 3), cap: Some(Decimal::new(2500, 2)),
//! #             ..FeeFormula::default() } }],
//! #         vec![], vec![Row { rule: RuleIndex::new(0), cells: vec![] }])?],
//! # )?;
//! # let bytes = artifact::encode(&table);
//! // `bytes`: an artifact (0.50% capped at 25.00 yuan), as read from flash.
//! let Compiled::Fees(table) = artifact::decode_any(&bytes)? else {
//!     unreachable!("a fees artifact")
//! };
//! let mut record = RecordBuilder::new(table.fields());
//! let amount = record.field("amount")?;
//! let mut components = Vec::new();
//!
//! record.set_money_minor(amount, 300_000, 2)?; // 3,000.00 yuan
//! let fee = table.fee(record.finish()?, &mut components)?;
//! assert_eq!(fee, Decimal::new(1500, 2)); // 15.00
//!
//! record.reset(); // the next transaction reuses every buffer
//! record.set_number(amount, "50000.00")?;
//! let capped = table.total(record.finish()?)?;
//! assert_eq!(capped, Decimal::new(2500, 2)); // 50,000 × 0.50% is 250.00: capped
//! # Ok::<(), Box<dyn core::error::Error>>(())
//! ```
//!
//! # The life of a notification
//!
//! Load the artifact, make the terminal's state once (all its memory is
//! allocated then), and per message: build the record and decide it. Before
//! a reboot, save the state to a buffer; after it, restore it and carry on.
//!
//! ```
//! use tollgate_runtime::artifact::{self, Compiled};
//! use tollgate_runtime::bounded::BoundedState;
//! use tollgate_runtime::notify::{Action, Cap, Decision, NotifyParts, NotifyPolicy, NotifyRule, Period};
//! use tollgate_runtime::record::RecordBuilder;
//! use tollgate_runtime::table::{FieldKind, FieldSpec};
//! use tollgate_runtime::zone::Zone;
//!
//! # let field = |name: &str, kind| FieldSpec { name: name.into(), kind, default: None, refunds: false };
//! # let policy = NotifyPolicy::new(NotifyParts {
//! #     name: "messages".into(), version: 1, window: Default::default(),
//! #     fields: vec![field("terminal", FieldKind::String), field("at", FieldKind::Timestamp)],
//! #     clock: 1,
//! #     zone: Zone { name: "Asia/Shanghai".into(), initial: 8 * 3600, changes: vec![],
//! #                  from: 946_684_800, until: 4_102_444_800 },
//! #     lateness_ms: 3_600_000, message_id: None,
//! #     rules: vec![NotifyRule::new("terminal_cap".into(), vec![], vec![vec![]],
//! #         Action::Limit { cap: Cap::Fixed(1), period: Period::Rolling(3_600_000),
//! #                         keys: vec![0] })?],
//! # })?;
//! # let bytes = artifact::encode_notify(&policy);
//! // `bytes`: an artifact allowing one message per terminal per hour.
//! let Compiled::Notifications(policy) = artifact::decode_any(&bytes)? else {
//!     unreachable!("a notifications artifact")
//! };
//! let mut state = BoundedState::new(&policy, 8)?; // room for 8 terminals
//! let mut record = RecordBuilder::new(policy.fields());
//! let (terminal, at) = (record.field("terminal")?, record.field("at")?);
//! let nine = 1_795_568_400_000; // 2026-11-25T09:00:00+08:00, in Unix ms
//!
//! record.set_str(terminal, "t1")?;
//! record.set_time(at, nine, 8 * 3600)?;
//! let first = policy.decide(record.finish()?, &mut state)?;
//! assert_eq!(first, Decision::Deliver { clamped: None });
//!
//! // Reboot: save the state, then restore it into a new one.
//! let mut saved = vec![0; state.saved_len(&policy)];
//! let written = state.save_into(&policy, &mut saved)?;
//! let mut state = BoundedState::new(&policy, 8)?;
//! state.restore(&policy, &saved[..written])?;
//!
//! record.reset();
//! record.set_str(terminal, "t1")?;
//! record.set_time(at, nine + 60_000, 8 * 3600)?; // a minute later
//! let second = policy.decide(record.finish()?, &mut state)?;
//! assert!(matches!(second, Decision::Suppress { .. }), "one per hour");
//! # Ok::<(), Box<dyn core::error::Error>>(())
//! ```
#![no_std]

extern crate alloc;

pub mod activation;
pub mod artifact;
pub mod bounded;
mod crc;
pub mod eval;
pub mod exact;
pub mod fee;
pub mod hashes;
pub mod ids;
mod index;
pub mod notify;
pub mod position;
pub mod record;
pub mod rounding;
mod sort;
pub mod staged;
pub mod state_file;
pub mod table;
mod times;
pub mod trace;
pub mod value;
mod variants;
pub mod window;
pub mod zone;

pub use rust_decimal::Decimal;

/// Arithmetic that could not be carried out exactly.
///
/// Returned instead of a panic when a value leaves `Decimal`'s range
/// (about ±7.9 × 10^28) or a step is zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ArithError {
    /// A product or sum left the representable range.
    Overflow,
    /// A rounding step of zero or below was given.
    BadStep,
}

impl core::fmt::Display for ArithError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ArithError::Overflow => f.write_str("arithmetic overflow"),
            ArithError::BadStep => f.write_str("rounding step must be positive"),
        }
    }
}

impl core::error::Error for ArithError {}
