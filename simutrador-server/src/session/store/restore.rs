//! Start-up: the sessions of a store back into the [`SessionManager`].
//!
//! Every session comes back with its parameters, limits, state, timestamps, events, live
//! figures and results. Then the lifecycle catches up with the downtime: a session that was
//! `running` becomes `paused` (`SESSION_PAUSED`, actor `system`; its engine is rebuilt from
//! the run journal when it is resumed or ends early, by `session::run::start::rebuild`), a
//! deadline that passed while the daemon was down fires at once (`expired`, `time_limit`; a
//! run is rebuilt and flattened, with results), and the other deadlines are re-armed where they
//! were (the time limit counts wall-clock time from creation, downtime included). The idle
//! timeout and the retention of ended sessions count from the restart.

use chrono::Utc;
use shared_models::lifecycle::{Actor, EventKind};
use shared_models::{SessionState, TerminationReason};
use std::sync::Arc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::record::StoredSession;
use crate::session::events::EventLog;
use crate::session::{Lifecycle, Session, SessionManager};

/// What a restore did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RestoreReport {
    /// Sessions loaded.
    pub sessions: usize,
    /// Running sessions now paused.
    pub paused: usize,
    /// Sessions whose deadline passed during the downtime, now expired.
    pub expired: usize,
    /// Completed sessions whose results record was missing, rebuilt from their run journal.
    pub results_rebuilt: usize,
}

impl SessionManager {
    /// Put `stored` sessions (oldest first) into the table and catch up with the downtime.
    pub fn restore(&self, stored: Vec<StoredSession>) -> RestoreReport {
        let mut report = RestoreReport::default();
        let mut open = Vec::new();
        for st in stored {
            let session = Arc::new(rebuild(st));
            self.insert_restored(session.clone());
            report.sessions += 1;
            if !session.state().is_terminal() {
                open.push(session);
            } else if session.state() == SessionState::Completed
                && session.results_summary().is_none()
            {
                // Its end was journaled, its results not (see `ResultsSlot::Completing`).
                match crate::session::run::start::rebuild_results(self, &session) {
                    Ok(true) => {
                        tracing::info!(session_id = %session.id, "the results of a completed session were rebuilt from its run journal");
                        report.results_rebuilt += 1;
                    }
                    Ok(false) => {
                        tracing::warn!(session_id = %session.id, "a completed session has no results and no run journal to rebuild them from");
                    }
                    Err(e) => {
                        tracing::warn!(session_id = %session.id, "the results of a completed session cannot be rebuilt: {}", e.message);
                    }
                }
            }
        }
        for s in open {
            if s.state().is_active() {
                // Progress: what the run journal says was acknowledged.
                let acked = self.hooks.journal.load_run(&s.id).acked();
                s.set_settled_ticks(acked.max(s.settled_ticks()));
            }
            if s.state() == SessionState::Running
                && self
                    .transition_by(&s, SessionState::Paused, None, Actor::System)
                    .is_ok()
            {
                report.paused += 1;
            }
            let passed = s.deadline().is_some_and(|d| d <= Instant::now());
            if passed {
                // Its run (if any) is rebuilt and ends in its task; start-up waits for it.
                if let Some(task) = self.rebuild_restored_run(&s) {
                    self.hooks.restored_ends.lock().push(task);
                }
                let (state, reason) = (SessionState::Expired, TerminationReason::TimeLimit);
                if self
                    .terminate(&s, state, reason, Actor::System, None)
                    .is_ok()
                {
                    tracing::info!(session_id = %s.id, user_id = %s.user_id, "the time limit passed while the daemon was down; session expired");
                    report.expired += 1;
                }
            } else {
                self.schedule_deadlines(&s);
            }
        }
        report
    }
}

fn rebuild(st: StoredSession) -> Session {
    let now_wall = Utc::now();
    let now = Instant::now();
    let ago = |t: chrono::DateTime<Utc>| (now_wall - t).to_std().unwrap_or_default();
    let info = st.info;
    let base = Session::with_limits(
        Arc::from(info.session_id.as_str()),
        Arc::from(info.user_id.as_str()),
        info.params,
        info.bar_count,
        st.limits,
    )
    .with_data(st.data);
    let lifecycle = Lifecycle {
        state: info.state,
        updated_at: info.updated_at,
        last_activity: now,
        started_at: info.started_at,
        ended_at: info.ended_at,
        // Retention counts from the end when the clock allows, else from now.
        // A damaged session stays until its owner deletes it: no retention.
        ended_instant: info
            .ended_at
            .filter(|_| info.state != SessionState::Damaged)
            .map(|e| now.checked_sub(ago(e)).unwrap_or(now)),
        termination_reason: info.termination_reason,
        damage: info.damage,
        strategy: info.strategy,
        client_version: info.client_version,
    };
    let mut live = st.live;
    live.warned_time |= st
        .events
        .iter()
        .any(|e| e.kind == EventKind::TimeLimitWarning);
    live.warned_loss |= st
        .events
        .iter()
        .any(|e| e.kind == EventKind::LossLimitWarning);
    if let Some(r) = &st.results {
        live.settle(&r.metrics);
    }
    Session::restored(
        base,
        info.created_at,
        ago(info.created_at),
        lifecycle,
        EventLog::restore(st.events),
        live,
        info.settled_ticks,
        st.results,
    )
}

impl SessionManager {
    /// Rebuild the run of `s` from its journal when it is a restored paused session without
    /// a run (see [`crate::session::run::start::rebuild`]); the new task's handle.
    pub(crate) fn rebuild_restored_run(&self, s: &Arc<Session>) -> Option<JoinHandle<()>> {
        if s.run_handle().is_some() || s.state() != SessionState::Paused {
            return None;
        }
        let me = self.arc()?;
        crate::session::run::start::rebuild(&me, s)
            .inspect_err(|e| {
                tracing::warn!(session_id = %s.id, "cannot rebuild the restored run: {}", e.message);
            })
            .ok()
            .flatten()
    }

    /// Wait until the runs whose deadline passed during the downtime have ended (flattened,
    /// results stored), so start-up listens only once they are `expired`.
    pub async fn restored_ends(&self) {
        let tasks = std::mem::take(&mut *self.hooks.restored_ends.lock());
        for task in tasks {
            let _ = task.await;
        }
    }

    /// The store sessions are journaled to.
    pub fn store(&self) -> &Arc<dyn super::SessionStore> {
        &self.hooks.journal
    }
}
