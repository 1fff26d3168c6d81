//! Orders, fills, positions, trades and results: the vocabulary of a running simulation.
//!
//! Prices, quantities and money are exact `Decimal`s; only statistics in [`Metrics`] are `f64`.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// A short string stored inline up to 24 bytes (order ids, execution ids, symbols), so the
/// engine's events and trades do not allocate; serialized exactly like a `String`.
pub use compact_str::CompactString;

/// Buy or sell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderSide {
    /// Buy (or cover a short).
    Buy,
    /// Sell (or go short).
    Sell,
}

/// How an order is priced (see docs/execution-model.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderType {
    /// At the next bar's open (plus slippage).
    Market,
    /// At `limit_price` or better.
    Limit,
    /// Becomes a market order when `stop_price` is touched.
    Stop,
    /// Becomes a limit order at `limit_price` when `stop_price` is touched.
    StopLimit,
}

/// How long an order stays working.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeInForce {
    /// Until filled or cancelled.
    #[default]
    Gtc,
    /// Until the end of the trading day (UTC) it was placed in.
    Day,
    /// Fills on the next bar or is cancelled.
    Ioc,
}

/// An order as the strategy submits it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderRequest {
    /// Client-chosen id, unique within the session.
    pub order_id: CompactString,
    /// Symbol (one of the session's).
    pub symbol: CompactString,
    /// Buy or sell.
    pub side: OrderSide,
    /// Pricing.
    #[serde(default = "default_order_type")]
    pub order_type: OrderType,
    /// Units; give this or `percent_of_equity`.
    #[serde(
        default,
        with = "crate::decimal_text::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub quantity: Option<Decimal>,
    /// Fraction of available cash (0 < p ≤ 1), resolved at fill time.
    #[serde(
        default,
        with = "crate::decimal_text::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub percent_of_equity: Option<Decimal>,
    /// Limit price (limit and stop-limit orders).
    #[serde(
        default,
        with = "crate::decimal_text::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub limit_price: Option<Decimal>,
    /// Stop price (stop and stop-limit orders).
    #[serde(
        default,
        with = "crate::decimal_text::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub stop_price: Option<Decimal>,
    /// Default `gtc`.
    #[serde(default)]
    pub time_in_force: TimeInForce,
    /// Attached protective stop (bracket; one-cancels-other with `take_profit`).
    #[serde(
        default,
        with = "crate::decimal_text::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub stop_loss: Option<Decimal>,
    /// Attached profit target (bracket).
    #[serde(
        default,
        with = "crate::decimal_text::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub take_profit: Option<Decimal>,
}

fn default_order_type() -> OrderType {
    OrderType::Market
}

/// What happened to an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Accepted and working.
    Accepted,
    /// Completely filled.
    Filled,
    /// Cancelled by the strategy (or by one-cancels-other, or a stop).
    Cancelled,
    /// Time in force ran out.
    Expired,
    /// Refused; see `reason`.
    Rejected,
}

/// `order_update`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderUpdate {
    /// The order.
    pub order_id: CompactString,
    /// New status.
    pub status: OrderStatus,
    /// Why (for rejections: an error code such as `INSUFFICIENT_BUYING_POWER` and a sentence).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Simulation time of the change.
    #[serde(with = "crate::time_text")]
    pub sim_time: DateTime<Utc>,
}

/// `execution_report`: one fill.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecutionReport {
    /// Sequential id within the session.
    pub execution_id: CompactString,
    /// The order filled.
    pub order_id: CompactString,
    /// Symbol.
    pub symbol: CompactString,
    /// Side.
    pub side: OrderSide,
    /// Units filled.
    #[serde(with = "crate::decimal_text::one")]
    pub quantity: Decimal,
    /// Fill price (raw price after slippage; commissions are separate).
    #[serde(with = "crate::decimal_text::one")]
    pub price: Decimal,
    /// Commission charged for this fill.
    #[serde(with = "crate::decimal_text::one")]
    pub commission: Decimal,
    /// Slippage per unit included in `price`.
    #[serde(with = "crate::decimal_text::one")]
    pub slippage: Decimal,
    /// Bar time of the fill.
    #[serde(with = "crate::time_text")]
    pub sim_time: DateTime<Utc>,
}

/// One open position.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PositionView {
    /// Symbol.
    pub symbol: String,
    /// Signed units (negative = short).
    pub quantity: Decimal,
    /// Average entry price.
    pub avg_price: Decimal,
    /// Value at the last close.
    pub market_value: Decimal,
    /// Profit or loss at the last close, before exit commission.
    pub unrealized_pnl: Decimal,
}

/// `account_snapshot`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountSnapshot {
    /// Cash.
    pub cash: Decimal,
    /// Cash plus the value of every position at the last close.
    pub equity: Decimal,
    /// What new orders can still commit.
    pub buying_power: Decimal,
    /// Open positions.
    pub positions: Vec<PositionView>,
    /// Ids of working orders.
    pub open_orders: Vec<String>,
}

/// Long or short (a closed trade's direction).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TradeSide {
    /// Bought first.
    Long,
    /// Sold first.
    Short,
}

/// A closed round trip.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trade {
    /// Symbol.
    pub symbol: CompactString,
    /// Direction.
    pub side: TradeSide,
    /// Units (positive).
    pub quantity: Decimal,
    /// Entry bar time.
    pub entry_time: DateTime<Utc>,
    /// Entry fill price.
    pub entry_price: Decimal,
    /// Exit bar time.
    pub exit_time: DateTime<Utc>,
    /// Exit fill price.
    pub exit_price: Decimal,
    /// Profit or loss net of both commissions.
    pub pnl: Decimal,
    /// `pnl` over the entry value, in percent.
    pub return_pct: f64,
    /// Both commissions.
    pub commission: Decimal,
    /// Exit time minus entry time, in seconds.
    pub duration: i64,
    /// Index of the entry fill's bar among the run's settled bars (0 = the first point of
    /// the equity curve), as backtesting.py's `EntryBar`. Absent in results stored before
    /// it was reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry_bar: Option<u64>,
    /// Index of the exit fill's bar, as backtesting.py's `ExitBar`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_bar: Option<u64>,
}

/// One point of the equity curve (at a bar's close).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EquityPoint {
    /// Bar time.
    pub time: DateTime<Utc>,
    /// Equity at that close.
    pub equity: Decimal,
    /// How far the equity is below its running peak, percent (0 at a new peak):
    /// backtesting.py's `DrawdownPct` × 100. 0 in results stored before it was reported.
    #[serde(default)]
    pub drawdown_pct: f64,
    /// At the last point of a drawdown period (the next peak, or the last point): the
    /// period's length in seconds, as backtesting.py's `DrawdownDuration`; absent elsewhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drawdown_duration: Option<i64>,
}
