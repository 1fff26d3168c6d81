//! The seam for persistence: every change the session module makes (a session saved, a state
//! change, an event appended, a session removed) is reported to a [`Journal`] from one place,
//! [`crate::session::SessionManager`]. The daemon's embedded store (`store::file::FileStore`)
//! implements it and writes each change to the session's journal in the state dir; a store
//! shared by several daemons would plug in here too. [`NoJournal`] keeps nothing (the default
//! hooks of a bare `SessionManager`, as unit tests use it).

use shared_models::lifecycle::SessionEventRecord;
use shared_models::{SessionState, TerminationReason};

use super::Session;

/// Receives every change of the session table, in order per session.
pub trait Journal: Send + Sync + std::fmt::Debug {
    /// A session was created, or replaced by `update_session`.
    fn saved(&self, _session: &Session) {}
    /// A state change.
    fn transitioned(
        &self,
        _session: &Session,
        _from: SessionState,
        _to: SessionState,
        _reason: Option<TerminationReason>,
    ) {
    }
    /// An event was appended to a session's log.
    fn appended(&self, _session: &Session, _event: &SessionEventRecord) {}
    /// A session was deleted or dropped after its retention.
    fn removed(&self, _session_id: &str) {}
}

/// Keeps nothing.
#[derive(Debug, Default)]
pub struct NoJournal;

impl Journal for NoJournal {}
