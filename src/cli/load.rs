//! Loading a policy for the commands that run one: a `.toll` source or a
//! compiled artifact, told apart by the artifact's magic bytes.

use super::trust::Trust;
use crate::diagnostic::render::render;
use crate::fsio::{read_bounded_by, ReadError};
use crate::pipeline::Options;
use crate::syntax::limits::MAX_SOURCE_BYTES;
use std::path::Path;
use tollgate_runtime::artifact::{self, Compiled};

/// Why a policy could not be loaded, with the message to print.
pub enum LoadError {
    /// The file could not be read (exit code 2).
    Io(String),
    /// The command asked for something the policy cannot give (exit code 2).
    Usage(String),
    /// The policy or artifact is invalid: rendered diagnostics or the
    /// artifact error (exit code 1).
    Invalid(String),
}

impl LoadError {
    /// The exit code for this failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            LoadError::Io(_) | LoadError::Usage(_) => super::EXIT_USAGE,
            LoadError::Invalid(_) => super::EXIT_ERRORS,
        }
    }

    /// The message to print.
    pub fn message(&self) -> &str {
        match self {
            LoadError::Io(m) | LoadError::Usage(m) | LoadError::Invalid(m) => m,
        }
    }
}

/// The largest compiled artifact accepted, in bytes (64 MiB): the artifact
/// of a policy source at its own limit (8 MiB, 38,000 generated rules) is
/// about 7 MB.
pub const MAX_ARTIFACT_BYTES: u64 = 64 << 20;

/// Loads `path`: a policy source or a compiled artifact, each read under
/// its own size limit.
pub fn load(path: &Path, color: bool) -> Result<Compiled, LoadError> {
    load_for_years(path, color, None)
}

/// As [`load`], a notifications source's zone built for `years` (both
/// included) when given, else for
/// [`ZONE_YEARS`](crate::compile::notify::ZONE_YEARS). `years` is refused
/// for an artifact (its zone is built already) and for a fees policy (which
/// has no zone to build).
pub fn load_for_years(
    path: &Path,
    color: bool,
    years: Option<(i32, i32)>,
) -> Result<Compiled, LoadError> {
    load_trusted(path, color, years, &Trust::default())
}

/// As [`load_for_years`], an artifact checked against `trust` (signature,
/// version floor) before it is decoded. A policy source is refused when
/// `trust` asks anything: it carries no signature and no floor applies.
pub fn load_trusted(
    path: &Path,
    color: bool,
    years: Option<(i32, i32)>,
    trust: &Trust,
) -> Result<Compiled, LoadError> {
    let name = path.display().to_string();
    let limit = |head: &[u8]| {
        if head.starts_with(artifact::MAGIC) {
            MAX_ARTIFACT_BYTES
        } else {
            MAX_SOURCE_BYTES as u64
        }
    };
    let bytes = match read_bounded_by(path, artifact::MAGIC.len(), limit) {
        Ok(bytes) => bytes,
        Err(ReadError::TooLarge { size, limit }) if limit == MAX_ARTIFACT_BYTES => {
            return Err(LoadError::Invalid(format!(
                "error: {name}: artifact of {size} bytes is larger than the limit of {limit} bytes\n"
            )))
        }
        Err(ReadError::TooLarge { size, .. }) => {
            let (source, problem) = crate::source::too_large_file(name.clone(), Some(size));
            let diagnostics: Vec<_> = problem.into_iter().collect();
            return Err(LoadError::Invalid(render(
                &diagnostics,
                &name,
                &source.text,
                color,
            )));
        }
        Err(e) => return Err(LoadError::Io(format!("error: cannot read {name}: {e}\n"))),
    };
    if bytes.starts_with(artifact::MAGIC) {
        if years.is_some() {
            return Err(LoadError::Usage(format!(
                "error: {name} is a compiled artifact, its zone built already; \
                 --zone-years applies to a policy source\n"
            )));
        }
        let compiled = trust
            .decode(&bytes)
            .map_err(|e| LoadError::Invalid(format!("error: {}: {e}\n", path.display())))?;
        return Ok(compiled);
    }
    if !trust.is_empty() {
        return Err(LoadError::Invalid(format!(
            "error: {name}: refused: a policy source is not a signed artifact; \
             --trusted-key and --floor apply to compiled artifacts\n"
        )));
    }
    let (source, problem) = crate::source::from_bytes(name.clone(), bytes);
    let result = match problem {
        Some(d) => Err(vec![d]),
        None => compile(&source.text, years),
    };
    match result {
        Ok(Compiled::Fees(_)) if years.is_some() => Err(LoadError::Usage(format!(
            "error: {name} is a fees policy, which has no zone to build; \
             --zone-years applies to notifications policies\n"
        ))),
        Ok(loaded) => Ok(loaded),
        Err(diagnostics) => Err(LoadError::Invalid(render(
            &diagnostics,
            &name,
            &source.text,
            color,
        ))),
    }
}

/// Compiles a source of either kind ([`crate::pipeline::compile`]), a
/// notifications policy's zone for `years`, or the default span.
pub(crate) fn compile(
    text: &str,
    years: Option<(i32, i32)>,
) -> Result<Compiled, Vec<crate::Diagnostic>> {
    let options = Options {
        zone_years: years.unwrap_or(crate::compile::notify::ZONE_YEARS),
        ..Options::default()
    };
    crate::pipeline::compile(text, &options).map(|out| out.compiled)
}
