//! Fills without a round trip: the runner runs the daemon's own execution model
//! ([`simutrador_engine::Engine`], configured from `simulation_started`) on the same
//! bars and the same decisions, so it knows each bar's fills before the strategy's next tick
//! and never waits for `bar_settled`.
//!
//! The daemon stays authoritative: its results are what `run_simulation` returns, and every
//! fill it reports is compared with the predicted one; a difference ends the run with a
//! protocol error rather than a silently different account.

use shared_models::messages::simulation::SimulationStarted;
use shared_models::trading::{ExecutionReport, OrderRequest};
use simutrador_engine::{BarEvents, Candle, Engine, MODEL_VERSION};
use std::collections::VecDeque;

use crate::error::{ClientError, Result};

/// The client's copy of the execution model for one run.
pub(crate) struct Predictor {
    engine: Engine,
    candles: Vec<Option<Candle>>,
    /// What settling or submitting produced, for the runner to apply (and to hand back each
    /// fill with [`Predictor::expect`]).
    pub events: BarEvents,
    /// Predicted fills the daemon has not confirmed yet, oldest first.
    expected: VecDeque<ExecutionReport>,
}

impl Predictor {
    /// A predictor when the daemon runs the same model version and says how it is configured.
    pub fn new(started: &SimulationStarted) -> Option<Predictor> {
        if started.execution_model != MODEL_VERSION {
            return None;
        }
        let mut engine = Engine::new(started.engine.clone()?).ok()?;
        if let Some(rules) = started.risk {
            engine.set_risk(rules);
        }
        Some(Predictor {
            candles: Vec::with_capacity(started.symbols.len()),
            engine,
            events: BarEvents::default(),
            expected: VecDeque::new(),
        })
    }

    /// Start a bar: its candles follow with [`Predictor::push_candle`], one per symbol.
    pub fn begin_bar(&mut self) {
        self.candles.clear();
    }

    /// The next symbol's candle of the bar (the runner converts each tick's candles once,
    /// for the history, the account and the model).
    pub fn push_candle(&mut self, candle: Option<crate::strategy::Candle>) {
        self.candles.push(candle);
    }

    /// Settle the bar at `time` (Unix seconds) locally with the pushed candles; its events
    /// land in `self.events`.
    pub fn settle(&mut self, time: i64) {
        self.engine.settle(time, &self.candles, &mut self.events);
    }

    /// Remember a predicted fill (after the runner applied it) until the daemon confirms it.
    pub fn expect(&mut self, fill: ExecutionReport) {
        self.expected.push_back(fill);
    }

    /// Submit the decisions of the tick at `time` (Unix seconds) locally.
    pub fn submit(&mut self, time: i64, orders: &[OrderRequest], cancels: &[String]) {
        self.engine
            .submit(time, orders.to_vec(), cancels, &mut self.events);
    }

    /// End of data: with `close_at_end` the model closes every position at the last close.
    pub fn finish(&mut self) {
        self.engine.finish(&mut self.events);
    }

    /// True once the session's loss limit or a bankruptcy (equity at or below 0 at a close)
    /// ended the modelled run; the daemon ends it at the same bar, with the same closing fills.
    pub fn stopped(&self) -> bool {
        self.engine.loss_limit_hit() || self.engine.bankrupt()
    }

    /// Stop expecting the daemon to confirm the predicted fills of bars at or before `time`
    /// (Unix seconds): around a resume it may report them again or not at all.
    pub fn forget_through(&mut self, time: i64) {
        while self
            .expected
            .front()
            .is_some_and(|f| f.sim_time.timestamp() <= time)
        {
            self.expected.pop_front();
        }
    }

    /// Check a fill the daemon reported against the prediction.
    pub fn confirm(&mut self, fill: &ExecutionReport) -> Result<()> {
        match self.expected.pop_front() {
            Some(predicted) if predicted == *fill => Ok(()),
            // The session was stopped (stop_session, a deadline): the daemon closed the
            // positions at the last settled prices; nothing after that can be predicted.
            _ if fill.order_id.starts_with("flatten:") => {
                self.expected.clear();
                Ok(())
            }
            predicted => Err(ClientError::Protocol(format!(
                "the daemon's fill {fill:?} differs from the execution model's prediction {predicted:?}; \
                 client and daemon disagree on the execution model — upgrade one of them"
            ))),
        }
    }
}
