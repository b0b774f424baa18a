//! `tollgate keygen`, `tollgate verify`, and the trust options of the
//! commands that load artifacts (`--trusted-key`, `--floor`): see
//! docs/releases.md.

use super::{out, EXIT_ERRORS, EXIT_OK, EXIT_USAGE};
use crate::signing::{id_text, parse_public, SecretKey};
use std::path::Path;
use tollgate_runtime::artifact::trust::{self, Floor, TrustedKey};
use tollgate_runtime::artifact::{self, Compiled};

/// What a loaded artifact must satisfy: signed by one of `keys` (when any
/// are given) and not below `floor` (when given).
#[derive(Debug, Clone, Default)]
pub struct Trust {
    /// The trusted public keys; empty: signatures are not required.
    pub keys: Vec<TrustedKey>,
    /// The installed policy: name, version, content hash.
    pub floor: Option<(String, u32, u64)>,
}

impl Trust {
    /// Whether anything is asked of an artifact.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty() && self.floor.is_none()
    }

    /// Decodes `bytes` under these conditions.
    ///
    /// # Errors
    /// The first check that fails.
    pub fn decode(&self, bytes: &[u8]) -> Result<Compiled, artifact::ArtifactError> {
        let floor = self.floor.as_ref().map(|(name, version, hash)| Floor {
            name,
            version: *version,
            hash: *hash,
        });
        trust::decode_trusted(bytes, &self.keys, floor.as_ref())
    }
}

/// Parses `--trusted-key` values (text forms or files).
pub fn trusted_key(arg: &str) -> Result<TrustedKey, String> {
    parse_public(arg)
}

/// Parses `--floor NAME=VERSION:HASH`, HASH the 16 hex digits of the
/// installed artifact's content hash (as `compile` and `verify` print it).
pub fn floor(arg: &str) -> Result<(String, u32, u64), String> {
    let form = "expected NAME=VERSION:HASH, HASH 16 hex digits";
    let (name, rest) = arg.rsplit_once('=').ok_or(form)?;
    let (version, hash) = rest.split_once(':').ok_or(form)?;
    let version = version.parse::<u32>().map_err(|_| form)?;
    if name.is_empty() || hash.len() != 16 {
        return Err(form.into());
    }
    let hash = u64::from_str_radix(hash, 16).map_err(|_| form)?;
    Ok((name.to_string(), version, hash))
}

/// `tollgate keygen --out KEYFILE`: writes a new secret key (mode 0600,
/// never over an existing file) and prints the public key and key id.
pub fn keygen(out_path: &Path) -> u8 {
    let key = match SecretKey::generate() {
        Ok(k) => k,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    if let Err(e) = crate::fsio::write_new_private(out_path, key.to_text().as_bytes()) {
        let why = if e.kind() == std::io::ErrorKind::AlreadyExists {
            "it exists already (a key is never overwritten)".to_string()
        } else {
            e.to_string()
        };
        eprintln!("error: cannot write {}: {why}", out_path.display());
        return EXIT_USAGE;
    }
    out::emit(
        &format!(
            "public key: {}\nkey id: {}\n",
            key.public_text(),
            id_text(&key.id())
        ),
        EXIT_OK,
    )
}

/// `tollgate verify ARTIFACT --key PUB...`: 0 when the artifact is signed
/// by one of the keys (and above the floor, and valid in full), 1 when it
/// is refused, 2 for usage and I/O errors.
pub fn verify(path: &Path, trust: &Trust) -> u8 {
    if trust.keys.is_empty() {
        eprintln!("error: verify needs at least one --key");
        return EXIT_USAGE;
    }
    let bytes = match crate::fsio::read_bounded(path, super::load::MAX_ARTIFACT_BYTES) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", path.display());
            return EXIT_USAGE;
        }
    };
    let refused = |e: artifact::ArtifactError| {
        eprintln!("error: {}: refused: {e}", path.display());
        EXIT_ERRORS
    };
    if let Err(e) = trust.decode(&bytes) {
        return refused(e);
    }
    let (name, version, hash) = match artifact::identify(&bytes) {
        Ok(id) => id,
        Err(e) => return refused(e),
    };
    let signer = match trust::signer(&bytes) {
        Ok(Some(id)) => id_text(&id),
        Ok(None) => String::new(),
        Err(e) => return refused(e),
    };
    let window = match artifact::window_of(&bytes) {
        Ok(w) => crate::compile::print::window_line(&w)
            .map(|line| format!("{line}\n"))
            .unwrap_or_default(),
        Err(e) => return refused(e),
    };
    out::emit(
        &format!(
            "{}: valid, signed by key {signer}\npolicy {name} version {version}, content hash {hash:016x}\n{window}",
            path.display()
        ),
        EXIT_OK,
    )
}
