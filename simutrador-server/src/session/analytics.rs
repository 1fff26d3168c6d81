//! History analytics: `compare_sessions` (a few sessions' statistics side by side) and
//! `get_history_stats` (count, win rate across sessions, mean / median return, best and
//! worst, trades and drawdown, overall and per strategy) over the sessions that pass the
//! `list_sessions` filters ([`super::history::ListFilter`]).
//!
//! The figures come from what every session keeps in memory (its live figures, settled to the
//! results' once it ended, and its results' summary), so neither request reads the store.
//! [`aggregate`] is a pure function over [`HistoryPoint`]s, tested below.

use serde_json::json;
use shared_models::ErrorCode;
use shared_models::messages::history::{
    CompareSessions, ComparedSession, GetHistoryStats, HistoryStats, MAX_COMPARED,
    SessionComparison, SessionReturn, StatsGroup,
};
use std::collections::{BTreeMap, HashSet};

use super::history::ListFilter;
use super::{Session, SessionManager};
use crate::error::{ApiResult, api_error};

/// What the aggregation needs of one session.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryPoint {
    /// The session.
    pub session_id: String,
    /// The strategy it records, if any ([`strategy_of`]).
    pub strategy: Option<String>,
    /// Its return in percent (`None`: it never ran).
    pub return_pct: Option<f64>,
    /// Closed trades (`0` when it never ran).
    pub trades: u64,
    /// Maximum drawdown in percent, ≥ 0 (`None`: it never ran).
    pub max_drawdown_pct: Option<f64>,
}

impl HistoryPoint {
    /// The point of `s`.
    pub fn of(s: &Session) -> HistoryPoint {
        let figures = s.run_figures();
        HistoryPoint {
            session_id: s.id.to_string(),
            strategy: strategy_of(s),
            return_pct: s.return_pct().filter(|r| r.is_finite()),
            trades: figures.map_or(0, |(t, _)| t),
            max_drawdown_pct: figures.map(|(_, dd)| dd),
        }
    }
}

/// The strategy a session ran, for grouping `history_stats`: the name `start_simulation`
/// recorded (journaled with the start), else the `strategy` string of the session's
/// metadata (`create_session`'s `metadata`, for sessions run by clients that do not say).
pub fn strategy_of(s: &Session) -> Option<String> {
    let recorded = s.lifecycle().strategy.map(|r| r.name);
    recorded.or_else(|| {
        s.params
            .metadata
            .get("strategy")
            .and_then(|v| v.as_str())
            .map(str::to_string)
    })
}

/// Aggregate `points` (given newest first) into one group.
pub fn aggregate(points: &[HistoryPoint], strategy: Option<String>) -> StatsGroup {
    let ran: Vec<&HistoryPoint> = points.iter().filter(|p| p.return_pct.is_some()).collect();
    let mut returns: Vec<f64> = ran.iter().filter_map(|p| p.return_pct).collect();
    let n = returns.len();
    let winners = returns.iter().filter(|r| **r > 0.0).count() as u64;
    let mean = |xs: &[f64]| (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64);
    let mean_return = mean(&returns);
    let drawdowns: Vec<f64> = ran.iter().filter_map(|p| p.max_drawdown_pct).collect();
    returns.sort_by(f64::total_cmp);
    let median = match n {
        0 => None,
        _ if n % 2 == 1 => Some(returns[n / 2]),
        _ => Some((returns[n / 2 - 1] + returns[n / 2]) / 2.0),
    };
    // Strict comparisons keep the first (newest) of equal returns.
    type Pick<'a> = Option<(&'a HistoryPoint, f64)>;
    let (mut best, mut worst): (Pick, Pick) = (None, None);
    for p in &ran {
        let Some(r) = p.return_pct else { continue };
        if best.is_none_or(|(_, b)| r > b) {
            best = Some((p, r));
        }
        if worst.is_none_or(|(_, w)| r < w) {
            worst = Some((p, r));
        }
    }
    let named = |x: Pick| {
        x.map(|(p, r)| SessionReturn {
            session_id: p.session_id.clone(),
            return_pct: r,
        })
    };
    StatsGroup {
        strategy,
        sessions: points.len() as u64,
        with_return: n as u64,
        winners,
        win_rate_pct: (n > 0).then(|| winners as f64 / n as f64 * 100.0),
        mean_return_pct: mean_return,
        median_return_pct: median,
        best: named(best),
        worst: named(worst),
        total_trades: ran.iter().map(|p| p.trades).sum(),
        zero_trade_sessions: ran.iter().filter(|p| p.trades == 0).count() as u64,
        mean_max_drawdown_pct: mean(&drawdowns).map(|d| 0.0 - d),
    }
}

/// `history_stats` of `points`: overall, then one group per strategy (by name, `None` last).
pub fn history_stats(points: &[HistoryPoint]) -> HistoryStats {
    let mut groups: BTreeMap<(bool, String), Vec<HistoryPoint>> = BTreeMap::new();
    for p in points {
        let key = (p.strategy.is_none(), p.strategy.clone().unwrap_or_default());
        groups.entry(key).or_default().push(p.clone());
    }
    HistoryStats {
        overall: aggregate(points, None),
        by_strategy: groups
            .into_iter()
            .map(|((none, name), ps)| aggregate(&ps, (!none).then_some(name)))
            .collect(),
    }
}

impl SessionManager {
    /// `compare_sessions`: the named sessions of `user_id`, in the order asked.
    /// `VALIDATION_FAILED` for no id, too many or a repeated one; `SESSION_NOT_FOUND` for an
    /// id that is not the user's.
    pub fn compare(&self, user_id: &str, req: &CompareSessions) -> ApiResult<SessionComparison> {
        let ids = &req.session_ids;
        let invalid = |message: String| {
            api_error(
                ErrorCode::ValidationFailed,
                message,
                json!({ "field": "session_ids" }),
            )
        };
        if ids.is_empty() || ids.len() > MAX_COMPARED {
            return Err(invalid(format!(
                "compare_sessions takes 1 to {MAX_COMPARED} session ids; {} given",
                ids.len()
            )));
        }
        let mut seen = HashSet::new();
        if let Some(twice) = ids.iter().find(|id| !seen.insert(id.trim())) {
            return Err(invalid(format!(
                "session '{}' is named twice; name each session once",
                twice.chars().take(64).collect::<String>()
            )));
        }
        let sessions = ids
            .iter()
            .map(|id| self.get(user_id, id.trim()).map(|s| compared(&s)))
            .collect::<ApiResult<Vec<_>>>()?;
        Ok(SessionComparison { sessions })
    }

    /// `get_history_stats`: aggregate figures of the user's sessions passing the filters.
    /// `INVALID_DATE_RANGE` for unreadable dates.
    pub fn history_stats(&self, user_id: &str, req: &GetHistoryStats) -> ApiResult<HistoryStats> {
        let filter = ListFilter::from_query(&req.as_list_query())?;
        let points: Vec<HistoryPoint> = self
            .matching(user_id, &filter)
            .iter()
            .map(|s| HistoryPoint::of(s))
            .collect();
        Ok(history_stats(&points))
    }
}

/// One session of a `session_comparison`.
fn compared(s: &Session) -> ComparedSession {
    let l = s.lifecycle();
    let equity = s.current_equity();
    ComparedSession {
        session_id: s.id.to_string(),
        state: l.state,
        termination_reason: l.termination_reason,
        strategy: strategy_of(s),
        symbols: s.params.symbols.clone(),
        timeframe: s.params.timeframe.to_string(),
        start_date: s.params.start_date.clone(),
        end_date: s.params.end_date.clone(),
        initial_capital: s.params.initial_capital,
        equity,
        pnl: equity.map(|e| e - s.params.initial_capital),
        metrics: s.results_summary().map(|r| r.metrics.clone()),
    }
}

#[cfg(test)]
#[path = "analytics_tests.rs"]
mod tests;
