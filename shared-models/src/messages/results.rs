//! `get_results` and its reply `results`: the statistics, trades, equity curve and open
//! positions of a run that has ended, in rows, columns or as a summary, whole or one page at
//! a time (paging is in [`crate::results_page`]), with how the run ended and what ran.

use serde::{Deserialize, Serialize};

use crate::results::{Metrics, RunOutcome, SimulationResults};

/// How `get_results` lays out trades and the equity curve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResultsFormat {
    /// `trades` and `equity_curve` as lists of objects (default).
    #[default]
    Rows,
    /// `trade_columns` and `equity_columns`: one array per field (protocol version 2).
    Columns,
    /// Only `metrics` and `open_positions`: no trades and no equity curve, for a caller that
    /// shows a summary (a few hundred bytes instead of megabytes for a long run). Daemons
    /// older than this variant refuse it with `INVALID_MESSAGE`; ask again with `columns`.
    Summary,
}

/// `get_results`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GetResults {
    /// The session.
    pub session_id: String,
    /// Default `rows`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<ResultsFormat>,
    /// Ask for one page: the first trade and equity point it holds (default 0 when `limit`
    /// is given). Without `offset` and `limit` the whole results come in one reply, if they
    /// fit (see [`crate::results_page`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// Ask for one page: at most this many trades and this many equity points (1 ..=
    /// [`crate::results_page::MAX_PAGE_LIMIT`]; default
    /// [`crate::results_page::DEFAULT_PAGE_LIMIT`] when `offset` is given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// `results`: rows (`trades`, `equity_curve`) or columns (`trade_columns`,
/// `equity_columns`), as `get_results` asked. [`ResultsReply::into_results`] gives the same
/// [`SimulationResults`] either way.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultsReply {
    /// The session.
    pub session_id: String,
    /// Summary statistics.
    pub metrics: Metrics,
    /// Closed trades (rows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trades: Option<Vec<crate::trading::Trade>>,
    /// Closed trades (columns).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trade_columns: Option<Box<crate::columns::TradeColumns>>,
    /// Positions still open at the end.
    pub open_positions: Vec<crate::trading::PositionView>,
    /// Equity at every bar's close (rows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equity_curve: Option<Vec<crate::trading::EquityPoint>>,
    /// Equity at every bar's close (columns).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equity_columns: Option<Box<crate::columns::EquityColumns>>,
    /// Where this page sits, in a reply to a paged request (absent otherwise: the whole
    /// results).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<crate::results_page::ResultsPage>,
    /// How the run ended and what ran (`final_state`, `termination_reason`, `settled_ticks`,
    /// `total_ticks`, `strategy`, `client_version`, `data_fingerprint`), as fields of the
    /// reply itself; each absent when unknown (daemons before it was reported).
    #[serde(flatten)]
    pub outcome: RunOutcome,
}

impl ResultsReply {
    /// `results` of `session_id` in `format`.
    pub fn new(session_id: String, results: &SimulationResults, format: ResultsFormat) -> Self {
        let rows = format == ResultsFormat::Rows;
        let columns = format == ResultsFormat::Columns;
        ResultsReply {
            session_id,
            metrics: results.metrics.clone(),
            trades: rows.then(|| results.trades.clone()),
            trade_columns: columns
                .then(|| Box::new(crate::columns::TradeColumns::from_trades(&results.trades))),
            open_positions: results.open_positions.clone(),
            equity_curve: rows.then(|| results.equity_curve.clone()),
            equity_columns: columns.then(|| {
                Box::new(crate::columns::EquityColumns::from_points(
                    &results.equity_curve,
                ))
            }),
            page: None,
            outcome: results.outcome.clone(),
        }
    }

    /// This reply with `outcome`'s fields.
    pub fn with_outcome(mut self, outcome: RunOutcome) -> Self {
        self.outcome = outcome;
        self
    }

    /// The results, whichever layout they came in. Errors: columns of different lengths.
    pub fn into_results(self) -> Result<SimulationResults, String> {
        let trades = match (self.trades, self.trade_columns) {
            (Some(rows), _) => rows,
            (None, Some(cols)) => cols.into_trades()?,
            (None, None) => Vec::new(),
        };
        let equity_curve = match (self.equity_curve, self.equity_columns) {
            (Some(rows), _) => rows,
            (None, Some(cols)) => cols.into_points()?,
            (None, None) => Vec::new(),
        };
        Ok(SimulationResults {
            metrics: self.metrics,
            trades,
            open_positions: self.open_positions,
            equity_curve,
            outcome: self.outcome,
        })
    }
}
