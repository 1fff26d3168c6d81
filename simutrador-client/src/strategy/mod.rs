//! The [`Strategy`] trait and what a strategy sees while it runs.
//!
//! The guarantees (see `docs/strategies.md`):
//! - **No look-ahead.** `on_tick` gets a [`TickView`] of the current tick only; the runner's
//!   buffered later ticks are unreachable through the types. [`History`] holds bars up to and
//!   including the current tick.
//! - **Fills before decisions.** Every fill, order update and account snapshot of a tick's bar
//!   reaches `on_fill` and the [`Account`] before `on_tick` is called for that tick.
//! - **Decided at the close.** Orders queued in `on_tick(t)` (and in the `on_fill`s before it)
//!   travel in the acknowledgement of tick `t` and can fill from the next bar on.
//!
//! - [`tick`] — [`TickView`], [`Candle`], [`RawCandle`].
//! - [`history`] — [`History`], [`Bar`].
//! - [`account`] — [`Account`], [`Position`].
//! - [`context`] — [`StrategyContext`] and its order helpers.

pub mod account;
pub mod context;
pub mod history;
pub mod tick;

pub use account::{Account, Position};
pub use context::{StrategyContext, market_order};
pub use history::{Bar, History};
pub use tick::{Candle, RawCandle, TickView};

use rust_decimal::Decimal;
use shared_models::Timeframe;
use shared_models::results::SimulationResults;
use shared_models::trading::ExecutionReport;

/// What a strategy learns when the run starts.
#[derive(Debug)]
pub struct StartContext<'a> {
    /// The session.
    pub session_id: &'a str,
    /// The session's symbols; everything else addresses them by index in this list.
    pub symbols: &'a [String],
    /// Ticks that will be replayed.
    pub total_ticks: u64,
    /// Bar size.
    pub timeframe: Timeframe,
    /// Starting cash.
    pub initial_capital: Decimal,
    /// The warm-up bars of the `history_snapshot` (empty without `--warmup`), to prime
    /// indicators.
    pub history: &'a History,
}

/// A trading strategy driven by the runner ([`crate::Client::run_simulation`]).
///
/// `Send` so a run can move between threads of the runtime.
pub trait Strategy: Send {
    /// Bars of history per symbol the strategy wants in [`StrategyContext::history`]; the
    /// runner keeps at least this many (and at least [`crate::RunOptions::history`]).
    fn history_capacity(&self) -> usize {
        0
    }

    /// Bars before the strategy's indicators are all defined, counted from the first tick
    /// when `history_bars` bars of history (`RunOptions::warmup_bars`) come before it: sent
    /// as `indicator_warmup_bars`, so Buy & Hold is measured from that bar's close as
    /// backtesting.py does (its `_indicator_warmup_nbars`). Default `None`: from the first
    /// bar. [`crate::RunOptions::indicator_warmup_bars`] overrides it.
    fn indicator_warmup_bars(&self, history_bars: u32) -> Option<u32> {
        let _ = history_bars;
        None
    }

    /// Called once, after `simulation_started` and the warm-up bars.
    fn on_start(&mut self, ctx: &StartContext<'_>) {
        let _ = ctx;
    }

    /// Decide at the close of one tick. Queue orders with the `ctx` helpers.
    fn on_tick(&mut self, tick: &TickView<'_>, ctx: &mut StrategyContext);

    /// A fill of one of the strategy's orders, before the `on_tick` of the bar it happened
    /// on; the account already includes it. Default: nothing.
    fn on_fill(&mut self, fill: &ExecutionReport, ctx: &mut StrategyContext) {
        let _ = (fill, ctx);
    }

    /// The run is over; `results` are what `get_results` answered. Default: nothing.
    fn on_end(&mut self, results: &SimulationResults) {
        let _ = results;
    }
}

impl<S: Strategy + ?Sized> Strategy for Box<S> {
    fn history_capacity(&self) -> usize {
        (**self).history_capacity()
    }
    fn indicator_warmup_bars(&self, history_bars: u32) -> Option<u32> {
        (**self).indicator_warmup_bars(history_bars)
    }
    fn on_start(&mut self, ctx: &StartContext<'_>) {
        (**self).on_start(ctx)
    }
    fn on_tick(&mut self, tick: &TickView<'_>, ctx: &mut StrategyContext) {
        (**self).on_tick(tick, ctx)
    }
    fn on_fill(&mut self, fill: &ExecutionReport, ctx: &mut StrategyContext) {
        (**self).on_fill(fill, ctx)
    }
    fn on_end(&mut self, results: &SimulationResults) {
        (**self).on_end(results)
    }
}
