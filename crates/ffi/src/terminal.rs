//! A terminal's policies over an update, from C: the current policy, a
//! verified and staged successor, the swap, and the previous policy kept
//! for late records (`tollgate_runtime::staged::Terminal`). Which policy
//! decides a record is asked by its instant (`tg_terminal_route`); a
//! policy handle for that slot (`tg_terminal_policy`) builds the record,
//! priced with `tg_price` or decided with `tg_terminal_decide`.
//!
//! A terminal of a notifications policy keeps each held version's throttle
//! state itself, sized at creation (`tg_state_sizes`): the successor's is
//! allocated when it is staged, and at the swap the current version's
//! deliveries are carried into it rule by rule (docs/releases.md), without
//! allocating. While the previous version is kept, a delivery either makes
//! is counted by both.

use crate::buffers;
use crate::handle::{self, Handle};
use crate::notify::{capacity_status, decision_of, tg_decision, undecided, when_full_of};
use crate::policy::{load_args, tg_policy, Policy};
use crate::record::{self, tg_record};
use crate::status::tg_status;
use crate::trusted::{status_of, tg_floor, trust_args};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::ffi::c_char;
use tollgate_runtime::activation::Outside;
use tollgate_runtime::artifact::Compiled;
use tollgate_runtime::bounded::{BoundedState, WhenFull};
use tollgate_runtime::eval::EvalError;
use tollgate_runtime::staged::{Bounded, Held, Slot, StageError, Terminal, TerminalError};

/// A terminal's current policy, staged successor and previous policy
/// (opaque). Belongs to one thread at a time.
pub struct tg_terminal {
    _opaque: [u8; 0],
}

/// What a terminal handle holds: the terminal, and the policy each held
/// version shares with the handles `tg_terminal_policy` gave (by version),
/// so that a record can be checked to belong to the slot it is decided in.
pub(crate) struct TerminalData {
    terminal: Terminal<Bounded>,
    shared: Vec<(u32, Arc<Compiled>)>,
}

impl Handle for tg_terminal {
    type Data = TerminalData;
    const TAG: u32 = 0x5447_5445; // "TGTE"
}

/// The throttle state a terminal keeps for each notifications policy it
/// holds: room for `capacity` keys per stateful rule and `id_capacity`
/// message ids, and what a full table does (`when_full`, a
/// `tg_when_full`), as `tg_state_new` takes them.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct tg_state_sizes {
    /// Keys per stateful rule.
    pub capacity: u32,
    /// Message ids remembered (when the policy names one).
    pub id_capacity: u32,
    /// A `tg_when_full`.
    pub when_full: u32,
}

/// A slot of a terminal.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum tg_slot {
    /// The policy before the last swap, kept while late records may
    /// arrive.
    TG_SLOT_PREVIOUS = 0,
    /// The current policy.
    TG_SLOT_CURRENT = 1,
    /// The staged successor.
    TG_SLOT_STAGED = 2,
}

/// What a slot holds: the policy's version, content hash and activation
/// window (`has_from`: it takes effect at `from_ms`; `has_until`: it stops
/// deciding at `until_ms`; Unix milliseconds).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct tg_held {
    /// The policy's version.
    pub version: u32,
    /// The artifact's content hash.
    pub hash: u64,
    /// Whether the policy has a start (`effective from`).
    pub has_from: bool,
    /// The start, when it has one.
    pub from_ms: i64,
    /// Whether the policy has an end (`until`).
    pub has_until: bool,
    /// The end, when it has one.
    pub until_ms: i64,
}

fn held_in(t: &Terminal<Bounded>, slot: tg_slot) -> Option<&Held<BoundedState>> {
    match slot {
        tg_slot::TG_SLOT_PREVIOUS => t.held(Slot::Previous),
        tg_slot::TG_SLOT_CURRENT => t.held(Slot::Current),
        tg_slot::TG_SLOT_STAGED => t.staged(),
    }
}

/// The status of a refused install or stage.
fn stage_status(e: &StageError) -> tg_status {
    match e {
        StageError::Artifact(a) => status_of(a.kind),
        StageError::Capacity(c) => capacity_status(c),
        StageError::OtherPolicy => tg_status::TG_OTHER_POLICY,
        StageError::OtherKind => tg_status::TG_WRONG_KIND,
        StageError::NotNewer { .. } => tg_status::TG_NOT_NEWER,
        // A refusal this library was not built to name.
        _ => tg_status::TG_INTERNAL,
    }
}

/// Makes a terminal running the artifact `bytes`, verified as
/// `tg_policy_load_trusted` verifies (one trusted key at least, the
/// installed `floor` when not NULL). For a notifications policy `sizes`
/// says how large a throttle state to keep per held version (NULL is
/// `TG_NULL_POINTER` then; a fees terminal ignores it and may pass NULL);
/// a policy whose cap cannot be kept at those sizes is `TG_CAPACITY`, a
/// `when_full` that is no `tg_when_full` `TG_OUT_OF_RANGE`, and so is a
/// size of 0 where `tg_state_new` refuses one. On success
/// `*out` is a new handle (free it with `tg_terminal_free`); on every
/// refusal `*out` is NULL (when `out` is not) and the reason is in
/// `message`.
///
/// # Safety
/// As `tg_policy_load_trusted`; `sizes`, when not NULL, is readable.
#[no_mangle]
pub unsafe extern "C" fn tg_terminal_new(
    bytes: *const u8,
    len: usize,
    keys: *const u8,
    n_keys: usize,
    floor: *const tg_floor,
    sizes: *const tg_state_sizes,
    out: *mut *mut tg_terminal,
    message: *mut c_char,
    message_len: usize,
) -> tg_status {
    // SAFETY: as the caller's contract.
    let args = unsafe { load_args(bytes, len, out) }
        // SAFETY: as the caller's contract.
        .and_then(|bytes| Ok((bytes, unsafe { trust_args(keys, n_keys, floor) }?)));
    let (bytes, (keys, floor)) = match args {
        Ok(args) => args,
        Err((status, why)) => return buffers::refuse(message, message_len, status, why),
    };
    // SAFETY: `sizes` is NULL or readable.
    let store = match unsafe { sizes.as_ref() } {
        Some(z) => {
            let Some(when_full) = when_full_of(z.when_full) else {
                return buffers::refuse(
                    message,
                    message_len,
                    tg_status::TG_OUT_OF_RANGE,
                    "`when_full` is not a tg_when_full",
                );
            };
            Some(Bounded {
                capacity: z.capacity as usize,
                id_capacity: z.id_capacity as usize,
                when_full,
            })
        }
        None => None,
    };
    // A fees terminal keeps no state: this store is never asked for one. A
    // notifications policy given no sizes gets the smallest state, dropped
    // at once and refused below.
    let none = Bounded {
        capacity: 1,
        id_capacity: 1,
        when_full: WhenFull::RefuseNewKeys,
    };
    match Terminal::install_with(bytes, &keys, floor.as_ref(), store.unwrap_or(none)) {
        Ok(t) if store.is_none() && t.current().state().is_some() => {
            buffers::message(
                message,
                message_len,
                "a notifications policy needs the sizes of its throttle state",
            );
            tg_status::TG_NULL_POINTER
        }
        Ok(t) => {
            let data = TerminalData {
                terminal: t,
                shared: Vec::new(),
            };
            // SAFETY: `out` is writable.
            unsafe { out.write(handle::into_raw(data)) };
            buffers::message(message, message_len, "");
            tg_status::TG_OK
        }
        Err(e) => {
            buffers::error_message(message, message_len, &e);
            stage_status(&e)
        }
    }
}

/// Verifies the artifact `bytes` with the terminal's trusted keys against
/// the newest version it holds, and stages it as the successor (replacing
/// a staged one of a lower version). It must hold the same policy
/// (`TG_OTHER_POLICY`), of the same kind (`TG_WRONG_KIND`), at a higher
/// version (`TG_NOT_NEWER` for the same version unchanged; `TG_ROLLBACK`
/// below it, `TG_VERSION_REUSED` changed); signature and damage as
/// `tg_policy_load_trusted`. A refused artifact changes nothing: the
/// current and staged policies stay as they were. On every refusal the
/// reason is in `message`.
///
/// # Safety
/// `terminal` is a handle from `tg_terminal_new`; `bytes` points at `len`
/// readable bytes; `message`, when not NULL, is writable for
/// `message_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn tg_terminal_stage(
    terminal: *mut tg_terminal,
    bytes: *const u8,
    len: usize,
    message: *mut c_char,
    message_len: usize,
) -> tg_status {
    let t = match handle::get_mut(terminal) {
        Ok(t) => &mut t.terminal,
        Err(s) => return buffers::refuse_handle(message, message_len, s, "terminal"),
    };
    if bytes.is_null() {
        return buffers::refuse(
            message,
            message_len,
            tg_status::TG_NULL_POINTER,
            "`bytes` is NULL",
        );
    }
    // SAFETY: `bytes` points at `len` readable bytes.
    let bytes = unsafe { core::slice::from_raw_parts(bytes, len) };
    match t.stage(bytes) {
        Ok(()) => {
            buffers::message(message, message_len, "");
            tg_status::TG_OK
        }
        Err(e) => {
            buffers::error_message(message, message_len, &e);
            stage_status(&e)
        }
    }
}

/// Swaps the staged successor in at once (atomic: either it is current
/// after the call, or nothing changed): the current policy becomes the
/// previous one, kept while late records may arrive. `TG_EMPTY_SLOT` when
/// nothing is staged. A staged successor is also swapped in by
/// `tg_terminal_route` at the first record at or after its activation.
/// The throttle state carries over as the swap in routing carries it.
///
/// # Safety
/// `terminal` is a handle from `tg_terminal_new`.
#[no_mangle]
pub unsafe extern "C" fn tg_terminal_swap(terminal: *mut tg_terminal) -> tg_status {
    match handle::get_mut(terminal).map(|t| t.terminal.swap()) {
        Ok(true) => tg_status::TG_OK,
        Ok(false) => tg_status::TG_EMPTY_SLOT,
        Err(s) => s,
    }
}

/// Writes what `slot` holds to `*out`: version, content hash and
/// activation window. `TG_EMPTY_SLOT` when the slot is empty.
///
/// # Safety
/// `terminal` is a handle from `tg_terminal_new`; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn tg_terminal_held(
    terminal: *const tg_terminal,
    slot: tg_slot,
    out: *mut tg_held,
) -> tg_status {
    let t = match handle::get(terminal) {
        Ok(t) => &t.terminal,
        Err(s) => return s,
    };
    if out.is_null() {
        return tg_status::TG_NULL_POINTER;
    }
    let Some(h) = held_in(t, slot) else {
        return tg_status::TG_EMPTY_SLOT;
    };
    let w = h.window();
    let held = tg_held {
        version: h.version(),
        hash: h.hash(),
        has_from: w.from.is_some(),
        from_ms: w.from_ms().unwrap_or(0),
        has_until: w.until.is_some(),
        until_ms: w.until_ms().unwrap_or(0),
    };
    // SAFETY: `out` is writable.
    unsafe { out.write(held) };
    tg_status::TG_OK
}

/// Says which slot decides a record stamped at `at_ms` (Unix ms): the
/// staged successor from its activation on (swapped in at the first such
/// record), the previous policy for a record before the current one's
/// activation while it is kept, the current one otherwise. The slot is
/// written in every case; the status is `TG_EXPIRED` or
/// `TG_NOT_YET_EFFECTIVE` when that policy's window does not hold the
/// instant (a fee must not be charged; a notifications policy still
/// delivers always-deliver messages through `tg_decide`).
///
/// # Safety
/// `terminal` is a handle from `tg_terminal_new`; `slot` is writable.
#[no_mangle]
pub unsafe extern "C" fn tg_terminal_route(
    terminal: *mut tg_terminal,
    at_ms: i64,
    slot: *mut tg_slot,
) -> tg_status {
    let t = match handle::get_mut(terminal) {
        Ok(t) => &mut t.terminal,
        Err(s) => return s,
    };
    if slot.is_null() {
        return tg_status::TG_NULL_POINTER;
    }
    let (chosen, c_slot) = match t.route(at_ms) {
        Slot::Previous => (Slot::Previous, tg_slot::TG_SLOT_PREVIOUS),
        Slot::Current => (Slot::Current, tg_slot::TG_SLOT_CURRENT),
    };
    // SAFETY: `slot` is writable.
    unsafe { slot.write(c_slot) };
    match t.held(chosen).map(|h| h.window().admit(at_ms)) {
        Some(Err(Outside::Before { .. })) => tg_status::TG_NOT_YET_EFFECTIVE,
        Some(Err(Outside::After { .. })) => tg_status::TG_EXPIRED,
        _ => tg_status::TG_OK,
    }
}

/// A new policy handle for the policy in `slot` (free it with
/// `tg_policy_free`): build records with it, and price them with
/// `tg_price` or decide them with `tg_terminal_decide` (or with a
/// `tg_state` of its own, outside the terminal). It stays valid after a
/// swap. `TG_EMPTY_SLOT` when the slot is empty.
///
/// # Safety
/// `terminal` is a handle from `tg_terminal_new`; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn tg_terminal_policy(
    terminal: *mut tg_terminal,
    slot: tg_slot,
    out: *mut *mut tg_policy,
) -> tg_status {
    let data = match handle::get_mut(terminal) {
        Ok(t) => t,
        Err(s) => return s,
    };
    if out.is_null() {
        return tg_status::TG_NULL_POINTER;
    }
    let Some(h) = held_in(&data.terminal, slot) else {
        // SAFETY: `out` is writable.
        unsafe { out.write(core::ptr::null_mut()) };
        return tg_status::TG_EMPTY_SLOT;
    };
    let version = h.version();
    let compiled = match data.shared.iter().find(|(v, _)| *v == version) {
        Some((_, shared)) => shared.clone(),
        None => {
            let shared = Arc::new(h.compiled().clone());
            // Versions no longer held are let go of (handles keep theirs).
            let t = &data.terminal;
            data.shared.retain(|(v, _)| {
                [t.previous(), Some(t.current()), t.staged()]
                    .into_iter()
                    .flatten()
                    .any(|h| h.version() == *v)
            });
            data.shared.push((version, shared.clone()));
            shared
        }
    };
    let policy: *mut tg_policy = handle::into_raw(Policy { compiled });
    // SAFETY: `out` is writable.
    unsafe { out.write(policy) };
    tg_status::TG_OK
}

/// Frees a terminal (NULL is ignored). Policy handles it gave stay valid.
///
/// # Safety
/// `terminal` is a handle from `tg_terminal_new` (or NULL), not used after.
#[no_mangle]
pub unsafe extern "C" fn tg_terminal_free(terminal: *mut tg_terminal) {
    handle::free(terminal);
}

/// Decides the message `record` with the throttle state the terminal keeps
/// for the policy in `slot` (as `tg_terminal_route` gave for the record's
/// instant) and writes the decision to `*decision`, as `tg_decide` does. A
/// delivery is counted in that state and, while the previous version is
/// kept, in the other version's too. The record must be built from the
/// policy handle `tg_terminal_policy` gave for that slot
/// (`TG_WRONG_POLICY` otherwise). `TG_EMPTY_SLOT` for an empty slot or the
/// staged one (a successor decides once routed to); `TG_WRONG_KIND` for a
/// fees terminal; `TG_MISROUTED` when the record's instant belongs to the
/// other slot; `TG_EXPIRED` and `TG_NOT_YET_EFFECTIVE` when the policy's
/// window does not hold it (an always-deliver message is delivered
/// instead); on those and on `TG_MISSING_FIELD` or `TG_NOT_DECIDED` the
/// record's message says why and nothing was counted.
///
/// # Safety
/// `terminal` is a handle from `tg_terminal_new`; `record` a record handle;
/// `decision` is writable (each may be NULL: `TG_NULL_POINTER` or
/// `TG_BAD_HANDLE`).
#[no_mangle]
pub unsafe extern "C" fn tg_terminal_decide(
    terminal: *mut tg_terminal,
    slot: tg_slot,
    record: *mut tg_record,
    decision: *mut tg_decision,
) -> tg_status {
    let data = match handle::get_mut(terminal) {
        Ok(t) => t,
        Err(s) => return s,
    };
    let r = match handle::get_mut(record) {
        Ok(r) => r,
        Err(e) => return e,
    };
    if decision.is_null() {
        return tg_status::TG_NULL_POINTER;
    }
    let Some(h) = held_in(&data.terminal, slot) else {
        return tg_status::TG_EMPTY_SLOT;
    };
    if h.state().is_none() {
        return tg_status::TG_WRONG_KIND;
    }
    let version = h.version();
    let ours = data
        .shared
        .iter()
        .any(|(v, p)| *v == version && Arc::ptr_eq(p, &r.policy));
    if !ours {
        return tg_status::TG_WRONG_POLICY;
    }
    let slot = match slot {
        tg_slot::TG_SLOT_PREVIOUS => Slot::Previous,
        tg_slot::TG_SLOT_CURRENT => Slot::Current,
        tg_slot::TG_SLOT_STAGED => return tg_status::TG_EMPTY_SLOT,
    };
    let values = match r.builder.finish() {
        Ok(v) => v,
        Err(e) => {
            let status = record::status_of(&e);
            return r.fail(status, format_args!("{e}"));
        }
    };
    match data.terminal.decide(slot, values) {
        Ok(decided) => {
            // SAFETY: `decision` is writable.
            unsafe { decision.write(decision_of(&decided.answer)) };
            tg_status::TG_OK
        }
        Err(TerminalError::Misrouted) => r.fail(
            tg_status::TG_MISROUTED,
            format_args!("{}", TerminalError::Misrouted),
        ),
        Err(TerminalError::Notify(e)) => undecided(r, e),
        Err(e @ TerminalError::Eval(EvalError::Internal { .. })) => {
            r.fail(tg_status::TG_INTERNAL, format_args!("{e}"))
        }
        Err(e) => r.fail(tg_status::TG_NOT_DECIDED, format_args!("{e}")),
    }
}
