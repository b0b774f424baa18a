//! Pricing a JSON Lines file of a fees policy: on one thread, or with
//! `--jobs N` on several, the answers written in input order.
//!
//! The parallel run has three parts. A reader thread cuts the input into
//! chunks of whole lines; `N` workers answer a chunk each into a buffer of
//! their own (the same [`FeeLines`] as the single-threaded run, so every
//! line out, error lines included, is the same); this thread writes the
//! buffers in the order of their chunks. At most [`IN_FLIGHT`] chunks per
//! worker are read and not yet written, so memory stays bounded whatever
//! the input's size.

use super::eval::{skip_line, MAX_RECORD_BYTES};
use super::fee_lines::{FeeLines, Line};
use super::progress::Progress;
use std::collections::BTreeMap;
use std::io::{BufRead, Read, Write};
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::{Arc, Mutex};

/// Bytes per chunk of the parallel run (whole lines: a chunk ends at the
/// last line end in it).
const BLOCK: usize = 256 * 1024;
/// Chunks per worker read ahead of the output.
const IN_FLIGHT: usize = 4;
/// Bytes of answers gathered before they go to the output, when the input
/// never waits (a regular file).
const OUT_BATCH: usize = 64 * 1024;

/// Reads the next line into `buf` (appended, `\n` included). `None` at
/// the end; `Some(false)` for a line longer than [`MAX_RECORD_BYTES`],
/// whose bytes are skipped and not kept.
///
/// # Errors
/// The read error.
pub fn next_line(reader: &mut dyn BufRead, buf: &mut Vec<u8>) -> std::io::Result<Option<bool>> {
    let start = buf.len();
    let read = reader
        .take(MAX_RECORD_BYTES as u64 + 1)
        .read_until(b'\n', buf)?;
    if read == 0 {
        return Ok(None);
    }
    if read > MAX_RECORD_BYTES && buf.last() != Some(&b'\n') {
        buf.truncate(start);
        skip_line(reader)?;
        return Ok(Some(false));
    }
    Ok(Some(true))
}

/// Totals of a run: lines answered for records, and error lines.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    /// Lines answered.
    pub records: usize,
    /// Error lines among them.
    pub errors: usize,
}

/// Answers every line of `reader` on this thread. When the input is not a
/// regular file (`waits`), each answer goes to `out` before the next line
/// is read, so that a record piped on its own gets its answer at once.
///
/// # Errors
/// A read or write error; the counts so far are in `counts`.
pub fn sequential(
    lines: &mut FeeLines<'_>,
    reader: &mut dyn BufRead,
    out: &mut dyn Write,
    waits: bool,
    progress: &Progress,
    counts: &mut Counts,
) -> std::io::Result<()> {
    let mut line = Vec::new();
    let mut answers = Vec::with_capacity(OUT_BATCH + 1024);
    let mut n = 0;
    let mut read = 0;
    loop {
        line.clear();
        let Some(whole) = next_line(reader, &mut line)? else {
            break;
        };
        n += 1;
        let text = if whole {
            Line::Text(&line)
        } else {
            Line::TooLong
        };
        lines.answer(n, text, &mut answers);
        read += line.len();
        if waits || answers.len() >= OUT_BATCH {
            out.write_all(&answers)?;
            answers.clear();
            counts.records = lines.records;
            counts.errors = lines.errors;
            progress.bytes(std::mem::take(&mut read));
            progress.records(lines.records);
        }
    }
    out.write_all(&answers)?;
    counts.records = lines.records;
    counts.errors = lines.errors;
    Ok(())
}

/// A chunk of the input, read in order.
struct Chunk {
    /// Its place in the input.
    seq: u64,
    /// The number of its first line.
    first: usize,
    /// Whole lines (the last one may lack its `\n` at the end of the
    /// input); empty for a line longer than [`MAX_RECORD_BYTES`], skipped.
    data: Vec<u8>,
}

/// A chunk's answers.
struct Answered {
    seq: u64,
    out: Vec<u8>,
    counts: Counts,
}

/// Answers every line of `input` with `jobs` workers (each with its own
/// [`FeeLines`] from `make`), writing the answers to `out` in input order.
///
/// # Errors
/// A read or write error; the counts of the lines written are in `counts`.
pub fn parallel<'t>(
    make: &(dyn Fn() -> FeeLines<'t> + Sync),
    input: Box<dyn Read + Send>,
    jobs: usize,
    out: &mut dyn Write,
    progress: &Progress,
    counts: &mut Counts,
) -> std::io::Result<()> {
    let jobs = jobs.max(1);
    let (work_tx, work_rx) = sync_channel::<Chunk>(jobs);
    let work_rx = Arc::new(Mutex::new(work_rx));
    let (done_tx, done_rx) = sync_channel::<Answered>(jobs * IN_FLIGHT);
    // A token per chunk read and not yet written.
    let (token_tx, token_rx) = sync_channel::<()>(jobs * IN_FLIGHT);
    for _ in 0..jobs * IN_FLIGHT {
        if token_tx.send(()).is_err() {
            break;
        }
    }
    std::thread::scope(|scope| {
        let reader = scope.spawn(move || read_chunks(input, work_tx, token_rx, progress));
        for _ in 0..jobs {
            let work_rx = Arc::clone(&work_rx);
            let done_tx = done_tx.clone();
            scope.spawn(move || {
                let mut lines = make();
                loop {
                    let next = match work_rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => return,
                    };
                    let Ok(chunk) = next else { return };
                    let answered = answer_chunk(&mut lines, &chunk);
                    if done_tx.send(answered).is_err() {
                        return;
                    }
                }
            });
        }
        drop(done_tx);
        drop(work_rx);
        let written = write_in_order(done_rx, token_tx, out, progress, counts);
        // The writer is done (at the end, or on a failed write, which drops
        // the channels and so stops the reader and the workers).
        let read = reader
            .join()
            .unwrap_or_else(|_| Err(std::io::Error::other("internal error: the reader failed")));
        written.and(read)
    })
}

/// The reader thread: cuts `input` into chunks of whole lines at about
/// [`BLOCK`] bytes, each sent once a token says there is room for it. It
/// only looks for line ends: the workers split the lines.
fn read_chunks(
    mut input: Box<dyn Read + Send>,
    work: std::sync::mpsc::SyncSender<Chunk>,
    tokens: Receiver<()>,
    progress: &Progress,
) -> std::io::Result<()> {
    let mut pending: Vec<u8> = Vec::with_capacity(2 * BLOCK);
    let mut n = 1;
    let mut seq = 0;
    // Inside a line too long to keep: its bytes are dropped up to its end.
    let mut skipping = false;
    let mut send = |data: Vec<u8>, lines: usize, n: &mut usize| -> bool {
        if tokens.recv().is_err() {
            // The writer stopped.
            return false;
        }
        let chunk = Chunk {
            seq,
            first: *n,
            data,
        };
        seq += 1;
        *n += lines;
        work.send(chunk).is_ok()
    };
    loop {
        let old = pending.len();
        pending.resize(old + BLOCK, 0);
        let got = loop {
            match input.read(pending.get_mut(old..).unwrap_or(&mut [])) {
                Ok(k) => break Ok(k),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => break Err(e),
            }
        };
        pending.truncate(old + *got.as_ref().unwrap_or(&0));
        let (got, failed) = match got {
            Ok(k) => (k, None),
            Err(e) => (0, Some(e)),
        };
        progress.bytes(got);
        let end = got == 0;
        if skipping {
            match pending.iter().position(|&b| b == b'\n') {
                Some(at) => {
                    pending.drain(..=at);
                    skipping = false;
                }
                None => {
                    pending.clear();
                    if end {
                        return failed.map_or(Ok(()), Err);
                    }
                    continue;
                }
            }
        }
        // Whole lines go; at the end (not after an error) the last line
        // goes whether it ends in `\n` or not.
        let cut = if end && failed.is_none() {
            pending.len()
        } else {
            pending
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |at| at + 1)
        };
        if cut > 0 {
            let rest = pending.get(cut..).map(<[u8]>::to_vec).unwrap_or_default();
            let mut data = std::mem::replace(&mut pending, rest);
            data.truncate(cut);
            let mut lines = data.iter().filter(|&&b| b == b'\n').count();
            if data.last() != Some(&b'\n') {
                lines += 1;
            }
            if !send(data, lines, &mut n) {
                return Ok(());
            }
        } else if pending.len() > MAX_RECORD_BYTES {
            // A line longer than the limit, its end not read yet: answered
            // as such, the rest of it dropped.
            pending.clear();
            skipping = true;
            if !send(Vec::new(), 1, &mut n) {
                return Ok(());
            }
        }
        if end {
            return failed.map_or(Ok(()), Err);
        }
    }
}

/// A worker's answers to one chunk.
fn answer_chunk(lines: &mut FeeLines<'_>, chunk: &Chunk) -> Answered {
    let (records, errors) = (lines.records, lines.errors);
    let mut out = Vec::with_capacity(chunk.data.len() / 8 + 64);
    if chunk.data.is_empty() {
        lines.answer(chunk.first, Line::TooLong, &mut out);
    }
    let mut n = chunk.first;
    let mut rest = chunk.data.as_slice();
    while !rest.is_empty() {
        let (line, next) = match rest.iter().position(|&b| b == b'\n') {
            Some(at) => rest.split_at(at + 1),
            None => (rest, &[][..]),
        };
        let content = line.len() - usize::from(line.last() == Some(&b'\n'));
        let line_in = if content > MAX_RECORD_BYTES {
            Line::TooLong
        } else {
            Line::Text(line)
        };
        lines.answer(n, line_in, &mut out);
        n += 1;
        rest = next;
    }
    Answered {
        seq: chunk.seq,
        out,
        counts: Counts {
            records: lines.records - records,
            errors: lines.errors - errors,
        },
    }
}

/// Writes the chunks' answers in order, returning a token for each.
fn write_in_order(
    done: Receiver<Answered>,
    tokens: std::sync::mpsc::SyncSender<()>,
    out: &mut dyn Write,
    progress: &Progress,
    counts: &mut Counts,
) -> std::io::Result<()> {
    let mut next = 0;
    let mut waiting: BTreeMap<u64, Answered> = BTreeMap::new();
    for answered in done {
        waiting.insert(answered.seq, answered);
        while let Some(a) = waiting.remove(&next) {
            out.write_all(&a.out)?;
            counts.records += a.counts.records;
            counts.errors += a.counts.errors;
            progress.records(counts.records);
            next += 1;
            // The reader may have stopped; a token is then not needed.
            let _ = tokens.try_send(());
        }
    }
    Ok(())
}
