//! `tollgate eval POLICY --input FILE`: one JSON line out per record in, in
//! order, streaming in constant memory.

use super::batch::Counts;
use super::commit::{borrow, CommitBeforeRead, Committer, Failed, Output, Shared};
use super::fee_lines::{FeeLines, OutputKind};
use super::load::load_trusted;
use super::progress::Progress;
use super::state::StateFiles;
use super::{InputFormat, EXIT_ERRORS, EXIT_OK, EXIT_USAGE};
use crate::compile::print::{cell_text, percent};
use crate::record::Reading;
use crate::typed::csv::CsvReader;
use serde_json::{json, Map, Value as Json};
use std::io::IsTerminal;
use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;
use tollgate_runtime::artifact::Compiled;
use tollgate_runtime::eval::{Component, EvalError};
use tollgate_runtime::fee::BoundApplied;
use tollgate_runtime::notify::{MemoryState, NotifyPolicy};
use tollgate_runtime::table::{Schedule, Table};
use tollgate_runtime::trace::{FeeTrace, Miss, NotifyTrace, ScheduleTrace};
use tollgate_runtime::value::Value;
use tollgate_runtime::Decimal;

/// How `tollgate eval` reads records and what it adds to its output.
#[derive(Debug, Default)]
pub struct Options {
    /// The input's format; by default from the file's extension.
    pub format: Option<InputFormat>,
    /// Add a trace to every decision.
    pub explain: bool,
    /// Throttle state carried between runs.
    pub state: Option<PathBuf>,
    /// Skip input fields the policy does not declare.
    pub ignore_unknown: bool,
    /// Input fields copied into each output line, under `"input"`.
    pub keep: Vec<String>,
    /// Print a summary line on stderr even when it is not a terminal.
    pub summary: bool,
    /// What each line out says (fees policies).
    pub output: OutputKind,
    /// Threads pricing a JSON Lines file of a fees policy; `None` for one
    /// per core.
    pub jobs: Option<usize>,
    /// What an artifact must satisfy: signature, version floor.
    pub trust: super::trust::Trust,
    /// The instant of fee records that carry none (`--at`), for the
    /// policy's activation window.
    pub at: Option<tollgate_runtime::activation::Stamp>,
}

/// Runs the command.
pub fn run(policy: &Path, input: &str, options: &Options) -> u8 {
    if policy.is_dir() {
        return super::eval_dir::run_options(policy, input, options);
    }
    let started = Instant::now();
    let format = options.format;
    let explain = options.explain;
    let state = options.state.as_deref();
    let loaded = match load_trusted(policy, false, None, &options.trust) {
        Ok(l) => l,
        Err(e) => {
            eprint!("{}", e.message());
            return e.exit_code();
        }
    };
    let format = format.unwrap_or(if input.ends_with(".csv") {
        InputFormat::Csv
    } else {
        InputFormat::Jsonl
    });
    // The input file's size, for the progress bar.
    let mut size = None;
    let (input, regular): (Box<dyn Read + Send>, bool) = if input == "-" {
        match super::commit::stdin() {
            Ok(r) => r,
            Err(e) => {
                eprintln!("error: cannot read standard input: {e}");
                return EXIT_USAGE;
            }
        }
    } else {
        match std::fs::File::open(input) {
            Ok(f) if f.metadata().is_ok_and(|m| m.is_dir()) => {
                eprintln!("error: cannot read {input}: it is a directory");
                return EXIT_USAGE;
            }
            Ok(f) => {
                let regular = f.metadata().is_ok_and(|m| m.is_file());
                size = f.metadata().ok().filter(|m| m.is_file()).map(|m| m.len());
                (Box::new(f), regular)
            }
            Err(e) => {
                eprintln!("error: cannot read {input}: {e}");
                return EXIT_USAGE;
            }
        }
    };
    // The state is locked and its journal opened before anything is read
    // or decided: a run that cannot keep its state prints no decision.
    let (engine, files) = match (&loaded, state) {
        (Compiled::Fees(_), Some(_)) => {
            eprintln!("error: --state applies to notifications policies; fees keep no state");
            return EXIT_USAGE;
        }
        (Compiled::Fees(table), None) => (Engine::Fees(table), None),
        (Compiled::Notifications(policy), None) => {
            (Engine::Notify(policy, MemoryState::new()), None)
        }
        (Compiled::Notifications(policy), Some(path)) => match open_state(policy, path) {
            Ok((s, files)) => (Engine::Notify(policy, s), Some(files)),
            Err(message) => {
                eprintln!("{message}");
                return EXIT_USAGE;
            }
        },
    };
    let journaled = files.is_some();
    let committer = match Committer::new(files) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: cannot write the output: {e}");
            return EXIT_USAGE;
        }
    };
    let output_name = match options.output {
        OutputKind::Json => None,
        OutputKind::Fee => Some("fee"),
        OutputKind::Csv => Some("csv"),
    };
    if options.at.is_some() && !matches!(engine, Engine::Fees(_)) {
        eprintln!(
            "error: --at applies to fees policies; a notifications record carries its own instant"
        );
        return EXIT_USAGE;
    }
    if let Some(name) = output_name {
        if !matches!(engine, Engine::Fees(_)) {
            eprintln!("error: --output {name} applies to fees policies");
            return EXIT_USAGE;
        }
        if explain {
            eprintln!("error: --explain writes JSON lines: it cannot be used with --output {name}");
            return EXIT_USAGE;
        }
    }
    let mut out = Output(committer.clone());
    if options.output == OutputKind::Csv {
        if let Err(e) = out.write_all(&super::fee_lines::csv_header(&options.keep)) {
            eprintln!("error: cannot write the output: {e}");
            return EXIT_USAGE;
        }
    }
    let progress = Progress::new(size);
    let reading = Reading {
        ignore_unknown: options.ignore_unknown,
        keep: &options.keep,
    };
    let mut evaluator = Evaluator {
        engine,
        explain,
        output: options.output,
        reading,
        components: Vec::new(),
        trace: FeeTrace::default(),
        bad: false,
        since_prune: 0,
        records: 0,
        errors: 0,
        earliest_since_prune: None,
        journal: journaled.then(|| committer.clone()),
        clock: super::fee_window::FeeClock::new(options.at),
    };
    let fees = match &evaluator.engine {
        Engine::Fees(table) => Some(*table),
        Engine::Notify(..) => None,
    };
    let reader = |input| {
        std::io::BufReader::with_capacity(
            INPUT_BUFFER,
            CommitBeforeRead::new(input, regular, committer.clone()),
        )
    };
    let result = match (fees, format) {
        (Some(table), InputFormat::Jsonl) => {
            let make = || FeeLines::new(table, reading, explain, options.output).at(options.at);
            let jobs = options.jobs.unwrap_or_else(|| {
                std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
            });
            let mut counts = Counts::default();
            let result = if jobs > 1 && regular {
                super::batch::parallel(&make, input, jobs, &mut out, &progress, &mut counts)
            } else {
                super::batch::sequential(
                    &mut make(),
                    &mut reader(input),
                    &mut out,
                    !regular,
                    &progress,
                    &mut counts,
                )
            };
            evaluator.records = counts.records;
            evaluator.errors = counts.errors;
            evaluator.bad = counts.errors > 0;
            result
        }
        (_, InputFormat::Jsonl) => evaluator.jsonl(Box::new(reader(input)), &mut out),
        (_, InputFormat::Csv) => evaluator.csv(Box::new(reader(input)), &mut out),
    };
    progress.finish();
    let flushed = out.flush();
    if options.summary || std::io::stderr().is_terminal() {
        eprintln!(
            "{}",
            summary(evaluator.records, evaluator.errors, started.elapsed())
        );
    }
    let Ok(mut committer) = committer.try_borrow_mut() else {
        eprintln!("error: internal error: the output batch is in use");
        return EXIT_USAGE;
    };
    // A failed write stopped the run: the journal holds exactly the
    // deliveries whose lines were written, and stays as it is.
    match committer.take_failure() {
        Some(Failed::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            return if evaluator.bad { EXIT_ERRORS } else { EXIT_OK };
        }
        Some(Failed::Output(e)) => {
            eprintln!("error: cannot write the output: {e}");
            return EXIT_USAGE;
        }
        Some(Failed::Journal(e)) => {
            let path = state.map(|p| p.display().to_string()).unwrap_or_default();
            eprintln!("error: cannot write the journal of {path}: {e}");
            return EXIT_USAGE;
        }
        Some(Failed::Snapshot(e)) => {
            let path = state.map(|p| p.display().to_string()).unwrap_or_default();
            eprintln!(
                "error: cannot write the state to {path}: {e} (its journal keeps every delivery printed)"
            );
            return EXIT_USAGE;
        }
        None => {}
    }
    if let (Engine::Notify(policy, s), Some(files), Some(path)) =
        (&evaluator.engine, committer.files(), state)
    {
        if let Err(e) = files.checkpoint(policy, s) {
            eprintln!(
                "error: cannot write the state to {}: {e} (its journal keeps every delivery printed)",
                path.display()
            );
            return EXIT_USAGE;
        }
    }
    match (result, flushed) {
        (Err(e), _) | (Ok(()), Err(e)) => {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                return if evaluator.bad { EXIT_ERRORS } else { EXIT_OK };
            }
            eprintln!("error: {e}");
            EXIT_USAGE
        }
        (Ok(()), Ok(())) if evaluator.bad => EXIT_ERRORS,
        _ => EXIT_OK,
    }
}

/// The input buffer: reads of this size, and a batch is committed before
/// a read of a pipe that could wait.
pub(super) const INPUT_BUFFER: usize = 64 * 1024;

/// Locks the state at `path`, opens its journal, loads the snapshot and
/// replays the journal onto it.
fn open_state(policy: &NotifyPolicy, path: &Path) -> Result<(MemoryState, StateFiles), String> {
    let mut files = StateFiles::open(path)?;
    let (mut state, snapshot) = load_state(policy, Some(path))?;
    files.recover(policy, snapshot.as_deref(), &mut state)?;
    Ok((state, files))
}

/// The end-of-run line: records answered, error lines among them (a bad
/// CSV header counts as an error but not a record), and elapsed time.
fn summary(records: usize, errors: usize, elapsed: std::time::Duration) -> String {
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    format!(
        "evaluated {}: {}, {:.3}s elapsed",
        plural(records, "record"),
        plural(errors, "error"),
        elapsed.as_secs_f64()
    )
}

/// The longest record accepted, in bytes: input is read in bounded memory.
pub const MAX_RECORD_BYTES: usize = 1 << 20;

/// A reader that fails once a line grows past [`MAX_RECORD_BYTES`], so that
/// CSV input, like JSON Lines, is read in bounded memory. It also notes the
/// numbers of empty lines, which the CSV reader skips without a word, so
/// that each can be answered.
struct LineCap {
    inner: Box<dyn BufRead>,
    since_newline: usize,
    /// The 1-based number of the line being read.
    line: u64,
    /// Empty lines read and not yet answered, ascending.
    empty: std::collections::VecDeque<u64>,
}

impl LineCap {
    fn new(inner: Box<dyn BufRead>) -> LineCap {
        LineCap {
            inner,
            since_newline: 0,
            line: 1,
            empty: std::collections::VecDeque::new(),
        }
    }

    /// How many empty lines run from line `from` on; forgets those before.
    fn empty_run(&mut self, from: u64) -> u64 {
        while self.empty.front().is_some_and(|&l| l < from) {
            self.empty.pop_front();
        }
        let mut n = 0;
        while self.empty.front() == Some(&(from + n)) {
            self.empty.pop_front();
            n += 1;
        }
        n
    }
}

impl std::io::Read for LineCap {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let data = buf.get(..n).unwrap_or(&[]);
        let too_long = || {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("a line is longer than {MAX_RECORD_BYTES} bytes"),
            )
        };
        // The line ends found by `memchr`, not byte by byte.
        let mut start = 0;
        for at in memchr::memchr_iter(b'\n', data) {
            let run = self.since_newline + (at - start);
            if run > MAX_RECORD_BYTES {
                return Err(too_long());
            }
            if run == 0 {
                self.empty.push_back(self.line);
            }
            self.line += 1;
            self.since_newline = 0;
            start = at + 1;
        }
        self.since_newline += n - start;
        if self.since_newline > MAX_RECORD_BYTES {
            return Err(too_long());
        }
        Ok(n)
    }
}

/// Removes the `\r` a CRLF line ending leaves at the end of a row's last
/// cell.
fn without_cr(row: &mut csv::StringRecord) {
    if row
        .iter()
        .next_back()
        .is_some_and(|cell| cell.ends_with('\r'))
    {
        let cells: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(i, cell)| {
                if i + 1 == row.len() {
                    cell.strip_suffix('\r').unwrap_or(cell).to_string()
                } else {
                    cell.to_string()
                }
            })
            .collect();
        *row = csv::StringRecord::from(cells);
    }
}

/// Discards the rest of an over-long line.
pub(super) fn skip_line(reader: &mut dyn BufRead) -> std::io::Result<()> {
    loop {
        let buf = reader.fill_buf()?;
        if buf.is_empty() {
            return Ok(());
        }
        if let Some(i) = buf.iter().position(|&b| b == b'\n') {
            reader.consume(i + 1);
            return Ok(());
        }
        let len = buf.len();
        reader.consume(len);
    }
}

/// The largest state file read, in bytes (1 GiB): about thirty million
/// remembered deliveries.
pub const MAX_STATE_BYTES: u64 = 1 << 30;

/// The state saved at `path` and its bytes, or an empty one when there is
/// no file yet.
/// A state saved for another version of the policy is carried rule by
/// rule; what was kept and dropped goes to stderr.
pub(crate) fn load_state(
    policy: &NotifyPolicy,
    path: Option<&Path>,
) -> Result<(MemoryState, Option<Vec<u8>>), String> {
    let Some(path) = path else {
        return Ok((MemoryState::new(), None));
    };
    match crate::fsio::read_bounded(path, MAX_STATE_BYTES) {
        Ok(bytes) => {
            let (state, carried) = MemoryState::load_carried(&bytes, policy)
                .map_err(|e| format!("error: {}: {e}", path.display()))?;
            if carried.from_version != policy.version() || !carried.dropped.is_empty() {
                eprintln!(
                    "{}: state of `{}` version {} loaded into version {}",
                    path.display(),
                    policy.name(),
                    carried.from_version,
                    policy.version()
                );
                for rule in &carried.kept {
                    eprintln!("  kept    {rule}");
                }
                for (rule, why) in &carried.dropped {
                    eprintln!("  dropped {rule}: {}", why.describe());
                }
            }
            Ok((state, Some(bytes)))
        }
        Err(e) if e.is_not_found() => Ok((MemoryState::new(), None)),
        Err(e) => Err(format!("error: cannot read {}: {e}", path.display())),
    }
}

/// What decides the records.
enum Engine<'a> {
    /// A fee table: one fee per record.
    Fees(&'a Table),
    /// A notifications policy and the throttle state carried across records.
    Notify(&'a NotifyPolicy, MemoryState),
}

struct Evaluator<'a> {
    engine: Engine<'a>,
    explain: bool,
    /// What a priced record's line holds.
    output: OutputKind,
    /// Strict or lenient reading, and the fields copied out.
    reading: Reading<'a>,
    components: Vec<Component>,
    /// The engine's trace of the last record priced, with `explain`.
    trace: FeeTrace,
    bad: bool,
    /// Notification records decided since the state was last pruned.
    since_prune: usize,
    /// Lines answered for records (every line out but a CSV header error).
    records: usize,
    /// Error lines written.
    errors: usize,
    /// The earliest timestamp among them: the next pruning horizon, which
    /// one record with a clock running ahead cannot move forward.
    earliest_since_prune: Option<i64>,
    /// Where deliveries are journaled, when the run keeps state.
    journal: Option<Shared>,
    /// Where a fee record's instant comes from, for the activation window.
    clock: super::fee_window::FeeClock,
}

impl<'a> Evaluator<'a> {
    /// The record schema.
    fn fields(&self) -> &[tollgate_runtime::table::FieldSpec] {
        self.schema()
    }

    /// The record schema, borrowed from the policy rather than from `self`.
    fn schema(&self) -> &'a [tollgate_runtime::table::FieldSpec] {
        match &self.engine {
            Engine::Fees(t) => {
                let t: &'a Table = t;
                t.fields()
            }
            Engine::Notify(p, _) => {
                let p: &'a NotifyPolicy = p;
                p.fields()
            }
        }
    }

    /// The answers of a fees policy's records when a line carries only
    /// what the typed record gives (no `--explain`, no `--keep`): written
    /// as the JSON Lines batch writes them.
    fn fee_lines(&self) -> Option<FeeLines<'a>> {
        match &self.engine {
            Engine::Fees(t) if !self.explain && self.reading.keep.is_empty() => {
                Some(FeeLines::new(t, self.reading, false, self.output).at(self.clock.at()))
            }
            _ => None,
        }
    }

    fn jsonl(&mut self, mut reader: Box<dyn BufRead>, out: &mut impl Write) -> std::io::Result<()> {
        let mut typed = crate::typed::Reader::new(self.schema(), self.reading);
        let mut record = Vec::new();
        let mut line = Vec::new();
        let mut n = 0;
        loop {
            line.clear();
            let read = (&mut reader)
                .take(MAX_RECORD_BYTES as u64 + 1)
                .read_until(b'\n', &mut line)?;
            if read == 0 {
                return Ok(());
            }
            n += 1;
            if line.len() > MAX_RECORD_BYTES && line.last() != Some(&b'\n') {
                skip_line(&mut reader)?;
                self.emit_error(
                    out,
                    n,
                    format!("record is longer than {MAX_RECORD_BYTES} bytes"),
                    None,
                )?;
                continue;
            }
            let text = match line_text(n, &line) {
                Ok(text) => text,
                Err(e) => {
                    self.emit_error(out, n, e, None)?;
                    continue;
                }
            };
            if self.reading.keep.is_empty() {
                // Nothing is copied out: the typed reader, no JSON tree.
                let read = typed.read(text, &mut record);
                self.emit(out, n, read.map(|()| record.as_slice()), None)?;
                continue;
            }
            match crate::record::parse_json(text) {
                Ok(fields) => {
                    let kept = self.kept(|name| fields.get(name).cloned());
                    let record =
                        crate::record::from_json_fields(&fields, self.fields(), self.reading);
                    self.emit(out, n, record.as_deref().map_err(Clone::clone), kept)?;
                }
                Err(e) => self.emit_error(out, n, e, None)?,
            }
        }
    }

    fn csv(&mut self, reader: Box<dyn BufRead>, out: &mut impl Write) -> std::io::Result<()> {
        // Lines end at `\n` only: a CRLF line's `\r` stays in its last cell
        // (removed below), so that a `\r`-only line is a row the blank-line
        // test sees, not a line the reader skips without counting it.
        let mut csv = csv::ReaderBuilder::new()
            .flexible(true)
            .terminator(csv::Terminator::Any(b'\n'))
            .from_reader(LineCap::new(reader));
        let header: Vec<String> = match csv.headers() {
            Ok(h) => h.iter().map(|s| s.trim().to_string()).collect(),
            Err(e) => {
                self.emit_error(out, 0, format!("cannot read the CSV header: {e}"), None)?;
                return Ok(());
            }
        };
        if let Err(e) = crate::record::check_header(&header, self.fields(), self.reading) {
            self.emit_error(out, 0, format!("CSV header: {e}"), None)?;
            return Ok(());
        }
        let typed = CsvReader::new(self.schema(), &header);
        let mut fee_lines = self.fee_lines();
        let mut record = Vec::new();
        let mut answer = Vec::new();
        let mut row = csv::StringRecord::new();
        let mut n = 0;
        // The CSV reader skips empty lines: the first line a row (or the
        // end) is read from starts a run of them, answered before it.
        let mut after_last = csv.position().line();
        loop {
            let read = csv.read_record(&mut row);
            let from = match &read {
                Ok(true) => row.position().map(csv::Position::line),
                Ok(false) => Some(after_last),
                Err(_) => None,
            };
            after_last = csv.position().line();
            if let Some(from) = from {
                for _ in 0..csv.get_mut().empty_run(from) {
                    n += 1;
                    self.emit_error(out, n, BLANK.into(), None)?;
                }
            }
            match read {
                Ok(false) => return Ok(()),
                Ok(true) => {
                    n += 1;
                    without_cr(&mut row);
                    if row.len() == 1 && row.iter().all(|cell| cell.trim().is_empty()) {
                        self.emit_error(out, n, BLANK.into(), None)?;
                        continue;
                    }
                    if let Some(lines) = &mut fee_lines {
                        let errors = lines.errors;
                        answer.clear();
                        lines.answer_typed(n, |r| typed.read(&row, r), &mut answer);
                        self.records += 1;
                        if lines.errors > errors {
                            self.errors += 1;
                            self.bad = true;
                        }
                        out.write_all(&answer)?;
                        continue;
                    }
                    let kept = self.kept(|name| {
                        let i = header.iter().position(|h| h == name)?;
                        row.get(i)
                            .filter(|cell| !cell.is_empty())
                            .map(|cell| Json::String(cell.to_string()))
                    });
                    let read = typed.read(&row, &mut record);
                    self.emit(out, n, read.map(|()| record.as_slice()), kept)?;
                }
                Err(e) => {
                    n += 1;
                    if let csv::ErrorKind::Io(io) = e.kind() {
                        if io.kind() != std::io::ErrorKind::InvalidData {
                            return Err(std::io::Error::other(e.to_string()));
                        }
                        // A line over the limit: the rest cannot be trusted.
                        self.emit_error(
                            out,
                            n,
                            format!("{io}; the rest of the input is not read"),
                            None,
                        )?;
                        return Ok(());
                    }
                    self.emit_error(out, n, format!("bad CSV row: {e}"), None)?;
                }
            }
        }
    }

    /// The `--keep` fields of a record, read by `get` (absent ones are
    /// null); `None` when nothing is kept.
    fn kept(&self, get: impl Fn(&str) -> Option<Json>) -> Option<Map<String, Json>> {
        if self.reading.keep.is_empty() {
            return None;
        }
        Some(
            self.reading
                .keep
                .iter()
                .map(|k| (k.clone(), get(k).unwrap_or(Json::Null)))
                .collect(),
        )
    }

    fn emit(
        &mut self,
        out: &mut impl Write,
        n: usize,
        record: Result<&[Value], String>,
        kept: Option<Map<String, Json>>,
    ) -> std::io::Result<()> {
        let record = match record {
            Ok(r) => r,
            Err(e) => return self.emit_error(out, n, e, kept),
        };
        let table = match &mut self.engine {
            Engine::Fees(t) => *t,
            Engine::Notify(policy, state) => {
                // Keep memory to the live keys on long streams, at a bounded
                // cost per record.
                self.since_prune += 1;
                if let Some(at) = policy.instant_of(record) {
                    let earliest = self.earliest_since_prune.get_or_insert(at);
                    *earliest = (*earliest).min(at);
                }
                if self.since_prune >= state.prune_interval() {
                    if let Some(horizon) = self.earliest_since_prune.take() {
                        state.prune(policy, horizon);
                    }
                    self.since_prune = 0;
                }
                let answered = match &self.journal {
                    Some(shared) => notify_line(
                        policy,
                        record,
                        &mut borrow(shared)?.journaling(state),
                        self.explain,
                    ),
                    None => notify_line(policy, record, state, self.explain),
                };
                let line = match answered {
                    Ok(line) => line,
                    Err(message) => return self.emit_error(out, n, message, kept),
                };
                self.records += 1;
                write_line(out, line, kept)?;
                if let Some(shared) = &self.journal {
                    borrow(shared)?.checkpoint_if_due(policy, state)?;
                }
                return Ok(());
            }
        };
        if let Some(why) = self.clock.refusal(table, record) {
            return self.emit_error(out, n, why, kept);
        }
        let priced = if self.explain {
            table.fee_traced(record, &mut self.components, &mut self.trace)
        } else {
            table.fee(record, &mut self.components)
        };
        match priced {
            Ok(total) => {
                self.records += 1;
                let dp = crate::currency::display_decimals(table.currency());
                match self.output {
                    OutputKind::Fee => {
                        return writeln!(out, "{}", crate::compile::print::amount(total, dp));
                    }
                    OutputKind::Csv => {
                        let fee = crate::compile::print::amount(total, dp);
                        let mut row = Vec::new();
                        let keep = self.reading.keep;
                        super::fee_lines::csv_row(&mut row, keep, kept.as_ref(), &fee, "");
                        return out.write_all(&row);
                    }
                    OutputKind::Json => {}
                }
                let trace = self.explain.then_some(&self.trace);
                let line = decision(table, &self.components, trace, total);
                write_line(out, line, kept)
            }
            Err(e) => {
                let message = describe_error(table, &e);
                self.emit_error(out, n, message, kept)
            }
        }
    }

    /// An error line for record `n` (0: the CSV header), with the kept
    /// fields when the record could be read that far.
    fn emit_error(
        &mut self,
        out: &mut impl Write,
        n: usize,
        message: String,
        kept: Option<Map<String, Json>>,
    ) -> std::io::Result<()> {
        self.bad = true;
        self.errors += 1;
        if n > 0 {
            self.records += 1;
        }
        if self.output == OutputKind::Csv {
            let mut row = Vec::new();
            super::fee_lines::csv_row(&mut row, self.reading.keep, kept.as_ref(), "", &message);
            return out.write_all(&row);
        }
        write_line(out, json!({ "error": message, "record": n }), kept)
    }
}

/// The text of line `n` (1-based) of JSON Lines input, without the
/// byte-order mark that may open the input; the error line's message for
/// a line that is not UTF-8 or is blank.
pub(crate) fn line_text(n: usize, line: &[u8]) -> Result<&str, String> {
    let Ok(mut text) = std::str::from_utf8(line) else {
        return Err("line is not valid UTF-8".into());
    };
    if n == 1 {
        // A byte-order mark opens the input, not the record (the CSV
        // reader skips one too).
        text = text.strip_prefix('\u{feff}').unwrap_or(text);
    }
    if text.trim().is_empty() {
        return Err(BLANK.into());
    }
    Ok(text)
}

/// Decides one notification record against `state`: the line `eval`
/// prints for it (with the trace when `explain`), or the message of its
/// error line.
///
/// # Errors
/// The error line's message for a record that could not be decided.
pub(crate) fn notify_line(
    policy: &NotifyPolicy,
    record: &[Value],
    state: &mut impl tollgate_runtime::notify::ThrottleState,
    explain: bool,
) -> Result<Json, String> {
    let mut trace = NotifyTrace::default();
    let answered = if explain {
        policy.answer_traced(record, state, &mut trace)
    } else {
        policy.answer(record, state)
    };
    match answered {
        Ok(a) => Ok(super::notify_out::explained(
            policy,
            record,
            a,
            explain.then_some(&trace),
        )),
        Err(e) => Err(super::notify_out::error(policy, e)),
    }
}

/// The error of a blank line, answered like a record.
pub(super) const BLANK: &str = "blank line: no record";

/// Writes one output line, with the kept input fields under `"input"`.
pub(crate) fn write_line(
    out: &mut impl Write,
    mut line: Json,
    kept: Option<Map<String, Json>>,
) -> std::io::Result<()> {
    if let (Json::Object(m), Some(kept)) = (&mut line, kept) {
        m.insert("input".into(), Json::Object(kept));
    }
    writeln!(out, "{line}")
}

/// The JSON line of a priced record: the fee and its components, each
/// with its explanation when the engine's `trace` is given.
pub(super) fn decision(
    table: &Table,
    components: &[Component],
    trace: Option<&FeeTrace>,
    total: Decimal,
) -> Json {
    let dp = crate::currency::display_decimals(table.currency());
    let money = |d: Decimal| crate::compile::print::amount(d, dp);
    let components: Vec<Json> = components
        .iter()
        .map(|c| {
            let schedule = table.schedules().get(c.schedule.get() as usize);
            let mut m = Map::new();
            m.insert("schedule".into(), json!(schedule.map_or("?", |s| s.name())));
            m.insert("rule".into(), json!(rule_name(schedule, c.rule.get())));
            m.insert("fee".into(), json!(money(c.fee.total)));
            if let (Some(s), Some(t)) = (schedule, trace.and_then(|t| t.of(c.schedule))) {
                m.insert("explain".into(), explain(table, s, t));
            }
            Json::Object(m)
        })
        .collect();
    json!({ "fee": money(total), "components": components })
}

pub(crate) fn rule_name(schedule: Option<&Schedule>, rule: u32) -> &str {
    schedule
        .and_then(|s| s.rules().get(rule as usize))
        .map_or("?", |r| r.name.as_str())
}

pub(crate) fn describe_error(table: &Table, e: &EvalError) -> String {
    let sname = |i: u32| table.schedules().get(i as usize).map_or("?", |s| s.name());
    match e {
        EvalError::NoMatch { schedule } => {
            format!(
                "no rule of schedule `{}` matches this record, and it has no `otherwise`",
                sname(schedule.get())
            )
        }
        EvalError::Ambiguous {
            schedule,
            first,
            second,
        } => {
            let s = table.schedules().get(schedule.get() as usize);
            format!(
                "rules `{}` and `{}` of unique schedule `{}` both match this record",
                rule_name(s, first.get()),
                rule_name(s, second.get()),
                sname(schedule.get())
            )
        }
        EvalError::Arith {
            schedule,
            rule,
            error,
        } => {
            let s = table.schedules().get(schedule.get() as usize);
            format!(
                "fee of `{}/{}`: {error}",
                sname(schedule.get()),
                rule_name(s, rule.get())
            )
        }
        EvalError::BadAmount { schedule } => {
            format!(
                "schedule `{}` has no amount to charge on",
                sname(schedule.get())
            )
        }
        EvalError::TotalOverflow => "the components add up to more than can be represented".into(),
        EvalError::NegativeAmount { schedule } => {
            let s = table.schedules().get(schedule.get() as usize);
            let field = s
                .and_then(|s| table.fields().get(s.base().get() as usize))
                .map_or("?", |f| f.name.as_str());
            format!(
                "schedule `{}`: `{field}` is negative, and the policy does not accept refunds (declare `field {field}: money with refunds`)",
                sname(schedule.get())
            )
        }
        other => other.to_string(),
    }
}

/// The explanation of one component, from the engine's trace of its
/// schedule: the rules tried before the one that matched and why each
/// failed, then the arithmetic.
pub(crate) fn explain(table: &Table, s: &Schedule, t: &ScheduleTrace) -> Json {
    // Every rule before the one that matched, with why it failed: one
    // reason per alternative (row) of its condition.
    let mut tried: Vec<Json> = Vec::new();
    let mut misses = t.tried.iter().peekable();
    while let Some(first) = misses.next() {
        let mut reasons = vec![failed(table, s, first)];
        while let Some(next) = misses.next_if(|m| m.rule == first.rule) {
            reasons.push(failed(table, s, next));
        }
        tried.push(json!({
            "rule": rule_name(Some(s), first.rule.get()),
            "failed": reasons.join("; "),
        }));
    }
    let matched = t.rule.map_or(u32::MAX, |r| r.get());
    let rule = s.rules().get(matched as usize);
    let amount = t.amount.map_or_else(|| "?".to_string(), |d| d.to_string());
    let dp = crate::currency::display_decimals(table.currency());
    let money = |d: Decimal| crate::compile::print::amount(d, dp);
    let mut m = Map::new();
    m.insert("tried".into(), Json::Array(tried));
    m.insert("matched".into(), json!(rule_name(Some(s), matched)));
    m.insert(
        "formula".into(),
        json!(
            rule.map_or(String::new(), |r| crate::compile::print::fee_text(
                &r.fee, dp
            ))
        ),
    );
    m.insert("amount".into(), json!(amount));
    if let Some(r) = rule.filter(|r| !r.fee.rate.is_zero()) {
        m.insert("rate".into(), json!(percent(r.fee.rate)));
    }
    if let Some(r) = rule {
        super::bands::explain(&r.fee, &t.tiers, &mut m);
    }
    let Some(b) = &t.fee else {
        return Json::Object(m);
    };
    m.insert("raw".into(), json!(money(b.raw.normalize())));
    m.insert(
        "rounding".into(),
        json!(format!(
            "{} to {}",
            s.rounding().mode.name(),
            s.rounding().step
        )),
    );
    m.insert("rounded".into(), json!(money(b.rounded)));
    match b.bound_applied {
        Some(BoundApplied::Min) => {
            m.insert("minimum_applied".into(), json!(money(b.bounded)));
        }
        Some(BoundApplied::Cap) => {
            m.insert("cap_applied".into(), json!(money(b.bounded)));
        }
        None => {}
    }
    m.insert("fixed".into(), json!(money(b.fixed)));
    if rule.is_some_and(|r| r.fee.total_min.is_some() || r.fee.total_cap.is_some()) {
        m.insert("subtotal".into(), json!(money(b.sum)));
    }
    match b.total_bound_applied {
        Some(BoundApplied::Min) => {
            m.insert("total_minimum_applied".into(), json!(money(b.total)));
        }
        Some(BoundApplied::Cap) => {
            m.insert("total_cap_applied".into(), json!(money(b.total)));
        }
        None => {}
    }
    if b.refund {
        m.insert("refund".into(), json!(true));
    }
    m.insert("fee".into(), json!(money(b.total)));
    Json::Object(m)
}

/// Why the row of `miss` refused the record, in words: the value of the
/// field its refusing cell reads, and what the cell needs.
fn failed(table: &Table, s: &Schedule, miss: &Miss) -> String {
    let column = miss.column as usize;
    let (Some(&f), Some(cell)) = (
        s.columns().get(column),
        s.rows()
            .get(miss.row as usize)
            .and_then(|r| r.cells.get(column)),
    ) else {
        return "its condition does not hold".into();
    };
    let field = table.fields().get(f.get() as usize);
    let name = field.map_or("?", |f| f.name.as_str());
    let shown = match (&miss.value, field.map(|f| &f.kind)) {
        (Some(Value::Enum(i)), Some(tollgate_runtime::table::FieldKind::Enum(vs))) => {
            vs.get(*i as usize).cloned().unwrap_or_default()
        }
        (Some(Value::Num(d)), _) => d.to_string(),
        (Some(Value::Bool(b)), _) => b.to_string(),
        (Some(Value::Str(s)), _) => format!("{s:?}"),
        _ => "?".into(),
    };
    format!(
        "`{name}` is {shown}, the rule needs {}",
        cell_text(cell, field.map(|f| &f.kind))
    )
}
