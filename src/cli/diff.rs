//! `tollgate diff OLD NEW`: what a policy change does.
//!
//! Exit codes, like `diff(1)`: 0 when no decision changes, 1 when some
//! do, 2 when the versions cannot be compared (unreadable, invalid, of
//! different kinds).

use super::load::{load, Loaded};
use super::{out, Format, EXIT_ERRORS, EXIT_OK, EXIT_USAGE};
use crate::diff::{self, notify, render, render_notify};
use std::path::Path;
use tollgate_runtime::table::Table;

/// Compares two versions of a policy.
pub fn run(old: &Path, new: &Path, format: Format, color: bool) -> u8 {
    if format == Format::Sarif {
        eprintln!("error: `tollgate diff` writes text or json");
        return EXIT_USAGE;
    }
    let loaded = |p: &Path| {
        load(p, color).map_err(|e| {
            eprint!("{}", e.message());
        })
    };
    let (Ok(a), Ok(b)) = (loaded(old), loaded(new)) else {
        return EXIT_USAGE;
    };
    let names = (old.display().to_string(), new.display().to_string());
    match (a, b) {
        (Loaded::Fees(a), Loaded::Fees(b)) => fees(&a, &b, &names, format),
        (Loaded::Notifications(a), Loaded::Notifications(b)) => {
            let d = notify::diff(&a, &b);
            let code = if d.changed() { EXIT_ERRORS } else { EXIT_OK };
            let text = match format {
                Format::Json => format!("{}\n", render_notify::json(&d)),
                _ => render_notify::text(&d, &names.0, &names.1),
            };
            out::emit(&text, code)
        }
        _ => {
            eprintln!("error: one version is a fees policy and the other a notifications policy: they cannot be compared");
            EXIT_USAGE
        }
    }
}

fn fees(a: &Table, b: &Table, names: &(String, String), format: Format) -> u8 {
    let d = match diff::diff(a, b) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    let code = if d.changed() { EXIT_ERRORS } else { EXIT_OK };
    let text = match format {
        Format::Json => format!("{}\n", render::json(&d)),
        _ => render::text(&d, &names.0, &names.1),
    };
    out::emit(&text, code)
}
