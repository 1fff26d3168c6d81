//! What a store keeps, one JSON object per line.
//!
//! Lifecycle records ([`Record`]) describe a session: its parameters (`saved`, again after
//! `update_session`), every state change (with the live figures at that moment), every event,
//! and the final results. Run records ([`RunRecord`]) describe a simulation: its options, each
//! decision of the client in the order the run applied it, and how far the client had
//! acknowledged; replaying them over the same market data rebuilds the engine exactly.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use shared_models::columns::{EquityColumns, TradeColumns};
use shared_models::lifecycle::SessionEventRecord;
use shared_models::messages::simulation::{AccountUpdates, EventMode, TickEncoding};
use shared_models::results::{Metrics, SimulationResults};
use shared_models::trading::OrderRequest;
use shared_models::trading::PositionView;
use shared_models::{SessionInfo, SessionParams, SessionState, StrategyRef, TerminationReason};
use simutrador_engine::ResultColumns;

use crate::market_data::DataFingerprint;
use crate::session::limits::RiskLimits;
use crate::session::live::LiveStats;
use crate::session::record::{return_pct, run_figures, wire_limits};
use crate::session::results::ResultsSummary;

/// One lifecycle record.
#[allow(clippy::large_enum_variant)] // built one at a time to be written, or read at start-up
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum Record {
    /// Created, or replaced by `update_session`.
    Saved {
        /// Owner.
        user_id: String,
        /// Normalized parameters.
        params: SessionParams,
        /// Ticks the session replays.
        bar_count: u64,
        /// Limits.
        limits: RiskLimits,
        /// Creation time.
        created_at: DateTime<Utc>,
        /// The market data it was created on; absent in journals written before data
        /// fingerprints existed (such a session's data is not checked).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        data: Option<DataFingerprint>,
    },
    /// A state change.
    State {
        /// Previous state.
        from: SessionState,
        /// New state.
        to: SessionState,
        /// Why it ended.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<TerminationReason>,
        /// When.
        at: DateTime<Utc>,
        /// Ticks settled then.
        settled_ticks: u64,
        /// Live figures then.
        live: LiveStats,
        /// The strategy `start_simulation` described (only on the `created` → `running`
        /// record; absent in journals written before it was kept).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        strategy: Option<StrategyRef>,
        /// The version of the client that started the run (likewise).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_version: Option<String>,
    },
    /// An event appended to the session's log.
    Event {
        /// The event.
        event: SessionEventRecord,
    },
    /// Final results.
    Results {
        /// The results `get_results` answers, in columns.
        results: Box<StoredResults>,
    },
}

/// A lifecycle record to write that borrows what it carries, so results are not copied to be
/// journaled; it serializes exactly as the [`Record`] it stands for.
#[derive(Debug, Serialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum RecordRef<'a> {
    /// [`Record::Results`], journaled without the drawdown columns (see [`journaled`]).
    Results {
        /// The results.
        #[serde(serialize_with = "journaled")]
        results: &'a StoredResults,
    },
}

/// `results` as the journal keeps them: everything but the equity curve's drawdown columns,
/// which follow from its equity column (a million-bar run's two million values, a third of
/// the time its end spent writing) and are computed again, bit for bit, when the results are
/// read back ([`StoredResults::with_drawdown`]).
fn journaled<S: serde::Serializer>(r: &&StoredResults, s: S) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Journaled<'a> {
        metrics: &'a Metrics,
        trades: &'a TradeColumns,
        open_positions: &'a [PositionView],
        equity: Equity<'a>,
    }
    /// [`EquityColumns`] as it serializes, drawdown columns left out.
    #[derive(Serialize)]
    struct Equity<'a> {
        time_start: i64,
        #[serde(skip_serializing_if = "Option::is_none")]
        time_step: Option<i64>,
        #[serde(skip_serializing_if = "Option::is_none")]
        time_deltas: Option<&'a [i64]>,
        #[serde(serialize_with = "decimals")]
        equity: &'a [rust_decimal::Decimal],
    }
    fn decimals<S: serde::Serializer>(
        v: &&[rust_decimal::Decimal],
        s: S,
    ) -> Result<S::Ok, S::Error> {
        shared_models::decimal_text::vec::serialize(v, s)
    }
    let e = &r.equity;
    Journaled {
        metrics: &r.metrics,
        trades: &r.trades,
        open_positions: &r.open_positions,
        equity: Equity {
            time_start: e.time_start,
            time_step: e.time_step,
            time_deltas: e.time_deltas.as_deref(),
            equity: &e.equity,
        },
    }
    .serialize(s)
}

/// Final results as stored: the trades and the equity curve as columns (the wire's
/// `format: columns`), so a million-bar curve costs a few MB and no per-point objects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredResults {
    /// Summary statistics.
    pub metrics: Metrics,
    /// Closed trades.
    pub trades: TradeColumns,
    /// Positions still open at the end.
    pub open_positions: Vec<PositionView>,
    /// Equity at every bar's close.
    pub equity: EquityColumns,
}

impl StoredResults {
    /// The columns of `results`.
    pub fn new(results: &SimulationResults) -> StoredResults {
        StoredResults {
            metrics: results.metrics.clone(),
            trades: TradeColumns::from_trades(&results.trades),
            open_positions: results.open_positions.clone(),
            equity: EquityColumns::from_points(&results.equity_curve),
        }
    }

    /// The results of a run, as the engine gives them in columns (the same values as
    /// [`StoredResults::new`] of its `results`, bit for bit, without an equity point per bar).
    pub fn from_columns(results: ResultColumns) -> StoredResults {
        StoredResults {
            metrics: results.metrics,
            trades: results.trades,
            open_positions: results.open_positions,
            equity: results.equity,
        }
    }

    /// These results with the equity curve's drawdown columns, computed from its equity
    /// column when they are absent (as the journal keeps them: see [`RecordRef::Results`]);
    /// the same values the run's engine gave, bit for bit.
    pub fn with_drawdown(mut self) -> StoredResults {
        let e = &mut self.equity;
        if e.drawdown_pct.is_none() || e.drawdown_duration.is_none() {
            let (pct, duration) = simutrador_engine::drawdown_of(e);
            e.drawdown_pct = Some(pct);
            e.drawdown_duration = Some(duration);
        }
        self
    }

    /// Whether the columns agree in length, as [`StoredResults::into_results`] needs;
    /// an error names the inconsistent column.
    pub fn check(&self) -> Result<(), String> {
        let t = &self.trades;
        let n = t.symbol.len();
        let lens = [
            t.side.len(),
            t.quantity.len(),
            t.entry_time.len(),
            t.entry_price.len(),
            t.exit_time.len(),
            t.exit_price.len(),
            t.pnl.len(),
            t.return_pct.len(),
            t.commission.len(),
            t.duration.len(),
        ];
        if lens.iter().any(|&l| l != n) {
            return Err(format!("trade_columns: every column must hold {n} values"));
        }
        let e = &self.equity;
        match (&e.time_step, &e.time_deltas) {
            (None, Some(d)) if d.len() != e.equity.len() => Err(format!(
                "equity_columns: {} time_deltas for {} points",
                d.len(),
                e.equity.len()
            )),
            (None, None) if !e.equity.is_empty() => {
                Err("equity_columns: no time_step or time_deltas".into())
            }
            _ => Ok(()),
        }
    }

    /// The results again; an error names the inconsistent column.
    pub fn into_results(self) -> Result<SimulationResults, String> {
        Ok(SimulationResults {
            metrics: self.metrics,
            trades: self.trades.into_trades()?,
            open_positions: self.open_positions,
            equity_curve: self.equity.into_points()?,
            outcome: Default::default(),
        })
    }
}

/// One run record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum RunRecord {
    /// `start_simulation` with these options.
    Started {
        /// `max_pending_ticks`.
        window: u32,
        /// Account snapshots.
        account_updates: AccountUpdates,
        /// Tick encoding.
        encoding: TickEncoding,
        /// Warm-up bars.
        warmup_bars: u32,
        /// The strategy's indicator warm-up (0 in journals written before it existed).
        #[serde(default)]
        indicator_warmup_bars: u32,
        /// How settlement events travel (`messages` in journals written before it existed).
        #[serde(default)]
        events: EventMode,
        /// Tick times as a `time_range`.
        #[serde(default)]
        compact_times: bool,
    },
    /// A `tick_ack` with orders or cancels, applied after the bar of tick `seq` settled.
    Ack {
        /// The acknowledged tick.
        seq: u64,
        /// New orders.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        orders: Vec<OrderRequest>,
        /// Order ids to cancel.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        cancels: Vec<String>,
    },
    /// An `order_batch`, applied when `settled` bars were settled.
    Batch {
        /// Bars settled when it was applied.
        settled: u64,
        /// The orders.
        orders: Vec<OrderRequest>,
    },
    /// The client had acknowledged `acked` ticks (every tick below it).
    Progress {
        /// Acknowledged ticks.
        acked: u64,
    },
}

/// A session as loaded from a store: its summary — the wire's [`SessionInfo`], as `session`
/// would have reported it at the last journaled change — and what only the store keeps.
///
/// In `info`, `idle_expires_at` is always `None` (idle time runs on the daemon's monotonic
/// clock, not in the journal), `settled_ticks` is the progress at the last state change, and
/// `limits`, `equity`, `return_pct`, `trades` and `max_drawdown_pct` are derived from the fields below as the daemon derives
/// them.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSession {
    /// The summary (id, owner, parameters, ticks, state and its times, progress).
    pub info: SessionInfo,
    /// Limits, as the daemon enforces them.
    pub limits: RiskLimits,
    /// Live figures at the last state change.
    pub live: LiveStats,
    /// The event log, in sequence order.
    pub events: Vec<SessionEventRecord>,
    /// The summary of the final results (the whole results stay on disk; the store loads
    /// them on demand with `SessionStore::load_results`).
    pub results: Option<ResultsSummary>,
    /// The market data it was created on (`None`: journaled before fingerprints, unchecked).
    pub data: Option<DataFingerprint>,
}

impl StoredSession {
    /// Session id.
    pub fn id(&self) -> &str {
        &self.info.session_id
    }

    /// Fold the records of one session file; `None` without a `saved` record.
    pub fn fold(id: &str, records: impl IntoIterator<Item = Record>) -> Option<StoredSession> {
        let mut s: Option<StoredSession> = None;
        for record in records {
            match record {
                Record::Saved {
                    user_id,
                    params,
                    bar_count,
                    limits,
                    created_at,
                    data,
                } => match &mut s {
                    Some(s) => {
                        s.info.params = params;
                        s.info.bar_count = bar_count;
                        s.limits = limits;
                        s.data = data;
                    }
                    None => {
                        let mut saved = StoredSession::saved(
                            id, user_id, params, bar_count, limits, created_at,
                        );
                        saved.data = data;
                        s = Some(saved);
                    }
                },
                Record::State {
                    from,
                    to,
                    reason,
                    at,
                    settled_ticks,
                    live,
                    strategy,
                    client_version,
                } => {
                    let Some(s) = &mut s else { continue };
                    let info = &mut s.info;
                    // A terminal state is final, whatever order concurrent writes landed in.
                    if info.state.is_terminal() {
                        continue;
                    }
                    info.state = to;
                    info.updated_at = at;
                    info.settled_ticks = settled_ticks;
                    s.live = live;
                    if from == SessionState::Created && to == SessionState::Running {
                        info.started_at = Some(at);
                        info.strategy = strategy;
                        info.client_version = client_version;
                    }
                    if to.is_terminal() {
                        info.ended_at = Some(at);
                        info.termination_reason = reason;
                    }
                }
                Record::Event { event } => {
                    if let Some(s) = &mut s {
                        s.events.push(event);
                    }
                }
                Record::Results { results } => {
                    if let Some(s) = &mut s {
                        match results.check() {
                            Ok(()) => s.results = Some(ResultsSummary::of(&results)),
                            Err(e) => {
                                tracing::warn!(session_id = %s.id(), "stored results ignored: {e}")
                            }
                        }
                    }
                }
            }
        }
        if let Some(s) = &mut s {
            s.events.sort_by_key(|e| e.seq);
            s.events.dedup_by_key(|e| e.seq);
            s.derive();
        }
        s
    }

    /// Mark the session `damaged`, with `message` for its owner (see [`super::frame`]).
    pub fn mark_damaged(&mut self, message: String) {
        self.info.state = SessionState::Damaged;
        self.info.damage = Some(message);
    }

    /// A session as its first `saved` record describes it: `created`, nothing run.
    pub(super) fn saved(
        id: &str,
        user_id: String,
        params: SessionParams,
        bar_count: u64,
        limits: RiskLimits,
        created_at: DateTime<Utc>,
    ) -> StoredSession {
        StoredSession {
            info: SessionInfo {
                session_id: id.to_string(),
                user_id,
                state: SessionState::Created,
                params,
                bar_count,
                created_at,
                updated_at: created_at,
                idle_expires_at: None,
                started_at: None,
                ended_at: None,
                termination_reason: None,
                settled_ticks: 0,
                limits: None,
                equity: None,
                return_pct: None,
                trades: None,
                max_drawdown_pct: None,
                damage: None,
                strategy: None,
                client_version: None,
                data_fingerprint: None,
            },
            limits,
            live: LiveStats::default(),
            events: Vec::new(),
            results: None,
            data: None,
        }
    }

    /// Fill the summary's derived fields (limits, equity, return) from the folded records.
    pub(super) fn derive(&mut self) {
        let info = &mut self.info;
        info.limits = wire_limits(&self.limits, info.created_at);
        info.data_fingerprint = self.data.as_ref().map(DataFingerprint::digest);
        info.equity = self
            .results
            .as_ref()
            .map(|r| r.metrics.equity_final)
            .or(self.live.equity);
        info.return_pct = info
            .equity
            .and_then(|e| return_pct(info.params.initial_capital, e));
        let figures = run_figures(&self.live);
        info.trades = figures.map(|(t, _)| t);
        info.max_drawdown_pct = figures.map(|(_, dd)| 0.0 - dd);
    }
}

/// The run records of one session.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoredRun {
    /// The options of `start_simulation`, when it ran.
    pub started: Option<RunRecord>,
    /// Decisions and progress marks, in the order the run applied them.
    pub records: Vec<RunRecord>,
}

impl StoredRun {
    /// Split loaded run records into the start and the rest (a later start replaces all).
    pub fn from_records(records: impl IntoIterator<Item = RunRecord>) -> StoredRun {
        let mut run = StoredRun::default();
        for record in records {
            if matches!(record, RunRecord::Started { .. }) {
                run.started = Some(record);
                run.records.clear();
            } else if run.started.is_some() {
                run.records.push(record);
            }
        }
        run
    }

    /// Ticks the client had acknowledged, by the records.
    pub fn acked(&self) -> u64 {
        self.records
            .iter()
            .map(|r| match r {
                RunRecord::Ack { seq, .. } => seq + 1,
                RunRecord::Progress { acked } => *acked,
                _ => 0,
            })
            .max()
            .unwrap_or(0)
    }
}
