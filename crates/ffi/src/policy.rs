//! Loading a compiled policy, and what C asks of it: its kind, field
//! indexes, rule names.

use crate::buffers::{self, Refusal};
use crate::handle::{self, Handle};
use crate::status::tg_status;
use alloc::sync::Arc;
use core::ffi::c_char;
use tollgate_runtime::artifact::{self, Compiled};
use tollgate_runtime::table::FieldSpec;

/// A loaded, validated policy of either kind (opaque). Immutable: one
/// handle may be used by any number of threads at once.
pub struct tg_policy {
    _opaque: [u8; 0],
}

/// What a policy handle holds.
pub(crate) struct Policy {
    pub(crate) compiled: Arc<Compiled>,
}

impl Handle for tg_policy {
    type Data = Policy;
    const TAG: u32 = 0x5447_504f; // "TGPO"
}

impl Policy {
    /// The record schema.
    pub(crate) fn fields(&self) -> &[FieldSpec] {
        match &*self.compiled {
            Compiled::Fees(t) => t.fields(),
            Compiled::Notifications(p) => p.fields(),
        }
    }
}

/// The kind of a policy.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum tg_kind {
    /// A fee schedule: price records with `tg_price`.
    TG_KIND_FEES = 0,
    /// Notification rules: decide messages with `tg_decide`.
    TG_KIND_NOTIFICATIONS = 1,
}

/// Loads a policy from the bytes of a compiled artifact (`tollgate
/// compile`), of either kind, validating it in full; the bytes are not
/// kept. On success `*out` is a new handle (free it with
/// `tg_policy_free`). On a refusal (`TG_BAD_ARTIFACT`, or
/// `TG_NULL_POINTER`), `*out` is NULL (when `out` is not) and, when
/// `message` is not NULL, the reason is written there (NUL-terminated,
/// cut to `message_len` bytes); on success `message` is emptied.
///
/// # Safety
/// `bytes` points at `len` readable bytes; `out` is writable; `message`,
/// when not NULL, is writable for `message_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn tg_policy_load(
    bytes: *const u8,
    len: usize,
    out: *mut *mut tg_policy,
    message: *mut c_char,
    message_len: usize,
) -> tg_status {
    // SAFETY: as the caller's contract.
    let bytes = match unsafe { load_args(bytes, len, out) } {
        Ok(b) => b,
        Err((status, why)) => return buffers::refuse(message, message_len, status, why),
    };
    // SAFETY: as the caller's contract.
    unsafe {
        load_with(
            || artifact::decode_any(bytes),
            |_| tg_status::TG_BAD_ARTIFACT,
            out,
            message,
            message_len,
        )
    }
}

/// The artifact's bytes, once `out` is known writable and set to NULL; or
/// the refusal of a NULL `out` or `bytes`.
///
/// # Safety
/// `out` is NULL or writable; `bytes` is NULL or points at `len` readable
/// bytes.
pub(crate) unsafe fn load_args<'a, T>(
    bytes: *const u8,
    len: usize,
    out: *mut *mut T,
) -> Result<&'a [u8], Refusal> {
    if out.is_null() {
        return Err((tg_status::TG_NULL_POINTER, "`out` is NULL"));
    }
    // SAFETY: `out` is writable.
    unsafe { out.write(core::ptr::null_mut()) };
    if bytes.is_null() {
        return Err((tg_status::TG_NULL_POINTER, "`bytes` is NULL"));
    }
    // SAFETY: `bytes` points at `len` readable bytes.
    Ok(unsafe { core::slice::from_raw_parts(bytes, len) })
}

/// Makes a handle at `*out` of what `decode` gives, or writes the reason
/// to `message` and answers the status `status_of` gives for the error.
///
/// # Safety
/// `out` is writable; `message`, when not NULL, is writable for
/// `message_len` bytes.
pub(crate) unsafe fn load_with(
    decode: impl FnOnce() -> Result<Compiled, artifact::ArtifactError>,
    status_of: impl FnOnce(artifact::ArtifactErrorKind) -> tg_status,
    out: *mut *mut tg_policy,
    message: *mut c_char,
    message_len: usize,
) -> tg_status {
    match decode() {
        Ok(compiled) => {
            let policy: *mut tg_policy = handle::into_raw(Policy {
                compiled: Arc::new(compiled),
            });
            // SAFETY: `out` is writable.
            unsafe { out.write(policy) };
            buffers::message(message, message_len, "");
            tg_status::TG_OK
        }
        Err(e) => {
            buffers::error_message(message, message_len, &e);
            status_of(e.kind)
        }
    }
}

/// Writes the policy's kind to `*kind`.
///
/// # Safety
/// `policy` is a handle from `tg_policy_load` (or NULL); `kind` is
/// writable (or NULL).
#[no_mangle]
pub unsafe extern "C" fn tg_policy_kind(policy: *const tg_policy, kind: *mut tg_kind) -> tg_status {
    let p = match handle::get(policy) {
        Ok(p) => p,
        Err(s) => return s,
    };
    if kind.is_null() {
        return tg_status::TG_NULL_POINTER;
    }
    let k = match &*p.compiled {
        Compiled::Fees(_) => tg_kind::TG_KIND_FEES,
        Compiled::Notifications(_) => tg_kind::TG_KIND_NOTIFICATIONS,
    };
    // SAFETY: `kind` is writable.
    unsafe { kind.write(k) };
    tg_status::TG_OK
}

/// Writes the index of the field named `name` to `*index`: resolve each
/// field once, then set it by index on every record.
///
/// # Safety
/// `policy` is a handle (or NULL); `name` is NUL-terminated (or NULL);
/// `index` is writable (or NULL).
#[no_mangle]
pub unsafe extern "C" fn tg_policy_field(
    policy: *const tg_policy,
    name: *const c_char,
    index: *mut u32,
) -> tg_status {
    let p = match handle::get(policy) {
        Ok(p) => p,
        Err(s) => return s,
    };
    let name = match buffers::text(name) {
        Ok(n) => n,
        Err(s) => return s,
    };
    if index.is_null() {
        return tg_status::TG_NULL_POINTER;
    }
    match p.fields().iter().position(|f| f.name == name) {
        Some(i) => {
            // SAFETY: `index` is writable.
            unsafe { index.write(i as u32) };
            tg_status::TG_OK
        }
        None => tg_status::TG_UNKNOWN_FIELD,
    }
}

/// Writes the name of rule `rule` of a notifications policy (the `rule`
/// of a `tg_decision`) into `buf` (`len` bytes, NUL included).
///
/// # Safety
/// `policy` is a handle (or NULL); `buf` is writable for `len` bytes (or
/// NULL).
#[no_mangle]
pub unsafe extern "C" fn tg_policy_rule_name(
    policy: *const tg_policy,
    rule: u32,
    buf: *mut c_char,
    len: usize,
) -> tg_status {
    let p = match handle::get(policy) {
        Ok(p) => p,
        Err(s) => return s,
    };
    let Compiled::Notifications(n) = &*p.compiled else {
        return tg_status::TG_WRONG_KIND;
    };
    let out = match buffers::out(buf, len) {
        Ok(o) => o,
        Err(s) => return s,
    };
    match n.rules().get(rule as usize) {
        Some(r) => match buffers::put(out, r.name()) {
            Ok(()) => tg_status::TG_OK,
            Err(s) => s,
        },
        None => tg_status::TG_OUT_OF_RANGE,
    }
}

/// Frees a policy handle. Records, fees and states made from it stay
/// usable (they keep what they need). NULL is ignored.
///
/// # Safety
/// `policy` is a handle from `tg_policy_load`, not used after this call.
#[no_mangle]
pub unsafe extern "C" fn tg_policy_free(policy: *mut tg_policy) {
    handle::free(policy);
}
