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

use super::record::Session;
use crate::error::{ApiResult, api_error};

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
}

impl SessionManager {
    /// An empty manager.
    pub fn new(limits: ManagerLimits) -> Self {
        SessionManager {
            sessions: DashMap::new(),
            by_user: DashMap::new(),
            limits,
        }
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
        let max = self.limits.max_sessions_per_user;
        let mut index = self.by_user.entry(Arc::from(user_id)).or_default();
        if index.open >= max {
            return Err(api_error(
                ErrorCode::SessionLimitExceeded,
                format!(
                    "you already have {} open sessions (the limit is {max}); delete or stop one first",
                    index.open
                ),
                json!({ "open_sessions": index.open, "max_sessions_per_user": max }),
            ));
        }
        let id: Arc<str> = Arc::from(uuid::Uuid::new_v4().to_string());
        let session = Arc::new(Session::new(
            id.clone(),
            index.key().clone(),
            params,
            bar_count,
        ));
        index.open += 1;
        index.ids.push(id.clone());
        self.sessions.insert(id, session.clone());
        Ok(session)
    }

    /// The user's session `session_id`, marking it used.
    pub fn get(&self, user_id: &str, session_id: &str) -> ApiResult<Arc<Session>> {
        let session = self
            .sessions
            .get(session_id)
            .map(|s| s.value().clone())
            .filter(|s| &*s.user_id == user_id)
            .ok_or_else(|| not_found(session_id))?;
        session.touch();
        Ok(session)
    }

    /// One page of the user's sessions, newest first, optionally only those in `state`.
    pub fn list(&self, user_id: &str, query: &ListSessions) -> SessionList {
        let limit = query.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
        let offset = query.offset.unwrap_or(0);
        let ids: Vec<Arc<str>> = self
            .by_user
            .get(user_id)
            .map(|i| i.ids.iter().rev().cloned().collect())
            .unwrap_or_default();
        let mut total = 0u64;
        let mut page = Vec::new();
        for id in ids {
            let Some(session) = self.sessions.get(&id).map(|s| s.value().clone()) else {
                continue;
            };
            if query.state.is_some_and(|st| session.state() != st) {
                continue;
            }
            if total >= u64::from(offset) && page.len() < limit as usize {
                page.push(session.info(self.limits.idle_timeout));
            }
            total += 1;
        }
        let shown = u64::from(offset) + page.len() as u64;
        SessionList {
            sessions: page,
            total,
            limit,
            offset,
            has_more: shown < total,
        }
    }

    /// Remove the user's session.
    pub fn delete(&self, user_id: &str, session_id: &str) -> ApiResult<Arc<Session>> {
        let (_, session) = self
            .sessions
            .remove_if(session_id, |_, s| &*s.user_id == user_id)
            .ok_or_else(|| not_found(session_id))?;
        self.unindex(&session);
        Ok(session)
    }

    /// Move a session to a new state (see [`Session::transition`]), keeping the per-user
    /// count of open sessions right.
    pub fn transition(
        &self,
        session: &Session,
        to: SessionState,
        reason: Option<TerminationReason>,
    ) -> ApiResult<SessionState> {
        let from = session.transition(to, reason)?;
        if !from.is_terminal()
            && to.is_terminal()
            && let Some(mut index) = self.by_user.get_mut(&*session.user_id)
        {
            index.open = index.open.saturating_sub(1);
        }
        Ok(from)
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
                .transition(
                    &session,
                    SessionState::Expired,
                    Some(TerminationReason::IdleTimeout),
                )
                .is_ok()
            {
                session.abort_run();
                tracing::info!(session_id = %session.id, user_id = %session.user_id, "session expired after idle timeout");
                report.expired += 1;
            }
        }
        for session in to_remove {
            if self.sessions.remove(&session.id).is_some() {
                session.abort_run();
                self.unindex(&session);
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
