//! One session as the daemon holds it.
//!
//! The parameters never change after creation, so they sit outside any lock; the lifecycle
//! (state, timestamps, last use) is a small struct behind a `parking_lot::Mutex` that is never
//! held across an `.await`.

use chrono::{DateTime, Utc};
use parking_lot::Mutex;
use serde_json::json;
use shared_models::results::SimulationResults;
use shared_models::{ErrorCode, SessionInfo, SessionParams, SessionState, TerminationReason};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::time::Instant;

use super::run::RunHandle;
use crate::error::{ApiResult, api_error};

/// The mutable part of a session.
#[derive(Debug, Clone)]
pub struct Lifecycle {
    /// Current state.
    pub state: SessionState,
    /// Last change or use (wall clock, reported to users).
    pub updated_at: DateTime<Utc>,
    /// Last use (monotonic, drives the idle timeout; pausable in tests).
    pub last_activity: Instant,
    /// When the simulation started.
    pub started_at: Option<DateTime<Utc>>,
    /// When the session reached a terminal state.
    pub ended_at: Option<DateTime<Utc>>,
    /// Monotonic time of the terminal transition (drives retention).
    pub ended_instant: Option<Instant>,
    /// Why it ended.
    pub termination_reason: Option<TerminationReason>,
}

/// A session: owner, normalized parameters, and lifecycle.
#[derive(Debug)]
pub struct Session {
    /// Opaque id (UUID v4).
    pub id: Arc<str>,
    /// Owner.
    pub user_id: Arc<str>,
    /// Normalized parameters.
    pub params: SessionParams,
    /// Ticks the session will replay.
    pub bar_count: u64,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    lifecycle: Mutex<Lifecycle>,
    run: Mutex<Option<RunHandle>>,
    results: Mutex<Option<Arc<SimulationResults>>>,
    settled_ticks: AtomicU64,
}

impl Session {
    /// A new session in state `created`.
    pub fn new(id: Arc<str>, user_id: Arc<str>, params: SessionParams, bar_count: u64) -> Self {
        let now = Utc::now();
        Session {
            id,
            user_id,
            params,
            bar_count,
            created_at: now,
            lifecycle: Mutex::new(Lifecycle {
                state: SessionState::Created,
                updated_at: now,
                last_activity: Instant::now(),
                started_at: None,
                ended_at: None,
                ended_instant: None,
                termination_reason: None,
            }),
            run: Mutex::new(None),
            results: Mutex::new(None),
            settled_ticks: AtomicU64::new(0),
        }
    }

    /// The control handle of the running simulation, if one was started.
    pub fn run_handle(&self) -> Option<RunHandle> {
        self.run.lock().clone()
    }

    /// Attach the simulation's control handle.
    pub fn set_run_handle(&self, handle: RunHandle) {
        *self.run.lock() = Some(handle);
    }

    /// Stop the simulation task, if any (session deleted or expired).
    pub fn abort_run(&self) {
        if let Some(handle) = self.run.lock().take() {
            handle.abort();
        }
    }

    /// Final results, once the run has ended.
    pub fn results(&self) -> Option<Arc<SimulationResults>> {
        self.results.lock().clone()
    }

    /// Store the final results.
    pub fn set_results(&self, results: SimulationResults) {
        *self.results.lock() = Some(Arc::new(results));
    }

    /// Record simulation progress (ticks whose bar has been settled).
    pub fn set_settled_ticks(&self, n: u64) {
        self.settled_ticks.store(n, Ordering::Relaxed);
    }

    /// A copy of the lifecycle.
    pub fn lifecycle(&self) -> Lifecycle {
        self.lifecycle.lock().clone()
    }

    /// Current state.
    pub fn state(&self) -> SessionState {
        self.lifecycle.lock().state
    }

    /// Record that the owner used the session (resets the idle timer).
    pub fn touch(&self) {
        let mut l = self.lifecycle.lock();
        l.last_activity = Instant::now();
        l.updated_at = Utc::now();
    }

    /// Move to `to`, if the lifecycle allows it; terminal states record `reason`.
    ///
    /// Allowed: created → running; running ⇄ paused; any non-terminal → any terminal.
    /// Anything else answers `INVALID_STATE` and changes nothing. Returns the previous state.
    pub fn transition(
        &self,
        to: SessionState,
        reason: Option<TerminationReason>,
    ) -> ApiResult<SessionState> {
        let mut l = self.lifecycle.lock();
        let from = l.state;
        if !transition_allowed(from, to) {
            return Err(api_error(
                ErrorCode::InvalidState,
                format!("session {} is {from}; it cannot become {to}", self.id),
                json!({ "state": from, "requested": to }),
            ));
        }
        let now = Utc::now();
        l.state = to;
        l.updated_at = now;
        l.last_activity = Instant::now();
        if to == SessionState::Running && l.started_at.is_none() {
            l.started_at = Some(now);
        }
        if to.is_terminal() {
            l.ended_at = Some(now);
            l.ended_instant = Some(Instant::now());
            l.termination_reason = reason;
        }
        Ok(from)
    }

    /// The wire view. `idle_timeout` is used to report when an idle session would expire.
    pub fn info(&self, idle_timeout: Duration) -> SessionInfo {
        let l = self.lifecycle.lock().clone();
        let idle_expires_at = (matches!(l.state, SessionState::Created | SessionState::Paused))
            .then(|| {
                let left = idle_timeout.saturating_sub(l.last_activity.elapsed());
                chrono::Duration::from_std(left)
                    .ok()
                    .map(|d| Utc::now() + d)
            })
            .flatten();
        SessionInfo {
            session_id: self.id.to_string(),
            user_id: self.user_id.to_string(),
            state: l.state,
            params: self.params.clone(),
            bar_count: self.bar_count,
            created_at: self.created_at,
            updated_at: l.updated_at,
            idle_expires_at,
            started_at: l.started_at,
            ended_at: l.ended_at,
            termination_reason: l.termination_reason,
            settled_ticks: self.settled_ticks.load(Ordering::Relaxed),
        }
    }
}

/// The session state machine's edges.
pub fn transition_allowed(from: SessionState, to: SessionState) -> bool {
    use SessionState::*;
    match (from, to) {
        (Created, Running) | (Running, Paused) | (Paused, Running) => true,
        (f, t) if !f.is_terminal() && t.is_terminal() => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use SessionState::*;

    #[test]
    fn only_lifecycle_edges_are_allowed() {
        for from in SessionState::ALL {
            for to in SessionState::ALL {
                let expected = matches!(
                    (from, to),
                    (Created, Running) | (Running, Paused) | (Paused, Running)
                ) || (!from.is_terminal() && to.is_terminal());
                assert_eq!(transition_allowed(from, to), expected, "{from} -> {to}");
            }
        }
    }
}
