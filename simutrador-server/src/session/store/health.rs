//! The session layer's side of store failures: the checks that refuse new work with
//! `STORE_UNAVAILABLE` while the store cannot be written (probing it, so they pass again as
//! soon as it can), and the report of each failed write to the [`SessionObserver`]
//! (the daemon's metrics). See `docs/store.md`.
//!
//! [`SessionObserver`]: crate::session::hooks::SessionObserver

use serde_json::json;
use shared_models::ErrorCode;

use crate::error::{ApiResult, api_error};
use crate::session::SessionManager;

impl SessionManager {
    /// `STORE_UNAVAILABLE` while the store cannot be written. After a failed write every
    /// check probes the store (one small synced write), so creation comes back as soon as
    /// the store can be written again.
    pub fn check_store(&self) -> ApiResult<()> {
        if self.hooks.journal.failure().is_none() {
            return Ok(());
        }
        self.hooks.journal.probe().map_err(|e| {
            self.store_failed(&e);
            store_unavailable(&e.message)
        })
    }

    /// A journal write failed: count it (the daemon's metrics). The store remembers the
    /// failure until a probe succeeds.
    pub(crate) fn store_failed(&self, e: &crate::session::journal::StoreError) {
        if let Some(owner) = &e.moved {
            // Not a failure of the store: another daemon owns the session now.
            tracing::warn!(owner = %owner, "session write refused: {e}");
            return;
        }
        tracing::warn!("session store write failed: {e}");
        self.hooks
            .observer
            .observe(crate::session::hooks::SessionEvent::StoreFailed);
    }

    /// Why the store cannot be written, when it cannot (probing it again first, so the
    /// answer is current). For `/healthz`.
    pub fn store_failure(&self) -> Option<String> {
        self.check_store().err().map(|e| e.message)
    }
}

/// What a client is told when the store refused `e` for `session_id`: `SESSION_MOVED` when
/// another daemon owns the session, else `STORE_UNAVAILABLE`.
pub(crate) fn refusal(
    session_id: &str,
    e: &crate::session::journal::StoreError,
) -> crate::error::ApiError {
    match &e.moved {
        Some(owner) => session_moved(session_id, owner),
        None => store_unavailable(&e.message),
    }
}

/// `SESSION_MOVED`: daemon `owner` owns session `session_id` (its lease is live, or it took
/// the lease from this daemon).
pub(crate) fn session_moved(session_id: &str, owner: &str) -> crate::error::ApiError {
    api_error(
        ErrorCode::SessionMoved,
        format!(
            "session {session_id} is run by another daemon ({owner}) sharing this store; \
             resume it there, or here once that daemon's lease has lapsed"
        ),
        json!({ "session_id": session_id, "owner": owner }),
    )
}

/// `STORE_UNAVAILABLE` with the store's `reason`.
pub(crate) fn store_unavailable(reason: &str) -> crate::error::ApiError {
    api_error(
        ErrorCode::StoreUnavailable,
        format!(
            "the daemon cannot write its session store ({reason}); nothing new is accepted until it can. \
             Free space or fix the state directory; the daemon retries on every request"
        ),
        json!({ "reason": reason }),
    )
}
