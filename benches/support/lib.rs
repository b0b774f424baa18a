//! What the benchmarks of `benches/` share: `lakala.toll` written by hand,
//! and the repository's files, found from any working directory (`cargo
//! bench` runs a benchmark in its package's directory, `benches/`).

pub mod lakala;

use std::path::{Path, PathBuf};

/// `path`, relative to the repository's root, as a path that opens from
/// any working directory.
pub fn repo_path(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

/// The text of the repository's file at `path` (relative to its root).
///
/// # Errors
/// When the file can't be read.
pub fn read(path: &str) -> std::io::Result<String> {
    std::fs::read_to_string(repo_path(path))
}
