//! Payloads of the simulation messages: starting a run, the tick stream and its
//! acknowledgements, orders, fills, account views, and the end of a run (its results, once
//! it has ended, are in [`super::results`]).
//!
//! Flow control and determinism are described in `docs/protocol.md` ("Running a simulation").

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::market::Timeframe;
use crate::results::Metrics;
use crate::session::{StrategyRef, TerminationReason};
use crate::trading::{AccountSnapshot, ExecutionReport, OrderRequest, OrderUpdate};

/// When the server pushes `account_snapshot`s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountUpdates {
    /// After every settled bar that had a fill (default).
    #[default]
    EveryFill,
    /// After every settled bar the client waits for (see the protocol doc).
    EveryTick,
    /// Only in reply to `get_account`.
    OnDemand,
}

/// How ticks travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TickEncoding {
    /// One `tick` message per bar time, prices as decimal strings (default; easy to read).
    #[default]
    Tick,
    /// `tick_block` messages packing many ticks as integer columns (fast; what the SDK uses).
    Block,
}

/// How the server sends what happens at each settlement (order updates, fills, account
/// snapshots, `bar_settled`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventMode {
    /// One message per event (default; what every client understands).
    #[default]
    Messages,
    /// The same events, but each settlement's events packed into one `event_block`.
    Blocks,
    /// For clients that predict fills: only `execution_report`s (and rejections), packed into
    /// `event_block`s that may span several settlements; no `bar_settled`, no other updates.
    Fills,
}

/// `start_simulation`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartSimulation {
    /// The session to run (state `created`).
    pub session_id: String,
    /// Bars before `start_date` to send first as `history_snapshot` (default 0, at most 10000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warmup_bars: Option<u32>,
    /// Bars, from the first replayed tick, before the strategy's indicators are all defined
    /// (backtesting.py's `_indicator_warmup_nbars`): Buy & Hold is measured from that bar's
    /// close. Default 0 (from the first bar). Unrelated to `warmup_bars`, which asks for
    /// history before `start_date`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub indicator_warmup_bars: Option<u32>,
    /// Ticks the server may send beyond the last acknowledged one (default 1, at most 65536).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_pending_ticks: Option<u32>,
    /// Default `every_fill`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_updates: Option<AccountUpdates>,
    /// Default `tick`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tick_encoding: Option<TickEncoding>,
    /// Default `messages` (protocol version 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<EventMode>,
    /// `tick_block`s may give evenly spaced times as a `time_range` (protocol version 2;
    /// default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compact_times: Option<bool>,
    /// The strategy about to run, kept with the session (journaled) and shown in its status,
    /// history and results so the run can be reproduced (`session rerun`). Optional; bounded
    /// (`VALIDATION_FAILED` past [`crate::session::MAX_STRATEGY_NAME_CHARS`] or
    /// [`crate::session::MAX_STRATEGY_PARAMS_BYTES`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<StrategyRef>,
    /// The client's version (`simutrador-client 0.1.0`), kept with the session likewise; at
    /// most [`crate::session::MAX_CLIENT_VERSION_CHARS`] characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_version: Option<String>,
}

/// `simulation_started`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimulationStarted {
    /// The session.
    pub session_id: String,
    /// Ticks that will be replayed (sequence ids `0 .. total_ticks`).
    pub total_ticks: u64,
    /// Symbols, in the order used by `tick_block`.
    pub symbols: Vec<String>,
    /// Bar size.
    pub timeframe: Timeframe,
    /// Starting cash.
    pub initial_capital: Decimal,
    /// Effective window.
    pub max_pending_ticks: u32,
    /// Effective account update mode.
    pub account_updates: AccountUpdates,
    /// Effective tick encoding.
    pub tick_encoding: TickEncoding,
    /// Effective event mode (absent from servers before protocol version 2: `messages`).
    #[serde(default)]
    pub events: EventMode,
    /// Whether `tick_block`s may carry a `time_range` (absent before version 2: false).
    #[serde(default)]
    pub compact_times: bool,
    /// Bars in the `history_snapshot` that follows (0 = none is sent).
    pub warmup_bars: u32,
    /// The execution model's version (`simutrador_engine::MODEL_VERSION`).
    #[serde(default)]
    pub execution_model: u32,
    /// The engine's configuration (capital, costs, shorting, lot steps): a client running the
    /// same model version can replay the fills locally instead of waiting for `bar_settled`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine: Option<crate::engine_config::EngineConfig>,
    /// The session's loss limit and volatility halt, which the engine enforces bar by bar (a
    /// predicting client applies them too, with `Engine::set_risk`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk: Option<crate::engine_config::RiskRules>,
}

/// `history_snapshot`: warm-up bars before the first tick, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistorySnapshot {
    /// The session.
    pub session_id: String,
    /// Bars per symbol.
    pub bars: BTreeMap<String, Vec<crate::candle::Bar>>,
}

/// `tick`: every symbol's bar at one bar time (a symbol with no bar then is absent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tick {
    /// The session.
    pub session_id: String,
    /// 0-based position in the replay.
    pub sequence_id: u64,
    /// The bar time.
    pub sim_time: DateTime<Utc>,
    /// Bars by symbol.
    pub candles: BTreeMap<String, crate::Candle>,
}

/// One symbol's columns in a `tick_block`. Prices are integers: the real value is
/// `value / 10^price_scale` (volumes: `/ 10^volume_scale`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockColumns {
    /// Decimal places of prices.
    pub price_scale: u32,
    /// Decimal places of volumes.
    pub volume_scale: u32,
    /// Positions in the block's `times` where this symbol has a bar; absent = every position.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows: Option<Vec<u32>>,
    /// Opens.
    pub open: Vec<i64>,
    /// Highs.
    pub high: Vec<i64>,
    /// Lows.
    pub low: Vec<i64>,
    /// Closes.
    pub close: Vec<i64>,
    /// Volumes.
    pub volume: Vec<i64>,
}

/// `tick_block`: consecutive ticks `first_sequence_id ..` packed as columns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TickBlock {
    /// The session.
    pub session_id: String,
    /// Sequence id of the first tick.
    pub first_sequence_id: u64,
    /// Bar times, Unix seconds (UTC); empty when `time_range` gives them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub times: Vec<i64>,
    /// Evenly spaced bar times, instead of `times` (only with `compact_times`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_range: Option<TimeRange>,
    /// Columns by symbol.
    pub symbols: BTreeMap<String, BlockColumns>,
}

/// `count` bar times `start`, `start + step`, … (Unix seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeRange {
    /// The first time.
    pub start: i64,
    /// Seconds between consecutive times.
    pub step: i64,
    /// How many.
    pub count: u32,
}

impl TimeRange {
    /// The `i`-th time; `None` past `count` or past `i64`.
    pub fn at(&self, i: usize) -> Option<i64> {
        if i >= self.count as usize {
            return None;
        }
        self.step.checked_mul(i as i64)?.checked_add(self.start)
    }
}

impl TickBlock {
    /// How many ticks the block holds, whichever way its times travelled.
    pub fn len(&self) -> usize {
        match self.time_range {
            Some(r) if self.times.is_empty() => r.count as usize,
            _ => self.times.len(),
        }
    }

    /// True when the block holds no tick.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bar time of the block's `i`-th tick, if it has one.
    pub fn time_at(&self, i: usize) -> Option<i64> {
        match self.time_range {
            Some(r) if self.times.is_empty() => r.at(i),
            _ => self.times.get(i).copied(),
        }
    }

    /// The block's bar times, whichever way they travelled. Errors: a range past `i64`.
    pub fn bar_times(&self) -> Result<Vec<i64>, String> {
        let Some(r) = self.time_range else {
            return Ok(self.times.clone());
        };
        if !self.times.is_empty() {
            return Err("tick_block has both times and time_range".into());
        }
        (0..r.count as usize)
            .map(|i| {
                r.at(i)
                    .ok_or_else(|| "tick_block time_range overflows".to_string())
            })
            .collect()
    }
}

/// `tick_ack`: the client has processed every tick up to `sequence_id`; `orders` and `cancels`
/// were decided at that tick and can act from the next bar on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TickAck {
    /// The session.
    pub session_id: String,
    /// Last processed tick (cumulative).
    pub sequence_id: u64,
    /// New orders, executed in this order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub orders: Vec<OrderRequest>,
    /// Ids of working orders to cancel (applied before `orders`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cancels: Vec<String>,
}

/// One acknowledgement inside `tick_acks`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AckEntry {
    /// Last processed tick (cumulative).
    pub sequence_id: u64,
    /// New orders decided at that tick, executed in this order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub orders: Vec<OrderRequest>,
    /// Ids of working orders to cancel (applied before `orders`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cancels: Vec<String>,
}

/// `tick_acks`: several `tick_ack`s in one frame, applied in order (sequence ids increasing).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TickAcks {
    /// The session.
    pub session_id: String,
    /// The acknowledgements, oldest first.
    pub acks: Vec<AckEntry>,
}

impl TickAcks {
    /// The acknowledgements as single `tick_ack`s.
    pub fn into_acks(self) -> impl Iterator<Item = TickAck> {
        let session_id = self.session_id;
        self.acks.into_iter().map(move |a| TickAck {
            session_id: session_id.clone(),
            sequence_id: a.sequence_id,
            orders: a.orders,
            cancels: a.cancels,
        })
    }
}

/// The bar a settlement closed, inside an `event_block`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SettledMark {
    /// The tick whose bar was settled.
    pub sequence_id: u64,
    /// Equity at that bar's close.
    pub equity: Decimal,
}

/// `event_block`: the events of one settlement (`events: blocks`), or the fills of one or more
/// settlements (`events: fills`), in the order they would travel as single messages:
/// order updates, then fills, then the account, then `bar_settled`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventBlock {
    /// The session.
    pub session_id: String,
    /// `order_update`s.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub order_updates: Vec<OrderUpdate>,
    /// `execution_report`s.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub executions: Vec<ExecutionReport>,
    /// `account_snapshot`, when one is due.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<AccountSnapshot>,
    /// `bar_settled`, when the settlement sends one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settled: Option<SettledMark>,
}

/// `order_batch`: orders sent outside an acknowledgement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderBatch {
    /// The session.
    pub session_id: String,
    /// Client-chosen id, echoed in `batch_ack`.
    pub batch_id: String,
    /// Orders.
    pub orders: Vec<OrderRequest>,
}

/// `batch_ack`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchAck {
    /// The session.
    pub session_id: String,
    /// The batch.
    pub batch_id: String,
    /// Ids accepted.
    pub accepted: Vec<String>,
    /// Rejected ids with the reason.
    pub rejected: BTreeMap<String, String>,
}

/// A session-scoped push wrapping an event (`order_update`, `execution_report`,
/// `account_snapshot`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionEvent<T> {
    /// The session.
    pub session_id: String,
    /// The event's fields.
    #[serde(flatten)]
    pub event: T,
}

/// `bar_settled`: the server has settled this tick's bar and sent every event of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BarSettled {
    /// The session.
    pub session_id: String,
    /// The tick whose bar was settled.
    pub sequence_id: u64,
    /// Equity at that bar's close.
    pub equity: Decimal,
}

/// `simulation_paused` / `simulation_resumed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimulationControl {
    /// The session.
    pub session_id: String,
    /// Ticks sent so far.
    pub ticks_sent: u64,
    /// Ticks the daemon has acknowledged (and journaled): after a restart or a lost
    /// connection the stream resumes at this tick, and the client resends the decisions of
    /// any later tick it had already processed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged: Option<u64>,
}

/// `simulation_end`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimulationEnd {
    /// The session.
    pub session_id: String,
    /// Why it ended.
    pub reason: TerminationReason,
    /// Final statistics.
    pub metrics: Metrics,
}

/// Aliases for the session-scoped pushes.
pub type OrderUpdateEvent = SessionEvent<OrderUpdate>;
/// `execution_report`.
pub type ExecutionEvent = SessionEvent<ExecutionReport>;
/// `account_snapshot`.
pub type AccountEvent = SessionEvent<AccountSnapshot>;

#[cfg(test)]
mod tests {
    use super::*;

    fn block(times: Vec<i64>, time_range: Option<TimeRange>) -> TickBlock {
        TickBlock {
            session_id: "s".into(),
            first_sequence_id: 7,
            times,
            time_range,
            symbols: BTreeMap::new(),
        }
    }

    #[test]
    fn a_block_has_the_same_length_and_times_whichever_way_its_times_travel() {
        let listed = block(vec![60, 120, 180], None);
        let range = TimeRange {
            start: 60,
            step: 60,
            count: 3,
        };
        let ranged = block(Vec::new(), Some(range));
        for b in [&listed, &ranged] {
            assert_eq!(b.len(), 3);
            assert!(!b.is_empty());
            let at: Vec<_> = (0..4).map(|i| b.time_at(i)).collect();
            assert_eq!(at, [Some(60), Some(120), Some(180), None]);
            assert_eq!(b.bar_times().unwrap(), [60, 120, 180]);
        }
        let huge = block(
            Vec::new(),
            Some(TimeRange {
                start: i64::MAX - 1,
                step: 10,
                count: 2,
            }),
        );
        assert_eq!(
            huge.time_at(1),
            None,
            "an overflowing time is absent, not wrapped"
        );
        assert!(block(Vec::new(), None).is_empty());
    }
}
