//! `list_sessions` filters over the user's past and present sessions: state, creation window
//! (`created_from` / `created_to`, days or instants), performance (`profit` / `loss`, by the
//! current or final equity; sessions that never ran match neither), duration (the simulated
//! period, [`shared_models::SessionParams::span_seconds`]), end reason, and the order
//! (`created_at` newest first, `return` best first, `drawdown` mildest first, `trades` most
//! first, `duration` longest first; sessions without the figure last). `get_history_stats`
//! uses the same filters ([`super::analytics`]).

use serde_json::json;
use shared_models::dates::DateBound;
use shared_models::lifecycle::{Performance, SessionSort};
use shared_models::messages::client::ListSessions;
use shared_models::{ErrorCode, SessionState, TerminationReason};
use std::cmp::Ordering;
use std::sync::Arc;

use super::Session;
use crate::error::{ApiResult, api_error};

/// A parsed `list_sessions` query.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    state: Option<SessionState>,
    from: Option<i64>,
    to: Option<i64>,
    performance: Option<Performance>,
    min_span: Option<u64>,
    max_span: Option<u64>,
    reason: Option<TerminationReason>,
    sort: SessionSort,
}

impl ListFilter {
    /// Parse the query's filters.
    pub fn from_query(q: &ListSessions) -> ApiResult<Self> {
        let bound = |field: &str, v: &Option<String>, last: bool| -> ApiResult<Option<i64>> {
            let Some(text) = v else { return Ok(None) };
            let b = DateBound::parse(text).map_err(|_| {
                api_error(
                    ErrorCode::InvalidDateRange,
                    format!("{field} '{text}' is not a date; use YYYY-MM-DD or RFC 3339"),
                    json!({ "field": field }),
                )
            })?;
            Ok(Some(if last {
                b.last_second()
            } else {
                b.first_second()
            }))
        };
        Ok(ListFilter {
            state: q.state,
            from: bound("created_from", &q.created_from, false)?,
            to: bound("created_to", &q.created_to, true)?,
            performance: q.performance,
            min_span: q.min_duration_seconds,
            max_span: q.max_duration_seconds,
            reason: q.reason,
            sort: q.sort.unwrap_or_default(),
        })
    }

    /// True when `s` passes every filter.
    pub fn matches(&self, s: &Session) -> bool {
        let created = s.created_at.timestamp();
        if self.state.is_some_and(|st| s.state() != st)
            || self.from.is_some_and(|f| created < f)
            || self.to.is_some_and(|t| created > t)
        {
            return false;
        }
        if self.min_span.is_some() || self.max_span.is_some() {
            let Some(span) = s.params.span_seconds() else {
                return false;
            };
            if self.min_span.is_some_and(|m| span < m) || self.max_span.is_some_and(|m| span > m) {
                return false;
            }
        }
        if let Some(r) = self.reason
            && s.lifecycle().termination_reason != Some(r)
        {
            return false;
        }
        match self.performance {
            None => true,
            Some(p) => match s.current_equity() {
                None => false,
                Some(e) => match p {
                    Performance::Profit => e > s.params.initial_capital,
                    Performance::Loss => e < s.params.initial_capital,
                },
            },
        }
    }

    /// Order sessions given newest first; a stable sort keeps that order among equals, and
    /// sessions without the sorted figure (never ran) come last.
    pub fn sort(&self, sessions: &mut [Arc<Session>]) {
        // Each key is "larger first"; drawdown is negated so the mildest comes first.
        let key: fn(&Session) -> Option<f64> = match self.sort {
            SessionSort::CreatedAt => return,
            SessionSort::Return => Session::return_pct,
            SessionSort::Drawdown => |s| s.run_figures().map(|(_, dd)| -dd),
            SessionSort::Trades => |s| s.run_figures().map(|(trades, _)| trades as f64),
            SessionSort::Duration => |s| s.params.span_seconds().map(|d| d as f64),
        };
        let mut keyed: Vec<(Option<f64>, Arc<Session>)> =
            sessions.iter().map(|s| (key(s), s.clone())).collect();
        keyed.sort_by(|(a, _), (b, _)| match (a, b) {
            (Some(x), Some(y)) => y.partial_cmp(x).unwrap_or(Ordering::Equal),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        });
        for (slot, (_, s)) in sessions.iter_mut().zip(keyed) {
            *slot = s;
        }
    }
}
