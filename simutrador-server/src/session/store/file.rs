//! [`FileStore`]: the embedded store. Each session has a journal of JSON lines in
//! `<state_dir>/sessions/`: `<id>.jsonl` for its lifecycle ([`Record`]s: parameters, state
//! changes, events, results) and, while it has a simulation, `<id>.run.jsonl` for the run
//! ([`RunRecord`]s: options, the client's decisions, progress). Every line is one record
//! framed with a sequence number and a CRC32C ([`super::frame`]).
//!
//! - The `sessions/` directory is created 0700 and every journal 0600 (owner-only); the
//!   server checks and tightens the modes of the whole state dir at start.
//! - Lifecycle records are rare: each is a whole line appended to a file opened in append
//!   mode, under one lock, so lines never interleave. A record is serialized once (its JSON
//!   is checksummed and written through a 64 KiB buffer, the line never built: for a
//!   million-point results record that saves a copy); a crash in the middle of one leaves a
//!   torn final record, cut at the next start. A line that
//!   cannot be written is kept and written first next time ([`super::lifecycle_log`]); until
//!   then the session's run, if it has one, sends nothing more and pauses with reason
//!   `store_error`.
//! - Run records are buffered by the run actor's [`RunLog`] and written before anything that
//!   depends on them is sent (write ahead), and before the actor waits for the client.
//! - A failed write (ENOSPC, EROFS, EIO) leaves nothing of itself in the file (it is cut back
//!   to its length before the write), is answered with a [`StoreError`], and marks the store
//!   failed ([`SessionStore::failure`]) until a probe write succeeds ([`SessionStore::probe`]).
//! - Nothing calls `fsync` on journals: data handed to the OS survives a crash of the daemon
//!   (`kill -9`), not a power loss or a kernel crash, which may lose or tear the last records
//!   (a torn final record is cut at the next start: see `docs/store.md`).
//! - At start ([`SessionStore::load`]) a journal with a bad record before its end is damaged:
//!   both of the session's files are moved, unchanged, to `sessions/quarantine/`, and the
//!   session comes back `damaged` with a message naming the file and the line. Never a panic.
//! - Deleting a session (or dropping it after retention) deletes its files (quarantined ones
//!   included); a session that ended keeps its results and drops its run journal.
//! - The `results` record is the one durable copy of a finished session's results: once it
//!   is written the session keeps only their summary in memory, and the equity curve and
//!   trades are read back from this file on demand ([`super::results`]).

use parking_lot::Mutex;
use serde::Serialize;
use serde::de::DeserializeOwned;
use shared_models::lifecycle::SessionEventRecord;
use shared_models::{SessionState, TerminationReason};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::frame::{self, Scan};
use super::lifecycle_log::{LifecycleRef, private_options};
use super::record::{Record, RecordRef, RunRecord, StoredResults, StoredRun, StoredSession};
use super::recover::read_scan;
use super::results::{ResultsCache, last_results};
use super::{RunLog, SessionStore};
use crate::session::Session;
use crate::session::journal::{Journal, StoreError, StoreResult};
use crate::session::results::ResultsSlot;

/// The folder in the state dir.
pub const DIR_NAME: &str = "sessions";
/// The folder, inside [`DIR_NAME`], holding the files of damaged sessions.
pub const QUARANTINE: &str = "quarantine";
const LIFECYCLE_EXT: &str = ".jsonl";
pub(super) const RUN_EXT: &str = ".run.jsonl";
const PROBE: &str = ".probe";

/// Session journals in a directory.
#[derive(Debug)]
pub struct FileStore {
    pub(super) dir: PathBuf,
    /// Serializes lifecycle appends; holds the last `seq` of each lifecycle journal and the
    /// lines not written yet.
    pub(super) lifecycle: LifecycleRef,
    pub(super) health: Arc<Health>,
    results: ResultsCache,
}

/// Whether the store can be written: the reason of the last failed write, until a probe.
#[derive(Debug, Default)]
pub(super) struct Health(Mutex<Option<String>>);

impl Health {
    pub(super) fn failed(&self, e: &StoreError) {
        if e.moved.is_some() {
            return; // refused by a lease, not a failure of the store
        }
        let mut failure = self.0.lock();
        if failure.is_none() {
            tracing::error!(
                "the session store cannot be written; new sessions are refused until it can: {e}"
            );
        }
        *failure = Some(e.message.clone());
    }

    /// The reason of the last failed write, until a probe clears it.
    pub(super) fn reason(&self) -> Option<String> {
        self.0.lock().clone()
    }

    /// Healthy again; true when it had failed.
    pub(super) fn clear(&self) -> bool {
        self.0.lock().take().is_some()
    }
}

impl FileStore {
    /// The store in `<state_dir>/sessions/` (created if missing).
    pub fn open(state_dir: &Path) -> std::io::Result<FileStore> {
        let dir = state_dir.join(DIR_NAME);
        private_dir(&dir)?;
        Ok(FileStore {
            dir,
            lifecycle: LifecycleRef::default(),
            health: Arc::default(),
            results: ResultsCache::default(),
        })
    }

    /// The directory holding the journals.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The directory holding damaged sessions' files.
    pub fn quarantine_dir(&self) -> PathBuf {
        self.dir.join(QUARANTINE)
    }

    pub(super) fn lifecycle_path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}{LIFECYCLE_EXT}"))
    }

    pub(super) fn run_path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}{RUN_EXT}"))
    }

    /// Append one lifecycle record ([`Record`], or a [`RecordRef`] that serializes as one,
    /// so a results record is not cloned to be written): one framed line, serialized once and
    /// written through a buffer without building the line.
    pub fn append<R: Serialize>(&self, id: &str, record: &R) -> StoreResult {
        self.append_to(id, record, false)
    }

    /// [`FileStore::append`], unless `existing` and the session's journal is gone (deleted
    /// while the record was on its way): nothing is written then, rather than a new journal
    /// that holds only this record.
    fn append_to<R: Serialize>(&self, id: &str, record: &R, existing: bool) -> StoreResult {
        // Serialized once: the checksum and the write both read these bytes (serializing a
        // results record twice, once to sum it and once to write it, cost more than the copy).
        let Some(rec) = to_json(record) else {
            return Ok(());
        };
        let mut lifecycle = self.lifecycle.lock();
        let path = self.lifecycle_path(id);
        let seq = match lifecycle.seqs.get(id) {
            Some(seq) => *seq,
            None if existing && !path.exists() => return Ok(()),
            None => last_seq::<Record>(&path),
        } + 1;
        // The line keeps its `seq` whether it is written now or later.
        lifecycle.seqs.insert(id.to_string(), seq);
        match self
            .lifecycle
            .write_record(&mut lifecycle, id, &path, seq, &rec)
        {
            Ok(()) => Ok(()),
            Err(e) => {
                let e = StoreError::io(format!("cannot write {}", path.display()), &e);
                tracing::warn!(session_id = %id, "cannot journal a session change (kept, written once the store can be written): {e}");
                self.health.failed(&e);
                Err(e)
            }
        }
    }

    /// Write every session's unwritten lifecycle lines (after a successful probe).
    fn write_unwritten(&self) -> StoreResult {
        let mut lifecycle = self.lifecycle.lock();
        for id in self.lifecycle.unwritten_ids(&lifecycle) {
            let path = self.lifecycle_path(&id);
            if let Err(e) = self.lifecycle.write_unwritten(&mut lifecycle, &id, &path) {
                let e = StoreError::io(format!("cannot write {}", path.display()), &e);
                self.health.failed(&e);
                return Err(e);
            }
            tracing::info!(session_id = %id, "session changes kept while the store failed are written");
        }
        Ok(())
    }

    /// Loaded results kept in memory now (for tests and measurements).
    pub fn cached_results(&self) -> usize {
        self.results.len()
    }

    /// Forget cached results idle at `now` (tests; the cleanup task uses `trim_results`).
    pub fn trim_results_at(&self, now: tokio::time::Instant) {
        self.results.trim(now);
    }

    /// Append the results record of `s` (`held`); once the session's end is on disk, keep
    /// only the summary in memory (the results start in the bounded cache: the client that
    /// ran it asks for them next) and delete its run journal. Until then the session keeps
    /// its results and its run journal (a restart before then rebuilds the run).
    fn journal_results(&self, s: &Session, held: Arc<StoredResults>) -> StoreResult {
        let written = self.append_to(&s.id, &RecordRef::Results { results: &held }, true);
        if !self.lifecycle.has_unwritten(&s.id) {
            s.release_results();
            self.results.put(&s.id, held, tokio::time::Instant::now());
            self.remove_run(&s.id);
        }
        written
    }

    fn remove_run(&self, id: &str) {
        remove_file(&self.run_path(id));
    }
}

impl Journal for FileStore {
    fn saved(&self, s: &Session) -> StoreResult {
        let record = Record::Saved {
            user_id: s.user_id.to_string(),
            params: s.params.clone(),
            bar_count: s.bar_count,
            limits: s.limits.clone(),
            created_at: s.created_at,
            data: s.data.clone(),
        };
        self.append(&s.id, &record)
    }

    fn transitioned(
        &self,
        s: &Session,
        from: SessionState,
        to: SessionState,
        reason: Option<TerminationReason>,
    ) -> StoreResult {
        let lifecycle = s.lifecycle();
        // What runs is kept with the start, once.
        let (strategy, client_version) = if from == SessionState::Created {
            (lifecycle.strategy, lifecycle.client_version)
        } else {
            (None, None)
        };
        let record = Record::State {
            from,
            to,
            reason,
            at: lifecycle.updated_at,
            settled_ticks: s.settled_ticks(),
            live: s.live(),
            strategy,
            client_version,
        };
        let written = self.append(&s.id, &record);
        if to.is_terminal() {
            // Appended even when the state was not written: kept after it, in order. A
            // completed run's results (`Completing`) are journaled by `results_ready`.
            match s.results_slot() {
                ResultsSlot::Held(held) => {
                    let _ = self.journal_results(s, held);
                }
                // Its run journal stays until they are written.
                ResultsSlot::Completing(_) => {}
                _ if !self.lifecycle.has_unwritten(&s.id) => self.remove_run(&s.id),
                _ => {}
            }
        }
        written
    }

    fn results_ready(&self, s: &Session) -> StoreResult {
        match s.results_slot() {
            ResultsSlot::Held(held) | ResultsSlot::Completing(held) => {
                self.journal_results(s, held)
            }
            _ => Ok(()),
        }
    }

    fn appended(&self, s: &Session, event: &SessionEventRecord) -> StoreResult {
        let event = event.clone();
        self.append(&s.id, &Record::Event { event })
    }

    fn removed(&self, session_id: &str) {
        self.results.remove(session_id);
        let mut lifecycle = self.lifecycle.lock();
        self.lifecycle.forget(&mut lifecycle, session_id);
        remove_file(&self.lifecycle_path(session_id));
        remove_file(&self.run_path(session_id));
        let quarantine = self.quarantine_dir();
        remove_file(&quarantine.join(format!("{session_id}{LIFECYCLE_EXT}")));
        remove_file(&quarantine.join(format!("{session_id}{RUN_EXT}")));
    }
}

impl SessionStore for FileStore {
    fn load(&self) -> std::io::Result<Vec<StoredSession>> {
        let mut sessions = Vec::new();
        // Ids met so far: a journal moved to quarantine by this load is not read twice.
        let mut seen = std::collections::HashSet::new();
        let quarantine = self.quarantine_dir();
        for (dir, quarantined) in [(self.dir.clone(), false), (quarantine, true)] {
            let entries = match std::fs::read_dir(&dir) {
                Ok(entries) => entries,
                Err(e) if quarantined && e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            for entry in entries {
                let path = entry?.path();
                let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                    continue;
                };
                if name.ends_with(RUN_EXT) || !path.is_file() {
                    continue;
                }
                let Some(id) = name.strip_suffix(LIFECYCLE_EXT) else {
                    continue;
                };
                if uuid::Uuid::parse_str(id).is_err() {
                    tracing::warn!(path = %path.display(), "not a session journal; ignored");
                    continue;
                }
                if seen.contains(id) {
                    continue;
                }
                if let Some(s) = self.load_one(id, &path, quarantined) {
                    seen.insert(id.to_string());
                    sessions.push(s);
                }
            }
        }
        sessions.sort_by(|a, b| {
            let (a, b) = (&a.info, &b.info);
            a.created_at
                .cmp(&b.created_at)
                .then(a.session_id.cmp(&b.session_id))
        });
        Ok(sessions)
    }

    fn load_run(&self, session_id: &str) -> StoredRun {
        let path = self.run_path(session_id);
        let scan: Scan<RunRecord> = read_scan(&path, true);
        if let Some(d) = scan.damage {
            // Checked at start; a file changed under the daemon since. Rebuild nothing.
            tracing::error!(session_id, path = %path.display(), line = d.line, "damaged run journal; not replayed: {}", d.reason);
            return StoredRun::default();
        }
        StoredRun::from_records(scan.records)
    }

    fn load_results(&self, session_id: &str) -> Option<Arc<StoredResults>> {
        let now = tokio::time::Instant::now();
        if let Some(r) = self.results.get(session_id, now) {
            return Some(r);
        }
        let path = self.lifecycle_path(session_id);
        // Read under the lock, so no append is half-written; parse after it.
        let bytes = {
            let _guard = self.lifecycle.lock();
            std::fs::read(&path)
        };
        let results = match bytes {
            Ok(bytes) => last_results(&bytes).map(StoredResults::with_drawdown),
            Err(e) => {
                tracing::warn!(session_id, path = %path.display(), "cannot read the stored results: {e}");
                return None;
            }
        };
        let Some(results) = results else {
            tracing::warn!(session_id, path = %path.display(), "the journal has no readable results record");
            return None;
        };
        let results = Arc::new(results);
        self.results.put(session_id, results.clone(), now);
        Some(results)
    }

    fn trim_results(&self) {
        self.results.trim(tokio::time::Instant::now());
    }

    fn run_log(&self, session_id: &str, fresh: bool) -> Result<Box<dyn RunLog>, StoreError> {
        let path = self.run_path(session_id);
        let (file, seq) = if fresh {
            (private_options().write(true).truncate(true).open(&path), 0)
        } else {
            let seq = last_seq::<RunRecord>(&path);
            (private_options().append(true).open(&path), seq)
        };
        let file = file.map_err(|e| {
            let e = StoreError::io(format!("cannot open {}", path.display()), &e);
            self.health.failed(&e);
            e
        })?;
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        Ok(Box::new(super::run_log::FileRunLog {
            file,
            lifecycle_path: self.lifecycle_path(session_id),
            id: session_id.to_string(),
            lifecycle: self.lifecycle.clone(),
            path,
            buf: Vec::with_capacity(64 * 1024),
            seq,
            len,
            health: self.health.clone(),
        }))
    }

    fn failure(&self) -> Option<String> {
        self.health.0.lock().clone()
    }

    fn probe(&self) -> Result<(), StoreError> {
        let path = self.dir.join(PROBE);
        let written = private_options()
            .write(true)
            .truncate(true)
            .open(&path)
            .and_then(|mut f| {
                f.write_all(&[b'.'; 4096])?;
                f.sync_all()
            });
        let _ = std::fs::remove_file(&path);
        match written {
            Ok(()) => {
                self.write_unwritten()?;
                if self.health.0.lock().take().is_some() {
                    tracing::info!("the session store can be written again");
                }
                Ok(())
            }
            Err(e) => {
                let e = StoreError::io(format!("cannot write {}", path.display()), &e);
                self.health.failed(&e);
                Err(e)
            }
        }
    }
}

pub(super) fn to_json<T: Serialize>(record: &T) -> Option<Vec<u8>> {
    serde_json::to_vec(record)
        .inspect_err(|e| tracing::warn!("cannot encode a journal record: {e}"))
        .ok()
}

fn remove_file(path: &Path) {
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => tracing::warn!(path = %path.display(), "cannot delete a journal: {e}"),
    }
}

/// The last `seq` of the journal at `path` (0 when it is missing or has no framed record).
fn last_seq<T: DeserializeOwned>(path: &Path) -> u64 {
    match std::fs::read(path) {
        Ok(bytes) => frame::scan::<T>(&bytes).last_seq,
        Err(_) => 0,
    }
}

/// Create `dir` owner-only (0700 on Unix) if missing.
pub(super) fn private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

#[cfg(test)]
#[path = "file_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "fuzz_tests.rs"]
mod fuzz_tests;
