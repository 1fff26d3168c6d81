//! The session table: a `DashMap` of sessions plus a per-user index.
//!
//! Every lookup takes the caller's user id, and a session of another user answers exactly like
//! a missing one (`SESSION_NOT_FOUND`), so ids leak nothing. Map guards are never held across an
//! `.await` (nothing here is async), and the only nested locking is "user index, then session
//! map" in [`SessionManager::create`], so the manager cannot deadlock.

use dashmap::DashMap;
use serde_json::json;
use shared_models::messages::client::ListSessions;
use shared_models::messages::server::SessionList;
use shared_models::{ErrorCode, SessionParams, SessionState, TerminationReason};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

use super::history::ListFilter;
use super::hooks::Hooks;
use super::limits::RiskLimits;
use super::record::Session;
use crate::error::{ApiResult, api_error};
use crate::market_data::DataFingerprint;
use crate::session::params::ValidatedSession;
use shared_models::lifecycle::{Actor, EventKind};

/// Default and largest page for `list_sessions`.
pub const DEFAULT_PAGE: u32 = 50;
/// Largest page for `list_sessions`.
pub const MAX_PAGE: u32 = 500;

/// Limits the manager enforces.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ManagerLimits {
    /// Open (not ended) sessions per user.
    pub max_sessions_per_user: u32,
    /// Idle `created`/`paused` sessions expire after this long.
    pub idle_timeout: Duration,
    /// Ended sessions are removed after this long.
    pub retention: Duration,
    /// Running or paused sessions per user (`ACTIVE_SESSION_EXISTS`).
    pub max_active_per_user: u32,
}

#[derive(Debug, Default)]
struct UserIndex {
    /// Session ids in creation order (oldest first).
    ids: Vec<Arc<str>>,
    /// Sessions not yet in a terminal state.
    open: u32,
}

/// What one cleanup pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Idle sessions moved to `expired`.
    pub expired: usize,
    /// Ended sessions removed after their retention.
    pub removed: usize,
}

/// Creates, finds, lists, ends and removes sessions.
#[derive(Debug)]
pub struct SessionManager {
    sessions: DashMap<Arc<str>, Arc<Session>>,
    by_user: DashMap<Arc<str>, UserIndex>,
    limits: ManagerLimits,
    pub(super) hooks: Hooks,
    /// Every task the session layer starts (run actors, pushes): shutdown waits for them.
    tasks: tokio_util::task::TaskTracker,
    /// The manager itself, for the run actors it starts (set by [`SessionManager::shared`]).
    me: std::sync::Weak<SessionManager>,
}

impl SessionManager {
    /// An empty manager with default hooks (no audit log, no journal).
    pub fn new(limits: ManagerLimits) -> Self {
        Self::with_hooks(limits, Hooks::default())
    }

    /// An empty manager reporting to `hooks`.
    pub fn with_hooks(limits: ManagerLimits, hooks: Hooks) -> Self {
        SessionManager {
            sessions: DashMap::new(),
            by_user: DashMap::new(),
            limits,
            hooks,
            tasks: tokio_util::task::TaskTracker::new(),
            me: std::sync::Weak::new(),
        }
    }

    /// [`SessionManager::with_hooks`], shared: the daemon's manager, which can rebuild the
    /// runs of sessions restored after a restart (that needs the manager's own `Arc`).
    pub fn shared(limits: ManagerLimits, hooks: Hooks) -> Arc<Self> {
        Arc::new_cyclic(|me| SessionManager {
            me: me.clone(),
            ..Self::with_hooks(limits, hooks)
        })
    }

    /// The manager's own `Arc`, when it was built [`SessionManager::shared`].
    pub(crate) fn arc(&self) -> Option<Arc<Self>> {
        self.me.upgrade()
    }

    /// The tracker of the tasks the session layer starts; spawn them with
    /// `tasks().spawn(…)` so that a graceful shutdown can wait for every one.
    pub fn tasks(&self) -> &tokio_util::task::TaskTracker {
        &self.tasks
    }

    /// The limits in force.
    pub fn limits(&self) -> &ManagerLimits {
        &self.limits
    }

    /// Sessions held, all users, all states.
    pub fn len(&self) -> usize {
        self.sessions.len()
    }

    /// True when no session is held.
    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }

    /// Create a session for `user_id`; `SESSION_LIMIT_EXCEEDED` when the user already has
    /// `max_sessions_per_user` open sessions.
    pub fn create(
        &self,
        user_id: &str,
        params: SessionParams,
        bar_count: u64,
    ) -> ApiResult<Arc<Session>> {
        self.create_with_limits(user_id, params, bar_count, RiskLimits::none())
    }

    /// [`SessionManager::create`] with limits: records `SESSION_CREATED`, audits the
    /// creation and schedules the time-limit deadlines.
    pub fn create_with_limits(
        &self,
        user_id: &str,
        params: SessionParams,
        bar_count: u64,
        limits: RiskLimits,
    ) -> ApiResult<Arc<Session>> {
        self.create_on(user_id, params, bar_count, limits, None)
    }

    /// Create a session from a validated request (`create_session`, `fork_session`): as
    /// [`SessionManager::create_with_limits`], and the session keeps the fingerprint of its
    /// data, checked before its run starts or is rebuilt (`DATA_CHANGED`).
    pub fn create_validated(
        &self,
        user_id: &str,
        valid: ValidatedSession,
    ) -> ApiResult<Arc<Session>> {
        let ValidatedSession {
            params,
            bar_count,
            limits,
            data,
        } = valid;
        self.create_on(user_id, params, bar_count, limits, Some(data))
    }

    fn create_on(
        &self,
        user_id: &str,
        params: SessionParams,
        bar_count: u64,
        limits: RiskLimits,
        data: Option<DataFingerprint>,
    ) -> ApiResult<Arc<Session>> {
        self.check_store()?;
        let session = self.insert_new(user_id, params, bar_count, limits, data)?;
        if let Err(e) = self.hooks.journal.saved(&session) {
            // Not durable: as if it had never been created. The store forgets the record it
            // kept to write later, or a recovered store would bring the session back.
            if self.sessions.remove(&session.id).is_some() {
                self.unindex(&session);
            }
            self.hooks.journal.removed(&session.id);
            self.store_failed(&e);
            return Err(super::store::health::store_unavailable(&e.message));
        }
        let data =
            serde_json::to_value(session.info(self.limits.idle_timeout).limits).unwrap_or_default();
        self.record(
            &session,
            EventKind::SessionCreated,
            Actor::User,
            data.clone(),
        );
        self.audit(
            Actor::User,
            &session.user_id,
            "session_created",
            Some(&session.id),
            json!({
                "symbols": session.params.symbols,
                "limits": data,
            }),
        );
        self.schedule_deadlines(&session);
        Ok(session)
    }

    fn insert_new(
        &self,
        user_id: &str,
        params: SessionParams,
        bar_count: u64,
        limits: RiskLimits,
        data: Option<DataFingerprint>,
    ) -> ApiResult<Arc<Session>> {
        let max = self.limits.max_sessions_per_user;
        let mut index = self.by_user.entry(Arc::from(user_id)).or_default();
        if index.open >= max {
            return Err(api_error(
                ErrorCode::SessionLimitExceeded,
                format!(
                    "you already have {} open sessions (the limit is {max}); delete or stop one first \
                     (`simutrador-client session delete --state created --yes` deletes every \
                     session that never ran)",
                    index.open
                ),
                json!({ "open_sessions": index.open, "max_sessions_per_user": max }),
            ));
        }
        let id: Arc<str> = Arc::from(uuid::Uuid::new_v4().to_string());
        let session = Arc::new(
            Session::with_limits(id.clone(), index.key().clone(), params, bar_count, limits)
                .with_data(data),
        );
        index.open += 1;
        index.ids.push(id.clone());
        self.sessions.insert(id, session.clone());
        Ok(session)
    }

    /// Put a session loaded from a store into the table (no limit applies).
    pub(super) fn insert_restored(&self, session: Arc<Session>) {
        let mut index = self.by_user.entry(session.user_id.clone()).or_default();
        if !session.state().is_terminal() {
            index.open += 1;
        }
        index.ids.push(session.id.clone());
        self.sessions.insert(session.id.clone(), session);
    }

    /// The user's session `session_id`, to read: reading (status, results, events,
    /// comparisons, a watch) is not use, so its idle timer is left alone.
    pub fn get(&self, user_id: &str, session_id: &str) -> ApiResult<Arc<Session>> {
        self.sessions
            .get(session_id)
            .map(|s| s.value().clone())
            .filter(|s| &*s.user_id == user_id)
            .ok_or_else(|| not_found(session_id))
    }

    /// The user's session `session_id`, to change or drive (update, start, resume, stop, a
    /// run's acks and orders): marks it used, which restarts its idle timer.
    pub fn get_to_use(&self, user_id: &str, session_id: &str) -> ApiResult<Arc<Session>> {
        let session = self.get(user_id, session_id)?;
        session.touch();
        Ok(session)
    }

    /// One page of the user's sessions matching the query's filters, newest first (or in the
    /// query's `sort` order). `INVALID_DATE_RANGE` for unreadable dates.
    pub fn list(&self, user_id: &str, query: &ListSessions) -> ApiResult<SessionList> {
        let filter = ListFilter::from_query(query)?;
        let limit = query.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
        let offset = query.offset.unwrap_or(0);
        let mut matching = self.matching(user_id, &filter);
        filter.sort(&mut matching);
        let total = matching.len() as u64;
        let page: Vec<_> = matching
            .iter()
            .skip(offset as usize)
            .take(limit as usize)
            .map(|s| s.info(self.limits.idle_timeout))
            .collect();
        let shown = u64::from(offset) + page.len() as u64;
        Ok(SessionList {
            sessions: page,
            total,
            limit,
            offset,
            has_more: shown < total,
        })
    }

    /// The user's sessions that pass `filter`, newest first (`list_sessions`,
    /// `get_history_stats`).
    pub(super) fn matching(&self, user_id: &str, filter: &ListFilter) -> Vec<Arc<Session>> {
        let ids: Vec<Arc<str>> = self
            .by_user
            .get(user_id)
            .map(|i| i.ids.iter().rev().cloned().collect())
            .unwrap_or_default();
        ids.iter()
            .filter_map(|id| self.get_any(id))
            .filter(|s| filter.matches(s))
            .collect()
    }

    /// Remove the user's session.
    pub fn delete(&self, user_id: &str, session_id: &str) -> ApiResult<Arc<Session>> {
        let (_, session) = self
            .sessions
            .remove_if(session_id, |_, s| &*s.user_id == user_id)
            .ok_or_else(|| not_found(session_id))?;
        self.unindex(&session);
        session.abort_run();
        self.forget(&session);
        self.audit(
            Actor::User,
            &session.user_id,
            "session_deleted",
            Some(&session.id),
            json!({
                "state": session.state(),
            }),
        );
        Ok(session)
    }

    /// Move a session to a new state (see [`Session::transition`]); the actor is the user for
    /// a start, pause, resume or stop and the system for any other end. See
    /// [`SessionManager::transition_by`].
    pub fn transition(
        &self,
        session: &Session,
        to: SessionState,
        reason: Option<TerminationReason>,
    ) -> ApiResult<SessionState> {
        let actor = match reason {
            Some(TerminationReason::ManualStop | TerminationReason::EmergencyStop) | None => {
                if to.is_terminal() && reason.is_none() {
                    Actor::System
                } else {
                    Actor::User
                }
            }
            Some(_) => Actor::System,
        };
        self.transition_by(session, to, reason, actor)
    }

    /// Swap the per-user open count after a transition into a terminal state.
    pub(super) fn count_transition(&self, session: &Session, from: SessionState, to: SessionState) {
        if !from.is_terminal()
            && to.is_terminal()
            && let Some(mut index) = self.by_user.get_mut(&*session.user_id)
        {
            index.open = index.open.saturating_sub(1);
        }
    }

    /// Replace a session by its successor (same id) after `update_session`.
    pub(super) fn replace(&self, next: Arc<Session>) {
        self.sessions.insert(next.id.clone(), next);
    }

    /// Any user's session by id, for the daemon's own jobs; never for a request.
    pub fn session_by_id(&self, session_id: &str) -> Option<Arc<Session>> {
        self.get_any(session_id)
    }

    /// Any user's session by id (for the daemon's own jobs; never for a request).
    pub(super) fn get_any(&self, session_id: &str) -> Option<Arc<Session>> {
        self.sessions.get(session_id).map(|s| s.value().clone())
    }

    /// Running or paused sessions of `user_id`.
    pub fn active_count(&self, user_id: &str) -> u32 {
        let ids: Vec<Arc<str>> = self
            .by_user
            .get(user_id)
            .map(|i| i.ids.clone())
            .unwrap_or_default();
        ids.iter()
            .filter_map(|id| self.get_any(id))
            .filter(|s| s.state().is_active())
            .count() as u32
    }

    /// Expire idle sessions and remove ended ones past retention. Cost is linear in the number
    /// of sessions; run it from the cleanup task, not per request.
    pub fn sweep(&self, now: Instant) -> SweepReport {
        let mut report = SweepReport::default();
        let mut to_expire = Vec::new();
        let mut to_remove = Vec::new();
        for entry in self.sessions.iter() {
            let l = entry.value().lifecycle();
            match l.ended_instant {
                Some(ended) if now.saturating_duration_since(ended) >= self.limits.retention => {
                    to_remove.push(entry.value().clone());
                }
                None if matches!(l.state, SessionState::Created | SessionState::Paused)
                    && now.saturating_duration_since(l.last_activity)
                        >= self.limits.idle_timeout =>
                {
                    to_expire.push(entry.value().clone());
                }
                _ => {}
            }
        }
        for session in to_expire {
            if self
                .terminate(
                    &session,
                    SessionState::Expired,
                    TerminationReason::IdleTimeout,
                    Actor::System,
                    None,
                )
                .is_ok()
            {
                tracing::info!(session_id = %session.id, user_id = %session.user_id, "session expired after idle timeout");
                report.expired += 1;
            }
        }
        for session in to_remove {
            if self.sessions.remove(&session.id).is_some() {
                session.abort_run();
                self.unindex(&session);
                self.forget(&session);
                self.audit(
                    Actor::System,
                    &session.user_id,
                    "session_removed",
                    Some(&session.id),
                    json!({
                        "reason": "retention",
                    }),
                );
                report.removed += 1;
            }
        }
        report
    }

    /// Sessions held, per state (for `/healthz` and metrics).
    pub fn count_by_state(&self) -> BTreeMap<&'static str, u64> {
        let mut counts = BTreeMap::new();
        for entry in self.sessions.iter() {
            *counts.entry(entry.value().state().as_str()).or_insert(0) += 1;
        }
        counts
    }

    fn unindex(&self, session: &Session) {
        if let Some(mut index) = self.by_user.get_mut(&*session.user_id) {
            if let Some(pos) = index.ids.iter().rposition(|id| *id == session.id) {
                index.ids.remove(pos);
            }
            if !session.state().is_terminal() {
                index.open = index.open.saturating_sub(1);
            }
        }
        self.by_user
            .remove_if(&*session.user_id, |_, index| index.ids.is_empty());
    }
}

fn not_found(session_id: &str) -> crate::error::ApiError {
    let shown: String = session_id.chars().take(64).collect();
    api_error(
        ErrorCode::SessionNotFound,
        format!("no session '{shown}' for this user; list yours with list_sessions"),
        json!({ "session_id": shown }),
    )
}

#[cfg(test)]
#[path = "manager_tests.rs"]
mod tests;
