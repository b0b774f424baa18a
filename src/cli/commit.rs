//! Group commit for `tollgate eval`: output lines wait in memory until the
//! journal entries of their records are written and synced, then go to
//! standard output, written here so that it is known how many bytes of a
//! batch reached it (`docs/durability.md`).
//!
//! A batch is committed when it holds [`BATCH_RECORDS`] lines or
//! [`BATCH_BYTES`] bytes of output, whenever reading the next record could
//! block (the input is not a regular file and every buffer is empty), and
//! at the end. If standard output fails part way through a batch, the
//! journal is cut back to the entries of the records whose lines were
//! written whole, and nothing more is decided.

use super::state::{Journaling, StateFiles};
use std::cell::RefCell;
use std::io::{ErrorKind, Read, Write};
use std::rc::Rc;
use tollgate_runtime::notify::{MemoryState, NotifyPolicy};

/// The most lines a batch holds.
pub const BATCH_RECORDS: usize = 1024;
/// The most output bytes a batch holds (a batch may pass it by one line).
pub const BATCH_BYTES: usize = 64 * 1024;
/// Journal entries a run lets build up before it saves a snapshot and
/// starts the journal afresh, so that a run that keeps going (a gateway's
/// process) keeps its journal short: at least this many bytes, and at
/// least as many as the snapshot holds, so that rewriting the snapshot
/// costs at most a byte per byte journaled.
pub const CHECKPOINT_BYTES: u64 = 4 << 20;

/// Why a run stopped writing.
#[derive(Debug)]
pub enum Failed {
    /// Standard output failed (a closed pipe is `BrokenPipe`).
    Output(std::io::Error),
    /// The journal could not be written or synced.
    Journal(std::io::Error),
    /// A snapshot saved during the run could not be written (the journal
    /// still holds every delivery printed).
    Snapshot(std::io::Error),
}

/// The batch being built and where it goes.
pub struct Committer {
    /// Lines not yet written.
    out: Vec<u8>,
    /// For each line in `out`: where it ends in `out`, and where the
    /// journal entries of its record (and those before) end in `log`.
    marks: Vec<(usize, usize)>,
    /// Journal entries not yet written.
    log: Vec<u8>,
    /// The state's files, when the run keeps state.
    files: Option<StateFiles>,
    stdout: Box<dyn Write>,
    failed: Option<Failed>,
    /// When to save a snapshot during the run ([`CHECKPOINT_BYTES`]).
    checkpoint_bytes: u64,
}

/// The committer, shared by the output, the input and the engine.
pub type Shared = Rc<RefCell<Committer>>;

/// A `RefCell` borrowed twice is a bug, reported as an error, not a panic.
fn busy() -> std::io::Error {
    std::io::Error::other("internal error: the output batch is in use")
}

/// Borrows the committer.
///
/// # Errors
/// It is already borrowed (a bug).
pub fn borrow(shared: &Shared) -> std::io::Result<std::cell::RefMut<'_, Committer>> {
    shared.try_borrow_mut().map_err(|_| busy())
}

impl Committer {
    /// A committer writing to standard output, journaling to `files`.
    ///
    /// # Errors
    /// Standard output cannot be opened for writing.
    pub fn new(files: Option<StateFiles>) -> std::io::Result<Shared> {
        Ok(Rc::new(RefCell::new(Committer::writing_to(
            files,
            raw_stdout()?,
        ))))
    }

    /// A committer writing its lines to `stdout`.
    fn writing_to(files: Option<StateFiles>, stdout: Box<dyn Write>) -> Committer {
        Committer {
            out: Vec::with_capacity(BATCH_BYTES + 1024),
            marks: Vec::with_capacity(BATCH_RECORDS),
            log: Vec::new(),
            files,
            stdout,
            failed: None,
            checkpoint_bytes: CHECKPOINT_BYTES,
        }
    }

    /// The store as the engine should see it: deliveries are journaled.
    pub fn journaling<'a>(&'a mut self, state: &'a mut MemoryState) -> Journaling<'a> {
        Journaling {
            state,
            log: &mut self.log,
        }
    }

    /// The state's files.
    pub fn files(&mut self) -> Option<&mut StateFiles> {
        self.files.as_mut()
    }

    /// Why writing stopped, if it did; taken once.
    pub fn take_failure(&mut self) -> Option<Failed> {
        self.failed.take()
    }

    /// An error that stands for the failure that stopped the run.
    fn stopped(&self) -> Option<std::io::Error> {
        self.failed.as_ref().map(|f| match f {
            Failed::Output(e) | Failed::Journal(e) | Failed::Snapshot(e) => {
                std::io::Error::new(e.kind(), e.to_string())
            }
        })
    }

    /// Once the journal's entries pass [`CHECKPOINT_BYTES`] and the
    /// snapshot's size: commits the
    /// batch (the state in memory is then the state on disk), saves it as
    /// the snapshot and starts the journal afresh.
    ///
    /// # Errors
    /// The commit's error, or the snapshot's (the run then stops; the
    /// journal still holds every delivery printed).
    pub fn checkpoint_if_due(
        &mut self,
        policy: &NotifyPolicy,
        state: &MemoryState,
    ) -> std::io::Result<()> {
        if self
            .files
            .as_ref()
            .is_none_or(|f| f.entry_bytes() < self.checkpoint_bytes.max(f.snapshot_bytes()))
        {
            return Ok(());
        }
        self.commit()?;
        let Some(files) = self.files.as_mut() else {
            return Ok(());
        };
        if let Err(e) = files.checkpoint(policy, state) {
            let error = std::io::Error::new(e.kind(), e.to_string());
            self.failed = Some(Failed::Snapshot(e));
            return Err(error);
        }
        Ok(())
    }

    /// Adds output bytes; commits when a line completes a full batch.
    fn push(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        if let Some(e) = self.stopped() {
            return Err(e);
        }
        let start = self.out.len();
        self.out.extend_from_slice(bytes);
        for (i, &b) in bytes.iter().enumerate() {
            if b == b'\n' {
                self.marks.push((start + i + 1, self.log.len()));
            }
        }
        let full = self.marks.len() >= BATCH_RECORDS || self.out.len() >= BATCH_BYTES;
        if full && self.out.last() == Some(&b'\n') {
            self.commit()?;
        }
        Ok(())
    }

    /// Writes and syncs the batch's journal entries, then its lines.
    ///
    /// # Errors
    /// The journal or standard output failed; the failure is kept (see
    /// [`Committer::take_failure`]) and every later write fails too.
    pub fn commit(&mut self) -> std::io::Result<()> {
        if let Some(e) = self.stopped() {
            return Err(e);
        }
        if self.out.is_empty() && self.log.is_empty() {
            return Ok(());
        }
        let from = self.files.as_ref().map_or(0, StateFiles::len);
        if !self.log.is_empty() {
            if let Some(files) = self.files.as_mut() {
                if let Err(e) = files.append(&self.log) {
                    let error = std::io::Error::new(e.kind(), e.to_string());
                    self.failed = Some(Failed::Journal(e));
                    return Err(error);
                }
            }
        }
        let mut written = 0;
        let mut failure = None;
        while let Some(rest) = self.out.get(written..).filter(|r| !r.is_empty()) {
            match self.stdout.write(rest) {
                Ok(0) => {
                    failure = Some(std::io::Error::from(ErrorKind::WriteZero));
                    break;
                }
                Ok(n) => written += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        if failure.is_none() {
            if let Err(e) = self.stdout.flush() {
                failure = Some(e);
            }
        }
        if let Some(e) = failure {
            // Keep the entries of the records whose lines were written whole.
            let kept = self
                .marks
                .iter()
                .take_while(|(end, _)| *end <= written)
                .last()
                .map_or(0, |&(_, log)| log);
            let error = std::io::Error::new(e.kind(), e.to_string());
            self.failed = Some(match self.files.as_mut() {
                Some(files) if !self.log.is_empty() => match files.truncate(from + kept as u64) {
                    Ok(()) => Failed::Output(e),
                    Err(t) => Failed::Journal(t),
                },
                _ => Failed::Output(e),
            });
            return Err(error);
        }
        self.out.clear();
        self.marks.clear();
        self.log.clear();
        Ok(())
    }
}

/// Standard output without Rust's line buffering: every byte a write
/// reports reached the file or pipe (on Unix; elsewhere Rust's standard
/// output, flushed at each commit).
fn raw_stdout() -> std::io::Result<Box<dyn Write>> {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        let fd = std::io::stdout().as_fd().try_clone_to_owned()?;
        Ok(Box::new(std::fs::File::from(fd)))
    }
    #[cfg(not(unix))]
    {
        Ok(Box::new(std::io::stdout()))
    }
}

/// The output lines of a run: they go into the batch.
pub struct Output(pub Shared);

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        borrow(&self.0)?.push(buf)?;
        Ok(buf.len())
    }

    /// Commits the batch.
    fn flush(&mut self) -> std::io::Result<()> {
        borrow(&self.0)?.commit()
    }
}

/// The input of a run: before a read that could block (the input is not
/// a regular file), the batch is committed, so that a record piped on its
/// own gets its answer at once.
pub struct CommitBeforeRead {
    inner: Box<dyn Read>,
    /// Whether the input is a regular file, whose reads never wait.
    regular: bool,
    shared: Shared,
}

impl CommitBeforeRead {
    /// Wraps `inner`; `regular` when it is a regular file.
    pub fn new(inner: Box<dyn Read>, regular: bool, shared: Shared) -> CommitBeforeRead {
        CommitBeforeRead {
            inner,
            regular,
            shared,
        }
    }
}

impl Read for CommitBeforeRead {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if !self.regular {
            borrow(&self.shared)?.commit()?;
        }
        self.inner.read(buf)
    }
}

/// Standard input as a file of its own (on Unix), and whether it is a
/// regular file.
///
/// # Errors
/// Standard input cannot be duplicated.
pub fn stdin() -> std::io::Result<(Box<dyn Read + Send>, bool)> {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        let file = std::fs::File::from(std::io::stdin().as_fd().try_clone_to_owned()?);
        let regular = file.metadata().is_ok_and(|m| m.is_file());
        Ok((Box::new(file), regular))
    }
    #[cfg(not(unix))]
    {
        Ok((Box::new(std::io::stdin()), false))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::cli::state::tests::{policy, scratch};
    use std::path::PathBuf;
    use tollgate_runtime::hashes::KeyHash;
    use tollgate_runtime::notify::ThrottleState;

    /// Standard output that takes `room` bytes, then fails as a full disk.
    struct Full {
        room: usize,
        took: Rc<RefCell<Vec<u8>>>,
    }

    impl Write for Full {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if self.room == 0 {
                return Err(std::io::Error::from(ErrorKind::StorageFull));
            }
            let n = buf.len().min(self.room).min(7);
            self.room -= n;
            self.took.borrow_mut().extend_from_slice(&buf[..n]);
            Ok(n)
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// A committer on a fresh state, writing to a [`Full`] of `room` bytes.
    fn committer(name: &str, room: usize) -> (Committer, Rc<RefCell<Vec<u8>>>, PathBuf) {
        let path = scratch(name).join("s.state");
        let mut files = StateFiles::open(&path).unwrap();
        files
            .recover(&policy(), None, &mut MemoryState::new())
            .unwrap();
        let took = Rc::new(RefCell::new(Vec::new()));
        let out = Full {
            room,
            took: took.clone(),
        };
        (
            Committer::writing_to(Some(files), Box::new(out)),
            took,
            path,
        )
    }

    /// Decides "record" `i`: a delivery of its own key, and its line.
    fn decide(c: &mut Committer, state: &mut MemoryState, i: u64) {
        c.journaling(state)
            .record(0.into(), KeyHash::new(i), 1000, i64::MIN);
        c.push(format!("line {i}\n").as_bytes()).unwrap();
    }

    #[test]
    fn a_failed_write_keeps_the_entries_of_the_lines_written_whole() {
        // "line 0\n" is 7 bytes: room for two lines and half of a third.
        let (mut c, took, _path) = committer("commit-full", 17);
        let mut state = MemoryState::new();
        for i in 0..5 {
            decide(&mut c, &mut state, i);
        }
        let e = c.commit().err().unwrap();
        assert_eq!(e.kind(), ErrorKind::StorageFull);
        assert_eq!(took.borrow().as_slice(), b"line 0\nline 1\nlin");
        let files = c.files().unwrap();
        assert_eq!(files.entry_bytes(), 2 * 37);
        assert!(matches!(c.take_failure(), Some(Failed::Output(_))));
    }

    #[test]
    fn a_run_that_keeps_going_saves_a_snapshot_and_starts_the_journal_afresh() {
        let (mut c, _took, path) = committer("commit-checkpoint", usize::MAX);
        c.checkpoint_bytes = 10 * 37;
        let policy = policy();
        let mut state = MemoryState::new();
        for i in 0..25 {
            decide(&mut c, &mut state, i);
            c.commit().unwrap();
            c.checkpoint_if_due(&policy, &state).unwrap();
        }
        // Every delivery is in the snapshot or in the journal, not both,
        // and the journal is shorter than the threshold or the snapshot.
        let snapshot = std::fs::read(&path).unwrap();
        let journaled = c.files().unwrap().entry_bytes();
        assert!(
            journaled < (10 * 37).max(snapshot.len() as u64),
            "{journaled}"
        );
        let saved = MemoryState::load(&snapshot, &policy).unwrap();
        assert!(saved.len() >= 10);
        assert_eq!(saved.len() as u64 + journaled / 37, 25);
    }
}
