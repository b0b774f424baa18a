//! Signing keys and their text forms, and signing an artifact (the host
//! side of [`tollgate_runtime::artifact::trust`]; docs/releases.md).
//!
//! - a secret key file holds one line `tollgate-ed25519-secret:BASE64`, the
//!   standard base64 of the 32-byte Ed25519 seed;
//! - a public key is `tollgate-ed25519-public:BASE64` (the 32-byte key), given
//!   on the command line as it is or as a file holding that line;
//! - a key id is the first 8 bytes of the SHA-512 of the public key, shown as
//!   16 hex digits.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ed25519_dalek::{Signer, SigningKey};
use std::path::Path;
use tollgate_runtime::artifact::trust::{
    self, attach_signature, key_id, signing_payload, KeyId, KeyIdHex, TrustedKey, PUBLIC_KEY_LEN,
};

/// The prefix of a secret key's text form.
pub const SECRET_PREFIX: &str = "tollgate-ed25519-secret:";
/// The prefix of a public key's text form.
pub const PUBLIC_PREFIX: &str = "tollgate-ed25519-public:";
/// The largest key file read, in bytes.
const MAX_KEY_FILE_BYTES: u64 = 4096;

/// A key pair able to sign artifacts.
pub struct SecretKey(SigningKey);

impl SecretKey {
    /// A new key from the operating system's random source.
    ///
    /// # Errors
    /// The random source's failure, as text.
    pub fn generate() -> Result<Self, String> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| format!("no random bytes: {e}"))?;
        let key = SigningKey::from_bytes(&seed);
        seed.fill(0);
        Ok(SecretKey(key))
    }

    /// Reads a secret key's text form.
    ///
    /// # Errors
    /// What is wrong with the text.
    pub fn parse(text: &str) -> Result<Self, String> {
        let seed: [u8; 32] = decode_key(text, SECRET_PREFIX, "secret")?;
        Ok(SecretKey(SigningKey::from_bytes(&seed)))
    }

    /// Reads a secret key file.
    ///
    /// # Errors
    /// The file cannot be read or holds no secret key.
    pub fn read(path: &Path) -> Result<Self, String> {
        let text = read_text(path)?;
        Self::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// The secret key's text form, one line.
    pub fn to_text(&self) -> String {
        format!("{SECRET_PREFIX}{}\n", STANDARD.encode(self.0.to_bytes()))
    }

    /// The public key's text form.
    pub fn public_text(&self) -> String {
        public_text(&self.0.verifying_key().to_bytes())
    }

    /// The key id.
    pub fn id(&self) -> KeyId {
        key_id(&self.0.verifying_key().to_bytes())
    }

    /// Signs an unsigned artifact: the signed artifact.
    ///
    /// # Errors
    /// The artifact is damaged, of the old format, or signed already.
    pub fn sign(&self, unsigned: &[u8]) -> Result<Vec<u8>, String> {
        let payload = signing_payload(unsigned, &self.id()).map_err(|e| e.to_string())?;
        let signature = self.0.sign(&payload).to_bytes();
        Ok(attach_signature(payload, &signature))
    }
}

/// A public key's text form.
pub fn public_text(public: &[u8; PUBLIC_KEY_LEN]) -> String {
    format!("{PUBLIC_PREFIX}{}", STANDARD.encode(public))
}

/// A key id as 16 hex digits.
pub fn id_text(id: &KeyId) -> String {
    KeyIdHex(id).to_string()
}

/// Reads a trusted public key: its text form, or a file holding it.
///
/// # Errors
/// What is wrong with the text or the file.
pub fn parse_public(arg: &str) -> Result<TrustedKey, String> {
    let text = if arg.starts_with(PUBLIC_PREFIX) {
        arg.to_string()
    } else {
        read_text(Path::new(arg))?
    };
    let bytes: [u8; PUBLIC_KEY_LEN] =
        decode_key(&text, PUBLIC_PREFIX, "public").map_err(|e| format!("{arg}: {e}"))?;
    TrustedKey::from_bytes(&bytes).map_err(|e: trust::InvalidPublicKey| format!("{arg}: {e}"))
}

/// Reads a small key file as text.
fn read_text(path: &Path) -> Result<String, String> {
    let bytes = crate::fsio::read_bounded(path, MAX_KEY_FILE_BYTES)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    String::from_utf8(bytes).map_err(|_| format!("{} is not a key file", path.display()))
}

/// Decodes `PREFIX` + base64 of 32 bytes, surrounding white space allowed.
fn decode_key(text: &str, prefix: &str, what: &str) -> Result<[u8; 32], String> {
    let text = text.trim();
    let Some(b64) = text.strip_prefix(prefix) else {
        return Err(format!("not a {what} key (it must start with `{prefix}`)"));
    };
    let bytes = STANDARD
        .decode(b64)
        .map_err(|_| format!("the {what} key is not valid base64"))?;
    bytes
        .try_into()
        .map_err(|_| format!("the {what} key must be 32 bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_forms_read_back() {
        let key = SecretKey::generate().unwrap();
        let again = SecretKey::parse(&key.to_text()).unwrap();
        assert_eq!(again.public_text(), key.public_text());
        let public = parse_public(&key.public_text()).unwrap();
        assert_eq!(public.id(), key.id());
        assert!(SecretKey::parse(&key.public_text()).is_err());
        assert!(parse_public(&format!("{PUBLIC_PREFIX}AAAA")).is_err());
    }
}
