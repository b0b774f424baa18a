//! A terminal's policies over an update, from C: the current policy, a
//! verified and staged successor, the swap, and the previous policy kept
//! for late records (`tollgate_runtime::staged::Terminal`). Which policy
//! decides a record is asked by its instant (`tg_terminal_route`); a
//! policy handle for that slot (`tg_terminal_policy`) builds and prices or
//! decides the record as any other.

use crate::buffers;
use crate::handle::{self, Handle};
use crate::policy::{tg_policy, Policy};
use crate::status::tg_status;
use crate::trusted::{status_of, tg_floor, trust_args};
use alloc::sync::Arc;
use core::ffi::c_char;
use tollgate_runtime::activation::Outside;
use tollgate_runtime::staged::{Held, Slot, StageError, Terminal};

/// A terminal's current policy, staged successor and previous policy
/// (opaque). Belongs to one thread at a time.
pub struct tg_terminal {
    _opaque: [u8; 0],
}

impl Handle for tg_terminal {
    type Data = Terminal;
    const TAG: u32 = 0x5447_5445; // "TGTE"
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

fn held_in(t: &Terminal, slot: tg_slot) -> Option<&Held> {
    match slot {
        tg_slot::TG_SLOT_PREVIOUS => t.held(Slot::Previous),
        tg_slot::TG_SLOT_CURRENT => t.held(Slot::Current),
        tg_slot::TG_SLOT_STAGED => t.staged(),
    }
}

/// Makes a terminal running the artifact `bytes`, verified as
/// `tg_policy_load_trusted` verifies (one trusted key at least, the
/// installed `floor` when not NULL). On success `*out` is a new handle
/// (free it with `tg_terminal_free`); on a refusal `*out` is NULL, the
/// status is `tg_policy_load_trusted`'s and the reason is in `message`.
///
/// # Safety
/// As `tg_policy_load_trusted`.
#[no_mangle]
pub unsafe extern "C" fn tg_terminal_new(
    bytes: *const u8,
    len: usize,
    keys: *const u8,
    n_keys: usize,
    floor: *const tg_floor,
    out: *mut *mut tg_terminal,
    message: *mut c_char,
    message_len: usize,
) -> tg_status {
    if out.is_null() || bytes.is_null() {
        return tg_status::TG_NULL_POINTER;
    }
    // SAFETY: `out` is writable.
    unsafe { out.write(core::ptr::null_mut()) };
    // SAFETY: as the caller's contract.
    let (keys, floor) = match unsafe { trust_args(keys, n_keys, floor) } {
        Ok(args) => args,
        Err(s) => return s,
    };
    // SAFETY: `bytes` points at `len` readable bytes.
    let bytes = unsafe { core::slice::from_raw_parts(bytes, len) };
    match Terminal::install(bytes, &keys, floor.as_ref()) {
        Ok(t) => {
            // SAFETY: `out` is writable.
            unsafe { out.write(handle::into_raw(t)) };
            buffers::message(message, message_len, "");
            tg_status::TG_OK
        }
        Err(e) => {
            buffers::error_message(message, message_len, &e);
            status_of(e.kind)
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
/// current and staged policies stay as they were.
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
        Ok(t) => t,
        Err(s) => return s,
    };
    if bytes.is_null() {
        return tg_status::TG_NULL_POINTER;
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
            match e {
                StageError::Artifact(a) => status_of(a.kind),
                StageError::OtherPolicy => tg_status::TG_OTHER_POLICY,
                StageError::OtherKind => tg_status::TG_WRONG_KIND,
                StageError::NotNewer { .. } => tg_status::TG_NOT_NEWER,
            }
        }
    }
}

/// Swaps the staged successor in at once (atomic: either it is current
/// after the call, or nothing changed): the current policy becomes the
/// previous one, kept while late records may arrive. `TG_EMPTY_SLOT` when
/// nothing is staged. A staged successor is also swapped in by
/// `tg_terminal_route` at the first record at or after its activation.
///
/// # Safety
/// `terminal` is a handle from `tg_terminal_new`.
#[no_mangle]
pub unsafe extern "C" fn tg_terminal_swap(terminal: *mut tg_terminal) -> tg_status {
    match handle::get_mut(terminal).map(Terminal::swap) {
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
        Ok(t) => t,
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
        Ok(t) => t,
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
/// `tg_policy_free`): build records and price or decide with it as with a
/// policy from `tg_policy_load`. It stays valid after a swap. For a
/// notifications policy, each version needs its own `tg_state`.
/// `TG_EMPTY_SLOT` when the slot is empty.
///
/// # Safety
/// `terminal` is a handle from `tg_terminal_new`; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn tg_terminal_policy(
    terminal: *const tg_terminal,
    slot: tg_slot,
    out: *mut *mut tg_policy,
) -> tg_status {
    let t = match handle::get(terminal) {
        Ok(t) => t,
        Err(s) => return s,
    };
    if out.is_null() {
        return tg_status::TG_NULL_POINTER;
    }
    let Some(h) = held_in(t, slot) else {
        // SAFETY: `out` is writable.
        unsafe { out.write(core::ptr::null_mut()) };
        return tg_status::TG_EMPTY_SLOT;
    };
    let policy: *mut tg_policy = handle::into_raw(Policy {
        compiled: Arc::new(h.compiled().clone()),
    });
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
