//! One session as the daemon holds it.
//!
//! The parameters never change after creation, so they sit outside any lock; the lifecycle
//! (state, timestamps, last use) is a small struct behind a `parking_lot::Mutex` that is never
//! held across an `.await`. Its summary is the wire's [`SessionInfo`] ([`Session::info`]): the
//! one description of a session that the protocol sends, the store loads
//! ([`super::store::StoredSession`] wraps it) and the CLI prints.

use super::store::record::StoredResults;
use chrono::{DateTime, Utc};
use parking_lot::Mutex;
use serde_json::json;
use shared_models::{
    ErrorCode, SessionInfo, SessionParams, SessionState, StrategyRef, TerminationReason,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::time::Instant;

use super::events::EventLog;
use super::limits::RiskLimits;
use super::live::LiveStats;
use super::results::{ResultsSlot, ResultsSummary};
use super::run::RunHandle;
use crate::error::{ApiResult, api_error};
use crate::market_data::DataFingerprint;
use std::sync::atomic::AtomicBool;

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
    /// Why a `damaged` session is damaged (see `session::store::frame`).
    pub damage: Option<String>,
    /// The strategy `start_simulation` said it runs (journaled with the start).
    pub strategy: Option<StrategyRef>,
    /// The version of the client that started the run, as it said.
    pub client_version: Option<String>,
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
    /// Creation time on the monotonic clock (the time limit counts from it); for a session
    /// restored from a store, the time it was loaded.
    pub created_instant: Instant,
    /// Age of the session when it was loaded from a store (zero for a new session).
    pub age_at_load: Duration,
    lifecycle: Mutex<Lifecycle>,
    run: Mutex<Option<RunHandle>>,
    results: Mutex<ResultsSlot>,
    settled_ticks: AtomicU64,
    /// Time, loss and halt limits (fixed once the session starts).
    pub limits: RiskLimits,
    /// The market data it was created on; `None` for a session journaled before data
    /// fingerprints existed (its data is not checked). See [`crate::market_data::fingerprint`].
    pub data: Option<DataFingerprint>,
    /// The append-only event log (appended only through the manager).
    pub(crate) events: Mutex<EventLog>,
    /// Figures published by the run for monitoring.
    pub(crate) live: Mutex<LiveStats>,
    /// Set when `update_session` replaced this record by a new one with the same id.
    superseded: AtomicBool,
}

impl Session {
    /// A new session in state `created`, without limits.
    pub fn new(id: Arc<str>, user_id: Arc<str>, params: SessionParams, bar_count: u64) -> Self {
        Self::with_limits(id, user_id, params, bar_count, RiskLimits::none())
    }

    /// A new session in state `created` with `limits`.
    pub fn with_limits(
        id: Arc<str>,
        user_id: Arc<str>,
        params: SessionParams,
        bar_count: u64,
        limits: RiskLimits,
    ) -> Self {
        let now = Utc::now();
        Session {
            limits,
            data: None,
            events: Mutex::new(EventLog::default()),
            live: Mutex::new(LiveStats::default()),
            superseded: AtomicBool::new(false),
            id,
            user_id,
            params,
            bar_count,
            created_at: now,
            created_instant: Instant::now(),
            age_at_load: Duration::ZERO,
            lifecycle: Mutex::new(Lifecycle {
                state: SessionState::Created,
                updated_at: now,
                last_activity: Instant::now(),
                started_at: None,
                ended_at: None,
                ended_instant: None,
                termination_reason: None,
                damage: None,
                strategy: None,
                client_version: None,
            }),
            run: Mutex::new(None),
            results: Mutex::new(ResultsSlot::Empty),
            settled_ticks: AtomicU64::new(0),
        }
    }

    /// This session with the fingerprint of the data it was created on.
    pub fn with_data(mut self, data: Option<DataFingerprint>) -> Self {
        self.data = data;
        self
    }

    /// The control handle of the running simulation, if one was started.
    pub fn run_handle(&self) -> Option<RunHandle> {
        self.run.lock().clone()
    }

    /// Attach the simulation's control handle.
    pub fn set_run_handle(&self, handle: RunHandle) {
        *self.run.lock() = Some(handle);
    }

    /// Attach `handle` unless a task is attached already (two resumes racing to rebuild a
    /// restored run); false when one was.
    pub fn attach_run_handle(&self, handle: RunHandle) -> bool {
        let mut run = self.run.lock();
        if run.is_some() {
            return false;
        }
        *run = Some(handle);
        true
    }

    /// Forget the handle of a run that has ended for good (its actor calls this as it stops):
    /// a finished session keeps nothing of its run, its control queue included.
    pub fn release_run(&self) {
        *self.run.lock() = None;
    }

    /// Stop the simulation task, if any (session deleted or expired).
    pub fn abort_run(&self) {
        if let Some(handle) = self.run.lock().take() {
            handle.abort();
        }
    }

    /// Where the final results are (see [`super::results`]); the whole results come from
    /// [`super::SessionManager::results`].
    pub fn results_slot(&self) -> ResultsSlot {
        self.results.lock().clone()
    }

    /// The results' summary (metrics, open positions, sizes), once the run has ended.
    pub fn results_summary(&self) -> Option<Arc<ResultsSummary>> {
        self.results.lock().summary()
    }

    /// True when the whole results (equity curve, trades) are in memory rather than only on
    /// disk.
    pub fn results_held(&self) -> bool {
        matches!(
            *self.results.lock(),
            ResultsSlot::Held(_) | ResultsSlot::Completing(_)
        )
    }

    /// Store the final results (held in memory until the store has journaled them); the live
    /// figures become the results' (see [`LiveStats::settle`]).
    pub fn set_results(&self, results: StoredResults) {
        self.live.lock().settle(&results.metrics);
        *self.results.lock() = ResultsSlot::Held(Arc::new(results));
    }

    /// The results of a run that completed, journaled once the client has been told
    /// ([`ResultsSlot::Completing`]); otherwise as [`Session::set_results`].
    pub fn set_completed_results(&self, results: StoredResults) {
        self.live.lock().settle(&results.metrics);
        *self.results.lock() = ResultsSlot::Completing(Arc::new(results));
    }

    /// The store has the results on disk: keep only their summary in memory.
    pub fn release_results(&self) {
        let mut slot = self.results.lock();
        if let ResultsSlot::Held(r) | ResultsSlot::Completing(r) = &*slot {
            *slot = ResultsSlot::Stored(Arc::new(ResultsSummary::of(r)));
        }
    }

    /// Record simulation progress (ticks whose bar has been settled).
    pub fn set_settled_ticks(&self, n: u64) {
        self.settled_ticks.store(n, Ordering::Relaxed);
    }

    /// Ticks settled so far.
    pub fn settled_ticks(&self) -> u64 {
        self.settled_ticks.load(Ordering::Relaxed)
    }

    /// A copy of the live figures.
    pub fn live(&self) -> LiveStats {
        self.live.lock().clone()
    }

    /// Publish equity and closed trades at a settled bar.
    pub fn publish(&self, equity: rust_decimal::Decimal, trades: u64) {
        self.live.lock().publish(equity, trades);
    }

    /// A copy of the event log.
    pub fn event_log(&self) -> EventLog {
        self.events.lock().clone()
    }

    /// A successor record with new parameters and limits, same id, owner, creation time and
    /// history; this record is marked superseded so nothing can start it any more. Fails with
    /// `SESSION_LOCKED` unless the session is still `created`.
    pub(crate) fn successor(
        &self,
        params: SessionParams,
        bar_count: u64,
        limits: RiskLimits,
    ) -> ApiResult<Session> {
        let l = self.lifecycle.lock();
        if l.state != SessionState::Created || self.superseded.load(Ordering::Acquire) {
            return Err(api_error(
                ErrorCode::SessionLocked,
                format!(
                    "session {} is {}; parameters and limits can only change before it starts",
                    self.id, l.state
                ),
                json!({ "state": l.state }),
            ));
        }
        self.superseded.store(true, Ordering::Release);
        let mut next = Session::with_limits(
            self.id.clone(),
            self.user_id.clone(),
            params,
            bar_count,
            limits,
        );
        next.data = self.data.clone();
        next.created_at = self.created_at;
        next.created_instant = self.created_instant;
        next.age_at_load = self.age_at_load;
        *next.lifecycle.lock() = Lifecycle {
            updated_at: Utc::now(),
            last_activity: Instant::now(),
            ..l.clone()
        };
        *next.events.lock() = self.events.lock().clone();
        Ok(next)
    }

    /// A copy of the lifecycle.
    pub fn lifecycle(&self) -> Lifecycle {
        self.lifecycle.lock().clone()
    }

    /// Current state.
    pub fn state(&self) -> SessionState {
        self.lifecycle.lock().state
    }

    /// Record what `start_simulation` said runs on this session (before its start is
    /// journaled, which keeps it).
    pub fn set_origin(&self, strategy: Option<StrategyRef>, client_version: Option<String>) {
        let mut l = self.lifecycle.lock();
        l.strategy = strategy;
        l.client_version = client_version;
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
        if self.superseded.load(Ordering::Acquire) {
            return Err(api_error(
                ErrorCode::InvalidState,
                format!("session {} was just updated; retry", self.id),
                json!({ "state": from, "requested": to }),
            ));
        }
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

    /// When the time limit runs out (`None` without one).
    pub fn deadline(&self) -> Option<Instant> {
        (self.limits.max_duration_seconds > 0)
            .then(|| self.after_creation(self.limits.max_duration()))
    }

    /// The monotonic instant `d` after creation (now, if that is already past at load).
    pub fn after_creation(&self, d: Duration) -> Instant {
        self.created_instant + d.saturating_sub(self.age_at_load)
    }

    /// Time since creation.
    pub fn age(&self) -> Duration {
        self.age_at_load + self.created_instant.elapsed()
    }

    /// A session loaded from a store: `age` old now, with its lifecycle, events, live
    /// figures, progress and the summary of the results it has on disk.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn restored(
        base: Session,
        created_at: DateTime<Utc>,
        age: Duration,
        lifecycle: Lifecycle,
        events: EventLog,
        live: LiveStats,
        settled_ticks: u64,
        results: Option<ResultsSummary>,
    ) -> Session {
        let mut s = base;
        s.created_at = created_at;
        s.age_at_load = age;
        *s.lifecycle.get_mut() = lifecycle;
        *s.events.get_mut() = events;
        *s.live.get_mut() = live;
        *s.settled_ticks.get_mut() = settled_ticks;
        *s.results.get_mut() =
            results.map_or(ResultsSlot::Empty, |r| ResultsSlot::Stored(Arc::new(r)));
        s
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
            limits: wire_limits(&self.limits, self.created_at),
            equity: self.current_equity(),
            return_pct: self.return_pct(),
            trades: self.run_figures().map(|(t, _)| t),
            max_drawdown_pct: self.run_figures().map(|(_, dd)| 0.0 - dd),
            damage: l.damage,
            strategy: l.strategy,
            client_version: l.client_version,
            data_fingerprint: self.data.as_ref().map(DataFingerprint::digest),
        }
    }

    /// How its run ended and what ran, as `get_results` reports it next to the results.
    pub fn outcome(&self) -> shared_models::results::RunOutcome {
        let l = self.lifecycle.lock().clone();
        shared_models::results::RunOutcome {
            final_state: Some(l.state),
            termination_reason: l.termination_reason,
            settled_ticks: Some(self.settled_ticks()),
            total_ticks: Some(self.bar_count),
            strategy: l.strategy,
            client_version: l.client_version,
            data_fingerprint: self.data.as_ref().map(DataFingerprint::digest),
        }
    }

    /// Final equity when ended with results, else the last published one.
    pub fn current_equity(&self) -> Option<rust_decimal::Decimal> {
        let final_equity = self.results.lock().equity_final();
        final_equity.or_else(|| self.live.lock().equity)
    }

    /// Return in percent at the current equity; `None` before the start.
    pub fn return_pct(&self) -> Option<f64> {
        return_pct(self.params.initial_capital, self.current_equity()?)
    }

    /// Closed trades and the maximum drawdown so far (percent, ≥ 0; the final figures once
    /// the run has results); `None` before the start.
    pub fn run_figures(&self) -> Option<(u64, f64)> {
        run_figures(&self.live.lock())
    }
}

/// The `limits` of a [`SessionInfo`]: `None` for a session without any.
pub(crate) fn wire_limits(
    limits: &RiskLimits,
    created_at: DateTime<Utc>,
) -> Option<shared_models::lifecycle::SessionLimits> {
    limits.is_set().then(|| limits.wire(Some(created_at)))
}

/// The `return_pct` of a [`SessionInfo`]: `(equity / capital − 1) × 100` (`None` without
/// capital).
pub(crate) fn return_pct(
    capital: rust_decimal::Decimal,
    equity: rust_decimal::Decimal,
) -> Option<f64> {
    (!capital.is_zero()).then(|| super::live::pct_f64((equity - capital) / capital))
}

/// Trades and max drawdown (≥ 0) of live figures that have been published at least once.
pub(crate) fn run_figures(live: &super::live::LiveStats) -> Option<(u64, f64)> {
    live.equity.map(|_| (live.trades, live.max_drawdown_pct))
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
