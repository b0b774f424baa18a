//! Deciding notifications from C with a terminal's fixed-capacity state,
//! and keeping that state across a reboot in a buffer the caller owns.

use crate::buffers;
use crate::handle::{self, Handle};
use crate::policy::tg_policy;
use crate::record::{status_of, tg_record, Record};
use crate::status::tg_status;
use alloc::sync::Arc;
use core::ffi::c_char;
use tollgate_runtime::artifact::Compiled;
use tollgate_runtime::bounded::{BoundedState, CapacityError, WhenFull};
use tollgate_runtime::ids::Answer;
use tollgate_runtime::notify::{Decision, NotifyError, Reason};

/// A terminal's throttle state for one notifications policy: its memory is
/// all allocated by `tg_state_new`; deciding allocates nothing. It belongs
/// to one thread at a time (opaque).
pub struct tg_state {
    _opaque: [u8; 0],
}

/// What a state handle holds.
pub(crate) struct State {
    policy: Arc<Compiled>,
    state: BoundedState,
}

impl Handle for tg_state {
    type Data = State;
    const TAG: u32 = 0x5447_5354; // "TGST"
}

/// What a full table does with a new key when every entry is live (the
/// `when_full` of `tg_state_new`).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum tg_when_full {
    /// Evict the entry whose last delivery is oldest (fail open).
    TG_EVICT_OLDEST = 0,
    /// Keep every entry and suppress the new key's message (fail closed).
    TG_REFUSE_NEW_KEYS = 1,
}

/// What happens to a message.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum tg_verdict {
    /// Send it now.
    TG_DELIVER = 0,
    /// Do not send it.
    TG_SUPPRESS = 1,
    /// Send it again at `until_ms` (it is then decided as new).
    TG_DEFER = 2,
}

/// Why a message was suppressed.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum tg_reason {
    /// Not suppressed.
    TG_REASON_NONE = 0,
    /// The same key was delivered at `last_ms`, within the window.
    TG_REASON_DUPLICATE = 1,
    /// A quiet window that drops.
    TG_REASON_QUIET = 2,
    /// A `suppress` rule: its own reason says why.
    TG_REASON_DECLARED = 3,
    /// The cap (`cap`) is reached: `count` deliveries already.
    TG_REASON_CAP_REACHED = 4,
    /// The store is full and refuses new keys.
    TG_REASON_STORE_FULL = 5,
}

/// The `rule` of a decision no rule made (a delivery).
pub const TG_NO_RULE: u32 = u32::MAX;

/// A decision, as `tg_decide` writes it.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct tg_decision {
    /// Deliver, suppress or defer.
    pub verdict: tg_verdict,
    /// The message's id was decided within the lateness: this is that
    /// decision again, and nothing was counted.
    pub repeat: bool,
    /// The rule that suppressed or deferred it (`tg_policy_rule_name`), or
    /// `TG_NO_RULE`.
    pub rule: u32,
    /// Why it was suppressed.
    pub reason: tg_reason,
    /// For a deferral: when to send it again (Unix ms).
    pub until_ms: i64,
    /// For a duplicate: the earlier delivery (Unix ms).
    pub last_ms: i64,
    /// For a reached cap: deliveries counted.
    pub count: u32,
    /// For a reached cap: the cap that applied.
    pub cap: u32,
    /// The limit rule whose cap the record set outside the policy's
    /// bounds, so that it was clamped (the first such rule), or
    /// `TG_NO_RULE`. Set for a delivery and for a reached cap.
    pub clamped_rule: u32,
    /// The cap the record asked for (when `clamped_rule` is set).
    pub clamped_from: i64,
    /// The cap applied instead (when `clamped_rule` is set).
    pub clamped_to: u32,
}

/// The `tg_when_full` numbered `n`, if any.
pub(crate) fn when_full_of(n: u32) -> Option<WhenFull> {
    match n {
        0 => Some(WhenFull::EvictOldest),
        1 => Some(WhenFull::RefuseNewKeys),
        _ => None,
    }
}

/// The status of a state that can't be made: `TG_OUT_OF_RANGE` for a size
/// of 0 where the policy needs room, else `TG_CAPACITY`.
pub(crate) fn capacity_status(e: &CapacityError) -> tg_status {
    match e {
        CapacityError::NoKeys | CapacityError::NoIds { .. } => tg_status::TG_OUT_OF_RANGE,
        _ => tg_status::TG_CAPACITY,
    }
}

/// Makes a state for a notifications policy in `*out` with room for
/// `capacity` keys per stateful rule and `id_capacity` message ids, all
/// allocated now; `when_full` is a `tg_when_full`. `capacity` must be at
/// least 1, and so must `id_capacity` when the policy names a message id
/// (`TG_OUT_OF_RANGE`; without one, `id_capacity` is not used); a policy
/// whose cap cannot be kept at that capacity is `TG_CAPACITY`. On every refusal
/// `*out` is NULL (when `out` is not) and the reason is written to
/// `message` (when not NULL).
///
/// # Safety
/// `policy` is a handle (or NULL); `out` is writable (or NULL); `message`
/// is writable for `message_len` bytes (or NULL).
#[no_mangle]
pub unsafe extern "C" fn tg_state_new(
    policy: *const tg_policy,
    capacity: u32,
    id_capacity: u32,
    when_full: u32,
    out: *mut *mut tg_state,
    message: *mut c_char,
    message_len: usize,
) -> tg_status {
    let refuse = |status, why| buffers::refuse(message, message_len, status, why);
    if out.is_null() {
        return refuse(tg_status::TG_NULL_POINTER, "`out` is NULL");
    }
    // SAFETY: `out` is writable.
    unsafe { out.write(core::ptr::null_mut()) };
    let p = match handle::get(policy) {
        Ok(p) => p,
        Err(s) => return buffers::refuse_handle(message, message_len, s, "policy"),
    };
    let Compiled::Notifications(n) = &*p.compiled else {
        return refuse(
            tg_status::TG_WRONG_KIND,
            "`policy` is a fees policy: a state is for a notifications policy",
        );
    };
    let Some(when_full) = when_full_of(when_full) else {
        return refuse(
            tg_status::TG_OUT_OF_RANGE,
            "`when_full` is not a tg_when_full",
        );
    };
    match BoundedState::with_ids(n, capacity as usize, when_full, id_capacity as usize) {
        Ok(state) => {
            let handle: *mut tg_state = handle::into_raw(State {
                policy: p.compiled.clone(),
                state,
            });
            // SAFETY: `out` is writable.
            unsafe { out.write(handle) };
            buffers::message(message, message_len, "");
            tg_status::TG_OK
        }
        Err(e) => {
            buffers::error_message(message, message_len, &e);
            capacity_status(&e)
        }
    }
}

/// Decides the message `record` (made for the state's policy) and writes
/// the decision to `*decision`; a delivery is counted in the state.
/// `TG_EXPIRED` and `TG_NOT_YET_EFFECTIVE` when the policy's activation
/// window does not hold the record's instant (an always-deliver message is
/// delivered instead); on those and on `TG_MISSING_FIELD` or
/// `TG_NOT_DECIDED` the record's message says why and nothing was counted.
///
/// # Safety
/// `state` and `record` are handles (or NULL); `decision` is writable (or
/// NULL).
#[no_mangle]
pub unsafe extern "C" fn tg_decide(
    state: *mut tg_state,
    record: *mut tg_record,
    decision: *mut tg_decision,
) -> tg_status {
    let s = match handle::get_mut(state) {
        Ok(s) => s,
        Err(e) => return e,
    };
    let r = match handle::get_mut(record) {
        Ok(r) => r,
        Err(e) => return e,
    };
    if decision.is_null() {
        return tg_status::TG_NULL_POINTER;
    }
    if !Arc::ptr_eq(&s.policy, &r.policy) {
        return tg_status::TG_WRONG_POLICY;
    }
    let Compiled::Notifications(policy) = &*s.policy else {
        return tg_status::TG_WRONG_KIND;
    };
    let values = match r.builder.finish() {
        Ok(v) => v,
        Err(e) => {
            let status = status_of(&e);
            return r.fail(status, format_args!("{e}"));
        }
    };
    let answer = match policy.answer(values, &mut s.state) {
        Ok(a) => a,
        Err(e) => return undecided(r, e),
    };
    let out = decision_of(&answer);
    // SAFETY: `decision` is writable.
    unsafe { decision.write(out) };
    tg_status::TG_OK
}

/// A decision as C sees it.
pub(crate) fn decision_of(answer: &Answer) -> tg_decision {
    let mut out = tg_decision {
        verdict: tg_verdict::TG_DELIVER,
        repeat: answer.repeat,
        rule: TG_NO_RULE,
        reason: tg_reason::TG_REASON_NONE,
        until_ms: 0,
        last_ms: 0,
        count: 0,
        cap: 0,
        clamped_rule: TG_NO_RULE,
        clamped_from: 0,
        clamped_to: 0,
    };
    match answer.decision {
        Decision::Deliver { clamped } => {
            if let Some(c) = clamped {
                out.clamped_rule = c.rule.get();
                out.clamped_from = c.from;
                out.clamped_to = c.to;
            }
        }
        Decision::Defer { rule, until_ms } => {
            out.verdict = tg_verdict::TG_DEFER;
            out.rule = rule.get();
            out.until_ms = until_ms;
        }
        Decision::Suppress { rule, reason } => {
            out.verdict = tg_verdict::TG_SUPPRESS;
            out.rule = rule.get();
            out.reason = match reason {
                Reason::Duplicate { last_ms } => {
                    out.last_ms = last_ms;
                    tg_reason::TG_REASON_DUPLICATE
                }
                Reason::Quiet => tg_reason::TG_REASON_QUIET,
                Reason::Declared => tg_reason::TG_REASON_DECLARED,
                Reason::CapReached {
                    count,
                    cap,
                    clamped_from,
                } => {
                    out.count = count;
                    out.cap = cap;
                    if let Some(from) = clamped_from {
                        out.clamped_rule = rule.get();
                        out.clamped_from = from;
                        out.clamped_to = cap;
                    }
                    tg_reason::TG_REASON_CAP_REACHED
                }
                Reason::StoreFull => tg_reason::TG_REASON_STORE_FULL,
            };
        }
    }
    out
}

/// The status of a message that could not be decided: `TG_WRONG_POLICY`
/// for a state sized from another policy, `TG_NOT_YET_EFFECTIVE` and
/// `TG_EXPIRED` outside the policy's activation window (as
/// `tg_terminal_route` answers for a fee), else `TG_NOT_DECIDED`.
pub(crate) fn status_of_notify(e: NotifyError) -> tg_status {
    match e {
        NotifyError::StateMismatch => tg_status::TG_WRONG_POLICY,
        NotifyError::NotYetEffective { .. } => tg_status::TG_NOT_YET_EFFECTIVE,
        NotifyError::Expired { .. } => tg_status::TG_EXPIRED,
        _ => tg_status::TG_NOT_DECIDED,
    }
}

/// Fails record `r` because its message could not be decided (`e`): its
/// status, and why in words (outside the window, with the window's end).
pub(crate) fn undecided(r: &mut Record, e: NotifyError) -> tg_status {
    let status = status_of_notify(e);
    match e {
        NotifyError::NotYetEffective { .. } | NotifyError::Expired { .. } => {
            r.fail(status, format_args!("{e}"))
        }
        _ => r.fail(status, format_args!("{}", why(e))),
    }
}

/// Why a message could not be decided, in words.
pub(crate) fn why(e: NotifyError) -> &'static str {
    match e {
        NotifyError::NoTimestamp => "the record has no timestamp",
        NotifyError::TooLate { .. } => "the record is later than the policy's lateness accepts",
        NotifyError::OutsideZoneSpan { .. } => {
            "an instant the decision needs is outside the span the policy's time zone was built for"
        }
        NotifyError::IdForgotten { .. } => {
            "the message id is older than the state's memory of ids reaches"
        }
        NotifyError::IdMemoryFull => "the state has no room to remember a new message id",
        NotifyError::StateMismatch => "the state was made for another policy than the one deciding",
        _ => "the message could not be decided",
    }
}

/// Writes the bytes `tg_state_save` needs to `*len`.
///
/// # Safety
/// `state` is a handle (or NULL); `len` is writable (or NULL).
#[no_mangle]
pub unsafe extern "C" fn tg_state_saved_len(state: *const tg_state, len: *mut usize) -> tg_status {
    let s = match handle::get(state) {
        Ok(s) => s,
        Err(e) => return e,
    };
    let Compiled::Notifications(policy) = &*s.policy else {
        return tg_status::TG_WRONG_KIND;
    };
    if len.is_null() {
        return tg_status::TG_NULL_POINTER;
    }
    // SAFETY: `len` is writable.
    unsafe { len.write(s.state.saved_len(policy)) };
    tg_status::TG_OK
}

/// Saves the state into `buf` (`len` bytes) without allocating and writes
/// the bytes written to `*written`; on `TG_SHORT_BUFFER` nothing is saved
/// and `*written` is the size needed.
///
/// # Safety
/// `state` is a handle (or NULL); `buf` is writable for `len` bytes (or
/// NULL); `written` is writable (or NULL).
#[no_mangle]
pub unsafe extern "C" fn tg_state_save(
    state: *const tg_state,
    buf: *mut u8,
    len: usize,
    written: *mut usize,
) -> tg_status {
    let s = match handle::get(state) {
        Ok(s) => s,
        Err(e) => return e,
    };
    let Compiled::Notifications(policy) = &*s.policy else {
        return tg_status::TG_WRONG_KIND;
    };
    if buf.is_null() || written.is_null() {
        return tg_status::TG_NULL_POINTER;
    }
    // SAFETY: `buf` is writable for `len` bytes.
    let out = unsafe { core::slice::from_raw_parts_mut(buf, len) };
    let (status, n) = match s.state.save_into(policy, out) {
        Ok(n) => (tg_status::TG_OK, n),
        Err(short) => (tg_status::TG_SHORT_BUFFER, short.needed),
    };
    // SAFETY: `written` is writable.
    unsafe { written.write(n) };
    status
}

/// Restores a state saved by `tg_state_save` into `state`, which must be
/// made for the same policy with the same capacities, without allocating.
/// On `TG_BAD_STATE` the state is unchanged.
///
/// # Safety
/// `state` is a handle (or NULL); `buf` points at `len` readable bytes (or
/// is NULL).
#[no_mangle]
pub unsafe extern "C" fn tg_state_restore(
    state: *mut tg_state,
    buf: *const u8,
    len: usize,
) -> tg_status {
    let s = match handle::get_mut(state) {
        Ok(s) => s,
        Err(e) => return e,
    };
    if buf.is_null() {
        return tg_status::TG_NULL_POINTER;
    }
    let Compiled::Notifications(policy) = &*s.policy else {
        return tg_status::TG_WRONG_KIND;
    };
    // SAFETY: `buf` points at `len` readable bytes.
    let bytes = unsafe { core::slice::from_raw_parts(buf, len) };
    match s.state.restore(policy, bytes) {
        Ok(()) => tg_status::TG_OK,
        Err(_) => tg_status::TG_BAD_STATE,
    }
}

/// Frees a state. NULL is ignored.
///
/// # Safety
/// `state` is a handle from `tg_state_new`, not used after this call.
#[no_mangle]
pub unsafe extern "C" fn tg_state_free(state: *mut tg_state) {
    handle::free(state);
}
