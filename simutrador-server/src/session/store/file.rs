//! [`FileStore`]: the embedded store. Each session has a journal of JSON lines in
//! `<state_dir>/sessions/`: `<id>.jsonl` for its lifecycle ([`Record`]s: parameters, state
//! changes, events, results) and, while it has a simulation, `<id>.run.jsonl` for the run
//! ([`RunRecord`]s: options, the client's decisions, progress). Every line is one record
//! framed with a sequence number and a CRC32C ([`super::frame`]).
//!
//! - The `sessions/` directory is created 0700 and every journal 0600 (owner-only); the
//!   server checks and tightens the modes of the whole state dir at start.
//! - Lifecycle records are rare: each is one `write` of a whole line to a file opened in
//!   append mode, under one lock, so lines never interleave.
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

use parking_lot::Mutex;
use serde::Serialize;
use serde::de::DeserializeOwned;
use shared_models::lifecycle::SessionEventRecord;
use shared_models::{SessionState, TerminationReason};
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::frame::{self, Scan};
use super::record::{Record, RunRecord, StoredResults, StoredRun, StoredSession};
use super::{RunLog, SessionStore};
use crate::session::Session;
use crate::session::journal::{Journal, StoreError, StoreResult};

/// The folder in the state dir.
pub const DIR_NAME: &str = "sessions";
/// The folder, inside [`DIR_NAME`], holding the files of damaged sessions.
pub const QUARANTINE: &str = "quarantine";
const LIFECYCLE_EXT: &str = ".jsonl";
const RUN_EXT: &str = ".run.jsonl";
const PROBE: &str = ".probe";

/// Session journals in a directory.
#[derive(Debug)]
pub struct FileStore {
    dir: PathBuf,
    /// Serializes lifecycle appends; holds the last `seq` of each lifecycle journal.
    seqs: Mutex<HashMap<String, u64>>,
    health: Arc<Health>,
}

/// Whether the store can be written: the reason of the last failed write, until a probe.
#[derive(Debug, Default)]
struct Health(Mutex<Option<String>>);

impl Health {
    fn failed(&self, e: &StoreError) {
        let mut failure = self.0.lock();
        if failure.is_none() {
            tracing::error!(
                "the session store cannot be written; new sessions are refused until it can: {e}"
            );
        }
        *failure = Some(e.message.clone());
    }
}

impl FileStore {
    /// The store in `<state_dir>/sessions/` (created if missing).
    pub fn open(state_dir: &Path) -> std::io::Result<FileStore> {
        let dir = state_dir.join(DIR_NAME);
        private_dir(&dir)?;
        Ok(FileStore {
            dir,
            seqs: Mutex::new(HashMap::new()),
            health: Arc::default(),
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

    fn lifecycle_path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}{LIFECYCLE_EXT}"))
    }

    fn run_path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}{RUN_EXT}"))
    }

    /// Append one lifecycle record (one write of one framed line).
    pub fn append(&self, id: &str, record: &Record) -> StoreResult {
        let Some(rec) = to_json(record) else {
            return Ok(());
        };
        let mut seqs = self.seqs.lock();
        let path = self.lifecycle_path(id);
        let seq = match seqs.get(id) {
            Some(seq) => *seq,
            None => last_seq::<Record>(&path),
        } + 1;
        let line = frame::encode(seq, &rec);
        let written = private_options()
            .append(true)
            .open(&path)
            .and_then(|mut f| write_or_cut(&mut f, &line));
        match written {
            Ok(()) => {
                seqs.insert(id.to_string(), seq);
                Ok(())
            }
            Err(e) => {
                let e = StoreError::io(format!("cannot write {}", path.display()), &e);
                tracing::warn!(session_id = %id, "cannot journal a session change: {e}");
                self.health.failed(&e);
                Err(e)
            }
        }
    }

    fn remove_run(&self, id: &str) {
        remove_file(&self.run_path(id));
    }

    /// Move the files of session `id` into the quarantine folder, unchanged; the message
    /// shown to its owner.
    fn quarantine(&self, id: &str, path: &Path, damage: &frame::Damage) -> String {
        let dir = self.quarantine_dir();
        let moved = private_dir(&dir).and_then(|()| {
            for from in [self.lifecycle_path(id), self.run_path(id)] {
                let name = from.file_name().map(ToOwned::to_owned).unwrap_or_default();
                let to = dir.join(name);
                if to.exists() {
                    // Never overwrite what is already kept there.
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::AlreadyExists,
                        format!("{} already exists", to.display()),
                    ));
                }
                if from.exists() {
                    std::fs::rename(&from, to)?;
                }
            }
            Ok(())
        });
        let file = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let kept = match moved {
            Ok(()) => dir.join(file),
            Err(e) => {
                tracing::error!(session_id = %id, "cannot move a damaged journal to {}: {e}", dir.display());
                path.to_path_buf()
            }
        };
        tracing::error!(session_id = %id, path = %kept.display(), line = damage.line, "damaged session journal ({}); the session is kept as damaged and will not be resumed", damage.reason);
        damage_message(&kept, damage, &self.dir)
    }

    /// One lifecycle journal, read and recovered (a torn end cut, damage quarantined).
    fn load_one(&self, id: &str, path: &Path, quarantined: bool) -> Option<StoredSession> {
        let scan: Scan<Record> = read_scan(path, !quarantined);
        let mut damage = scan.damage.map(|d| (path.to_path_buf(), d));
        let run_path = if quarantined {
            self.quarantine_dir().join(format!("{id}{RUN_EXT}"))
        } else {
            self.run_path(id)
        };
        if damage.is_none() {
            let run: Scan<RunRecord> = read_scan(&run_path, !quarantined);
            damage = run.damage.map(|d| (run_path, d));
        }
        let message = match (&damage, quarantined) {
            (None, false) => None,
            (Some((p, d)), false) => Some(self.quarantine(id, p, d)),
            (Some((p, d)), true) => Some(damage_message(p, d, &self.dir)),
            (None, true) => Some(format!(
                "the journal {} is in quarantine; the session will not be resumed from there. \
                 Move the session's files back to {} and restart the daemon to resume it, \
                 or delete the session to discard it (docs/store.md)",
                path.display(),
                self.dir.display()
            )),
        };
        if message.is_none() {
            self.seqs.lock().insert(id.to_string(), scan.last_seq);
        }
        let Some(mut s) = StoredSession::fold(id, scan.records) else {
            match message {
                Some(m) => {
                    tracing::error!(session_id = %id, "a damaged session journal names no owner; it cannot be shown to anyone: {m}")
                }
                None => {
                    tracing::warn!(path = %path.display(), "session journal without its parameters; ignored")
                }
            }
            return None;
        };
        if let Some(message) = message {
            s.mark_damaged(message);
        }
        Some(s)
    }
}

/// What the owner of a damaged session reads.
fn damage_message(kept: &Path, damage: &frame::Damage, sessions: &Path) -> String {
    format!(
        "the journal {} is damaged at line {} ({}); the session is kept as it was and will not be resumed. \
         Inspect the file: to recover it, repair or cut that line, move the session's files back to {} and restart the daemon; \
         or delete the session to discard it (docs/store.md)",
        kept.display(),
        damage.line,
        damage.reason,
        sessions.display()
    )
}

impl Journal for FileStore {
    fn saved(&self, s: &Session) -> StoreResult {
        let record = Record::Saved {
            user_id: s.user_id.to_string(),
            params: s.params.clone(),
            bar_count: s.bar_count,
            limits: s.limits.clone(),
            created_at: s.created_at,
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
        let record = Record::State {
            from,
            to,
            reason,
            at: s.lifecycle().updated_at,
            settled_ticks: s.settled_ticks(),
            live: s.live(),
        };
        self.append(&s.id, &record)?;
        if to.is_terminal() {
            if let Some(results) = s.results() {
                let results = Box::new(StoredResults::new(&results));
                self.append(&s.id, &Record::Results { results })?;
            }
            self.remove_run(&s.id);
        }
        Ok(())
    }

    fn appended(&self, s: &Session, event: &SessionEventRecord) -> StoreResult {
        let event = event.clone();
        self.append(&s.id, &Record::Event { event })
    }

    fn removed(&self, session_id: &str) {
        let mut seqs = self.seqs.lock();
        seqs.remove(session_id);
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
        Ok(Box::new(FileRunLog {
            file,
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

/// The buffered run journal of one simulation.
struct FileRunLog {
    file: File,
    path: PathBuf,
    /// Framed records not yet written.
    buf: Vec<u8>,
    /// The last `seq` framed.
    seq: u64,
    /// The file's length after the last successful write.
    len: u64,
    health: Arc<Health>,
}

impl RunLog for FileRunLog {
    fn append(&mut self, record: &RunRecord) {
        let Some(rec) = to_json(record) else { return };
        self.seq += 1;
        self.buf.extend(frame::encode(self.seq, &rec));
    }

    fn flush(&mut self) -> Result<(), StoreError> {
        if self.buf.is_empty() {
            return Ok(());
        }
        match self.file.write_all(&self.buf) {
            Ok(()) => {
                self.len += self.buf.len() as u64;
                self.buf.clear();
                Ok(())
            }
            Err(e) => {
                // Nothing of a failed write stays in the file; the records stay buffered.
                let _ = self.file.set_len(self.len);
                let e = StoreError::io(format!("cannot write {}", self.path.display()), &e);
                self.health.failed(&e);
                Err(e)
            }
        }
    }

    fn dirty(&self) -> bool {
        !self.buf.is_empty()
    }
}

impl Drop for FileRunLog {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

/// Write `bytes` at the end of `f`; on failure cut `f` back to its length before.
fn write_or_cut(f: &mut File, bytes: &[u8]) -> std::io::Result<()> {
    let len = f.metadata()?.len();
    f.write_all(bytes).inspect_err(|_| {
        let _ = f.set_len(len);
    })
}

fn to_json<T: Serialize>(record: &T) -> Option<Vec<u8>> {
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

/// Read and scan the journal at `path` (empty when missing). With `cut`, a torn final
/// record is cut off the file (never when the journal is damaged: it is kept as it is).
pub(crate) fn read_scan<T: DeserializeOwned>(path: &Path, cut: bool) -> Scan<T> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) => {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(path = %path.display(), "cannot read a journal: {e}");
            }
            return frame::scan(&[]);
        }
    };
    let scan = frame::scan(&bytes);
    if let Some(why) = scan.torn.as_ref().filter(|_| cut && scan.damage.is_none()) {
        tracing::warn!(
            path = %path.display(),
            bytes = bytes.len() - scan.keep,
            "the journal ends with a torn record (a write cut short by a crash); cut off: {why}"
        );
        let cut = OpenOptions::new()
            .write(true)
            .open(path)
            .and_then(|f| f.set_len(scan.keep as u64));
        if let Err(e) = cut {
            tracing::warn!(path = %path.display(), "cannot cut the torn record: {e}");
        }
    }
    scan
}

/// Create `dir` owner-only (0700 on Unix) if missing.
fn private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Options that create a journal owner-only (0600 on Unix); the caller adds the access mode.
fn private_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    options.create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
}

#[cfg(test)]
#[path = "file_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "fuzz_tests.rs"]
mod fuzz_tests;
