//! The engine's inputs and output buffer: [`EngineConfig`] (capital, costs, shorting rules and
//! the symbols, validated once in [`EngineConfig::validate`]), [`Candle`] (one bar of one
//! symbol) and [`BarEvents`] (what a call produced).

use crate::AssetClass;
use crate::trading::{ExecutionReport, OrderUpdate};
use rust_decimal::Decimal;

/// One tradable symbol of a simulation.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
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
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
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
    /// Close open positions at the last bar's close (see [`crate::simulation::Engine::finish`]).
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

    /// Checks every field; the first problem found is returned.
    pub fn validate(&self) -> Result<(), EngineError> {
        let bad = |field: &'static str, why: &str| {
            Err(EngineError::InvalidConfig(format!("{field} {why}")))
        };
        if self.initial_capital <= Decimal::ZERO {
            return bad("initial_capital", "must be positive");
        }
        for (field, v) in [
            ("commission_rate", self.commission_rate),
            ("commission_per_share", self.commission_per_share),
            ("commission_min", self.commission_min),
            ("slippage_bps", self.slippage_bps),
        ] {
            if v < Decimal::ZERO {
                return bad(field, "must not be negative");
            }
        }
        if self.commission_rate >= Decimal::ONE {
            return bad("commission_rate", "must be below 1 (it is a fraction)");
        }
        if self.slippage_bps >= Decimal::from(10_000) {
            return bad("slippage_bps", "must be below 10000");
        }
        if self.short_margin <= Decimal::ZERO {
            return bad("short_margin", "must be positive");
        }
        if self.symbols.is_empty() {
            return bad("symbols", "must not be empty");
        }
        for (i, s) in self.symbols.iter().enumerate() {
            if s.lot_step <= Decimal::ZERO {
                return Err(EngineError::InvalidConfig(format!(
                    "lot_step of {} must be positive",
                    s.symbol
                )));
            }
            if self.symbols[..i].iter().any(|o| o.symbol == s.symbol) {
                return Err(EngineError::InvalidConfig(format!(
                    "symbol {} is listed twice",
                    s.symbol
                )));
            }
        }
        Ok(())
    }
}

/// One bar of one symbol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candle {
    /// First price of the bar.
    pub open: Decimal,
    /// Highest price.
    pub high: Decimal,
    /// Lowest price.
    pub low: Decimal,
    /// Last price; positions are marked at it.
    pub close: Decimal,
    /// Traded volume (not used for fills).
    pub volume: Decimal,
}

/// What one `submit`, `settle` or `flatten` call produced, in the order it happened.
/// The buffers are appended to, never cleared, so a caller can reuse one value for a whole run
/// (clear it after forwarding the events) without allocating per bar.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct BarEvents {
    /// Fills.
    pub executions: Vec<ExecutionReport>,
    /// Status changes (accepted, filled, cancelled, expired, rejected).
    pub order_updates: Vec<OrderUpdate>,
}

impl BarEvents {
    /// Empties both buffers, keeping their capacity.
    #[inline]
    pub fn clear(&mut self) {
        self.executions.clear();
        self.order_updates.clear();
    }

    /// True when nothing happened.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.executions.is_empty() && self.order_updates.is_empty()
    }
}

/// Why an engine could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// A config field is out of range; maps to the wire code `VALIDATION_FAILED`.
    #[error("invalid simulation config: {0}")]
    InvalidConfig(String),
}
