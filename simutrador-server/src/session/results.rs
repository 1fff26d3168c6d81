//! A finished session's results as the daemon holds them.
//!
//! A million-bar run's equity curve and trades take tens of MB, and a finished session stays
//! in the table for the whole retention period. So the heavy parts live on disk: from the
//! moment the store has journaled them (`FileStore::transitioned`), the session keeps only a
//! [`ResultsSummary`] (metrics, open positions, how many trades and equity points) and the
//! store loads the rest on demand ([`SessionManager::results`], through a small bounded cache
//! in the store). Until then — and for good with a store that keeps nothing (no state dir) —
//! the results are held in memory as columns ([`ResultsSlot::Held`]).

use serde_json::json;
use shared_models::ErrorCode;
use shared_models::results::Metrics;
use shared_models::trading::PositionView;
use std::sync::Arc;

use super::store::record::StoredResults;
use super::{Session, SessionManager};
use crate::error::{ApiResult, api_error};

/// What a finished session keeps in memory of its results.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultsSummary {
    /// Summary statistics.
    pub metrics: Metrics,
    /// Positions still open at the end.
    pub open_positions: Vec<PositionView>,
    /// Closed trades in the stored results.
    pub trades: u64,
    /// Equity points in the stored results.
    pub equity_points: u64,
}

impl ResultsSummary {
    /// The summary of `results`.
    pub fn of(results: &StoredResults) -> ResultsSummary {
        ResultsSummary {
            metrics: results.metrics.clone(),
            open_positions: results.open_positions.clone(),
            trades: results.trades.len() as u64,
            equity_points: results.equity.equity.len() as u64,
        }
    }
}

/// Where a session's results are.
#[derive(Debug, Clone, Default)]
pub enum ResultsSlot {
    /// No results (the run has not ended, or never ran).
    #[default]
    Empty,
    /// Whole, in memory (not yet journaled, or no store to journal them to).
    Held(Arc<StoredResults>),
    /// Whole, in memory, of a run that *completed*: journaled by the run right after it has
    /// sent `simulation_end` ([`SessionManager::results_ready`]), off the path to that frame.
    /// Until then they can be rebuilt: the session's end (`completed`) and its run journal are
    /// on disk, and start-up replays the journal of a completed session whose results record
    /// is missing (`session::run::start::rebuild_results`).
    Completing(Arc<StoredResults>),
    /// On disk in the store; only the summary is in memory.
    Stored(Arc<ResultsSummary>),
}

impl ResultsSlot {
    /// The summary, whichever way the results are kept.
    pub fn summary(&self) -> Option<Arc<ResultsSummary>> {
        match self {
            ResultsSlot::Empty => None,
            ResultsSlot::Held(r) | ResultsSlot::Completing(r) => {
                Some(Arc::new(ResultsSummary::of(r)))
            }
            ResultsSlot::Stored(s) => Some(s.clone()),
        }
    }

    /// The final equity, without copying anything else.
    pub fn equity_final(&self) -> Option<rust_decimal::Decimal> {
        match self {
            ResultsSlot::Empty => None,
            ResultsSlot::Held(r) | ResultsSlot::Completing(r) => Some(r.metrics.equity_final),
            ResultsSlot::Stored(s) => Some(s.metrics.equity_final),
        }
    }
}

impl SessionManager {
    /// Journal the results of `s` kept in memory ([`ResultsSlot::Completing`], or `Held`
    /// ones whose write failed before); once written, only their summary stays in memory.
    /// A failed write is reported (the store's health, `/healthz`) and the results stay held,
    /// to be written with the session's other unwritten lines.
    pub fn results_ready(&self, s: &Session) {
        if let Err(e) = self.hooks.journal.results_ready(s) {
            tracing::warn!(session_id = %s.id, "the results of a completed run could not be journaled (kept in memory): {}", e.message);
        }
    }

    /// The whole results of `s` (`None` before its run ended): the ones held in memory, or
    /// the ones its store loads from disk. Errors: `INTERNAL` when the store no longer has
    /// results it journaled (a file deleted or damaged behind the daemon's back).
    pub fn results(&self, s: &Session) -> ApiResult<Option<Arc<StoredResults>>> {
        match s.results_slot() {
            ResultsSlot::Empty => Ok(None),
            ResultsSlot::Held(r) | ResultsSlot::Completing(r) => Ok(Some(r)),
            ResultsSlot::Stored(_) => match self.hooks.journal.load_results(&s.id) {
                Some(r) => Ok(Some(r)),
                None => Err(api_error(
                    ErrorCode::Internal,
                    format!(
                        "the results of session {} cannot be read from the daemon's state dir; see its log",
                        s.id
                    ),
                    json!({}),
                )),
            },
        }
    }
}
