//! [`FileStore`]: the embedded store. Each session has a journal of JSON lines in
//! `<state_dir>/sessions/`: `<id>.jsonl` for its lifecycle ([`Record`]s: parameters, state
//! changes, events, results) and, while it has a simulation, `<id>.run.jsonl` for the run
//! ([`RunRecord`]s: options, the client's decisions, progress).
//!
//! - The `sessions/` directory is created 0700 and every journal 0600 (owner-only); the
//!   server checks and tightens the modes of the whole state dir at start.
//! - Lifecycle records are rare: each is one `write` of a whole line to a file opened in
//!   append mode, under one lock, so lines never interleave.
//! - Run records go through a buffered writer owned by the run actor, flushed before the actor
//!   waits for the client (so at least once per batch of acknowledgements).
//! - Nothing calls `fsync`: data handed to the OS survives a crash of the daemon (`kill -9`),
//!   not a power loss or a kernel crash, which may lose the last records (a journal is then
//!   shorter, never inconsistent: see `docs/session-lifecycle.md`).
//! - A line cut short by a crash is ignored with a warning and cut off the file before the
//!   next append; an unreadable line in the middle is skipped with a warning. Never a panic.
//! - Deleting a session (or dropping it after retention) deletes both files; a session that
//!   ended keeps its results and drops its run journal (compaction).
//! - The `results` record is the one durable copy of a finished session's results: once it
//!   is written the session keeps only their summary in memory, and the equity curve and
//!   trades are read back from this file on demand ([`super::results`]).

use parking_lot::Mutex;
use serde::Serialize;
use serde::de::DeserializeOwned;
use shared_models::lifecycle::SessionEventRecord;
use shared_models::{SessionState, TerminationReason};
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::record::{Record, RunRecord, StoredResults, StoredRun, StoredSession};
use super::results::{ResultsCache, last_results};
use super::{RunLog, SessionStore};
use crate::session::Session;
use crate::session::journal::Journal;
use crate::session::results::ResultsSlot;
use std::sync::Arc;

/// The folder in the state dir.
pub const DIR_NAME: &str = "sessions";
const LIFECYCLE_EXT: &str = ".jsonl";
const RUN_EXT: &str = ".run.jsonl";

/// Session journals in a directory.
#[derive(Debug)]
pub struct FileStore {
    dir: PathBuf,
    lock: Mutex<()>,
    results: ResultsCache,
}

impl FileStore {
    /// The store in `<state_dir>/sessions/` (created if missing).
    pub fn open(state_dir: &Path) -> std::io::Result<FileStore> {
        let dir = state_dir.join(DIR_NAME);
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(&dir)?;
        Ok(FileStore {
            dir,
            lock: Mutex::new(()),
            results: ResultsCache::default(),
        })
    }

    /// The directory holding the journals.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn lifecycle_path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}{LIFECYCLE_EXT}"))
    }

    fn run_path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}{RUN_EXT}"))
    }

    /// Append one lifecycle record (one write of one line).
    pub fn append(&self, id: &str, record: &Record) {
        let _ = self.try_append(id, record);
    }

    /// Append one lifecycle record; false (after a warning) when it was not written.
    fn try_append(&self, id: &str, record: &Record) -> bool {
        let Some(line) = to_line(record) else {
            return false;
        };
        let _guard = self.lock.lock();
        let path = self.lifecycle_path(id);
        let written = private_options()
            .append(true)
            .open(&path)
            .and_then(|mut f| f.write_all(&line));
        if let Err(e) = &written {
            tracing::warn!(session_id = %id, path = %path.display(), "cannot journal a session change: {e}");
        }
        written.is_ok()
    }

    /// Loaded results kept in memory now (for tests and measurements).
    pub fn cached_results(&self) -> usize {
        self.results.len()
    }

    fn remove_run(&self, id: &str) {
        remove_file(&self.run_path(id));
    }
}

impl Journal for FileStore {
    fn saved(&self, s: &Session) {
        let record = Record::Saved {
            user_id: s.user_id.to_string(),
            params: s.params.clone(),
            bar_count: s.bar_count,
            limits: s.limits.clone(),
            created_at: s.created_at,
        };
        self.append(&s.id, &record);
    }

    fn transitioned(
        &self,
        s: &Session,
        from: SessionState,
        to: SessionState,
        reason: Option<TerminationReason>,
    ) {
        let record = Record::State {
            from,
            to,
            reason,
            at: s.lifecycle().updated_at,
            settled_ticks: s.settled_ticks(),
            live: s.live(),
        };
        self.append(&s.id, &record);
        if to.is_terminal() {
            if let ResultsSlot::Held(results) = s.results_slot() {
                let results = Box::new(StoredResults::clone(&results));
                // On disk now: the session keeps only the summary (see `super::results`).
                if self.try_append(&s.id, &Record::Results { results }) {
                    s.release_results();
                }
            }
            self.remove_run(&s.id);
        }
    }

    fn appended(&self, s: &Session, event: &SessionEventRecord) {
        let event = event.clone();
        self.append(&s.id, &Record::Event { event });
    }

    fn removed(&self, session_id: &str) {
        self.results.remove(session_id);
        let _guard = self.lock.lock();
        remove_file(&self.lifecycle_path(session_id));
        remove_file(&self.run_path(session_id));
    }
}

impl SessionStore for FileStore {
    fn load(&self) -> std::io::Result<Vec<StoredSession>> {
        let mut sessions = Vec::new();
        for entry in std::fs::read_dir(&self.dir)? {
            let path = entry?.path();
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            if name.ends_with(RUN_EXT) {
                continue;
            }
            let Some(id) = name.strip_suffix(LIFECYCLE_EXT) else {
                continue;
            };
            if uuid::Uuid::parse_str(id).is_err() {
                tracing::warn!(path = %path.display(), "not a session journal; ignored");
                continue;
            }
            let records: Vec<Record> = read_lines(&path);
            match StoredSession::fold(id, records) {
                Some(s) => sessions.push(s),
                None => {
                    tracing::warn!(path = %path.display(), "session journal without its parameters; ignored")
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
        StoredRun::from_records(read_lines::<RunRecord>(&self.run_path(session_id)))
    }

    fn load_results(&self, session_id: &str) -> Option<Arc<StoredResults>> {
        let now = tokio::time::Instant::now();
        if let Some(r) = self.results.get(session_id, now) {
            return Some(r);
        }
        let path = self.lifecycle_path(session_id);
        // Read under the lock, so no append is half-written; parse after it.
        let bytes = {
            let _guard = self.lock.lock();
            std::fs::read(&path)
        };
        let results = match bytes {
            Ok(bytes) => last_results(&bytes),
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

    fn run_log(&self, session_id: &str, fresh: bool) -> Box<dyn RunLog> {
        let path = self.run_path(session_id);
        let file = if fresh {
            private_options().write(true).truncate(true).open(&path)
        } else {
            private_options().append(true).open(&path)
        };
        match file {
            Ok(file) => Box::new(FileRunLog {
                writer: BufWriter::with_capacity(64 * 1024, file),
                session_id: session_id.to_string(),
                failed: false,
            }),
            Err(e) => {
                tracing::warn!(session_id, path = %path.display(), "cannot open the run journal; this run will not survive a restart: {e}");
                Box::new(super::NoRunLog)
            }
        }
    }
}

/// The buffered run journal of one simulation.
struct FileRunLog {
    writer: BufWriter<File>,
    session_id: String,
    failed: bool,
}

impl FileRunLog {
    fn failed(&mut self, e: std::io::Error) {
        if !self.failed {
            self.failed = true;
            tracing::warn!(session_id = %self.session_id, "cannot write the run journal: {e}");
        }
    }
}

impl RunLog for FileRunLog {
    fn append(&mut self, record: &RunRecord) {
        let Some(line) = to_line(record) else { return };
        if let Err(e) = self.writer.write_all(&line) {
            self.failed(e);
        }
    }

    fn flush(&mut self) {
        if let Err(e) = self.writer.flush() {
            self.failed(e);
        }
    }
}

impl Drop for FileRunLog {
    fn drop(&mut self) {
        let _ = self.writer.flush();
    }
}

fn to_line<T: Serialize>(record: &T) -> Option<Vec<u8>> {
    match serde_json::to_vec(record) {
        Ok(mut line) => {
            line.push(b'\n');
            Some(line)
        }
        Err(e) => {
            tracing::warn!("cannot encode a journal record: {e}");
            None
        }
    }
}

fn remove_file(path: &Path) {
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => tracing::warn!(path = %path.display(), "cannot delete a journal: {e}"),
    }
}

/// Every readable record of a journal. A last line without its newline (a write cut short by
/// a crash) is ignored and cut off the file, so the next append starts on a fresh line.
pub(crate) fn read_lines<T: DeserializeOwned>(path: &Path) -> Vec<T> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
        Err(e) => {
            tracing::warn!(path = %path.display(), "cannot read a journal: {e}");
            return Vec::new();
        }
    };
    let complete = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    if complete < bytes.len() {
        tracing::warn!(
            path = %path.display(),
            bytes = bytes.len() - complete,
            "the journal ends with an incomplete line (a write cut short by a crash); ignored"
        );
        let cut = OpenOptions::new()
            .write(true)
            .open(path)
            .and_then(|f| f.set_len(complete as u64));
        if let Err(e) = cut {
            tracing::warn!(path = %path.display(), "cannot cut the incomplete line: {e}");
        }
    }
    let mut out = Vec::new();
    for (n, line) in bytes[..complete].split(|b| *b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice(line) {
            Ok(record) => out.push(record),
            Err(e) => {
                tracing::warn!(path = %path.display(), line = n + 1, "unreadable journal line; skipped: {e}")
            }
        }
    }
    out
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
