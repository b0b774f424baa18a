//! `tollgate vectors POLICY -o FILE`: the conformance vectors of a policy,
//! as JSON Lines, and optionally in the C example's form.

use super::{EXIT_ERRORS, EXIT_OK, EXIT_USAGE};
use crate::diagnostic::render::render;
use crate::vectors::{self, VectorsError};
use std::path::Path;

/// Writes the vectors of the policy source at `policy` to `output` (and
/// to `c_output` in the C form), a notifications zone built for `years`.
pub fn run(
    policy: &Path,
    output: &Path,
    c_output: Option<&Path>,
    years: Option<(i32, i32)>,
    color: bool,
) -> u8 {
    let name = policy.display().to_string();
    let text = match crate::fsio::read_bounded_by(policy, 0, |_| {
        crate::syntax::limits::MAX_SOURCE_BYTES as u64
    }) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(_) => {
                eprintln!(
                    "error: {name} is not UTF-8 text (vectors are made from a policy source)"
                );
                return EXIT_ERRORS;
            }
        },
        Err(e) => {
            eprintln!("error: cannot read {name}: {e}");
            return EXIT_USAGE;
        }
    };
    let pack = match vectors::generate(&text, years) {
        Ok(p) => p,
        Err(VectorsError::Invalid(diagnostics)) => {
            eprint!("{}", render(&diagnostics, &name, &text, color));
            return EXIT_ERRORS;
        }
        Err(VectorsError::Unsupported(why)) => {
            eprintln!("error: {name}: {why}");
            return EXIT_USAGE;
        }
    };
    let mut writes = vec![(output, pack.jsonl())];
    if let Some(c) = c_output {
        match pack.c_form() {
            Ok(text) => writes.push((c, text)),
            Err(why) => {
                eprintln!("error: {name}: {why}");
                return EXIT_USAGE;
            }
        }
    }
    if let Some((path, _)) = writes
        .iter()
        .find(|(p, _)| crate::fsio::same_file(policy, p))
    {
        eprintln!(
            "error: {} is the policy; write the vectors to another file",
            path.display()
        );
        return EXIT_USAGE;
    }
    for (path, text) in writes {
        if let Err(e) = crate::fsio::write_atomic(path, text.as_bytes()) {
            eprintln!("error: cannot write {}: {e}", path.display());
            return EXIT_USAGE;
        }
    }
    let done = format!(
        "wrote {} vectors in {} groups for {} version {} (artifact content hash {:016x}) to {}\n",
        pack.len(),
        pack.groups.len(),
        pack.policy,
        pack.version,
        pack.hash,
        output.display()
    );
    if crate::fsio::is_stream(output) {
        eprint!("{done}");
        return EXIT_OK;
    }
    super::out::emit(&done, EXIT_OK)
}
