//! Proves that the terminal runtime builds without `std`.
//!
//! `crates/nostd-check` is a `#![no_std]` crate with its own panic handler
//! that depends on `tollgate-runtime` with default features off. If any crate
//! in that graph links `std`, std's panic handler collides with the crate's
//! own and the build fails ("found duplicate lang item `panic_impl`").

// A test fails by panicking; helpers here may unwrap and index freely.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::Path;
use std::process::Command;

#[test]
fn runtime_builds_without_std() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["build", "--locked", "--manifest-path"])
        .arg(root.join("crates/nostd-check/Cargo.toml"))
        // Its own target directory: no lock contention with the outer build.
        .env("CARGO_TARGET_DIR", root.join("target/nostd-check"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the no_std build failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
