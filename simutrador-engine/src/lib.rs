//! The simulation engine of SimuTrador: a pure, in-process, deterministic bar replayer with
//! orders, fills, a portfolio in exact decimals, trades, an equity curve and
//! backtesting.py-style metrics, plus the rolling [`indicators`] strategies use.
//!
//! The daemon runs it authoritatively; a client runs the same code to know a bar's fills
//! without a round trip. It reads and writes the plain data types of `shared_models` (orders,
//! fills, [`EngineConfig`], [`Candle`]) and nothing else: no I/O, no async, no clock: the caller (a session task) feeds it orders with
//! [`Engine::submit`] and bars with [`Engine::settle`], and collects what happened in a reused
//! [`BarEvents`] buffer. The execution rules are in `docs/execution-model.md`, the metric
//! formulas in `docs/metrics.md`.
//!
//! Layout:
//! - `config`: [`BarEvents`], [`EngineError`], and the check of an [`EngineConfig`].
//! - `orders`: validation of an `OrderRequest` into a working order; `rejection`: why one is
//!   refused ([`Rejection`]: a stable [`RejectCode`] and a message).
//! - `fills`: when an order touches a bar, and at what price.
//! - `portfolio`: cash, positions, commissions, buying power, sizing, trade booking.
//! - `engine`: [`Engine`] and its public calls; `execution`: the per-bar order work (time in
//!   force, fills in submission order, brackets).
//! - `curve`: the compact equity curve; `columns`: the final results as columns
//!   ([`ResultColumns`]), built from it without a point per bar.
//! - `risk`: the loss limit and the volatility halt of a session ([`RiskRules`]); `bankrupt`:
//!   equity at or below 0 at a close closes everything and ends the account.
//! - [`metrics`] — statistics over a finished run; `annual` (annualization), `drawdown`
//!   (drawdown series, periods and the equity curve's drawdown columns), `benchmark` (Buy &
//!   Hold, Alpha, Beta) hold its parts.
//! - [`indicators`] — SMA, EMA, RSI, rolling extremes: O(1) per bar, no allocation.
//! - [`signals`] — the pure decision rules of the built-in strategies.

#![forbid(unsafe_code)]

mod annual;
mod bankrupt;
mod benchmark;
mod clock;
mod columns;
mod config;
mod curve;
mod drawdown;
mod engine;
mod execution;
mod fills;
mod ids;
pub mod indicators;
pub mod metrics;
mod numeric;
mod orders;
mod portfolio;
mod rejection;
mod risk;
pub mod signals;

/// Version of the execution model. A client may predict fills with its own copy of this engine
/// only when the daemon reports the same version in `simulation_started`.
pub const MODEL_VERSION: u32 = 1;

pub use columns::{ResultColumns, drawdown_of};
pub use config::{BarEvents, Candle, EngineConfig, EngineError, SymbolSpec, validate};
pub use engine::Engine;
pub use rejection::{RejectCode, Rejection};
pub use risk::{HaltEvent, HaltRule, RiskRules};

#[cfg(test)]
mod bankrupt_tests;
#[cfg(test)]
mod bt_parity_tests;
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
