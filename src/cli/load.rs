//! Loading a policy for the commands that run one: a `.toll` source or a
//! compiled artifact, told apart by the artifact's magic bytes.

use crate::diagnostic::render::render;
use std::path::Path;
use tollgate_runtime::artifact;
use tollgate_runtime::table::Table;

/// A policy ready to run.
pub struct Loaded {
    /// The decision table.
    pub table: Table,
}

/// Loads `path`; on failure returns the message to print (diagnostics
/// rendered, or an artifact or I/O error).
pub fn load(path: &Path, color: bool) -> Result<Loaded, String> {
    let bytes =
        std::fs::read(path).map_err(|e| format!("error: cannot read {}: {e}", path.display()))?;
    if bytes.starts_with(artifact::MAGIC) {
        let table =
            artifact::decode(&bytes).map_err(|e| format!("error: {}: {e}", path.display()))?;
        return Ok(Loaded { table });
    }
    let name = path.display().to_string();
    let (source, problem) = crate::source::from_bytes(name.clone(), bytes);
    let result = match problem {
        Some(d) => Err(vec![d]),
        None => crate::compile_source(&source.text),
    };
    match result {
        Ok((_, table)) => Ok(Loaded { table }),
        Err(diagnostics) => Err(render(&diagnostics, &name, &source.text, color)),
    }
}
