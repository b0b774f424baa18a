//! Pricing a JSON Lines file of a fees policy: on one thread, or with
//! `--jobs N` on several, the answers written in input order.
//!
//! The parallel run has three parts. A reader thread cuts the input into
//! chunks of whole lines; `N` workers answer a chunk each into a buffer of
//! their own (the same [`FeeLines`] as the single-threaded run, so every
//! line out, error lines included, is the same); this thread writes the
//! buffers in the order of their chunks. At most [`IN_FLIGHT`] chunks per
//! worker are read and not yet written, so memory stays bounded whatever
//! the input's size, and a chunk's buffer goes back to the reader once
//! answered, to be read into again.
//!
//! Both runs answer each line where it was read (the reader's buffer, or
//! the chunk), without copying it out.

use super::eval::MAX_RECORD_BYTES;
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

/// Totals of a run: lines answered for records, and error lines.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    /// Lines answered.
    pub records: usize,
    /// Error lines among them.
    pub errors: usize,
}

/// Answers every line of `reader` on this thread, each read in place in
/// the reader's buffer (a line cut by the buffer's end is the only one
/// copied). When the input is not a regular file (`waits`), the answers to
/// the lines read go to `out` before the next read, so that a record piped
/// on its own gets its answer at once.
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
    let mut answers = Vec::with_capacity(OUT_BATCH + 1024);
    // The start of a line the buffer ended in.
    let mut carry: Vec<u8> = Vec::new();
    // Inside a line too long to keep: its bytes are dropped up to its end.
    let mut skipping = false;
    let mut n = 1;
    loop {
        let buf = match reader.fill_buf() {
            Ok(buf) => buf,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let got = buf.len();
        if got == 0 {
            break;
        }
        let mut data = buf;
        if skipping {
            (data, skipping) = match memchr::memchr(b'\n', data) {
                Some(at) => (data.get(at + 1..).unwrap_or(&[]), false),
                None => (&[][..], true),
            };
        }
        if !carry.is_empty() {
            // The line begun before ends here, or goes on.
            let end = memchr::memchr(b'\n', data).map_or(data.len(), |at| at + 1);
            let (head, tail) = data.split_at(end);
            carry.extend_from_slice(head);
            data = tail;
            if carry.last() == Some(&b'\n') {
                n = answer_lines(lines, n, &carry, true, &mut answers);
                carry.clear();
            }
        }
        let rest = if carry.is_empty() {
            whole_lines(lines, &mut n, data, &mut answers)
        } else {
            &[][..]
        };
        carry.extend_from_slice(rest);
        if carry.len() > MAX_RECORD_BYTES {
            // Too long whatever follows: answered as such, the rest of it
            // dropped.
            lines.answer(n, Line::TooLong, &mut answers);
            n += 1;
            carry.clear();
            skipping = true;
        }
        reader.consume(got);
        progress.bytes(got);
        if waits || answers.len() >= OUT_BATCH {
            // Counted before writing: a reader that goes away part way
            // through may have seen any of these lines.
            counts.records = lines.records;
            counts.errors = lines.errors;
            out.write_all(&answers)?;
            answers.clear();
            progress.records(lines.records);
        }
    }
    // The last line, without its `\n`.
    answer_lines(lines, n, &carry, true, &mut answers);
    counts.records = lines.records;
    counts.errors = lines.errors;
    out.write_all(&answers)
}

/// Answers the lines of `data` that end in `\n`, the first numbered `n`
/// (moved past them); returns the bytes after the last one.
fn whole_lines<'d>(
    lines: &mut FeeLines<'_>,
    n: &mut usize,
    data: &'d [u8],
    out: &mut Vec<u8>,
) -> &'d [u8] {
    let end = memchr::memrchr(b'\n', data).map_or(0, |at| at + 1);
    let (whole, rest) = data.split_at(end);
    *n = answer_lines(lines, *n, whole, false, out);
    rest
}

/// Answers each line of `data`, the first numbered `n`: every line that
/// ends in `\n`, and the bytes after the last one as a line when `last`
/// says the input ends there (and they are not empty). Returns the number
/// of the next line.
fn answer_lines(
    lines: &mut FeeLines<'_>,
    mut n: usize,
    data: &[u8],
    last: bool,
    out: &mut Vec<u8>,
) -> usize {
    let mut start = 0;
    let ends = memchr::memchr_iter(b'\n', data).map(|at| at + 1);
    let tail = (last && data.last().is_some_and(|&b| b != b'\n')).then_some(data.len());
    for end in ends.chain(tail) {
        let line = data.get(start..end).unwrap_or(&[]);
        let content = line.len() - usize::from(line.last() == Some(&b'\n'));
        let line_in = if content > MAX_RECORD_BYTES {
            Line::TooLong
        } else {
            Line::Text(line)
        };
        lines.answer(n, line_in, out);
        n += 1;
        start = end;
    }
    n
}

/// A chunk of the input, read in order.
struct Chunk {
    /// Its place in the input.
    seq: u64,
    /// The number of its first line.
    first: usize,
    /// A buffer whose first [`Chunk::len`] bytes are whole lines (the last
    /// one may lack its `\n` at the end of the input); handed back to the
    /// reader when answered, so that buffers are reused.
    data: Vec<u8>,
    /// The bytes of `data` in the chunk; 0 for a line longer than
    /// [`MAX_RECORD_BYTES`], skipped.
    len: usize,
}

impl Chunk {
    /// The chunk's lines.
    fn lines(&self) -> &[u8] {
        self.data.get(..self.len).unwrap_or(&[])
    }
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
    // Buffers answered, back to the reader.
    let (spare_tx, spare_rx) = sync_channel::<Vec<u8>>(jobs * IN_FLIGHT + jobs);
    std::thread::scope(|scope| {
        let reader = scope.spawn(move || read_chunks(input, work_tx, token_rx, spare_rx, progress));
        for _ in 0..jobs {
            let work_rx = Arc::clone(&work_rx);
            let done_tx = done_tx.clone();
            let spare_tx = spare_tx.clone();
            scope.spawn(move || {
                let mut lines = make();
                loop {
                    let next = match work_rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => return,
                    };
                    let Ok(chunk) = next else { return };
                    let answered = answer_chunk(&mut lines, &chunk);
                    // A buffer the reader has no room for is dropped.
                    let _ = spare_tx.try_send(chunk.data);
                    if done_tx.send(answered).is_err() {
                        return;
                    }
                }
            });
        }
        drop(done_tx);
        drop(work_rx);
        drop(spare_tx);
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
/// reads into buffers the workers hand back (`spare`), so that their
/// memory is not allocated and cleared again for every chunk, and only
/// looks for line ends: the workers split the lines.
fn read_chunks(
    mut input: Box<dyn Read + Send>,
    work: std::sync::mpsc::SyncSender<Chunk>,
    tokens: Receiver<()>,
    spare: Receiver<Vec<u8>>,
    progress: &Progress,
) -> std::io::Result<()> {
    // The first `filled` bytes of `buf` are read and not yet sent: the
    // start of a line.
    let mut buf: Vec<u8> = Vec::new();
    let mut filled = 0;
    let mut n = 1;
    let mut seq = 0;
    // Inside a line too long to keep: its bytes are dropped up to its end.
    let mut skipping = false;
    let mut send = |data: Vec<u8>, len: usize, lines: usize, n: &mut usize| -> bool {
        if tokens.recv().is_err() {
            // The writer stopped.
            return false;
        }
        let chunk = Chunk {
            seq,
            first: *n,
            data,
            len,
        };
        seq += 1;
        *n += lines;
        work.send(chunk).is_ok()
    };
    loop {
        if buf.len() < filled + BLOCK {
            buf.resize(filled + BLOCK, 0);
        }
        let got = loop {
            match input.read(buf.get_mut(filled..filled + BLOCK).unwrap_or(&mut [])) {
                Ok(k) => break Ok(k),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => break Err(e),
            }
        };
        let (got, failed) = match got {
            Ok(k) => (k, None),
            Err(e) => (0, Some(e)),
        };
        progress.bytes(got);
        let end = got == 0;
        let fresh = filled;
        filled += got;
        if skipping {
            match memchr::memchr(b'\n', buf.get(fresh..filled).unwrap_or(&[])) {
                Some(at) => {
                    let from = fresh + at + 1;
                    buf.copy_within(from..filled, fresh);
                    filled -= from - fresh;
                    skipping = false;
                }
                None => {
                    filled = fresh;
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
            filled
        } else {
            memchr::memrchr(b'\n', buf.get(..filled).unwrap_or(&[])).map_or(0, |at| at + 1)
        };
        if cut > 0 {
            // The line begun after the cut moves to the next buffer.
            let rest = filled - cut;
            let mut next = spare.try_recv().unwrap_or_default();
            if next.len() < rest + BLOCK {
                next.resize(rest + BLOCK, 0);
            }
            if let (Some(to), Some(from)) = (next.get_mut(..rest), buf.get(cut..filled)) {
                to.copy_from_slice(from);
            }
            let data = std::mem::replace(&mut buf, next);
            filled = rest;
            let whole = data.get(..cut).unwrap_or(&[]);
            let mut lines = memchr::memchr_iter(b'\n', whole).count();
            if whole.last() != Some(&b'\n') {
                lines += 1;
            }
            if !send(data, cut, lines, &mut n) {
                return Ok(());
            }
        } else if filled > MAX_RECORD_BYTES {
            // A line longer than the limit, its end not read yet: answered
            // as such, the rest of it dropped.
            filled = 0;
            skipping = true;
            if !send(Vec::new(), 0, 1, &mut n) {
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
    let mut out = Vec::with_capacity(chunk.len / 8 + 64);
    if chunk.len == 0 {
        lines.answer(chunk.first, Line::TooLong, &mut out);
    }
    answer_lines(lines, chunk.first, chunk.lines(), true, &mut out);
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
            // Counted before writing, as in `sequential`.
            counts.records += a.counts.records;
            counts.errors += a.counts.errors;
            out.write_all(&a.out)?;
            progress.records(counts.records);
            next += 1;
            // The reader may have stopped; a token is then not needed.
            let _ = tokens.try_send(());
        }
    }
    Ok(())
}
