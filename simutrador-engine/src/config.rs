//! The engine's output buffer [`BarEvents`], its error [`EngineError`], and the check of an
//! [`EngineConfig`] (capital, costs, shorting rules and the symbols) done once when an engine is
//! built. The config itself and [`Candle`] are plain wire data in `shared_models`.

use rust_decimal::Decimal;
pub use shared_models::Candle;
pub use shared_models::engine_config::{EngineConfig, SymbolSpec};
use shared_models::trading::{ExecutionReport, OrderUpdate};

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

/// Checks every field of `config`; the first problem found is returned.
pub fn validate(config: &EngineConfig) -> Result<(), EngineError> {
    let bad =
        |field: &'static str, why: &str| Err(EngineError::InvalidConfig(format!("{field} {why}")));
    if config.initial_capital <= Decimal::ZERO {
        return bad("initial_capital", "must be positive");
    }
    for (field, v) in [
        ("commission_rate", config.commission_rate),
        ("commission_per_share", config.commission_per_share),
        ("commission_min", config.commission_min),
        ("slippage_bps", config.slippage_bps),
    ] {
        if v < Decimal::ZERO {
            return bad(field, "must not be negative");
        }
    }
    if config.commission_rate >= Decimal::ONE {
        return bad("commission_rate", "must be below 1 (it is a fraction)");
    }
    if config.slippage_bps >= Decimal::from(10_000) {
        return bad("slippage_bps", "must be below 10000");
    }
    if config.short_margin <= Decimal::ZERO {
        return bad("short_margin", "must be positive");
    }
    if config.symbols.is_empty() {
        return bad("symbols", "must not be empty");
    }
    for (i, s) in config.symbols.iter().enumerate() {
        if s.lot_step <= Decimal::ZERO {
            return Err(EngineError::InvalidConfig(format!(
                "lot_step of {} must be positive",
                s.symbol
            )));
        }
        if config.symbols[..i].iter().any(|o| o.symbol == s.symbol) {
            return Err(EngineError::InvalidConfig(format!(
                "symbol {} is listed twice",
                s.symbol
            )));
        }
    }
    Ok(())
}
