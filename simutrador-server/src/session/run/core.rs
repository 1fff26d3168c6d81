//! The run core: one running simulation as a plain state machine.
//!
//! [`RunCore::handle`] takes an [`Input`] and appends the [`Output`]s it causes; nothing
//! here is async or does I/O, so a run can be driven, replayed and unit-tested without a
//! socket or a runtime. The actor (`actor.rs`) feeds it and carries the outputs out.
//!
//! Invariants (see `docs/protocol.md`): tick `i` is sent only while `i < acked + window`
//! (`acked` = number of acknowledged ticks); the bar of tick `s` is settled only once tick
//! `s - 1` is acknowledged, so after the ack of `t` bars `0..=t+1` are settled; orders in the
//! ack of `t` are submitted between the settlements of `t` and `t + 1`; `bar_settled(s)` is
//! sent when orders were working going into `s` or something was submitted since `s - 1`.
//! The next bar is settled (and the run completed) only while a stream is attached, so its
//! events reach the client: a detached run leaves it for the resume.
//!
//! Pacing and acknowledgements are here; the events of a settlement in `emit.rs`; the
//! session's limits and early ends in `guard.rs`; journal replay in `replay.rs`.

use serde_json::json;
use shared_models::lifecycle::Actor;
use shared_models::messages::simulation::{
    AccountUpdates, EventMode, SimulationControl, SimulationStarted, TickEncoding,
};
use shared_models::trading::ExecutionReport;
use shared_models::{ErrorCode, ServerMessage, SessionState, Timeframe};
use simutrador_engine::{BarEvents, Candle, Engine, RiskRules};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::feed::{Cursor, Feed};
use super::io::{Effect, Input, Output};
use crate::error::{ApiError, api_error};
use crate::session::store::RunRecord;

/// Largest number of ticks in one `tick_block`.
pub const MAX_BLOCK: usize = 4096;
/// Most `tick` messages one [`Input::Pump`] sends (`tick_encoding: tick`).
pub const MAX_TICKS_PER_PUMP: usize = 64;

/// Options fixed at `start_simulation`.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOptions {
    /// `max_pending_ticks`.
    pub window: usize,
    /// When to push account snapshots.
    pub account_updates: AccountUpdates,
    /// How ticks travel.
    pub encoding: TickEncoding,
    /// Warm-up bars per symbol.
    pub warmup_bars: usize,
    /// The strategy's indicator warm-up (`indicator_warmup_bars`): where Buy & Hold starts.
    pub indicator_warmup_bars: usize,
    /// How settlement events travel.
    pub events: EventMode,
    /// Evenly spaced tick times as a `time_range`.
    pub compact_times: bool,
}

/// What the run needs to know about its session.
#[derive(Debug, Clone)]
pub struct RunSetup {
    /// The session's id, on every message.
    pub session_id: String,
    /// The session's timeframe (for `simulation_started`).
    pub timeframe: Timeframe,
    /// Initial capital (for `simulation_started`).
    pub initial_capital: rust_decimal::Decimal,
    /// Equity at or below which the loss warning fires.
    pub loss_warning_at: Option<rust_decimal::Decimal>,
    /// The loss limit and the volatility halt the engine enforces.
    pub risk: RiskRules,
}

/// Set (from any thread) when an early end was requested: the core then settles nothing
/// more, so the stop lands at a bar boundary at once.
#[derive(Debug, Clone, Default)]
pub struct StopFlag(Arc<AtomicBool>);

impl StopFlag {
    /// Request the stop.
    pub fn raise(&self) {
        self.0.store(true, Ordering::Release);
    }

    /// True once requested.
    pub fn is_raised(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

/// One run's state: the feed, the engine, the cursors and the counters of the protocol.
pub struct RunCore {
    pub(super) id: String,
    pub(super) setup: RunSetup,
    pub(super) feed: Feed,
    pub(super) engine: Engine,
    pub(super) options: RunOptions,
    pub(super) stop: StopFlag,
    pub(super) send_cursor: Cursor,
    pub(super) settle_cursor: Cursor,
    pub(super) settled: usize,
    pub(super) acked: usize,
    pub(super) paused: bool,
    pub(super) attached: bool,
    pub(super) ended: bool,
    pub(super) submitted_since_settle: bool,
    pub(super) events: BarEvents,
    pub(super) candles: Vec<Option<Candle>>,
    /// `events: fills`: fills not yet sent (they go out before the next ticks or the end).
    pub(super) held_fills: Vec<ExecutionReport>,
    /// Acknowledged ticks already journaled.
    pub(super) journaled_acked: usize,
}

impl std::fmt::Debug for RunCore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunCore")
            .field("session", &self.id)
            .field("settled", &self.settled)
            .field("acked", &self.acked)
            .finish()
    }
}

impl RunCore {
    /// A run of `setup`'s session over `feed` with `engine`, attached to the stream of the
    /// `start_simulation` requester; feed it [`Input::Start`] first.
    pub fn new(
        setup: RunSetup,
        feed: Feed,
        mut engine: Engine,
        options: RunOptions,
        stop: StopFlag,
    ) -> RunCore {
        if !setup.risk.is_empty() {
            engine.set_risk(setup.risk);
        }
        engine.set_indicator_warmup(options.indicator_warmup_bars);
        RunCore {
            id: setup.session_id.clone(),
            send_cursor: feed.cursor(),
            settle_cursor: feed.cursor(),
            setup,
            feed,
            engine,
            options,
            stop,
            settled: 0,
            acked: 0,
            paused: false,
            attached: true,
            ended: false,
            submitted_since_settle: false,
            events: BarEvents::default(),
            candles: Vec::new(),
            held_fills: Vec::new(),
            journaled_acked: 0,
        }
    }

    /// Carry out `input`, appending what it causes to `out` (in order).
    pub fn handle(&mut self, input: Input, out: &mut Vec<Output>) {
        if self.ended && !matches!(input, Input::Checkpoint) {
            return;
        }
        match input {
            Input::Start { request_id } => self.start(request_id, out),
            Input::Pump => self.send_ticks(self.feed.len(), out),
            // A stop is on its way: settle nothing more, so it is answered at once (it
            // flattens at the last settled bar, whenever it lands).
            Input::Ack(..) | Input::Acks(..) if self.stop.is_raised() => {}
            Input::Ack(ack) => self.on_acks(std::iter::once(ack), out),
            Input::Acks(acks) => self.on_acks(acks.into_iter(), out),
            Input::Batch(batch) => self.on_batch(batch, out),
            Input::Pause => self.pause(out),
            Input::Resume { stream_closed } => self.resume(stream_closed, out),
            Input::Account => out.push(Output::Reply(self.account_message())),
            Input::StreamGone => self.detach(out),
            Input::Terminate {
                state,
                reason,
                actor,
            } => self.terminate(state, reason, actor, out),
            Input::Checkpoint => self.checkpoint(out),
            Input::Replayed(record) => self.replayed(record, out),
        }
    }

    /// Ticks whose bar has been settled.
    pub fn settled(&self) -> usize {
        self.settled
    }

    /// Acknowledged ticks.
    pub fn acked(&self) -> usize {
        self.acked
    }

    /// Ticks sent on the stream (since it was last attached).
    pub fn sent(&self) -> usize {
        self.send_cursor.position()
    }

    /// Ticks in the run.
    pub fn len(&self) -> usize {
        self.feed.len()
    }

    /// True when the run has no tick.
    pub fn is_empty(&self) -> bool {
        self.feed.is_empty()
    }

    /// True once the run has ended (completed, stopped, expired).
    pub fn is_ended(&self) -> bool {
        self.ended
    }

    /// True while the client's decisions wait: paused by the client or detached.
    pub fn is_paused(&self) -> bool {
        self.paused
    }

    /// The engine (results, account).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// True when ticks may be sent now (an [`Input::Pump`] would send some).
    pub fn can_send(&self) -> bool {
        !self.paused
            && self.attached
            && !self.stop.is_raised()
            && self.send_cursor.position() < self.feed.len()
            && self.send_cursor.position() < self.acked + self.options.window
    }

    fn start(&mut self, request_id: Option<String>, out: &mut Vec<Output>) {
        out.push(Output::Journal(RunRecord::Started {
            window: self.options.window as u32,
            account_updates: self.options.account_updates,
            encoding: self.options.encoding,
            warmup_bars: self.options.warmup_bars as u32,
            indicator_warmup_bars: self.options.indicator_warmup_bars as u32,
            events: self.options.events,
            compact_times: self.options.compact_times,
        }));
        out.push(Output::FlushJournal);
        let started = SimulationStarted {
            session_id: self.id.clone(),
            total_ticks: self.feed.len() as u64,
            symbols: self.feed.symbols().to_vec(),
            timeframe: self.setup.timeframe,
            initial_capital: self.setup.initial_capital,
            max_pending_ticks: self.options.window as u32,
            account_updates: self.options.account_updates,
            tick_encoding: self.options.encoding,
            events: self.options.events,
            compact_times: self.options.compact_times,
            warmup_bars: self.options.warmup_bars as u32,
            execution_model: simutrador_engine::MODEL_VERSION,
            engine: Some(self.engine.config().clone()),
            risk: Some(self.engine.risk_rules()).filter(|r| !r.is_empty()),
        };
        self.stream(ServerMessage::SimulationStarted(started), request_id, out);
        if self.options.warmup_bars > 0 && self.attached {
            let history = self.feed.history(&self.id, self.options.warmup_bars);
            self.stream(ServerMessage::HistorySnapshot(history), None, out);
        }
        self.settle_next(out);
    }

    /// Settle the next bar and emit its events.
    pub(super) fn settle_next(&mut self, out: &mut Vec<Output>) {
        let s = self.settled;
        if s >= self.feed.len() || self.ended {
            return;
        }
        let working = self.engine.has_working_orders() || self.submitted_since_settle;
        self.feed
            .next_candles(&mut self.settle_cursor, &mut self.candles);
        self.engine
            .settle(self.feed.time(s), &self.candles, &mut self.events);
        self.settled = s + 1;
        self.submitted_since_settle = false;
        if working {
            self.flush_settlement(s, out);
        }
        self.watch_limits(out);
    }

    fn pause(&mut self, out: &mut Vec<Output>) {
        if self.paused {
            out.push(Output::Reply(self.state_error("pause")));
            return;
        }
        self.paused = true;
        out.push(Output::Session(Effect::Transition {
            to: SessionState::Paused,
            actor: Actor::User,
        }));
        out.push(Output::Reply(ServerMessage::SimulationPaused(
            self.control_reply(),
        )));
    }

    fn resume(&mut self, stream_closed: bool, out: &mut Vec<Output>) {
        if stream_closed {
            self.attached = false; // the stream's connection is gone: re-attach below
        }
        if !self.paused && self.attached {
            out.push(Output::Reply(self.state_error("resume")));
            return;
        }
        if self.paused {
            out.push(Output::Session(Effect::Transition {
                to: SessionState::Running,
                actor: Actor::User,
            }));
        }
        self.paused = false;
        if !self.attached {
            // Re-attach: resend what the lost connection never acknowledged.
            self.send_cursor = self.feed.cursor();
            self.skip_to(self.acked);
            self.attached = true;
            out.push(Output::Attach);
        }
        out.push(Output::Reply(ServerMessage::SimulationResumed(
            self.control_reply(),
        )));
        // A bar left open while detached (or by a replay): as after an ack, the tick first,
        // then its bar's events; a run whose every tick was acknowledged completes.
        if self.settled <= self.acked {
            self.advance(out);
        }
    }

    /// The attached stream's connection is gone: detach and pause until a resume.
    fn detach(&mut self, out: &mut Vec<Output>) {
        self.attached = false;
        if !self.paused {
            out.push(Output::Session(Effect::Transition {
                to: SessionState::Paused,
                actor: Actor::System,
            }));
        }
        self.paused = true;
    }

    /// Journal the acknowledged ticks, then flush (before the actor waits).
    fn checkpoint(&mut self, out: &mut Vec<Output>) {
        if self.acked > self.journaled_acked {
            self.journaled_acked = self.acked;
            let acked = self.acked as u64;
            out.push(Output::Journal(RunRecord::Progress { acked }));
        }
        out.push(Output::FlushJournal);
    }

    fn control_reply(&self) -> SimulationControl {
        SimulationControl {
            session_id: self.id.clone(),
            ticks_sent: self.send_cursor.position() as u64,
            acknowledged: Some(self.acked as u64),
        }
    }

    /// `INVALID_STATE` for `what` in the session's state (the core's own view of it).
    fn state_error(&self, what: &str) -> ServerMessage {
        let state = if self.paused {
            SessionState::Paused
        } else {
            SessionState::Running
        };
        ServerMessage::Error(state_error(&self.id, state, what))
    }

    /// Push `message` on the stream when one is attached.
    pub(super) fn stream(
        &self,
        message: ServerMessage,
        request_id: Option<String>,
        out: &mut Vec<Output>,
    ) {
        if self.attached {
            out.push(Output::Stream(message, request_id));
        }
    }
}

/// `INVALID_STATE`: cannot `what` session `id` in `state`.
pub fn state_error(id: &str, state: SessionState, what: &str) -> ApiError {
    api_error(
        ErrorCode::InvalidState,
        format!("cannot {what} session {id}: it is {state}"),
        json!({ "state": state }),
    )
}
