//! Persistence of sessions: a [`SessionStore`] receives every change of the session table
//! (through the [`Journal`] seam) plus the decisions of running simulations, and gives them
//! back at start-up so a restarted daemon has every session again.
//!
//! - [`record`] — what is stored: lifecycle records per session and run records (the
//!   client's decisions and the progress of a run); a loaded session ([`StoredSession`]) is
//!   the wire's `SessionInfo` summary plus what only the store keeps.
//! - [`file`] — [`FileStore`], the embedded store: JSON-lines journals in
//!   `<state_dir>/sessions/`, damaged ones moved to `sessions/quarantine/`.
//! - `run_log` — the buffered, write-ahead run journal of one simulation.
//! - [`health`] — `STORE_UNAVAILABLE` while the store cannot be written, probes, and the
//!   report of each failed write.
//! - [`frame`] — how each record is framed (sequence number, CRC32C) and how a journal is
//!   read back: a torn final record is cut, a bad record anywhere else is damage.
//! - [`results`] — a finished session's equity curve and trades read back on demand from its
//!   journal, with a small bounded cache.
//! - [`restore`] — turning loaded records back into sessions in the manager (deadlines
//!   re-armed or fired, running sessions paused).
//!
//! - [`postgres`] — [`PgStore`], sessions in PostgreSQL (`--store postgres://…`): the same
//!   trait over tables, the first piece of several daemons sharing one store
//!   (`docs/scaling.md`).

pub mod file;
pub mod frame;
pub mod health;
mod lifecycle_log;
pub mod postgres;
pub mod record;
mod recover;
pub mod restore;
pub mod results;
mod run_log;

pub use file::FileStore;
pub use postgres::PgStore;
pub use record::{RunRecord, StoredRun, StoredSession};

use super::journal::{Journal, NoJournal, StoreError};

/// Appends the run records of one running simulation. Records are buffered; [`RunLog::flush`]
/// hands them to the operating system (the run actor calls it before it sends anything that
/// depends on them, and before it waits for the client).
pub trait RunLog: Send + Sync {
    /// Append one record (to the buffer).
    fn append(&mut self, record: &RunRecord);
    /// Hand buffered records to the OS. On failure nothing of them is left in the file and
    /// they stay buffered: the next flush tries them again.
    fn flush(&mut self) -> Result<(), StoreError>;
    /// True while records wait in the buffer (or, for a file store, while the session has
    /// lifecycle records a failed write left unwritten).
    fn dirty(&self) -> bool;
}

/// A run log that keeps nothing.
#[derive(Debug, Default)]
pub struct NoRunLog;

impl RunLog for NoRunLog {
    fn append(&mut self, _record: &RunRecord) {}
    fn flush(&mut self) -> Result<(), StoreError> {
        Ok(())
    }
    fn dirty(&self) -> bool {
        false
    }
}

/// A store of sessions: the [`Journal`] of every change, plus loading and the run journals.
pub trait SessionStore: Journal {
    /// Every stored session, with its events and results (not its run records). A torn final
    /// record is cut; a session whose journals are bad anywhere else comes back `damaged`
    /// (see [`frame`]); only an unusable store (no directory) is an error.
    fn load(&self) -> std::io::Result<Vec<StoredSession>>;
    /// The run records of `session_id` (empty when the session never ran).
    fn load_run(&self, session_id: &str) -> StoredRun;
    /// A writer for the run records of `session_id`; `fresh` starts a new run journal.
    fn run_log(&self, session_id: &str, fresh: bool) -> Result<Box<dyn RunLog>, StoreError>;
    /// Why the store cannot be written, since its last failed write (`None` when healthy).
    fn failure(&self) -> Option<String> {
        None
    }
    /// Try a write (a small file, synced, then removed); success clears [`Self::failure`].
    fn probe(&self) -> Result<(), StoreError> {
        Ok(())
    }
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
    fn run_log(&self, _session_id: &str, _fresh: bool) -> Result<Box<dyn RunLog>, StoreError> {
        Ok(Box::new(NoRunLog))
    }
}
