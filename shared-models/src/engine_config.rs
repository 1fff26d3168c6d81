//! The settings of a simulation engine as they cross the wire in `simulation_started`:
//! [`EngineConfig`] (capital, costs, shorting rules, the symbols), [`RiskRules`] (loss limit
//! and volatility halt) and [`HaltEvent`]. Plain data: the engine that follows them, and the
//! check of their ranges, are in the `simutrador-engine` crate.

use crate::AssetClass;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// One tradable symbol of a simulation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SymbolSpec {
    /// Ticker, as orders name it.
    pub symbol: String,
    /// Asset class (informational; the lot step is what matters to the engine).
    pub asset_class: AssetClass,
    /// Smallest tradable quantity: 1 for equities, e.g. 0.01 for forex or 0.0001 for crypto.
    /// Every quantity must be a multiple of it; percent orders are rounded down to it.
    pub lot_step: Decimal,
}

/// Everything the engine needs to know before the first bar. Sent to the client in
/// `simulation_started`, so it can run the same engine and know each bar's fills at once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EngineConfig {
    /// Starting cash (> 0).
    pub initial_capital: Decimal,
    /// Commission as a fraction of traded value (0.001 = 0.1%).
    pub commission_rate: Decimal,
    /// Commission per unit traded.
    pub commission_per_share: Decimal,
    /// Minimum commission per fill (0 = none).
    pub commission_min: Decimal,
    /// Slippage against the trader on market and stop fills, in basis points (0 ≤ bps < 10000).
    pub slippage_bps: Decimal,
    /// Whether positions may go below zero.
    pub allow_short: bool,
    /// Margin held for a short, as a fraction of its value (1 = 100%).
    pub short_margin: Decimal,
    /// Close open positions at the last bar's close (see `Engine::finish` in `simutrador-engine`).
    pub close_at_end: bool,
    /// The symbols; candles passed to `settle` are indexed like this list.
    pub symbols: Vec<SymbolSpec>,
}

impl EngineConfig {
    /// A config with no costs, no shorts, 100% short margin and the given symbols.
    pub fn new(initial_capital: Decimal, symbols: Vec<SymbolSpec>) -> Self {
        EngineConfig {
            initial_capital,
            commission_rate: Decimal::ZERO,
            commission_per_share: Decimal::ZERO,
            commission_min: Decimal::ZERO,
            slippage_bps: Decimal::ZERO,
            allow_short: false,
            short_margin: Decimal::ONE,
            close_at_end: false,
            symbols,
        }
    }
}

/// The circuit breaker of one session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HaltRule {
    /// A close-to-close move above this percentage halts the symbol (> 0).
    pub threshold_pct: Decimal,
    /// Bars the halt lasts, counting the bar of the move (≥ 1).
    pub bars: u32,
}

/// The risk rules of one session (sent in `simulation_started` with the engine config).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RiskRules {
    /// Stop once equity ≤ initial capital − this amount (> 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss_limit: Option<Decimal>,
    /// Volatility halt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub halt: Option<HaltRule>,
}

impl RiskRules {
    /// True when no rule is set.
    pub fn is_empty(&self) -> bool {
        self.loss_limit.is_none() && self.halt.is_none()
    }
}

/// A symbol halted by the circuit breaker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HaltEvent {
    /// The symbol.
    pub symbol: String,
    /// Unix seconds of the bar that moved.
    pub time: i64,
    /// The move, in percent of the previous close (signed).
    pub move_pct: Decimal,
    /// New orders are rejected through the decisions of this many settled bars.
    pub halted_through_bar: u64,
}
