//! `tollgate diff OLD NEW`: what a policy change does.
//!
//! Exit codes, like `diff(1)`: 0 when no decision changes, 1 when some
//! do (in the account or in the replayed history), 2 when the versions
//! cannot be compared (unreadable, invalid, of different kinds) or an
//! input or output fails.

use super::load::load;
use super::{out, Format, EXIT_ERRORS, EXIT_OK, EXIT_USAGE};
use crate::diff::history::Kind;
use crate::diff::{
    self, html, notice, notify, render, render_notify, render_replay, replay, replay_notify,
};
use serde_json::Value as Json;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use tollgate_runtime::artifact::Compiled;
use tollgate_runtime::notify::NotifyPolicy;
use tollgate_runtime::table::Table;

/// What `tollgate diff` was asked for besides the two versions.
#[derive(Debug, Clone)]
pub struct Options {
    /// Text or JSON.
    pub format: Format,
    /// Records to replay through both versions (`-`: standard input).
    pub input: Option<String>,
    /// Fields to group the replay by.
    pub by: Vec<String>,
    /// Print the merchant-facing notice instead of the reviewer's account.
    pub notice: bool,
    /// Write a self-contained HTML report here.
    pub html: Option<PathBuf>,
}

/// Compares two versions of a policy.
pub fn run(old: &Path, new: &Path, options: &Options, color: bool) -> u8 {
    if options.format == Format::Sarif {
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
    let result = match (a, b) {
        (Compiled::Fees(a), Compiled::Fees(b)) => fees(&a, &b, &names, options),
        (Compiled::Notifications(a), Compiled::Notifications(b)) => {
            notifications(&a, &b, &names, options)
        }
        _ => Err("one version is a fees policy and the other a notifications policy: they cannot be compared".to_string()),
    };
    match result {
        Ok((text, code)) => out::emit(&text, code),
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_USAGE
        }
    }
}

/// The history named by `--input`, and its kind.
fn open(path: &str) -> Result<(Box<dyn BufRead>, Kind), String> {
    let kind = Kind::of(path);
    if path == "-" {
        return Ok((Box::new(std::io::BufReader::new(std::io::stdin())), kind));
    }
    match std::fs::File::open(path) {
        Ok(f) if f.metadata().is_ok_and(|m| m.is_dir()) => {
            Err(format!("--input {path}: it is a directory"))
        }
        Ok(f) => Ok((Box::new(std::io::BufReader::new(f)), kind)),
        Err(e) => Err(format!("--input {path}: cannot read it: {e}")),
    }
}

fn fees(
    a: &Table,
    b: &Table,
    names: &(String, String),
    options: &Options,
) -> Result<(String, u8), String> {
    let d = diff::diff(a, b).map_err(|e| e.to_string())?;
    replay::check_by(&options.by, a.fields(), b.fields()).map_err(|e| e.to_string())?;
    let replayed = match &options.input {
        None => None,
        Some(path) => {
            let (reader, kind) = open(path)?;
            let r = replay::replay(a, b, reader, kind, &options.by).map_err(|e| e.to_string())?;
            Some((path.as_str(), r))
        }
    };
    let changed = d.changed() || replayed.as_ref().is_some_and(|(_, r)| r.total.changed > 0);
    let code = if changed { EXIT_ERRORS } else { EXIT_OK };
    let currency = b.currency();
    let mut text = render::text(&d, &names.0, &names.1);
    if let Some((path, r)) = &replayed {
        text.push_str(&render_replay::text(r, path, currency, d.dp).map_err(|e| e.to_string())?);
    }
    let told = if options.notice {
        Some(
            notice::notice(
                &d,
                replayed.as_ref().map(|(_, r)| r),
                currency,
                b.window().from.as_ref(),
            )
            .map_err(|e| e.to_string())?,
        )
    } else {
        None
    };
    if let Some(file) = &options.html {
        let page =
            html::report(&d, replayed.as_ref(), currency, &text).map_err(|e| e.to_string())?;
        crate::fsio::write_atomic(file, page.as_bytes())
            .map_err(|e| format!("--html {}: cannot write it: {e}", file.display()))?;
    }
    let shown = match options.format {
        Format::Json => {
            let mut doc = render::json(&d);
            if let Json::Object(m) = &mut doc {
                if let Some((path, r)) = &replayed {
                    let j =
                        render_replay::json(r, path, currency, d.dp).map_err(|e| e.to_string())?;
                    m.insert("replay".into(), j);
                }
                if let Some(n) = &told {
                    m.insert("notice".into(), Json::String(n.clone()));
                }
            }
            format!("{doc}\n")
        }
        _ => told.unwrap_or(text),
    };
    Ok((shown, code))
}

fn notifications(
    a: &NotifyPolicy,
    b: &NotifyPolicy,
    names: &(String, String),
    options: &Options,
) -> Result<(String, u8), String> {
    if options.notice || options.html.is_some() {
        return Err("--notice and --html describe a change of fees; these are notifications policies (--input replays a stream of messages through both)".to_string());
    }
    replay::check_by(&options.by, a.fields(), b.fields()).map_err(|e| e.to_string())?;
    let d = notify::diff(a, b);
    let replayed = match &options.input {
        None => None,
        Some(path) => {
            let (reader, kind) = open(path)?;
            let r = replay_notify::replay(a, b, reader, kind, &options.by)
                .map_err(|e| e.to_string())?;
            Some((path.as_str(), r))
        }
    };
    let changed = d.changed() || replayed.as_ref().is_some_and(|(_, r)| r.total.changed > 0);
    let code = if changed { EXIT_ERRORS } else { EXIT_OK };
    let text = match options.format {
        Format::Json => {
            let mut doc = render_notify::json(&d);
            if let (Json::Object(m), Some((path, r))) = (&mut doc, &replayed) {
                m.insert("replay".into(), replay_notify::json(r, path));
            }
            format!("{doc}\n")
        }
        _ => {
            let mut t = render_notify::text(&d, &names.0, &names.1);
            if let Some((path, r)) = &replayed {
                t.push_str(&replay_notify::text(r, path));
            }
            t
        }
    };
    Ok((text, code))
}
