//! `tollgate table POLICY` and `tollgate compile POLICY -o FILE`.

use super::load::{load, load_for_years, Loaded};
use super::{out, EXIT_OK, EXIT_USAGE};
use crate::signing::{id_text, SecretKey};
use std::path::Path;
use tollgate_runtime::artifact;

/// Prints a policy's decision table, or a notifications policy's rules
/// (source or artifact).
pub fn print(policy: &Path, color: bool) -> u8 {
    match load(policy, color) {
        Ok(Loaded::Fees(table)) => out::emit(&crate::compile::print_table(&table), EXIT_OK),
        Ok(Loaded::Notifications(p)) => {
            out::emit(&crate::compile::print_notify::print_rules(&p), EXIT_OK)
        }
        Err(e) => out::emit(e.message(), e.exit_code()),
    }
}

/// Compiles a policy source of either kind to an artifact file, a
/// notifications policy's zone built for `years` (default
/// [`ZONE_YEARS`](crate::compile::notify::ZONE_YEARS)).
pub fn compile(
    policy: &Path,
    output: &Path,
    years: Option<(i32, i32)>,
    sign: Option<&Path>,
    color: bool,
) -> u8 {
    let key = match sign.map(SecretKey::read).transpose() {
        Ok(key) => key,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    let bytes = match load_for_years(policy, color, years) {
        Ok(Loaded::Fees(table)) => artifact::encode(&table),
        Ok(Loaded::Notifications(p)) => artifact::encode_notify(&p),
        Err(e) => return out::emit(e.message(), e.exit_code()),
    };
    let bytes = match &key {
        None => bytes,
        Some(key) => match key.sign(&bytes) {
            Ok(signed) => signed,
            Err(e) => {
                eprintln!("error: cannot sign the artifact: {e}");
                return EXIT_USAGE;
            }
        },
    };
    if crate::fsio::same_file(policy, output) {
        eprintln!(
            "error: {} is the policy being compiled; write the artifact to another file",
            output.display()
        );
        return EXIT_USAGE;
    }
    let streamed = crate::fsio::is_stream(output);
    if let Err(e) = crate::fsio::write_atomic(output, &bytes) {
        eprintln!("error: cannot write {}: {e}", output.display());
        return EXIT_USAGE;
    }
    let (name, version, hash) = match artifact::identify(&bytes) {
        Ok(id) => id,
        Err(e) => {
            eprintln!("error: the artifact just written does not read back: {e}");
            return EXIT_USAGE;
        }
    };
    let signed = key
        .map(|k| format!(", signed by key {}", id_text(&k.id())))
        .unwrap_or_default();
    let done = format!(
        "compiled {name} version {version} to {} ({} bytes, content hash {hash:016x}{signed})\n",
        output.display(),
        bytes.len()
    );
    if streamed {
        // The artifact went to standard output or a pipe: the note must not
        // follow it there.
        eprint!("{done}");
        return EXIT_OK;
    }
    out::emit(&done, EXIT_OK)
}
