//! The simulation engine: a pure, in-process, deterministic bar replayer with orders, fills,
//! a portfolio in exact decimals, trades, an equity curve and backtesting.py-style metrics.
//!
//! No I/O, no async, no clock: the caller (a session task) feeds it orders with
//! [`Engine::submit`] and bars with [`Engine::settle`], and collects what happened in a reused
//! [`BarEvents`] buffer. The execution rules are in `docs/execution-model.md`, the metric
//! formulas in `docs/metrics.md`.
//!
//! Layout:
//! - `config`: [`EngineConfig`], [`SymbolSpec`], [`Candle`], [`BarEvents`], [`EngineError`].
//! - `orders`: validation of an `OrderRequest` into a working order.
//! - `fills`: when an order touches a bar, and at what price.
//! - `portfolio`: cash, positions, commissions, buying power, sizing, trade booking.
//! - `engine`: [`Engine`] and its public calls; `execution`: the per-bar order work (time in
//!   force, fills in submission order, brackets).
//! - `curve`: the compact equity curve.
//! - `risk`: the loss limit and the volatility halt of a session ([`RiskRules`]).
//! - [`metrics`] — statistics over a finished run.

mod clock;
mod config;
mod curve;
mod engine;
mod execution;
mod fills;
mod ids;
pub mod metrics;
mod numeric;
mod orders;
mod portfolio;
mod risk;

/// Version of the execution model. A client may predict fills with its own copy of this engine
/// only when the daemon reports the same version in `simulation_started`.
pub const MODEL_VERSION: u32 = 1;

pub use config::{BarEvents, Candle, EngineConfig, EngineError, SymbolSpec};
pub use engine::Engine;
pub use orders::RejectCode;
pub use risk::{HaltEvent, HaltRule, RiskRules};

#[cfg(test)]
mod engine_tests;
#[cfg(test)]
mod fills_tests;
#[cfg(test)]
mod golden_tests;
#[cfg(test)]
mod metrics_tests;
#[cfg(test)]
mod numeric_tests;
#[cfg(test)]
mod orders_tests;
#[cfg(test)]
mod proptests;
#[cfg(test)]
mod test_util;
