//! Trusted updates from C: loading an artifact only when one of the
//! terminal's keys signed it and it is not below the installed version
//! (docs/releases.md), and reading an artifact's identity to persist as
//! the next floor.

use crate::buffers::{self, Refusal};
use crate::policy::{load_args, load_with, tg_policy};
use crate::status::tg_status;
use alloc::vec::Vec;
use core::ffi::c_char;
use tollgate_runtime::artifact::trust::{self, Floor, TrustedKey, PUBLIC_KEY_LEN};
use tollgate_runtime::artifact::{self, ArtifactErrorKind};

/// The installed policy an update must not go back from, as the firmware
/// persists it: the policy's name, version and content hash (from
/// `tg_artifact_identity` on the artifact it installed).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct tg_floor {
    /// The policy's name, NUL-terminated UTF-8.
    pub name: *const c_char,
    /// The installed version.
    pub version: u32,
    /// The installed artifact's content hash.
    pub hash: u64,
}

/// The status of a refused trusted load.
pub(crate) fn status_of(kind: ArtifactErrorKind) -> tg_status {
    match kind {
        ArtifactErrorKind::Unsigned => tg_status::TG_UNSIGNED,
        ArtifactErrorKind::UnknownKey(_) => tg_status::TG_UNKNOWN_KEY,
        ArtifactErrorKind::BadSignature => tg_status::TG_BAD_SIGNATURE,
        ArtifactErrorKind::Rollback { .. } => tg_status::TG_ROLLBACK,
        ArtifactErrorKind::VersionReused(_) => tg_status::TG_VERSION_REUSED,
        _ => tg_status::TG_BAD_ARTIFACT,
    }
}

/// Loads a policy as `tg_policy_load` does, after checking, before
/// anything beyond the header is decoded, that one of the `n_keys` trusted
/// Ed25519 public keys (32 bytes each, back to back at `keys`) signed it,
/// then, when `floor` is not NULL, that it is not an older version of the
/// installed policy (nor the installed version with other contents).
/// Refusals: `TG_UNSIGNED`, `TG_UNKNOWN_KEY`, `TG_BAD_SIGNATURE`,
/// `TG_ROLLBACK`, `TG_VERSION_REUSED`, or `TG_BAD_ARTIFACT` for damage.
/// `n_keys` must be at least 1 (`TG_OUT_OF_RANGE`; an unsigned artifact
/// loads with `tg_policy_load`), and a key that is not a valid public key
/// is `TG_OUT_OF_RANGE` too. On every refusal (these, and
/// `TG_NULL_POINTER`, `TG_BAD_UTF8` for the floor's name) `*out` is NULL
/// (when `out` is not) and the reason is in `message`.
///
/// # Safety
/// As `tg_policy_load`; `keys` points at `32 * n_keys` readable bytes;
/// `floor`, when not NULL, points at a `tg_floor` whose name is a
/// NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn tg_policy_load_trusted(
    bytes: *const u8,
    len: usize,
    keys: *const u8,
    n_keys: usize,
    floor: *const tg_floor,
    out: *mut *mut tg_policy,
    message: *mut c_char,
    message_len: usize,
) -> tg_status {
    // SAFETY: as the caller's contract.
    let args = unsafe { load_args(bytes, len, out) }
        // SAFETY: as the caller's contract.
        .and_then(|bytes| Ok((bytes, unsafe { trust_args(keys, n_keys, floor) }?)));
    let (bytes, (trusted, floor)) = match args {
        Ok(args) => args,
        Err((status, why)) => return buffers::refuse(message, message_len, status, why),
    };
    // SAFETY: as the caller's contract.
    unsafe {
        load_with(
            || trust::decode_trusted(bytes, &trusted, floor.as_ref()),
            status_of,
            out,
            message,
            message_len,
        )
    }
}

/// The trusted keys (at least one) and the floor as C gives them, or the
/// status and reason of their refusal.
///
/// # Safety
/// `keys` points at `32 * n_keys` readable bytes; `floor`, when not NULL,
/// points at a `tg_floor` whose name is a NUL-terminated string.
pub(crate) unsafe fn trust_args<'a>(
    keys: *const u8,
    n_keys: usize,
    floor: *const tg_floor,
) -> Result<(Vec<TrustedKey>, Option<Floor<'a>>), Refusal> {
    let bad_key = (
        tg_status::TG_OUT_OF_RANGE,
        "a trusted key is not a valid Ed25519 public key",
    );
    let Some(keys_len) = n_keys.checked_mul(PUBLIC_KEY_LEN).filter(|&n| n > 0) else {
        return Err((
            tg_status::TG_OUT_OF_RANGE,
            "`n_keys` is 0: a trusted load needs at least one key (an unsigned artifact loads with tg_policy_load)",
        ));
    };
    if keys.is_null() {
        return Err((tg_status::TG_NULL_POINTER, "`keys` is NULL"));
    }
    // SAFETY: `keys` points at `32 * n_keys` readable bytes.
    let key_bytes = unsafe { core::slice::from_raw_parts(keys, keys_len) };
    let mut trusted = Vec::new();
    for chunk in key_bytes.chunks_exact(PUBLIC_KEY_LEN) {
        let key = <&[u8; PUBLIC_KEY_LEN]>::try_from(chunk).map_err(|_| bad_key)?;
        trusted.push(TrustedKey::from_bytes(key).map_err(|_| bad_key)?);
    }
    let floor = if floor.is_null() {
        None
    } else {
        // SAFETY: `floor` points at a readable `tg_floor`.
        let f = unsafe { floor.read() };
        let name =
            buffers::text(f.name).map_err(|s| (s, "the floor's `name` is NULL or not UTF-8"))?;
        Some(Floor {
            name,
            version: f.version,
            hash: f.hash,
        })
    };
    Ok((trusted, floor))
}

/// Reads an artifact's identity without decoding its policy: the policy's
/// name (NUL-terminated into `name`, `name_len` bytes), version and content
/// hash: what the firmware persists as its floor once the artifact is
/// installed. `TG_BAD_ARTIFACT` for a damaged envelope, `TG_SHORT_BUFFER`
/// when the name does not fit.
///
/// # Safety
/// `bytes` points at `len` readable bytes; `name` is writable for
/// `name_len` bytes; `version` and `hash` are writable.
#[no_mangle]
pub unsafe extern "C" fn tg_artifact_identity(
    bytes: *const u8,
    len: usize,
    name: *mut c_char,
    name_len: usize,
    version: *mut u32,
    hash: *mut u64,
) -> tg_status {
    if bytes.is_null() || version.is_null() || hash.is_null() {
        return tg_status::TG_NULL_POINTER;
    }
    let buf = match buffers::out(name, name_len) {
        Ok(b) => b,
        Err(s) => return s,
    };
    // SAFETY: `bytes` points at `len` readable bytes.
    let bytes = unsafe { core::slice::from_raw_parts(bytes, len) };
    let Ok((n, v, h)) = artifact::identify(bytes) else {
        return tg_status::TG_BAD_ARTIFACT;
    };
    if let Err(s) = buffers::put(buf, &n) {
        return s;
    }
    // SAFETY: `version` and `hash` are writable.
    unsafe {
        version.write(v);
        hash.write(h);
    }
    tg_status::TG_OK
}
