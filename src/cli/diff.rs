//! `tollgate diff OLD NEW`.
//!
//! Exit codes, like `diff(1)`: 0 when no decision changes, 1 when some
//! do, 2 when the versions cannot be compared (unreadable, invalid, of
//! different kinds).

use super::load::{load, Loaded};
use super::{out, Format, EXIT_ERRORS, EXIT_OK, EXIT_USAGE};
use crate::diff::{self, render};
use std::path::Path;

/// Compares two versions of a policy.
pub fn run(old: &Path, new: &Path, format: Format, color: bool) -> u8 {
    let loaded = |p: &Path| {
        load(p, color).map_err(|e| {
            eprint!("{}", e.message());
        })
    };
    let (Ok(a), Ok(b)) = (loaded(old), loaded(new)) else {
        return EXIT_USAGE;
    };
    if format == Format::Sarif {
        eprintln!("error: `tollgate diff` writes text or json");
        return EXIT_USAGE;
    }
    let (Loaded::Fees(a), Loaded::Fees(b)) = (a, b) else {
        eprintln!("error: both versions must be fees policies");
        return EXIT_USAGE;
    };
    let d = match diff::diff(&a, &b) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    let code = if d.changed() { EXIT_ERRORS } else { EXIT_OK };
    let text = match format {
        Format::Json => format!("{}\n", render::json(&d)),
        _ => render::text(&d, &old.display().to_string(), &new.display().to_string()),
    };
    out::emit(&text, code)
}
