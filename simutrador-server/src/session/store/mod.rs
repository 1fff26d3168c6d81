//! Persistence of sessions: a [`SessionStore`] receives every change of the session table
//! (through the [`Journal`] seam) plus the decisions of running simulations, and gives them
//! back at start-up so a restarted daemon has every session again.
//!
//! - [`record`] — what is stored: lifecycle records per session and run records (the
//!   client's decisions and the progress of a run); a loaded session ([`StoredSession`]) is
//!   the wire's `SessionInfo` summary plus what only the store keeps.
//! - [`file`] — [`FileStore`], the embedded store: JSON-lines journals in
//!   `<state_dir>/sessions/`.
//! - [`results`] — a finished session's equity curve and trades read back on demand from its
//!   journal, with a small bounded cache.
//! - [`restore`] — turning loaded records back into sessions in the manager (deadlines
//!   re-armed or fired, running sessions paused).
//!
//! The trait is what a shared store (Redis, PostgreSQL) would implement to serve several
//! daemons; see `docs/scaling.md`.

pub mod file;
pub mod record;
pub mod restore;
pub mod results;

pub use file::FileStore;
pub use record::{RunRecord, StoredRun, StoredSession};

use super::journal::{Journal, NoJournal};

/// Appends the run records of one running simulation. Writes may be buffered; [`RunLog::flush`]
/// hands them to the operating system (the run actor calls it before it waits for the client).
pub trait RunLog: Send + Sync {
    /// Append one record.
    fn append(&mut self, record: &RunRecord);
    /// Hand buffered records to the OS.
    fn flush(&mut self);
}

/// A run log that keeps nothing.
#[derive(Debug, Default)]
pub struct NoRunLog;

impl RunLog for NoRunLog {
    fn append(&mut self, _record: &RunRecord) {}
    fn flush(&mut self) {}
}

/// A store of sessions: the [`Journal`] of every change, plus loading and the run journals.
pub trait SessionStore: Journal {
    /// Every stored session, with its events and results (not its run records). Unreadable
    /// records are skipped with a warning; only an unusable store (no directory) is an error.
    fn load(&self) -> std::io::Result<Vec<StoredSession>>;
    /// The run records of `session_id` (empty when the session never ran).
    fn load_run(&self, session_id: &str) -> StoredRun;
    /// A writer for the run records of `session_id`; `fresh` starts a new run journal.
    fn run_log(&self, session_id: &str, fresh: bool) -> Box<dyn RunLog>;
    /// The whole final results of `session_id`, read back from the store (`None` when it has
    /// none, or they cannot be read). A store that returns `Some` here for a session must
    /// have released the session's in-memory copy only after writing them
    /// ([`crate::session::Session::release_results`]). Default: keeps none.
    fn load_results(&self, _session_id: &str) -> Option<std::sync::Arc<record::StoredResults>> {
        None
    }
    /// Forget results loaded on demand that were not used for a while (called by the
    /// cleanup task). Default: nothing cached.
    fn trim_results(&self) {}
}

impl SessionStore for NoJournal {
    fn load(&self) -> std::io::Result<Vec<StoredSession>> {
        Ok(Vec::new())
    }
    fn load_run(&self, _session_id: &str) -> StoredRun {
        StoredRun::default()
    }
    fn run_log(&self, _session_id: &str, _fresh: bool) -> Box<dyn RunLog> {
        Box::new(NoRunLog)
    }
}
