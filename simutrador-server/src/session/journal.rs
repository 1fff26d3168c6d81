//! The seam for persistence: every change the session module makes (a session saved, a state
//! change, an event appended, a session removed) is reported to a [`Journal`] from one place,
//! [`crate::session::SessionManager`]. The daemon's embedded store (`store::file::FileStore`)
//! implements it and writes each change to the session's journal in the state dir; a store
//! shared by several daemons would plug in here too. [`NoJournal`] keeps nothing (the default
//! hooks of a bare `SessionManager`, as unit tests use it).
//!
//! A write that fails (disk full, read-only, I/O error) is answered with a [`StoreError`]: the
//! manager counts it and refuses new sessions until the store is writable again (see
//! `docs/store.md`).

use shared_models::lifecycle::SessionEventRecord;
use shared_models::{SessionState, TerminationReason};

use super::Session;

/// A write to the session store failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct StoreError {
    /// What failed and why (`cannot write …: No space left on device`).
    pub message: String,
    /// Set when the store refused the write because another daemon sharing it owns the
    /// session now (its lease, newer than the generation this daemon holds): the daemon named
    /// here. Not a failure of the store: nothing was written, nothing is kept to retry, and
    /// the writer has lost the session (`SESSION_MOVED`, `docs/scaling.md`).
    pub moved: Option<String>,
}

impl StoreError {
    /// `what` failed with `e`.
    pub fn io(what: impl std::fmt::Display, e: &std::io::Error) -> StoreError {
        StoreError {
            message: format!("{what}: {e}"),
            moved: None,
        }
    }

    /// The write of session `session_id` was refused: daemon `owner` owns it now.
    pub fn moved(session_id: &str, owner: &str) -> StoreError {
        StoreError {
            message: format!("session {session_id} is owned by daemon {owner} now"),
            moved: Some(owner.to_string()),
        }
    }
}

/// The outcome of one journal write.
pub type StoreResult = Result<(), StoreError>;

/// Receives every change of the session table, in order per session.
pub trait Journal: Send + Sync + std::fmt::Debug {
    /// A session was created, or replaced by `update_session`.
    fn saved(&self, _session: &Session) -> StoreResult {
        Ok(())
    }
    /// A state change.
    fn transitioned(
        &self,
        _session: &Session,
        _from: SessionState,
        _to: SessionState,
        _reason: Option<TerminationReason>,
    ) -> StoreResult {
        Ok(())
    }
    /// The results a session holds in memory are to be journaled now (a completed run's,
    /// after it has sent `simulation_end`: see [`crate::session::results::ResultsSlot`]).
    fn results_ready(&self, _session: &Session) -> StoreResult {
        Ok(())
    }
    /// An event was appended to a session's log.
    fn appended(&self, _session: &Session, _event: &SessionEventRecord) -> StoreResult {
        Ok(())
    }
    /// A session was deleted or dropped after its retention.
    fn removed(&self, _session_id: &str) {}
}

/// Keeps nothing.
#[derive(Debug, Default)]
pub struct NoJournal;

impl Journal for NoJournal {}
