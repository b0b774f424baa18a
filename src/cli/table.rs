//! `tollgate table POLICY` and `tollgate compile POLICY -o FILE`.

use super::load::{load, load_for_years};
use super::{out, EXIT_OK, EXIT_USAGE};
use crate::signing::{id_text, SecretKey};
use std::path::Path;
use tollgate_runtime::activation::{Stamp, Window, WindowError};
use tollgate_runtime::artifact;
use tollgate_runtime::artifact::Compiled;

/// Prints a policy's decision table, or a notifications policy's rules
/// (source or artifact).
pub fn print(policy: &Path, color: bool) -> u8 {
    match load(policy, color) {
        Ok(Compiled::Fees(table)) => out::emit(&crate::compile::print_table(&table), EXIT_OK),
        Ok(Compiled::Notifications(p)) => {
            out::emit(&crate::compile::print_notify::print_rules(&p), EXIT_OK)
        }
        Err(e) => out::emit(e.message(), e.exit_code()),
    }
}

/// An instant as `--effective-from` and `--until` take it: RFC 3339 with
/// an offset.
///
/// # Errors
/// The message for a malformed instant.
pub fn stamp(text: &str) -> Result<Stamp, String> {
    let t = chrono::DateTime::parse_from_rfc3339(text)
        .map_err(|e| format!("`{text}` is not an RFC 3339 instant with an offset: {e}"))?;
    Ok(Stamp {
        unix_ms: t.timestamp_millis(),
        offset_secs: t.offset().local_minus_utc(),
    })
}

/// The window of `source` with the bounds given on the command line in
/// place of its own (each flag wins over the source's line).
fn with_flags(
    source: Window,
    (from, until): (Option<Stamp>, Option<Stamp>),
) -> Result<Window, String> {
    let w = Window {
        from: from.or(source.from),
        until: until.or(source.until),
    };
    w.validate().map_err(|e| match e {
        WindowError::OutOfRange => {
            "error: an activation instant must lie between 1970 and 9999".to_string()
        }
        WindowError::Empty => {
            "error: the activation window ends before it starts (--until is not after the start)"
                .to_string()
        }
        other => format!("error: {other}"),
    })?;
    Ok(w)
}

/// Compiles a policy source of either kind to an artifact file, a
/// notifications policy's zone built for `years` (default
/// [`ZONE_YEARS`](crate::compile::notify::ZONE_YEARS)), its activation
/// window's bounds replaced by `window`'s where given.
pub fn compile(
    policy: &Path,
    output: &Path,
    years: Option<(i32, i32)>,
    sign: Option<&Path>,
    window: (Option<Stamp>, Option<Stamp>),
    color: bool,
) -> u8 {
    let key = match sign.map(SecretKey::read).transpose() {
        Ok(key) => key,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    let windowed = match load_for_years(policy, color, years) {
        Ok(Compiled::Fees(table)) => with_flags(table.window(), window).and_then(|w| {
            let table = table
                .with_window(w)
                .map_err(|e| format!("error: the activation window: {e}"))?;
            Ok(artifact::encode(&table))
        }),
        Ok(Compiled::Notifications(p)) => with_flags(p.window(), window).and_then(|w| {
            let p = p
                .with_window(w)
                .map_err(|e| format!("error: the activation window: {e}"))?;
            Ok(artifact::encode_notify(&p))
        }),
        Err(e) => return out::emit(e.message(), e.exit_code()),
    };
    let bytes = match windowed {
        Ok(bytes) => bytes,
        Err(message) => {
            eprintln!("{message}");
            return EXIT_USAGE;
        }
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
