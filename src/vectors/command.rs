//! The `tollgate-vectors POLICY -o FILE` program: the conformance vectors
//! of a policy, as JSON Lines, and optionally in the C example's form. The
//! program itself is built by the `tollgate-oracle` crate, which gives it
//! the answers ([`Reference`]); its arguments, messages and exit codes are
//! `tollgate`'s (0, 1 for a policy with errors, 2 for usage or I/O).

use super::{Reference, VectorsError};
use crate::cli::{ColorChoice, EXIT_ERRORS, EXIT_OK, EXIT_USAGE};
use crate::diagnostic::render::render;
use clap::Parser;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Write a policy's conformance vectors: records with the answers
/// `tollgate eval` must print, from the reference interpreters
/// (docs/vectors.md).
#[derive(Debug, Parser)]
#[command(name = "tollgate-vectors", version)]
pub struct Args {
    /// The policy source.
    pub policy: PathBuf,
    /// Where to write the vectors (JSON Lines).
    #[arg(long, short)]
    pub output: PathBuf,
    /// Also write them in the C example's line form to this file.
    #[arg(long, value_name = "FILE")]
    pub c_output: Option<PathBuf>,
    /// The years a notifications policy's zone is built for, as for
    /// `tollgate compile` (default: 2000..2099).
    #[arg(long, value_name = "FIRST..LAST", value_parser = crate::compile::notify::parse_zone_years)]
    pub zone_years: Option<(i32, i32)>,
    /// When to color diagnostics.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

/// The program: parses the process's arguments and writes the vectors,
/// answered by `reference`.
pub fn main<R: Reference>(reference: &R) -> ExitCode {
    let args = match Args::try_parse() {
        Ok(args) => args,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_USAGE } else { EXIT_OK });
        }
    };
    ExitCode::from(run(
        reference,
        &args.policy,
        &args.output,
        args.c_output.as_deref(),
        args.zone_years,
        args.color.enabled(),
    ))
}

/// Writes the vectors of the policy source at `policy` to `output` (and
/// to `c_output` in the C form), a notifications zone built for `years`;
/// returns the exit code.
pub fn run<R: Reference>(
    reference: &R,
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
    let pack = match super::generate(reference, &text, years) {
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
    crate::cli::out::emit(&done, EXIT_OK)
}
