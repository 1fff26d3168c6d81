//! Running a strategy against a session: [`Client::run_simulation`] with [`RunOptions`].
//!
//! The runner implements the client side of "Running a simulation" in `docs/protocol.md`:
//! it starts the run with `tick_encoding: block`, primes the history from the
//! `history_snapshot`, hands the strategy one tick at a time, and follows the flow-control
//! rules that make every run identical whatever the window (the loop is in `session.rs`):
//!
//! - **rule 4** — before tick `s` it waits for `bar_settled(s)` exactly when the server sends
//!   one: when orders were working going into bar `s`, or the acknowledgement of `s − 1`
//!   carried orders or cancels. Otherwise it does not wait at all.
//! - **rule 5** — it acknowledges the last processed tick before it waits for anything, at
//!   least every `max_pending_ticks / 2` ticks, and at once when a tick carries orders or
//!   cancels — except when it predicts fills from a protocol-2 daemon: then it queues the
//!   acknowledgements that carry decisions and sends them together in `tick_acks` (before it
//!   waits, every `max_pending_ticks / 2` ticks, every 256 decisions, and within 50 ms).
//!
//! With a protocol-2 daemon it also asks for `events: fills` (predicting) or `events: blocks`
//! (waiting), `compact_times`, and columnar results; with an older daemon it speaks
//! protocol 1 as before.

#[cfg(test)]
mod fake_server;
mod predict;
#[cfg(test)]
mod resume_tests;
mod session;
#[cfg(test)]
mod tests;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use shared_models::StrategyRef;
use shared_models::messages::simulation::AccountUpdates;
use shared_models::results::SimulationResults;
use std::time::Duration;

use crate::connection::Client;
use crate::error::Result;
use crate::strategy::Strategy;
pub use session::ReconnectOptions;

/// The default window (`max_pending_ticks`): wide enough that acknowledgements and tick
/// blocks are rare (the runner acks every 4096 ticks), small enough that buffered ticks stay
/// a few hundred KB per symbol.
pub const DEFAULT_WINDOW: u32 = 8192;

/// What the runner sends as `start_simulation`'s `client_version`.
pub const CLIENT_VERSION: &str = concat!("simutrador-client ", env!("CARGO_PKG_VERSION"));

/// The default bars of history kept per symbol.
pub const DEFAULT_HISTORY: usize = 256;

/// Where the runner is, for progress bars.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    /// Ticks handed to the strategy so far.
    pub ticks_done: u64,
    /// Ticks in the run.
    pub total_ticks: u64,
    /// Equity at the latest close, as the SDK's account view has it.
    pub equity: Decimal,
    /// Time of the latest tick.
    pub sim_time: Option<DateTime<Utc>>,
}

/// A progress callback; called at the start, about every 0.1 % of the run, and at the end.
pub type ProgressFn = Box<dyn FnMut(&Progress) + Send>;

/// How [`Client::run_simulation`] runs.
pub struct RunOptions {
    /// `max_pending_ticks`: how far the server may run ahead (default 8192, at most 65536).
    /// Results do not depend on it; speed does.
    pub window: u32,
    /// Bars before the start to send first as warm-up history (default 0).
    pub warmup_bars: u32,
    /// The strategy's indicator warm-up in bars from the first tick, sent as
    /// `indicator_warmup_bars` (Buy & Hold starts there); `None` (default) asks the
    /// strategy ([`crate::Strategy::indicator_warmup_bars`]).
    pub indicator_warmup_bars: Option<u32>,
    /// Bars of history kept per symbol (default 256; raised to the strategy's
    /// `history_capacity` and to `warmup_bars`).
    pub history: usize,
    /// When the server pushes account snapshots (default `every_fill`).
    pub account_updates: AccountUpdates,
    /// How long to wait for the next message before giving up (default: the client's
    /// request timeout).
    pub stall_timeout: Option<Duration>,
    /// Progress callback.
    pub progress: Option<ProgressFn>,
    /// Know each bar's fills by running the daemon's execution model locally (default true,
    /// used when the daemon reports the same model version): no round trip per trading bar.
    /// The daemon's fills are still checked against the prediction. With `false` the runner
    /// waits for `bar_settled` as the protocol's rule 4 describes.
    pub predict_fills: bool,
    /// Reconnecting when the connection drops (daemon restart, network): attempts and
    /// backoff. See `runner/reconnect.rs`.
    pub reconnect: ReconnectOptions,
    /// Fetch only the summary at the end (metrics and open positions, as
    /// [`Client::get_results_summary`]): the returned results and the strategy's `on_end`
    /// then have no trades and no equity curve. Default false (everything).
    pub summary_results: bool,
    /// The strategy's name and parameters, sent as `start_simulation`'s `strategy` so the
    /// daemon keeps them with the session (status, history, results, `session rerun`).
    /// Default `None`: the run is not described. The CLI and the batch runner fill it in for
    /// built-ins ([`crate::strategies::built_in_ref`]); a program describes its own strategy
    /// with [`RunOptions::strategy`].
    pub strategy: Option<StrategyRef>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            window: DEFAULT_WINDOW,
            warmup_bars: 0,
            indicator_warmup_bars: None,
            history: DEFAULT_HISTORY,
            account_updates: AccountUpdates::EveryFill,
            stall_timeout: None,
            progress: None,
            predict_fills: true,
            reconnect: ReconnectOptions::default(),
            summary_results: false,
            strategy: None,
        }
    }
}

impl std::fmt::Debug for RunOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunOptions")
            .field("window", &self.window)
            .field("warmup_bars", &self.warmup_bars)
            .field("indicator_warmup_bars", &self.indicator_warmup_bars)
            .field("history", &self.history)
            .field("account_updates", &self.account_updates)
            .field("stall_timeout", &self.stall_timeout)
            .field("progress", &self.progress.is_some())
            .field("reconnect", &self.reconnect)
            .field("summary_results", &self.summary_results)
            .field("strategy", &self.strategy)
            .finish()
    }
}

impl RunOptions {
    /// What `start_simulation` records as the run's strategy: [`RunOptions::strategy`] with
    /// the warm-up asked for, which changes the results (absent for none, so that a run
    /// without one reads as before, to daemons of any version).
    pub(crate) fn strategy_record(&self) -> Option<StrategyRef> {
        self.strategy.clone().map(|strategy| StrategyRef {
            warmup_bars: (self.warmup_bars > 0).then_some(self.warmup_bars),
            ..strategy
        })
    }

    /// Set the window.
    pub fn window(mut self, window: u32) -> Self {
        self.window = window;
        self
    }

    /// Set the warm-up bars.
    pub fn warmup_bars(mut self, bars: u32) -> Self {
        self.warmup_bars = bars;
        self
    }

    /// Set the strategy's indicator warm-up (see [`RunOptions::indicator_warmup_bars`]).
    pub fn indicator_warmup_bars(mut self, bars: u32) -> Self {
        self.indicator_warmup_bars = Some(bars);
        self
    }

    /// Set the history kept per symbol.
    pub fn history(mut self, bars: usize) -> Self {
        self.history = bars;
        self
    }

    /// Set how the run reconnects.
    pub fn reconnect(mut self, reconnect: ReconnectOptions) -> Self {
        self.reconnect = reconnect;
        self
    }

    /// Fetch only the summary at the end (see [`RunOptions::summary_results`]).
    pub fn summary_results(mut self, summary: bool) -> Self {
        self.summary_results = summary;
        self
    }

    /// Describe the strategy that runs (a program's own: `built_in` false), so the daemon
    /// keeps its name and parameters with the session. Parameters are any JSON values.
    pub fn strategy(
        mut self,
        name: &str,
        params: serde_json::Map<String, serde_json::Value>,
    ) -> Self {
        self.strategy = Some(StrategyRef {
            name: name.to_string(),
            params,
            built_in: false,
            warmup_bars: None,
        });
        self
    }

    /// Describe the strategy with a ready [`StrategyRef`] (a built-in's comes from
    /// [`crate::strategies::built_in_ref`]).
    pub fn strategy_ref(mut self, strategy: StrategyRef) -> Self {
        self.strategy = Some(strategy);
        self
    }

    /// Call `f` with the progress.
    pub fn on_progress(mut self, f: impl FnMut(&Progress) + Send + 'static) -> Self {
        self.progress = Some(Box::new(f));
        self
    }
}

/// Counters of one run (for tests and diagnostics).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct RunStats {
    /// `tick_ack`s sent.
    pub acks: u64,
    /// Ticks before which the runner waited for `bar_settled`.
    pub settle_waits: u64,
}

impl Client {
    /// Run `strategy` on the session `session_id` (state `created`) to the end and return
    /// what `get_results` answers (only the summary with [`RunOptions::summary_results`]). The same session data gives the same results whatever
    /// `options.window`.
    ///
    /// Errors: the server's refusal of `start_simulation` (`INVALID_STATE`,
    /// `SESSION_NOT_FOUND` …) as [`crate::ClientError::Server`]; a malformed tick block as
    /// [`crate::ClientError::Protocol`]; a stalled server as [`crate::ClientError::Timeout`];
    /// a dropped connection as [`crate::ClientError::Connection`].
    pub async fn run_simulation<S: Strategy + ?Sized>(
        &self,
        session_id: &str,
        strategy: &mut S,
        options: RunOptions,
    ) -> Result<SimulationResults> {
        session::run(self, session_id, strategy, options)
            .await
            .map(|(results, _)| results)
    }
}
