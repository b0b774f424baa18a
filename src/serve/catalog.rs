//! The policies a service runs: every policy source (`*.toll`, not
//! `*.test.toll`) and compiled artifact (a file that opens with the
//! artifact's magic bytes) under the policy directory, loaded, checked and
//! compiled, and the files that failed with why.
//!
//! A policy is known by the name on its `policy NAME version N` line (an
//! artifact carries it too). Two files that claim one name both fail: the
//! service cannot tell which one is meant.

use crate::cli::load::{compile, MAX_ARTIFACT_BYTES};
use crate::diagnostic::json::to_json_indexed;
use crate::diagnostic::Diagnostic;
use crate::fsio::ReadError;
use crate::span::LineIndex;
use crate::syntax::limits::MAX_SOURCE_BYTES;
use serde_json::{json, Value as Json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tollgate_runtime::artifact;
use tollgate_runtime::artifact::trust::TrustedKey;
use tollgate_runtime::notify::NotifyPolicy;
use tollgate_runtime::table::Table;

/// A compiled policy, ready to decide.
pub enum Engine {
    /// A fees policy's decision table.
    Fees(Table),
    /// A notifications policy.
    Notifications(NotifyPolicy),
}

/// One loaded policy and where it came from.
pub struct Policy {
    /// Its name.
    pub name: String,
    /// Its version.
    pub version: u32,
    /// The content hash of its compiled artifact, as `tollgate compile`
    /// prints it (16 hex digits).
    pub hash: String,
    /// The file it was loaded from.
    pub file: String,
    /// When it was loaded (RFC 3339, UTC).
    pub loaded_at: String,
    /// The compiled policy.
    pub engine: Engine,
}

impl Policy {
    /// `fees` or `notifications`.
    pub fn kind(&self) -> &'static str {
        match self.engine {
            Engine::Fees(_) => "fees",
            Engine::Notifications(_) => "notifications",
        }
    }

    /// The policy as `GET /v1/policies` lists it.
    pub fn listing(&self) -> Json {
        json!({
            "name": self.name,
            "kind": self.kind(),
            "version": self.version,
            "hash": self.hash,
            "file": self.file,
            "loaded_at": self.loaded_at,
        })
    }
}

/// A file that did not load: the diagnostics `check --format json`
/// prints for it, or the error that stopped it being read.
#[derive(Clone)]
pub struct Failure {
    /// The file.
    pub file: String,
    /// When it was tried (RFC 3339, UTC).
    pub at: String,
    /// The diagnostics (an array of `check --format json` objects), empty
    /// when the file could not be read or is a damaged artifact.
    pub diagnostics: Json,
    /// One line on what went wrong.
    pub error: String,
}

impl Failure {
    /// The failure as `GET /v1/policies` lists it.
    pub fn listing(&self) -> Json {
        json!({
            "file": self.file,
            "failed_at": self.at,
            "error": self.error,
            "diagnostics": self.diagnostics,
        })
    }
}

/// What one pass over the directory found.
pub struct Scan {
    /// The policies that loaded, by name.
    pub policies: BTreeMap<String, Policy>,
    /// The files that failed, in path order.
    pub failures: Vec<Failure>,
}

/// The current time as RFC 3339 (UTC, seconds).
pub fn now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    chrono::DateTime::from_timestamp(i64::try_from(secs).unwrap_or(0), 0).map_or_else(
        || secs.to_string(),
        |t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    )
}

/// Every policy file under `dir` (recursively, sorted; hidden files and
/// directories skipped, as editors keep their scratch files there).
///
/// # Errors
/// `dir` cannot be read.
pub fn files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d)? {
            let entry = entry?;
            let path = entry.path();
            let hidden = path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.'));
            if hidden {
                continue;
            }
            let Ok(meta) = std::fs::metadata(&path) else {
                continue;
            };
            if meta.is_dir() {
                pending.push(path);
            } else if meta.is_file() && candidate(&path) {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Whether `path` may hold a policy: a source, or any other file but a
/// test file (an artifact is told by its first bytes).
fn candidate(path: &Path) -> bool {
    !crate::source::is_test_file(path)
}

/// Loads every policy file under `dir`; with `keys`, only artifacts one
/// of them signed.
///
/// # Errors
/// `dir` cannot be read.
pub fn scan(dir: &Path, keys: &[TrustedKey]) -> std::io::Result<Scan> {
    let mut loaded: Vec<Policy> = Vec::new();
    let mut failures = Vec::new();
    for path in files(dir)? {
        match load_file(&path, keys) {
            Ok(Some(p)) => loaded.push(p),
            Ok(None) => {}
            Err(f) => failures.push(*f),
        }
    }
    let mut by_name: BTreeMap<String, Vec<Policy>> = BTreeMap::new();
    for p in loaded {
        by_name.entry(p.name.clone()).or_default().push(p);
    }
    let mut policies = BTreeMap::new();
    for (name, mut claims) in by_name {
        if claims.len() == 1 {
            if let Some(p) = claims.pop() {
                policies.insert(name, p);
            }
            continue;
        }
        let files: Vec<String> = claims.iter().map(|p| p.file.clone()).collect();
        for p in &claims {
            let others: Vec<&str> = files
                .iter()
                .filter(|f| **f != p.file)
                .map(String::as_str)
                .collect();
            failures.push(Failure {
                file: p.file.clone(),
                at: p.loaded_at.clone(),
                diagnostics: json!([]),
                error: format!(
                    "policy `{name}` is also defined in {}; a name may be defined by one file only",
                    others.join(", ")
                ),
            });
        }
    }
    failures.sort_by(|a, b| a.file.cmp(&b.file));
    Ok(Scan { policies, failures })
}

/// Loads one file: `None` for a file that is neither a policy source nor
/// an artifact. With `keys`, a source and an artifact none of them signed
/// are refused.
///
/// # Errors
/// The failure to list.
pub fn load_file(path: &Path, keys: &[TrustedKey]) -> Result<Option<Policy>, Box<Failure>> {
    let file = path.display().to_string();
    let at = now();
    let fail = |error: String, diagnostics: Json| {
        Box::new(Failure {
            file: file.clone(),
            at: at.clone(),
            diagnostics,
            error,
        })
    };
    let source = path.extension().is_some_and(|e| e == "toll");
    let limit = |head: &[u8]| {
        if head.starts_with(artifact::MAGIC) {
            MAX_ARTIFACT_BYTES
        } else {
            MAX_SOURCE_BYTES as u64
        }
    };
    let bytes = match crate::fsio::read_bounded_by(path, artifact::MAGIC.len(), limit) {
        Ok(b) => b,
        // An artifact (it opens with the magic bytes), whatever its name.
        Err(ReadError::TooLarge { size, limit }) if limit == MAX_ARTIFACT_BYTES => {
            return Err(fail(
                format!(
                    "{file}: artifact of {size} bytes is larger than the limit of {limit} bytes"
                ),
                json!([]),
            ))
        }
        Err(_) if !source => return Ok(None),
        // A source over its limit: E0004, as every command reports it.
        Err(ReadError::TooLarge { size, .. }) => {
            let (src, problem) = crate::source::too_large_file(file.clone(), Some(size));
            let diagnostics: Vec<_> = problem.into_iter().collect();
            let (error, json) = does_not_check(&file, &src.text, &diagnostics);
            return Err(fail(error, json));
        }
        Err(e) => return Err(fail(format!("cannot read {file}: {e}"), json!([]))),
    };
    let engine = if bytes.starts_with(artifact::MAGIC) {
        match artifact::trust::decode_trusted(&bytes, keys, None) {
            Ok(artifact::Compiled::Fees(t)) => Engine::Fees(t),
            Ok(artifact::Compiled::Notifications(p)) => Engine::Notifications(p),
            Err(e) => return Err(fail(format!("{file}: {e}"), json!([]))),
        }
    } else if source && !keys.is_empty() {
        return Err(fail(
            format!(
                "{file}: refused: a policy source is not a signed artifact, and --trusted-key was given"
            ),
            json!([]),
        ));
    } else if source {
        let (src, problem) = crate::source::from_bytes(file.clone(), bytes);
        let compiled = match problem {
            Some(d) => Err(vec![d]),
            None => compile(&src.text, None),
        };
        match compiled {
            Ok(artifact::Compiled::Fees(t)) => Engine::Fees(t),
            Ok(artifact::Compiled::Notifications(p)) => Engine::Notifications(p),
            Err(diagnostics) => {
                let (error, json) = does_not_check(&file, &src.text, &diagnostics);
                return Err(fail(error, json));
            }
        }
    } else {
        return Ok(None);
    };
    let bytes = match &engine {
        Engine::Fees(t) => artifact::encode(t),
        Engine::Notifications(p) => artifact::encode_notify(p),
    };
    let (name, version, hash) = artifact::identify(&bytes).map_err(|e| {
        fail(
            format!("{file}: the compiled policy does not read back: {e}"),
            json!([]),
        )
    })?;
    Ok(Some(Policy {
        name,
        version,
        hash: format!("{hash:016x}"),
        file,
        loaded_at: at,
        engine,
    }))
}

/// The failure of source `file` (its text `text`) that does not check:
/// one line naming the first diagnostic, and every diagnostic as `tollgate
/// check --format json` prints it.
fn does_not_check(file: &str, text: &str, diagnostics: &[Diagnostic]) -> (String, Json) {
    let lines = LineIndex::new(text);
    let json: Vec<Json> = diagnostics
        .iter()
        .filter_map(|d| serde_json::to_value(to_json_indexed(d, file, &lines)).ok())
        .collect();
    let errors = diagnostics
        .iter()
        .filter(|d| d.severity == crate::diagnostic::Severity::Error)
        .count();
    let first = diagnostics
        .first()
        .map_or(String::new(), |d| format!(": [{}] {}", d.code, d.message));
    let error = format!(
        "{file} does not check ({errors} error{}){first}",
        if errors == 1 { "" } else { "s" }
    );
    (error, Json::Array(json))
}

/// The policies being served and the files that failed, as one immutable
/// snapshot: a request holds one for its whole body.
#[derive(Default)]
pub struct Catalog {
    /// The policies, by name.
    pub policies: BTreeMap<String, Arc<Policy>>,
    /// The files that failed at the last look.
    pub failures: Vec<Failure>,
}
