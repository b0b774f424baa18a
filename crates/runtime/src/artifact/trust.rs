//! Trusted updates: Ed25519 signatures over an artifact, checked against
//! the caller's trusted keys, and the installed version as a floor.
//!
//! A signed artifact sets [`FLAG_SIGNED`] in its header and ends with a
//! signature block after the checksum:
//!
//! | bytes | content |
//! |---|---|
//! | 8 | key id of the signing key ([`key_id`]) |
//! | 64 | Ed25519 signature |
//!
//! The signature covers every byte before it: header (flags included),
//! body, content hash, checksum and key id. With trusted keys given,
//! [`verify`] reads the header alone (magic, version, flags, length),
//! then the key id, then checks the signature, before anything else of the
//! artifact is read: the checksum, the content hash and the policy are
//! decoded only from bytes the signature vouches for.

use super::{err, header, identify, ArtifactError, ArtifactErrorKind, Compiled};
use alloc::vec::Vec;
use ed25519_dalek::{Signature, VerifyingKey};
use sha2::{Digest, Sha512};

/// The header flag of a signed artifact.
pub const FLAG_SIGNED: u16 = 1;
/// The length of a key id.
pub const KEY_ID_LEN: usize = 8;
/// The length of an Ed25519 signature.
pub const SIGNATURE_LEN: usize = 64;
/// The length of an Ed25519 public key.
pub const PUBLIC_KEY_LEN: usize = 32;
/// The length of the signature block at the end of a signed artifact.
pub const SIGNATURE_BLOCK_LEN: usize = KEY_ID_LEN + SIGNATURE_LEN;

/// A key id: the first 8 bytes of the SHA-512 of the 32-byte public key.
pub type KeyId = [u8; KEY_ID_LEN];

/// The key id of an Ed25519 public key: the first 8 bytes of its SHA-512.
pub fn key_id(public: &[u8; PUBLIC_KEY_LEN]) -> KeyId {
    let digest = Sha512::digest(public);
    let mut id = [0u8; KEY_ID_LEN];
    for (out, b) in id.iter_mut().zip(digest.iter()) {
        *out = *b;
    }
    id
}

/// Shows a key id as 16 lowercase hex digits.
pub struct KeyIdHex<'a>(pub &'a KeyId);

impl core::fmt::Display for KeyIdHex<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// A public key the caller trusts to sign policies.
#[derive(Debug, Clone)]
pub struct TrustedKey {
    id: KeyId,
    key: VerifyingKey,
}

/// The bytes given are not an Ed25519 public key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidPublicKey;

impl core::fmt::Display for InvalidPublicKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "not an Ed25519 public key")
    }
}

impl TrustedKey {
    /// A trusted key from its 32 bytes.
    ///
    /// # Errors
    /// [`InvalidPublicKey`] when the bytes are not a point of the curve.
    pub fn from_bytes(public: &[u8; PUBLIC_KEY_LEN]) -> Result<Self, InvalidPublicKey> {
        let key = VerifyingKey::from_bytes(public).map_err(|_| InvalidPublicKey)?;
        Ok(TrustedKey {
            id: key_id(public),
            key,
        })
    }

    /// This key's id.
    pub fn id(&self) -> KeyId {
        self.id
    }

    /// This key's 32 bytes.
    pub fn to_bytes(&self) -> [u8; PUBLIC_KEY_LEN] {
        self.key.to_bytes()
    }
}

/// Where the key id of a signed artifact stands (after the checksum).
fn key_id_at(bytes: &[u8]) -> usize {
    bytes.len().saturating_sub(SIGNATURE_BLOCK_LEN)
}

/// The key id a signed artifact names, after checking its header; `None`
/// for an unsigned artifact.
///
/// # Errors
/// [`ArtifactError`] for a damaged header.
pub fn signer(bytes: &[u8]) -> Result<Option<KeyId>, ArtifactError> {
    if !header(bytes)?.signed {
        return Ok(None);
    }
    let at = key_id_at(bytes);
    let id = bytes
        .get(at..at + KEY_ID_LEN)
        .and_then(|b| b.try_into().ok())
        .ok_or(err(ArtifactErrorKind::Truncated, at))?;
    Ok(Some(id))
}

/// Checks that `bytes` is signed by one of `keys`, reading only the header
/// and the signature block.
///
/// # Errors
/// The header's own error; [`ArtifactErrorKind::Unsigned`] for an unsigned
/// artifact, [`ArtifactErrorKind::UnknownKey`] for a key id none of `keys`
/// has, [`ArtifactErrorKind::BadSignature`] for a signature that does not
/// verify.
pub fn verify(bytes: &[u8], keys: &[TrustedKey]) -> Result<(), ArtifactError> {
    let id = signer(bytes)?.ok_or(err(ArtifactErrorKind::Unsigned, 10))?;
    let at = key_id_at(bytes);
    let key = keys
        .iter()
        .find(|k| k.id == id)
        .ok_or(err(ArtifactErrorKind::UnknownKey(id), at))?;
    let sig_at = at + KEY_ID_LEN;
    let bad = err(ArtifactErrorKind::BadSignature, sig_at);
    let signed = bytes.get(..sig_at).ok_or(bad)?;
    let sig: [u8; SIGNATURE_LEN] = bytes
        .get(sig_at..)
        .and_then(|b| b.try_into().ok())
        .ok_or(bad)?;
    key.key
        .verify_strict(signed, &Signature::from_bytes(&sig))
        .map_err(|_| bad)
}

/// The bytes to sign to make `unsigned` (an artifact of the current
/// format, checked in full) a signed artifact by the key `id`: the
/// header's signed flag set, the checksum recomputed, the key id appended.
/// [`attach_signature`] appends the signature over them.
///
/// # Errors
/// [`ArtifactError`] when `unsigned` is damaged, signed already
/// ([`ArtifactErrorKind::UnknownFlags`]) or of the old fees-only format
/// ([`ArtifactErrorKind::UnsupportedVersion`]).
pub fn signing_payload(unsigned: &[u8], id: &KeyId) -> Result<Vec<u8>, ArtifactError> {
    let head = header(unsigned)?;
    if head.signed {
        return Err(err(ArtifactErrorKind::UnknownFlags, 10));
    }
    if head.version < super::PLAIN_VERSION {
        return Err(err(ArtifactErrorKind::UnsupportedVersion(head.version), 8));
    }
    super::envelope(unsigned)?;
    let crc_at = head.crc_at();
    let mut out = Vec::with_capacity(unsigned.len() + SIGNATURE_BLOCK_LEN);
    out.extend_from_slice(unsigned.get(..crc_at).unwrap_or(&[]));
    if let Some(flags) = out.get_mut(10..12) {
        flags.copy_from_slice(&FLAG_SIGNED.to_le_bytes());
    }
    let crc = crate::crc::crc32(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(id);
    Ok(out)
}

/// A signed artifact: `payload` (from [`signing_payload`]) and its
/// signature.
pub fn attach_signature(mut payload: Vec<u8>, signature: &[u8; SIGNATURE_LEN]) -> Vec<u8> {
    payload.extend_from_slice(signature);
    payload
}

/// The installed policy a new artifact must not go back from: its name,
/// version and content hash. The caller persists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Floor<'a> {
    /// The policy's name.
    pub name: &'a str,
    /// The installed version.
    pub version: u32,
    /// The installed artifact's content hash.
    pub hash: u64,
}

/// Checks `bytes` against the installed `floor`: an artifact of another
/// policy passes; of the same policy, a lower version is a rollback, and
/// the same version must have the same content hash.
///
/// # Errors
/// The envelope's error; [`ArtifactErrorKind::Rollback`] or
/// [`ArtifactErrorKind::VersionReused`].
pub fn check_floor(bytes: &[u8], floor: &Floor<'_>) -> Result<(), ArtifactError> {
    let (name, version, hash) = identify(bytes)?;
    if name != floor.name {
        return Ok(());
    }
    if version < floor.version {
        return Err(err(
            ArtifactErrorKind::Rollback {
                installed: floor.version,
                offered: version,
            },
            super::HEADER_LEN,
        ));
    }
    if version == floor.version && hash != floor.hash {
        return Err(err(
            ArtifactErrorKind::VersionReused(version),
            super::HEADER_LEN,
        ));
    }
    Ok(())
}

/// Decodes an artifact a terminal may install: signed by one of `keys`
/// when any are given (checked first, as [`verify`]), not below `floor`
/// when given (checked before the policy is decoded), then decoded and
/// validated in full. With no keys, an unsigned artifact is accepted and
/// a signed one decodes without its signature being checked.
///
/// # Errors
/// [`ArtifactError`], from the first check that fails.
pub fn decode_trusted(
    bytes: &[u8],
    keys: &[TrustedKey],
    floor: Option<&Floor<'_>>,
) -> Result<Compiled, ArtifactError> {
    if !keys.is_empty() {
        verify(bytes, keys)?;
    }
    if let Some(floor) = floor {
        check_floor(bytes, floor)?;
    }
    super::decode_any(bytes)
}
