//! Durable throttle state for `tollgate eval --state FILE`: the snapshot
//! `FILE`, the append-only journal `FILE.journal` of the deliveries made
//! since, and the lock `FILE.lock` held for the whole run
//! (`docs/durability.md`).
//!
//! The state a run starts from is the snapshot plus the journal's entries,
//! when the journal's header says it extends that very snapshot. A run
//! appends the entries of its deliveries to the journal and syncs them
//! before the lines that announce them are written (see
//! [`super::commit`]); at a clean end it saves a new snapshot and resets
//! the journal.

pub mod journal;
mod lock;

use journal::{Base, Entry, Header, HeaderError};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use tollgate_runtime::hashes::{KeyHash, MessageIdHash};
use tollgate_runtime::notify::{Decision, MemoryState, NotifyPolicy, ThrottleState};
use tollgate_runtime::position::NotifyRuleIndex;
use tollgate_runtime::state_file::fits;

/// The largest journal read, in bytes (1 GiB, the limit of a snapshot): a
/// run saves a snapshot whenever the journal's entries pass 4 MiB and the
/// snapshot's size, so only damage makes one larger.
pub const MAX_JOURNAL_BYTES: u64 = 1 << 30;

/// The files of one state, locked for this run.
pub struct StateFiles {
    /// The snapshot.
    path: PathBuf,
    /// The journal beside it.
    journal_path: PathBuf,
    /// Held for the whole run: the lock goes with it.
    _lock: File,
    journal: File,
    /// The journal's length: every byte before it is synced.
    len: u64,
    /// Where the entries start (the header's length).
    entries_from: u64,
    /// The snapshot on disk, which the journal's header names.
    base: Base,
}

impl StateFiles {
    /// Takes the lock on the state at `path` (waiting for another run) and
    /// opens its journal, creating both if needed. Called before the state
    /// is read and before any decision, so that a missing directory or an
    /// unwritable place fails the run before it prints anything.
    ///
    /// # Errors
    /// The message to print: the lock or the journal cannot be opened.
    pub fn open(path: &Path) -> Result<StateFiles, String> {
        let lock_path = beside(path, ".lock");
        let journal_path = beside(path, ".journal");
        // Opening a FIFO would wait for a writer: only regular files.
        for p in [&lock_path, &journal_path] {
            if std::fs::metadata(p).is_ok_and(|m| !m.is_file()) {
                return Err(format!("error: {} is not a regular file", p.display()));
            }
        }
        let lock = lock::exclusive(&lock_path, path)
            .map_err(|e| format!("error: cannot lock the state {}: {e}", lock_path.display()))?;
        let journal = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&journal_path)
            .map_err(|e| format!("error: cannot open {}: {e}", journal_path.display()))?;
        Ok(StateFiles {
            path: path.to_path_buf(),
            journal_path,
            _lock: lock,
            journal,
            len: 0,
            entries_from: 0,
            base: Base::Empty,
        })
    }

    /// Replays into `state` (loaded from the snapshot's bytes `snapshot`)
    /// the journal's entries when the journal extends that snapshot, stops
    /// at the first torn or damaged entry and cuts it away (with a note on
    /// stderr), and otherwise starts a fresh journal for the snapshot.
    ///
    /// # Errors
    /// The message to print: the journal is not one, belongs to another
    /// policy, holds deliveries of another version of the policy, or
    /// cannot be read or written.
    pub fn recover(
        &mut self,
        policy: &NotifyPolicy,
        snapshot: Option<&[u8]>,
        state: &mut MemoryState,
    ) -> Result<(), String> {
        let shown = self.journal_path.display().to_string();
        let io = |e: std::io::Error| format!("error: {shown}: {e}");
        let mut bytes = Vec::new();
        (&self.journal)
            .take(MAX_JOURNAL_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(io)?;
        if bytes.len() as u64 > MAX_JOURNAL_BYTES {
            return Err(format!(
                "error: {shown} is larger than the limit of {MAX_JOURNAL_BYTES} bytes"
            ));
        }
        let base = Base::of(snapshot);
        let fingerprint = journal::fingerprint(policy);
        let (header, from) = match journal::read_header(&bytes) {
            Ok(h) => h,
            Err(HeaderError::Torn) => {
                if !bytes.is_empty() {
                    eprintln!("{shown}: ignored a journal header cut short (nothing after it was printed)");
                }
                return self.reset(policy, base).map_err(io);
            }
            Err(HeaderError::NotAJournal) => {
                return Err(format!(
                    "error: {shown} is not a Tollgate journal (move it away to start from the snapshot alone)"
                ))
            }
            Err(HeaderError::Format(v)) => {
                return Err(format!(
                    "error: {shown}: journal format {v} is not supported (this version reads {})",
                    journal::FORMAT
                ))
            }
        };
        if header.policy != policy.name() {
            return Err(format!(
                "error: {shown}: the journal belongs to policy `{}`, not `{}`",
                header.policy,
                policy.name()
            ));
        }
        let entries = bytes.get(from..).unwrap_or(&[]);
        if header.base != base {
            if !entries.is_empty() {
                eprintln!(
                    "{shown}: its entries extend an earlier snapshot, which holds them already (the last run stopped while saving); starting from the snapshot"
                );
            }
            return self.reset(policy, base).map_err(io);
        }
        if header.fingerprint != fingerprint {
            if journal::scan(entries, |_| true).entries > 0 {
                return Err(format!(
                    "error: {shown} holds deliveries of `{}` version {} that are not in the snapshot yet; run that version once with this state (for example with `--input /dev/null`) to save them, then this one",
                    header.policy, header.version
                ));
            }
            return self.reset(policy, base).map_err(io);
        }
        let scanned = journal::scan(entries, |entry| replay(policy, state, entry));
        let end = (from + scanned.valid) as u64;
        if let Some(why) = scanned.stopped {
            let ignored = bytes.len() as u64 - end;
            match scanned.after {
                0 => eprintln!(
                    "{shown}: ignored the last {ignored} bytes ({why}): written by a run that stopped before printing those decisions"
                ),
                after => eprintln!(
                    "{shown}: damaged at byte {end} ({why}, followed by {after} whole entries), not cut short by a run that stopped: ignored the last {ignored} bytes, and the deliveries they record are lost (their decisions may have been printed; later decisions will not count them)"
                ),
            }
            self.journal.set_len(end).map_err(io)?;
            self.journal.sync_data().map_err(io)?;
        }
        self.len = end;
        self.entries_from = from as u64;
        self.base = base;
        Ok(())
    }

    /// Appends `bytes` (whole entries) to the journal and syncs them. On an
    /// error the journal is cut back to what it held.
    ///
    /// # Errors
    /// The write or sync error.
    pub fn append(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        let written = (|| {
            self.journal.seek(SeekFrom::Start(self.len))?;
            self.journal.write_all(bytes)?;
            self.journal.sync_data()
        })();
        match written {
            Ok(()) => {
                self.len += bytes.len() as u64;
                Ok(())
            }
            Err(e) => {
                let _ = self.truncate(self.len);
                Err(e)
            }
        }
    }

    /// The journal's synced length.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// The bytes of entries in the journal.
    pub fn entry_bytes(&self) -> u64 {
        self.len - self.entries_from
    }

    /// The length of the snapshot on disk (0 for none).
    pub fn snapshot_bytes(&self) -> u64 {
        match self.base {
            Base::Empty => 0,
            Base::Snapshot { len, .. } => len,
        }
    }

    /// Cuts the journal back to `len` bytes (a length [`StateFiles::len`]
    /// had) and syncs it.
    ///
    /// # Errors
    /// The truncate or sync error.
    pub fn truncate(&mut self, len: u64) -> std::io::Result<()> {
        self.journal.set_len(len)?;
        self.journal.sync_data()?;
        self.len = len;
        Ok(())
    }

    /// Saves `state` as the new snapshot (atomically) and resets the
    /// journal to extend it. A crash between the two leaves a journal that
    /// names the old snapshot, which the next run ignores.
    ///
    /// # Errors
    /// A write, rename or sync error: the snapshot and journal on disk
    /// still hold every delivery made.
    pub fn checkpoint(
        &mut self,
        policy: &NotifyPolicy,
        state: &MemoryState,
    ) -> std::io::Result<()> {
        let bytes = state.save(policy);
        let base = Base::of(Some(&bytes));
        if base == self.base {
            // The snapshot on disk is this very state: no need to replace
            // it, and replaying the journal onto it again would count its
            // deliveries twice, so the journal must go.
            if self.entry_bytes() == 0 {
                return Ok(());
            }
        } else {
            crate::fsio::write_atomic(&self.path, &bytes)?;
        }
        self.reset(policy, base)
    }

    /// Starts the journal afresh, empty, extending the snapshot `base`.
    fn reset(&mut self, policy: &NotifyPolicy, base: Base) -> std::io::Result<()> {
        let header = journal::header(&Header {
            policy: policy.name().into(),
            version: policy.version(),
            fingerprint: journal::fingerprint(policy),
            base,
        });
        let created = self.journal.metadata()?.len() == 0;
        self.journal.set_len(0)?;
        self.journal.seek(SeekFrom::Start(0))?;
        self.journal.write_all(&header)?;
        self.journal.sync_data()?;
        if created {
            let dir = match self.journal_path.parent() {
                Some(d) if !d.as_os_str().is_empty() => d,
                _ => Path::new("."),
            };
            crate::fsio::sync_dir(dir)?;
        }
        self.len = header.len() as u64;
        self.entries_from = self.len;
        self.base = base;
        Ok(())
    }
}

/// `path` with `suffix` added to its file name.
fn beside(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Applies one journal entry to `state`; `false` for an entry that names a
/// rule keeping no state in `policy`, or a decision it could not make.
fn replay(policy: &NotifyPolicy, state: &mut MemoryState, entry: Entry) -> bool {
    match entry {
        Entry::Delivery {
            rule,
            key,
            at_ms,
            forget_through_ms,
        } => {
            let stateful = policy
                .rules()
                .get(rule as usize)
                .and_then(|r| r.span())
                .is_some();
            if stateful {
                state.record(
                    NotifyRuleIndex::new(rule),
                    KeyHash::new(key),
                    at_ms,
                    forget_through_ms,
                );
            }
            stateful
        }
        Entry::MessageId {
            id,
            at_ms,
            decision,
        } => {
            let fits = policy.message_id().is_some() && fits(policy, &decision);
            if fits {
                state.remember(MessageIdHash::new(id), at_ms, decision);
            }
            fits
        }
    }
}

/// The throttle state as a run sees it: every delivery recorded in the
/// store, and every decision remembered for a message id, is also
/// appended, as a journal entry, to `log`.
pub struct Journaling<'a> {
    /// The store.
    pub state: &'a mut MemoryState,
    /// Entries not yet written to the journal.
    pub log: &'a mut Vec<u8>,
}

impl ThrottleState for Journaling<'_> {
    fn history(&self, rule: NotifyRuleIndex, key: KeyHash) -> &[i64] {
        self.state.history(rule, key)
    }

    fn newest(&self, rule: NotifyRuleIndex, key: KeyHash) -> Option<i64> {
        self.state.newest(rule, key)
    }

    fn has_room(&self, rule: NotifyRuleIndex, key: KeyHash, at_ms: i64) -> bool {
        self.state.has_room(rule, key, at_ms)
    }

    fn decided(&self, id: MessageIdHash) -> Option<(i64, Decision)> {
        self.state.decided(id)
    }

    fn ids_forgotten(&self) -> Option<i64> {
        self.state.ids_forgotten()
    }

    fn has_room_for_id(&self, id: MessageIdHash, at_ms: i64) -> bool {
        self.state.has_room_for_id(id, at_ms)
    }

    fn remember(&mut self, id: MessageIdHash, at_ms: i64, decision: Decision) {
        self.state.remember(id, at_ms, decision);
        journal::put_entry(
            &Entry::MessageId {
                id: id.get(),
                at_ms,
                decision,
            },
            self.log,
        );
    }

    fn record(&mut self, rule: NotifyRuleIndex, key: KeyHash, at_ms: i64, forget_through_ms: i64) {
        self.state.record(rule, key, at_ms, forget_through_ms);
        journal::put_entry(
            &Entry::Delivery {
                rule: rule.get(),
                key: key.get(),
                at_ms,
                forget_through_ms,
            },
            self.log,
        );
    }
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    pub(crate) const POLICY: &str = "policy durable version 1
kind notifications
timezone \"UTC\"
field kind: enum { promo, notice }
field merchant: string
field at: timestamp
rule promo_cap when kind == promo => limit 2 per 24h by merchant
";

    pub(crate) fn policy() -> NotifyPolicy {
        crate::pipeline::notifications(POLICY)
    }

    /// A fresh directory for one test.
    pub(crate) fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("tollgate-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// Opens the state at `path` as a run does.
    fn open(policy: &NotifyPolicy, path: &Path) -> (StateFiles, MemoryState) {
        let mut files = StateFiles::open(path).unwrap();
        let snapshot = std::fs::read(path).ok();
        let mut state = match &snapshot {
            Some(bytes) => MemoryState::load(bytes, policy).unwrap(),
            None => MemoryState::new(),
        };
        files
            .recover(policy, snapshot.as_deref(), &mut state)
            .unwrap();
        (files, state)
    }

    /// Records deliveries of key 7 at `times` and appends their entries.
    fn deliver(files: &mut StateFiles, state: &mut MemoryState, times: &[i64]) {
        let mut log = Vec::new();
        let mut j = Journaling {
            state,
            log: &mut log,
        };
        for &t in times {
            j.record(0.into(), KeyHash::new(7), t, i64::MIN);
        }
        files.append(&log).unwrap();
    }

    #[test]
    fn the_journal_replays_and_a_checkpoint_folds_it_into_the_snapshot() {
        let policy = policy();
        let path = scratch("replay").join("s.state");
        let (mut files, mut state) = open(&policy, &path);
        deliver(&mut files, &mut state, &[10, 20]);
        drop(files);
        let (mut files, replayed) = open(&policy, &path);
        assert_eq!(replayed, state);
        assert_eq!(replayed.history(0.into(), KeyHash::new(7)), &[10, 20]);
        files.checkpoint(&policy, &replayed).unwrap();
        assert_eq!(files.entry_bytes(), 0);
        drop(files);
        let (_files, reloaded) = open(&policy, &path);
        assert_eq!(reloaded.history(0.into(), KeyHash::new(7)), &[10, 20]);
        let left: Vec<String> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(left.len(), 3, "{left:?}");
    }

    #[test]
    fn a_crash_between_the_snapshot_and_the_reset_counts_nothing_twice() {
        let policy = policy();
        let path = scratch("between").join("s.state");
        let (mut files, mut state) = open(&policy, &path);
        deliver(&mut files, &mut state, &[10]);
        drop(files);
        // The snapshot of the whole state is in place; the journal still
        // names "no snapshot" and holds the delivery.
        std::fs::write(&path, state.save(&policy)).unwrap();
        let (_files, reloaded) = open(&policy, &path);
        assert_eq!(reloaded.history(0.into(), KeyHash::new(7)), &[10]);
    }

    #[test]
    fn a_torn_tail_is_ignored_and_cut_away() {
        let policy = policy();
        let path = scratch("torn").join("s.state");
        let (mut files, mut state) = open(&policy, &path);
        deliver(&mut files, &mut state, &[10, 20]);
        let whole = files.len();
        drop(files);
        let journal = beside(&path, ".journal");
        let mut bytes = std::fs::read(&journal).unwrap();
        let mut next = Vec::new();
        journal::put_entry(
            &Entry::Delivery {
                rule: 0,
                key: 7,
                at_ms: 30,
                forget_through_ms: i64::MIN,
            },
            &mut next,
        );
        bytes.extend_from_slice(&next[..next.len() - 1]);
        std::fs::write(&journal, &bytes).unwrap();
        let (files, reloaded) = open(&policy, &path);
        assert_eq!(reloaded.history(0.into(), KeyHash::new(7)), &[10, 20]);
        assert_eq!(files.len(), whole);
        assert_eq!(std::fs::metadata(&journal).unwrap().len(), whole);
    }

    #[test]
    fn a_journal_of_another_policy_or_version_with_deliveries_is_refused() {
        let policy = policy();
        let path = scratch("other").join("s.state");
        let (mut files, mut state) = open(&policy, &path);
        deliver(&mut files, &mut state, &[10]);
        drop(files);
        let mut parts = policy.clone().into_parts();
        parts.name = "another".into();
        let renamed = NotifyPolicy::new(parts).unwrap();
        let mut files = StateFiles::open(&path).unwrap();
        let e = files
            .recover(&renamed, None, &mut MemoryState::new())
            .err()
            .unwrap();
        assert!(e.contains("belongs to policy `durable`"), "{e}");
        drop(files);
        let next = policy.clone().with_version(2);
        let mut files = StateFiles::open(&path).unwrap();
        let e = files
            .recover(&next, None, &mut MemoryState::new())
            .err()
            .unwrap();
        assert!(e.contains("`durable` version 1"), "{e}");
    }
}
