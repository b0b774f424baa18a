//! `--state-dir DIR`: the floor of each policy served, kept across
//! restarts in `DIR/NAME.floor` (`VERSION HASH`, the content hash as
//! `tollgate compile` prints it), so that a restart does not forget it: a
//! file of a lower version than the floor, or of the floor's version with
//! another content hash, is refused at start as on a reload. The file is
//! written whole or not at all (temporary file, fsync, rename, directory
//! fsync) each time another version starts serving.

use std::path::{Path, PathBuf};

/// The floor file of policy `name` in `dir`.
pub fn path(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}.floor"))
}

/// The floor persisted for `name`: its version and content hash; `None`
/// when none was persisted.
///
/// # Errors
/// The message to log: the file cannot be read, or is not a floor.
pub fn read(dir: &Path, name: &str) -> Result<Option<(u32, String)>, String> {
    let file = path(dir, name);
    let text = match std::fs::read_to_string(&file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read the floor {}: {e}", file.display())),
    };
    let mut words = text.split_whitespace();
    match (words.next(), words.next(), words.next()) {
        (Some(v), Some(h), None) if h.len() == 16 && h.bytes().all(|b| b.is_ascii_hexdigit()) => {
            let version = v
                .parse()
                .map_err(|_| format!("{} is not a floor (`VERSION HASH`)", file.display()))?;
            Ok(Some((version, h.to_ascii_lowercase())))
        }
        _ => Err(format!(
            "{} is not a floor (`VERSION HASH`)",
            file.display()
        )),
    }
}

/// Persists `version` and `hash` as the floor of `name`.
///
/// # Errors
/// The system's error; the old floor is then unchanged.
pub fn write(dir: &Path, name: &str, version: u32, hash: &str) -> std::io::Result<()> {
    crate::fsio::write_atomic(&path(dir, name), format!("{version} {hash}\n").as_bytes())
}

/// Why a policy at `version` with `hash` is refused by the floor
/// `(floor_version, floor_hash)`, if it is: a lower version is a rollback;
/// the same version with another content hash, a changed policy that kept
/// its version. `whose` says where the floor comes from (`serving`,
/// `served before`).
pub fn refusal(
    name: &str,
    file: &str,
    (version, hash): (u32, &str),
    (floor_version, floor_hash): (u32, &str),
    whose: &str,
) -> Option<String> {
    if version < floor_version {
        Some(format!(
            "{file}: rollback refused: version {version} of policy `{name}` is older than the \
             version {floor_version} {whose}"
        ))
    } else if version == floor_version && hash != floor_hash {
        Some(format!(
            "{file}: policy `{name}` version {version} changed without a new version (content \
             hash {hash}, {whose} {floor_hash}): a changed policy must carry a new version"
        ))
    } else {
        None
    }
}
