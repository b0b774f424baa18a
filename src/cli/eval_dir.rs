//! `tollgate eval DIR`: a directory holding several versions of one
//! notifications policy (sources or artifacts), each record decided by the
//! version in effect at its own instant, as a terminal that stages each
//! version before it takes effect decides it
//! (`tollgate_runtime::staged::Terminal`): the versions' activation windows
//! (`effective from`) say which one; throttle state carries over at each
//! swap; the previous version decides late records for its lateness.
//! Each line says which version decided (`"version": N`).

use super::load::{load_trusted, Loaded};
use super::{EXIT_ERRORS, EXIT_OK, EXIT_USAGE};
use crate::record::Reading;
use serde_json::{json, Value as Json};
use std::io::{BufRead, Write};
use std::path::Path;
use tollgate_runtime::artifact::{self, Compiled};
use tollgate_runtime::notify::NotifyPolicy;
use tollgate_runtime::staged::{Slot, Terminal, TerminalError};
use tollgate_runtime::value::Value;

/// The versions of the one notifications policy under `dir`, oldest
/// first, as artifact bytes.
fn versions(dir: &Path, trust: &super::trust::Trust) -> Result<Vec<Vec<u8>>, String> {
    let files = crate::serve::catalog::files(dir)
        .map_err(|e| format!("error: cannot read {}: {e}", dir.display()))?;
    let mut found: Vec<(u32, String, Vec<u8>)> = Vec::new();
    for file in files {
        // Sources, and artifacts told by their magic bytes; nothing else.
        let source = file.extension().is_some_and(|e| e == "toll");
        if !source && !starts_with_magic(&file) {
            continue;
        }
        let policy = match load_trusted(&file, false, None, trust) {
            Ok(Loaded::Notifications(p)) => p,
            Ok(Loaded::Fees(_)) => {
                return Err(format!(
                    "error: {} is a fees policy: a fees record carries no instant to pick a \
                     version by; eval one version's file",
                    file.display()
                ))
            }
            Err(e) => return Err(e.message().trim_end().to_string()),
        };
        let bytes = artifact::encode_notify(&policy);
        found.push((policy.version(), policy.name().to_string(), bytes));
    }
    found.sort_by_key(|(v, _, _)| *v);
    let Some((_, name, _)) = found.first() else {
        return Err(format!("error: {} holds no policy", dir.display()));
    };
    if let Some((_, other, _)) = found.iter().find(|(_, n, _)| n != name) {
        return Err(format!(
            "error: {} holds policies `{name}` and `{other}`: a directory given to eval holds \
             the versions of one policy",
            dir.display()
        ));
    }
    let twice = found
        .iter()
        .zip(found.iter().skip(1))
        .find(|(a, b)| a.0 == b.0)
        .map(|(a, _)| a.0);
    if let Some(version) = twice {
        return Err(format!(
            "error: {} holds version {version} of `{name}` twice",
            dir.display()
        ));
    }
    Ok(found.into_iter().map(|(_, _, b)| b).collect())
}

/// Whether `path` opens with the artifact's magic bytes.
fn starts_with_magic(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 8];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok()
        && head == *artifact::MAGIC
}

/// Runs `eval` on the directory `dir`, JSON Lines from `input` (a file or
/// `-`). Options that need one policy (`--state`, `--explain`,
/// `--output`, `--jobs`, CSV, `--keep`) are refused.
pub fn run_options(dir: &Path, input: &str, options: &super::eval::Options) -> u8 {
    let refused = if options.state.is_some() {
        Some("--state")
    } else if options.explain {
        Some("--explain")
    } else if options.output != super::fee_lines::OutputKind::Json {
        Some("--output")
    } else if options.jobs.is_some() {
        Some("--jobs")
    } else if !options.keep.is_empty() {
        Some("--keep")
    } else if options.format == Some(super::InputFormat::Csv) || input.ends_with(".csv") {
        Some("CSV input")
    } else {
        None
    };
    if let Some(what) = refused {
        eprintln!(
            "error: {what} is not supported with a directory of policy versions; \
             eval one version's file for it"
        );
        return EXIT_USAGE;
    }
    let reader: Box<dyn BufRead> = if input == "-" {
        match super::commit::stdin() {
            Ok((r, _)) => Box::new(std::io::BufReader::new(r)),
            Err(e) => {
                eprintln!("error: cannot read standard input: {e}");
                return EXIT_USAGE;
            }
        }
    } else {
        match std::fs::File::open(input) {
            Ok(f) if f.metadata().is_ok_and(|m| m.is_file()) => {
                Box::new(std::io::BufReader::new(f))
            }
            Ok(_) => {
                eprintln!("error: cannot read {input}: not a file");
                return EXIT_USAGE;
            }
            Err(e) => {
                eprintln!("error: cannot read {input}: {e}");
                return EXIT_USAGE;
            }
        }
    };
    let reading = Reading {
        ignore_unknown: options.ignore_unknown,
        keep: &[],
    };
    run(dir, reader, reading, &options.trust)
}

/// Runs `eval` on the directory `dir`, JSON Lines from `input`.
fn run(
    dir: &Path,
    input: Box<dyn BufRead>,
    reading: Reading<'_>,
    trust: &super::trust::Trust,
) -> u8 {
    let versions = match versions(dir, trust) {
        Ok(v) => v,
        Err(message) => {
            eprintln!("{message}");
            return EXIT_USAGE;
        }
    };
    let mut queue = versions.into_iter();
    let Some(first) = queue.next() else {
        return EXIT_USAGE;
    };
    let mut terminal = match Terminal::install(&first, &[], None) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {}: {e}", dir.display());
            return EXIT_USAGE;
        }
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut bad = false;
    for (i, line) in input.lines().enumerate() {
        let n = i + 1;
        // The next version waits staged until it takes effect.
        if terminal.staged().is_none() {
            if let Some(next) = queue.next() {
                if let Err(e) = terminal.stage(&next) {
                    eprintln!("error: {}: {e}", dir.display());
                    return EXIT_USAGE;
                }
            }
        }
        let answer = match line {
            Ok(text) => decide(&mut terminal, n, &text, reading),
            Err(e) => Err(format!("cannot read the record: {e}")),
        };
        let written = match answer {
            Ok(j) => writeln!(out, "{j}"),
            Err(message) => {
                bad = true;
                writeln!(out, "{}", json!({ "error": message, "record": n }))
            }
        };
        if let Err(e) = written {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                return if bad { EXIT_ERRORS } else { EXIT_OK };
            }
            eprintln!("error: cannot write the output: {e}");
            return EXIT_USAGE;
        }
    }
    if let Err(e) = out.flush() {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("error: cannot write the output: {e}");
            return EXIT_USAGE;
        }
    }
    if bad {
        EXIT_ERRORS
    } else {
        EXIT_OK
    }
}

fn notify_of(terminal: &Terminal, slot: Slot) -> Option<&NotifyPolicy> {
    match terminal.held(slot).map(|h| h.compiled()) {
        Some(Compiled::Notifications(p)) => Some(p),
        _ => None,
    }
}

/// The record typed for `policy`, and its instant.
fn typed(
    fields: &crate::record::JsonRecord,
    policy: &NotifyPolicy,
    reading: Reading<'_>,
) -> Result<(Vec<Value>, i64), String> {
    let record = crate::record::from_json_fields(fields, policy.fields(), reading)?;
    match record.get(policy.clock() as usize) {
        Some(Value::Time { unix_ms, .. }) => {
            let at = *unix_ms;
            Ok((record, at))
        }
        _ => Err("the record has no timestamp".to_string()),
    }
}

/// Decides line `n`: the output line, or the error line's message.
fn decide(
    terminal: &mut Terminal,
    n: usize,
    text: &str,
    reading: Reading<'_>,
) -> Result<Json, String> {
    let text = super::eval::line_text(n, text.as_bytes())?;
    let fields = crate::record::parse_json(text)?;
    // The instant, read as the current version types the record (or, if
    // it can't, as the previous one does).
    let current = notify_of(terminal, Slot::Current).ok_or("no policy")?;
    let at = match typed(&fields, current, reading) {
        Ok((_, at)) => at,
        Err(e) => match notify_of(terminal, Slot::Previous) {
            Some(p) => typed(&fields, p, reading).map_err(|_| e)?.1,
            None => return Err(e),
        },
    };
    let slot = terminal.route(at);
    let record = {
        let policy = notify_of(terminal, slot).ok_or("no policy")?;
        typed(&fields, policy, reading)?.0
    };
    let decided = terminal.decide(slot, &record);
    let policy = notify_of(terminal, slot).ok_or("no policy")?;
    match decided {
        Ok(d) => {
            // No trace is asked for: the state is not read.
            let none = tollgate_runtime::notify::MemoryState::new();
            let mut line = super::notify_out::explained(policy, &record, &none, d.answer, None);
            if let Json::Object(m) = &mut line {
                m.insert("version".into(), json!(d.version));
            }
            Ok(line)
        }
        Err(TerminalError::Notify(e)) => Err(super::notify_out::error(policy, e)),
        Err(e) => Err(format!("{e}; not decided")),
    }
}
