//! The session's limits as the run watches them after every settled bar (volatility halts,
//! the loss warning, the loss limit, bankruptcy), and the ends of a run: completed when every
//! tick is acknowledged, or early (stop, time limit, idle timeout, loss limit, bankruptcy),
//! flattened at the last settled bar.

use shared_models::lifecycle::{Actor, WarningKind};
use shared_models::messages::simulation::SimulationEnd;
use shared_models::{ServerMessage, SessionState, TerminationReason};

use super::core::RunCore;
use super::io::{Effect, Output};
use crate::session::store::record::StoredResults;

impl RunCore {
    /// After each settled bar: the periodic figures, halts, the loss warning, the loss limit
    /// and bankruptcy.
    pub(super) fn watch_limits(&mut self, out: &mut Vec<Output>) {
        if self.settled.is_multiple_of(64) {
            out.push(Output::Session(Effect::Publish {
                equity: self.engine.equity(),
                trades: self.engine.trade_count() as u64,
                push: false,
            }));
        }
        if self.setup.risk.halt.is_some() {
            for halt in self.engine.take_halts() {
                out.push(Output::Session(Effect::Halted(halt)));
            }
        }
        if let Some(level) = self.setup.loss_warning_at
            && self.engine.equity() <= level
        {
            self.setup.loss_warning_at = None;
            self.publish(out);
            out.push(Output::Session(Effect::Warning(WarningKind::Loss)));
        }
        if self.engine.loss_limit_hit() {
            // The engine closed every position at this bar's close.
            self.flush_events(true, out);
            let reason = TerminationReason::LossLimit;
            self.conclude(SessionState::Stopped, reason, Actor::System, false, out);
        } else if self.engine.bankrupt() {
            // The engine closed every position at this bar's close and the equity is 0.
            self.flush_events(true, out);
            self.pad_bankrupt_curve();
            let reason = TerminationReason::Bankrupt;
            self.conclude(SessionState::Stopped, reason, Actor::System, false, out);
        }
    }

    /// A bankrupt account's equity stays 0 to the last bar of the session's data, and its
    /// statistics run over all of them, as backtesting.py's do: the engine records the bars
    /// after the bankrupt one at 0 (their closes only feed Buy & Hold; no tick is sent).
    fn pad_bankrupt_curve(&mut self) {
        for s in self.settled..self.feed.len() {
            self.feed
                .next_candles(&mut self.settle_cursor, &mut self.candles);
            self.engine
                .settle(self.feed.time(s), &self.candles, &mut self.events);
        }
    }

    /// End early: flatten at the last settled prices, then conclude.
    pub(super) fn terminate(
        &mut self,
        state: SessionState,
        reason: TerminationReason,
        actor: Actor,
        out: &mut Vec<Output>,
    ) {
        // A run rebuilt from its journal leaves the bar after the last acknowledgement open;
        // the live run had settled it (the ack of tick t settles bar t + 1) and the client has
        // seen its fills: settle it again before flattening, so they are not lost.
        if self.settled <= self.acked && !self.engine.loss_limit_hit() && !self.engine.bankrupt() {
            self.settle_next(out);
            if self.ended {
                return; // that bar reached a limit: the run ended there
            }
        }
        if self.settled > 0 && !self.engine.loss_limit_hit() && !self.engine.bankrupt() {
            let last = self.feed.time(self.settled - 1);
            self.engine.flatten(last, &mut self.events);
        }
        self.flush_events(false, out);
        self.conclude(state, reason, actor, true, out);
    }

    /// Every tick was acknowledged: close out, store the results, complete the session.
    pub(super) fn finish(&mut self, out: &mut Vec<Output>) {
        self.engine.finish(&mut self.events);
        self.flush_events(false, out);
        self.end_with(TerminationReason::Completed, Effect::Completed, out);
    }

    /// Store the results, end the session (which answers the stop request) and tell the
    /// stream.
    fn conclude(
        &mut self,
        state: SessionState,
        reason: TerminationReason,
        actor: Actor,
        requested: bool,
        out: &mut Vec<Output>,
    ) {
        let ended = Effect::Ended {
            state,
            reason,
            actor,
            requested,
        };
        self.end_with(reason, ended, out);
    }

    /// The end of every run: publish the last figures, store the results, apply `ended` (the
    /// session's final change), send what is held, then `simulation_end` with `reason`.
    fn end_with(&mut self, reason: TerminationReason, ended: Effect, out: &mut Vec<Output>) {
        self.publish(out);
        // In columns straight from the engine's curve: no equity point per bar on the way.
        let results = StoredResults::from_columns(self.engine.results_columns());
        let metrics = results.metrics.clone();
        out.push(Output::Session(Effect::Results(Box::new(results))));
        out.push(Output::Session(ended));
        self.send_held_fills(out);
        let end = SimulationEnd {
            session_id: self.id.clone(),
            reason,
            metrics,
        };
        self.stream(ServerMessage::SimulationEnd(end), None, out);
        self.ended = true;
    }
}
