//! `tollgate eval DIR`: a directory holding several versions of one
//! policy (sources or artifacts), each record decided or priced by the
//! version in effect at its own instant, as a terminal that stages each
//! version before it takes effect does
//! (`tollgate_runtime::staged::Terminal`): the versions' activation windows
//! (`effective from`) say which one; throttle state carries over at each
//! swap; the previous version decides late records for its lateness (an
//! hour for fees). Each line says which version answered
//! (`"version": N`). A fee record's instant is its timestamp field or
//! `--at` (`fee_window`); one with neither is an error line.

use super::fee_lines::OutputKind;
use super::fee_window::{outside_message, FeeClock};
use super::load::load_trusted;
use super::{EXIT_ERRORS, EXIT_OK, EXIT_USAGE};
use crate::record::Reading;
use serde_json::{json, Map, Value as Json};
use std::io::{BufRead, Write};
use std::path::Path;
use tollgate_runtime::activation::{Outside, Stamp};
use tollgate_runtime::artifact::{self, Compiled};
use tollgate_runtime::eval::Component;
use tollgate_runtime::notify::NotifyPolicy;
use tollgate_runtime::staged::{Slot, Terminal, TerminalError};
use tollgate_runtime::table::Table;
use tollgate_runtime::trace::{FeeTrace, NotifyTrace};
use tollgate_runtime::value::Value;

/// The versions of the one policy under `dir`, oldest first, as artifact
/// bytes.
fn versions(dir: &Path, trust: &super::trust::Trust) -> Result<Vec<Vec<u8>>, String> {
    let files = crate::serve::catalog::files(dir)
        .map_err(|e| format!("error: cannot read {}: {e}", dir.display()))?;
    let mut found: Vec<(u32, String, bool, Vec<u8>)> = Vec::new();
    for file in files {
        // Sources, and artifacts told by their magic bytes; nothing else.
        let source = file.extension().is_some_and(|e| e == "toll");
        if !source && !starts_with_magic(&file) {
            continue;
        }
        let (version, name, fees, bytes) = match load_trusted(&file, false, None, trust) {
            Ok(Compiled::Notifications(p)) => (
                p.version(),
                p.name().to_string(),
                false,
                artifact::encode_notify(&p),
            ),
            Ok(Compiled::Fees(t)) => (
                t.version(),
                t.name().to_string(),
                true,
                artifact::encode(&t),
            ),
            Err(e) => return Err(e.message().trim_end().to_string()),
        };
        if let Some((v, n, k, _)) = found.first() {
            if *k != fees && *n == name {
                return Err(format!(
                    "error: {} holds versions {v} and {version} of `{name}` of different kinds \
                     (fees and notifications)",
                    dir.display()
                ));
            }
        }
        found.push((version, name, fees, bytes));
    }
    found.sort_by_key(|(v, _, _, _)| *v);
    let Some((_, name, _, _)) = found.first() else {
        return Err(format!("error: {} holds no policy", dir.display()));
    };
    if let Some((_, other, _, _)) = found.iter().find(|(_, n, _, _)| n != name) {
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
    Ok(found.into_iter().map(|(_, _, _, b)| b).collect())
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

/// Why `eval DIR` refuses an option, if it does: `--state` (a saved state
/// belongs to one version), `--jobs` above 1 (records are routed in input
/// order) and CSV input (the versions may declare different fields).
fn refused(input: &str, options: &super::eval::Options) -> Option<&'static str> {
    if options.state.is_some() {
        Some(
            "--state is not supported with a directory of policy versions: a saved state \
             belongs to one version; eval the version in effect with --state (a state saved \
             for an older version carries into it)",
        )
    } else if options.jobs.is_some_and(|j| j > 1) {
        Some(
            "--jobs above 1 is not supported with a directory of policy versions: each \
             record is routed after the ones before it (which versions are held depends on \
             the newest instant seen), so it runs on one thread",
        )
    } else if options.format == Some(super::InputFormat::Csv) || input.ends_with(".csv") {
        Some(
            "CSV input is not supported with a directory of policy versions (each version \
             types the record by its own fields); give the records as JSON Lines",
        )
    } else {
        None
    }
}

/// Runs `eval` on the directory `dir`, JSON Lines from `input` (a file or
/// `-`), with `--explain`, `--keep`, `--output` and `--ignore-unknown` as
/// for one policy; [`refused`] says what it refuses.
pub fn run_options(dir: &Path, input: &str, options: &super::eval::Options) -> u8 {
    if let Some(why) = refused(input, options) {
        eprintln!("error: {why}");
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
        keep: &options.keep,
    };
    run(dir, reader, reading, options)
}

/// Runs `eval` on the directory `dir`, JSON Lines from `input`.
fn run(
    dir: &Path,
    input: Box<dyn BufRead>,
    reading: Reading<'_>,
    options: &super::eval::Options,
) -> u8 {
    let versions = match versions(dir, &options.trust) {
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
    let fees = matches!(terminal.current().compiled(), Compiled::Fees(_));
    if options.at.is_some() && !fees {
        eprintln!(
            "error: --at applies to fees policies; a notifications record carries its own instant"
        );
        return EXIT_USAGE;
    }
    let output = options.output;
    if output != OutputKind::Json {
        let name = if output == OutputKind::Fee {
            "fee"
        } else {
            "csv"
        };
        if !fees {
            eprintln!("error: --output {name} applies to fees policies");
            return EXIT_USAGE;
        }
        if options.explain {
            eprintln!("error: --explain writes JSON lines: it cannot be used with --output {name}");
            return EXIT_USAGE;
        }
    }
    let mut components = Vec::new();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut bad = false;
    if output == OutputKind::Csv {
        if let Err(e) = out.write_all(&super::fee_lines::csv_header(&options.keep)) {
            eprintln!("error: cannot write the output: {e}");
            return EXIT_USAGE;
        }
    }
    let explain = options.explain;
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
        let fields = match &line {
            Ok(text) => {
                super::eval::line_text(n, text.as_bytes()).and_then(crate::record::parse_json)
            }
            Err(e) => Err(format!("cannot read the record: {e}")),
        };
        let kept = fields
            .as_ref()
            .ok()
            .and_then(|f| super::fee_lines::kept(reading.keep, |name| f.get(name).cloned()));
        let answer = fields.and_then(|fields| {
            if fees {
                let at = options.at;
                price(
                    &mut terminal,
                    &fields,
                    reading,
                    at,
                    explain,
                    &mut components,
                )
            } else {
                decide(&mut terminal, &fields, reading, explain)
            }
        });
        bad |= answer.is_err();
        let mut line = Vec::new();
        write_answer(&mut line, n, output, reading.keep, answer, kept);
        let written = out.write_all(&line);
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
    match policy.instant_of(&record) {
        Some(at) => Ok((record, at)),
        None => Err("the record has no timestamp".to_string()),
    }
}

/// Appends the line of record `n`: its answer as `output` says, or its
/// error line, with the kept input fields.
fn write_answer(
    out: &mut Vec<u8>,
    n: usize,
    output: OutputKind,
    keep: &[String],
    answer: Result<Json, String>,
    kept: Option<Map<String, Json>>,
) {
    use super::fee_lines::{csv_row, write_json};
    let fee_of = |line: &Json| {
        line.get("fee")
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_string()
    };
    match (answer, output) {
        (Ok(line), OutputKind::Json) => write_json(out, line, kept),
        (Ok(line), OutputKind::Fee) => {
            out.extend_from_slice(fee_of(&line).as_bytes());
            out.push(b'\n');
        }
        (Ok(line), OutputKind::Csv) => csv_row(out, keep, kept.as_ref(), &fee_of(&line), ""),
        (Err(message), OutputKind::Csv) => csv_row(out, keep, kept.as_ref(), "", &message),
        (Err(message), _) => write_json(out, json!({ "error": message, "record": n }), kept),
    }
}

/// Decides a record: its output line, or the error line's message.
fn decide(
    terminal: &mut Terminal,
    fields: &crate::record::JsonRecord,
    reading: Reading<'_>,
    explain: bool,
) -> Result<Json, String> {
    // The instant, read as the current version types the record (or, if
    // it can't, as the previous one does).
    let current = notify_of(terminal, Slot::Current).ok_or("no policy")?;
    let at = match typed(fields, current, reading) {
        Ok((_, at)) => at,
        Err(e) => match notify_of(terminal, Slot::Previous) {
            Some(p) => typed(fields, p, reading).map_err(|_| e)?.1,
            None => return Err(e),
        },
    };
    let slot = terminal.route(at);
    let record = {
        let policy = notify_of(terminal, slot).ok_or("no policy")?;
        typed(fields, policy, reading)?.0
    };
    let mut trace = NotifyTrace::default();
    let decided = if explain {
        terminal.decide_traced(slot, &record, &mut trace)
    } else {
        terminal.decide(slot, &record)
    };
    let policy = notify_of(terminal, slot).ok_or("no policy")?;
    match decided {
        Ok(d) => {
            let trace = explain.then_some(&trace);
            let mut line = super::notify_out::explained(policy, &record, d.answer, trace);
            if let Json::Object(m) = &mut line {
                m.insert("version".into(), json!(d.version));
            }
            Ok(line)
        }
        Err(TerminalError::Notify(e)) => Err(super::notify_out::error(policy, e)),
        Err(e) => Err(format!("{e}; not decided")),
    }
}

fn table_of(terminal: &Terminal, slot: Slot) -> Option<&Table> {
    match terminal.held(slot).map(|h| h.compiled()) {
        Some(Compiled::Fees(t)) => Some(t),
        _ => None,
    }
}

/// Prices a record with the fees version in effect at its instant (its
/// timestamp field, or `at`): the output line, or the error line's
/// message.
fn price(
    terminal: &mut Terminal,
    fields: &crate::record::JsonRecord,
    reading: Reading<'_>,
    at: Option<Stamp>,
    explain: bool,
    components: &mut Vec<Component>,
) -> Result<Json, String> {
    // The instant, read as the current version types the record (or, if
    // it can't, as the previous one does).
    let instant = |table: &Table| {
        let record = crate::record::from_json_fields(fields, table.fields(), reading)?;
        FeeClock::new(at).instant(table, &record).ok_or_else(|| {
            "the record has no instant to pick a version by: give the policy a timestamp \
             field, or eval --at INSTANT"
                .to_string()
        })
    };
    let current = table_of(terminal, Slot::Current).ok_or("no policy")?;
    let at_ms = match instant(current) {
        Ok(t) => t,
        Err(e) => match table_of(terminal, Slot::Previous) {
            Some(p) => instant(p).map_err(|_| e)?,
            None => return Err(e),
        },
    };
    let slot = terminal.route(at_ms);
    let table = table_of(terminal, slot).ok_or("no policy")?;
    let record = crate::record::from_json_fields(fields, table.fields(), reading)?;
    let mut trace = FeeTrace::default();
    let priced = if explain {
        terminal.price_traced(slot, at_ms, &record, components, &mut trace)
    } else {
        terminal.price(slot, at_ms, &record, components)
    };
    match priced {
        Ok(d) => {
            let trace = explain.then_some(&trace);
            let mut line = super::eval::decision(table, components, trace, d.answer);
            if let Json::Object(m) = &mut line {
                m.insert("version".into(), json!(d.version));
            }
            Ok(line)
        }
        Err(TerminalError::Eval(e)) => Err(super::eval::describe_error(table, &e)),
        Err(TerminalError::Expired { until_ms }) => {
            Err(outside_message(table, Outside::After { until_ms }))
        }
        Err(TerminalError::NotYetEffective { from_ms }) => {
            Err(outside_message(table, Outside::Before { from_ms }))
        }
        Err(e) => Err(format!("{e}; not priced")),
    }
}
