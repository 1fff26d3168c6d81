//! The one place where sessions change: state transitions, event-log appends, warnings,
//! halts, early ends, updates before the start and deadlines. Each change is recorded in the
//! session's event log, reported to the [`Journal`](super::journal::Journal) (the seam for a
//! persistent store), written to the audit log when it is a user request or an automated
//! action, and pushed to the owner's connections or the session's subscribers.

use serde_json::{Value, json};
use shared_models::lifecycle::{
    Actor, EventKind, SessionEventRecord, SessionStatsUpdate, SessionTerminated, SessionWarning,
    WarningKind,
};
use shared_models::{ErrorCode, ServerMessage, SessionParams, SessionState, TerminationReason};
use simutrador_engine::HaltEvent;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

use super::hooks::SessionObserver;
use super::limits::RiskLimits;
use super::live::{StatsContext, stats_update};
use super::monitor::Monitor;
use super::outbound::OutboundTx;
use super::run::{ReplyTo, Terminate};
use super::timers::{TimerKind, TimerQueue};
use super::{Session, SessionManager};
use crate::audit::AuditEntry;
use crate::error::{ApiResult, api_error};
use crate::market_data::DataFingerprint;

impl SessionManager {
    /// Owner connections and subscriptions.
    pub fn monitor(&self) -> &Arc<Monitor> {
        &self.hooks.monitor
    }

    /// Who hears about background jobs (the daemon's metrics).
    pub fn observer(&self) -> &Arc<dyn SessionObserver> {
        &self.hooks.observer
    }

    /// Retries of a failed background job.
    pub fn job_retries(&self) -> u32 {
        self.hooks.job_retries
    }

    /// Interval of `session_stats_update`.
    pub fn stats_interval(&self) -> Duration {
        self.hooks.stats_interval
    }

    /// The deadline queue, for the timer task (once).
    pub fn take_timer_queue(&self) -> Option<TimerQueue> {
        self.hooks.timer_queue.lock().take()
    }

    /// Append an event to the session's log (the only way events are appended).
    pub fn record(
        &self,
        s: &Session,
        kind: EventKind,
        actor: Actor,
        data: Value,
    ) -> SessionEventRecord {
        let event = s.events.lock().append(kind, actor, data);
        if let Err(e) = self.hooks.journal.appended(s, &event) {
            self.store_failed(&e);
        }
        event
    }

    /// Write an audit entry in a background task of [`SessionManager::tasks`] (retried,
    /// reported as job `audit`), so a graceful shutdown waits for it.
    pub fn audit(
        &self,
        actor: Actor,
        user_id: &str,
        action: &str,
        session_id: Option<&str>,
        details: Value,
    ) {
        let Some(log) = self.hooks.audit.clone() else {
            return;
        };
        let entry = AuditEntry::now(&actor.to_string(), user_id, action, session_id, details);
        let observer = self.hooks.observer.clone();
        let retries = self.hooks.job_retries;
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                let job = async move {
                    let due = Instant::now();
                    let _ = super::jobs::run_job(&*observer, "audit", retries, due, || {
                        log.append(&entry).map_err(|e| e.to_string())
                    })
                    .await;
                };
                self.tasks().spawn_on(job, &rt);
            }
            Err(_) => {
                let _ = log.append(&entry);
            }
        }
    }

    /// Move a session to `to` on behalf of `actor`: records the matching event, keeps the
    /// per-user count right, cancels deadlines when it ends, journals the change and updates
    /// subscribers at once. Illegal moves answer `INVALID_STATE` and change nothing.
    pub fn transition_by(
        &self,
        s: &Session,
        to: SessionState,
        reason: Option<TerminationReason>,
        actor: Actor,
    ) -> ApiResult<SessionState> {
        let from = s.transition(to, reason)?;
        self.count_transition(s, from, to);
        if let Err(e) = self.hooks.journal.transitioned(s, from, to, reason) {
            self.store_failed(&e);
        }
        let kind = match to {
            SessionState::Running if from == SessionState::Created => EventKind::SessionStarted,
            SessionState::Running => EventKind::SessionResumed,
            SessionState::Paused => EventKind::SessionPaused,
            SessionState::Created => EventKind::SessionUpdated,
            _ => EventKind::SessionEnded,
        };
        let mut data = json!({ "from": from, "to": to });
        if let Some(r) = reason {
            data["reason"] = json!(r);
        }
        if to.is_terminal() {
            let live = s.live();
            data["final_stats"] =
                json!(live.final_stats(s.params.initial_capital, s.settled_ticks(), s.bar_count));
            self.hooks.timers.cancel(&s.id);
        }
        self.record(s, kind, actor, data.clone());
        let action = match kind {
            EventKind::SessionStarted => Some("session_started"),
            EventKind::SessionEnded => Some(match reason {
                Some(TerminationReason::ManualStop | TerminationReason::EmergencyStop) => {
                    "session_stopped"
                }
                _ => "session_ended",
            }),
            _ => None,
        };
        if let Some(action) = action {
            self.audit(actor, &s.user_id, action, Some(&s.id), data);
        }
        self.push_stats(s);
        Ok(from)
    }

    /// Schedule the session's time warning and expiry.
    pub(super) fn schedule_deadlines(&self, s: &Arc<Session>) {
        self.hooks.timers.cancel(&s.id);
        let Some(deadline) = s.deadline() else { return };
        let pct = s.limits.warning_pct;
        let warn_after = s
            .limits
            .max_duration()
            .mul_f64(rust_decimal::prelude::ToPrimitive::to_f64(&pct).unwrap_or(80.0) / 100.0);
        self.hooks
            .timers
            .schedule(&s.id, s.after_creation(warn_after), TimerKind::TimeWarning);
        self.hooks
            .timers
            .schedule(&s.id, deadline, TimerKind::Expire);
    }

    /// A session left the table: drop its deadlines and subscriptions, journal it.
    pub(super) fn forget(&self, s: &Session) {
        self.hooks.timers.cancel(&s.id);
        self.hooks.monitor.forget(&s.id);
        self.hooks.journal.removed(&s.id);
    }

    /// The live statistics of a session now.
    pub fn stats_of(&self, s: &Session) -> SessionStatsUpdate {
        let live = s.live();
        stats_update(
            &s.id,
            &live,
            StatsContext {
                state: s.state(),
                elapsed: s.age().as_secs(),
                max_duration: s.limits.max_duration_seconds,
                settled: s.settled_ticks(),
                total: s.bar_count,
                capital: s.params.initial_capital,
                loss_limit: s.limits.loss_limit,
            },
        )
    }

    /// Send the session's statistics to its subscribers now (no-op without subscribers).
    pub fn push_stats(&self, s: &Session) {
        if self.hooks.monitor.has_subscribers(&s.id) {
            let msg = ServerMessage::SessionStatsUpdate(self.stats_of(s));
            self.hooks.monitor.stats(&s.id, msg);
        }
    }

    /// Fire a warning once per kind: event, audit, push to the owner and subscribers.
    /// Returns false when it had already fired (or the session has ended).
    pub fn warn(&self, s: &Session, kind: WarningKind) -> bool {
        {
            let mut live = s.live.lock();
            let flag = match kind {
                WarningKind::Time => &mut live.warned_time,
                WarningKind::Loss => &mut live.warned_loss,
            };
            if *flag || s.state().is_terminal() {
                return false;
            }
            *flag = true;
        }
        let stats = self.stats_of(s);
        let threshold = s.limits.warning_pct;
        let (used_pct, message, remaining, equity) = match kind {
            WarningKind::Time => (
                stats.time_used_pct,
                format!(
                    "session {} has used {:.0}% of its time limit; it expires in {} s",
                    s.id, stats.time_used_pct, stats.remaining
                ),
                Some(stats.remaining),
                None,
            ),
            WarningKind::Loss => (
                stats.loss_limit_used_pct,
                format!(
                    "session {} has used {:.0}% of its loss limit (equity {}); it stops at 100%",
                    s.id, stats.loss_limit_used_pct, stats.equity
                ),
                None,
                Some(stats.equity),
            ),
        };
        let warning = SessionWarning {
            session_id: s.id.to_string(),
            kind,
            used_pct,
            threshold_pct: threshold,
            remaining_seconds: remaining,
            equity,
            message,
        };
        let event = match kind {
            WarningKind::Time => EventKind::TimeLimitWarning,
            WarningKind::Loss => EventKind::LossLimitWarning,
        };
        let data = serde_json::to_value(&warning).unwrap_or_default();
        self.record(s, event, Actor::System, data.clone());
        self.audit(
            Actor::System,
            &s.user_id,
            "limit_warning",
            Some(&s.id),
            data,
        );
        let msg = ServerMessage::SessionWarning(warning);
        self.hooks
            .monitor
            .announce(&s.user_id, &s.id, &msg, None, self.tasks());
        self.push_stats(s);
        true
    }

    /// The volatility circuit breaker halted a symbol.
    pub fn halted(&self, s: &Session, halt: &HaltEvent) {
        let data = serde_json::to_value(halt).unwrap_or_default();
        self.record(s, EventKind::SessionHalted, Actor::System, data.clone());
        self.audit(
            Actor::System,
            &s.user_id,
            "trading_halted",
            Some(&s.id),
            data,
        );
    }

    /// `session_terminated` for a session that just ended.
    pub fn terminated(&self, s: &Session, reason: TerminationReason) -> SessionTerminated {
        let stats = s
            .live()
            .final_stats(s.params.initial_capital, s.settled_ticks(), s.bar_count);
        SessionTerminated {
            session_id: s.id.to_string(),
            state: s.state(),
            reason,
            final_stats: stats,
        }
    }

    /// End a session (transition, then `session_terminated` to the owner's connections and
    /// subscribers except `skip`).
    pub fn end(
        &self,
        s: &Session,
        state: SessionState,
        reason: TerminationReason,
        actor: Actor,
        skip: Option<&OutboundTx>,
    ) -> ApiResult<SessionTerminated> {
        self.transition_by(s, state, Some(reason), actor)?;
        let t = self.terminated(s, reason);
        let msg = ServerMessage::SessionTerminated(t.clone());
        self.hooks
            .monitor
            .announce(&s.user_id, &s.id, &msg, skip, self.tasks());
        tracing::info!(session_id = %s.id, user_id = %s.user_id, ?reason, %actor, "session ended early");
        Ok(t)
    }

    /// End a session early. With a live simulation task (rebuilt from its run journal first
    /// for a paused session restored after a restart) the task does it (flattening at the
    /// last settled prices) and answers `reply`: `Ok(None)`. Otherwise it ends here:
    /// `Ok(Some(session_terminated))`.
    pub fn terminate(
        &self,
        s: &Arc<Session>,
        state: SessionState,
        reason: TerminationReason,
        actor: Actor,
        reply: Option<ReplyTo>,
    ) -> ApiResult<Option<SessionTerminated>> {
        if s.state().is_terminal() {
            let st = s.state();
            return Err(api_error(
                ErrorCode::InvalidState,
                format!("session {} has already ended ({st})", s.id),
                json!({ "state": st }),
            ));
        }
        // A paused run restored after a restart ends like a live one: rebuilt from its
        // journal, it flattens at the last settled bar and stores its results.
        let _ = self.rebuild_restored_run(s);
        if let Some(handle) = s.run_handle() {
            let t = Terminate {
                state,
                reason,
                actor,
                reply: reply.clone(),
            };
            if handle.terminate(t) {
                return Ok(None);
            }
        }
        let skip = reply.as_ref().map(|r| &r.outbound);
        self.end(s, state, reason, actor, skip).map(Some)
    }

    /// Replace a `created` session's parameters and limits (`SESSION_LOCKED` once started);
    /// the data fingerprint stays the session's.
    pub fn update(
        &self,
        s: &Session,
        params: SessionParams,
        bar_count: u64,
        limits: RiskLimits,
    ) -> ApiResult<Arc<Session>> {
        self.update_with_data(s, params, bar_count, limits, s.data.clone())
    }

    /// [`SessionManager::update`] after a new validation: the session now runs on the data
    /// that validation saw (`data`).
    pub fn update_with_data(
        &self,
        s: &Session,
        params: SessionParams,
        bar_count: u64,
        limits: RiskLimits,
        data: Option<DataFingerprint>,
    ) -> ApiResult<Arc<Session>> {
        self.check_store()?;
        let next = Arc::new(s.successor(params, bar_count, limits)?.with_data(data));
        self.replace(next.clone());
        if let Err(e) = self.hooks.journal.saved(&next) {
            self.store_failed(&e);
        }
        let data =
            serde_json::to_value(next.info(self.limits().idle_timeout).limits).unwrap_or_default();
        self.record(&next, EventKind::SessionUpdated, Actor::User, data.clone());
        self.audit(
            Actor::User,
            &next.user_id,
            "session_updated",
            Some(&next.id),
            data,
        );
        self.schedule_deadlines(&next);
        Ok(next)
    }

    /// A deadline fired (timer task).
    pub fn on_deadline(&self, session_id: &str, kind: TimerKind) -> Result<(), String> {
        let Some(s) = self.get_any(session_id) else {
            return Ok(());
        };
        if s.state().is_terminal() {
            return Ok(());
        }
        match kind {
            TimerKind::TimeWarning => {
                self.warn(&s, WarningKind::Time);
                Ok(())
            }
            TimerKind::Expire => {
                match self.terminate(
                    &s,
                    SessionState::Expired,
                    TerminationReason::TimeLimit,
                    Actor::System,
                    None,
                ) {
                    Ok(_) => Ok(()),
                    Err(_) if s.state().is_terminal() => Ok(()),
                    Err(e) => Err(e.message),
                }
            }
        }
    }
}
