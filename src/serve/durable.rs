//! `--state-dir DIR`: each notifications policy's throttle state kept on
//! disk with the guarantees `eval --state` gives (docs/durability.md), in
//! the same files: the snapshot `DIR/NAME.state`, its journal and its
//! lock, so that `eval --state DIR/NAME.state` reads what the service
//! left.
//!
//! Group commit across requests: a decision adds the journal entries of
//! its deliveries to the policy's pending entries while it still holds its
//! shards (so the pending entries are in the order the state changed); a
//! request makes the entries of its records durable before it sends their
//! answers, and one append and sync carries every request's entries
//! pending at that moment.

use super::shards::ShardedState;
use crate::cli::state::StateFiles;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use tollgate_runtime::notify::{MemoryState, NotifyPolicy};

/// Entries decided and not yet written.
#[derive(Default)]
struct Pending {
    bytes: Vec<u8>,
    /// Bytes ever added: the sequence number just past the last entry.
    end: u64,
}

/// The journal side of the state files.
struct Synced {
    files: StateFiles,
    /// Every entry before this sequence number is written and synced.
    synced: u64,
}

/// One policy's state files.
pub struct Journal {
    pending: Mutex<Pending>,
    files: Mutex<Synced>,
    /// The snapshot's path, for messages.
    path: PathBuf,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The snapshot of policy `name` in `dir`.
pub fn state_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}.state"))
}

impl Journal {
    /// Locks the state of `policy` at `path` (waiting for a process that
    /// holds it), loads the snapshot (carried to this version of the
    /// policy if it was saved by another) and replays the journal onto it.
    ///
    /// # Errors
    /// The message to show: the files cannot be locked, read or written,
    /// or are not this policy's.
    pub fn open(policy: &NotifyPolicy, path: &Path) -> Result<(Journal, MemoryState), String> {
        let mut files = StateFiles::open(path)?;
        let (mut state, snapshot) = crate::cli::eval::load_state(policy, Some(path))?;
        files.recover(policy, snapshot.as_deref(), &mut state)?;
        let journal = Journal {
            pending: Mutex::new(Pending::default()),
            files: Mutex::new(Synced { files, synced: 0 }),
            path: path.to_path_buf(),
        };
        Ok((journal, state))
    }

    /// Adds entries of one decision (called under its shards' locks); the
    /// sequence number to make durable through.
    pub fn push(&self, entries: &[u8]) -> u64 {
        let mut p = lock(&self.pending);
        p.bytes.extend_from_slice(entries);
        p.end += entries.len() as u64;
        p.end
    }

    /// Writes and syncs every entry pending, when those up to `upto` are
    /// not synced yet.
    ///
    /// # Errors
    /// The write or sync error: those entries stay pending, and the
    /// answers that needed them must not be sent.
    pub fn sync(&self, upto: u64) -> std::io::Result<()> {
        let mut f = lock(&self.files);
        if f.synced >= upto {
            return Ok(());
        }
        self.flush(&mut f)
    }

    /// Appends every pending entry under `f`.
    fn flush(&self, f: &mut Synced) -> std::io::Result<()> {
        let (bytes, end) = {
            let mut p = lock(&self.pending);
            (std::mem::take(&mut p.bytes), p.end)
        };
        if bytes.is_empty() {
            f.synced = end;
            return Ok(());
        }
        match f.files.append(&bytes) {
            Ok(()) => {
                f.synced = end;
                Ok(())
            }
            Err(e) => {
                // Put them back in front of what came since.
                let mut p = lock(&self.pending);
                let later = std::mem::replace(&mut p.bytes, bytes);
                p.bytes.extend_from_slice(&later);
                Err(e)
            }
        }
    }

    /// Saves a snapshot of `state` and starts the journal afresh, when the
    /// journal has grown past [`CHECKPOINT_BYTES`](crate::cli::commit::CHECKPOINT_BYTES)
    /// and the snapshot's size, or always with `force`.
    ///
    /// # Errors
    /// A write error (the journal still holds every delivery answered).
    pub fn checkpoint(
        &self,
        policy: &NotifyPolicy,
        state: &ShardedState,
        force: bool,
    ) -> std::io::Result<()> {
        let mut f = lock(&self.files);
        let limit = crate::cli::commit::CHECKPOINT_BYTES.max(f.files.snapshot_bytes());
        if !force && f.files.entry_bytes() < limit {
            return Ok(());
        }
        // With every shard held, no decision runs: the pending entries are
        // exactly the deliveries the state holds beyond the journal.
        let joined = state.with_all(|parts| {
            self.flush(&mut f)?;
            Ok::<_, std::io::Error>(MemoryState::join(parts.iter().copied()))
        })?;
        // Decisions made from here on wait in the pending entries, which
        // go to the journal after the snapshot (they are not in it).
        f.files.checkpoint(policy, &joined)
    }

    /// The snapshot's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}
