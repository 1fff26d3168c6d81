//! The loop of one running simulation.
//!
//! Invariants (see `docs/protocol.md`): tick `i` is sent only while `i < acked + window`
//! (`acked` = number of acknowledged ticks); the bar of tick `s` is settled only once tick
//! `s - 1` is acknowledged, so after the ack of `t` bars `0..=t+1` are settled; orders in the
//! ack of `t` are submitted between the settlements of `t` and `t + 1`; `bar_settled(s)` is
//! sent when orders were working going into `s` or something was submitted since `s - 1`.

use serde_json::json;
use shared_models::messages::simulation::{
    AccountEvent, AccountUpdates, BarSettled, BatchAck, EventBlock, EventMode, OrderBatch,
    SessionEvent, SettledMark, SimulationControl, SimulationEnd, SimulationStarted, TickAck,
    TickEncoding,
};
use shared_models::trading::ExecutionReport;
use shared_models::trading::OrderStatus;
use shared_models::{ErrorCode, ServerMessage, SessionState, TerminationReason};
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::feed::{Cursor, Feed};
use super::{Control, ReplyTo, RunHandle, Terminate};
use crate::error::{ApiError, api_error};
use crate::session::outbound::{Outgoing, encode};
use crate::session::{Session, SessionManager};
use shared_models::lifecycle::{Actor, WarningKind};
use simutrador_engine::{BarEvents, Candle, Engine};

#[path = "replay.rs"]
mod replay;
use replay::Journal;

/// Largest number of ticks in one `tick_block`.
pub const MAX_BLOCK: usize = 4096;

/// Options fixed at `start_simulation`.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// `max_pending_ticks`.
    pub window: usize,
    /// When to push account snapshots.
    pub account_updates: AccountUpdates,
    /// How ticks travel.
    pub encoding: TickEncoding,
    /// Warm-up bars per symbol.
    pub warmup_bars: usize,
    /// How settlement events travel.
    pub events: EventMode,
    /// Evenly spaced tick times as a `time_range`.
    pub compact_times: bool,
}

/// Fills held back in `events: fills` mode before they go out in one `event_block` anyway.
const MAX_HELD_FILLS: usize = 1024;

/// One run's state, owned by its task.
pub struct Run {
    session: Arc<Session>,
    sessions: Arc<SessionManager>,
    feed: Feed,
    engine: Engine,
    options: RunOptions,
    out: Option<mpsc::Sender<Outgoing>>,
    send_cursor: Cursor,
    settle_cursor: Cursor,
    settled: usize,
    acked: usize,
    paused: bool,
    submitted_since_settle: bool,
    events: BarEvents,
    candles: Vec<Option<Candle>>,
    /// `events: fills`: fills not yet sent (they go out before the next ticks or the end).
    held_fills: Vec<ExecutionReport>,
    id: String,
    ended: bool,
    /// Lifecycle: the handle (stop flag), the loss-warning level, whether halts are on.
    guard: Guard,
    /// Persistence: the run journal (see `replay.rs`).
    journal: Journal,
}

/// What the run watches for the session's limits.
#[derive(Debug, Default)]
struct Guard {
    handle: Option<RunHandle>,
    loss_warning_at: Option<rust_decimal::Decimal>,
    halts: bool,
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Run")
            .field("session", &self.id)
            .field("settled", &self.settled)
            .finish()
    }
}

impl Run {
    /// A run of `session` over `feed` with `engine`, streaming to `out` (and journaled).
    pub fn new(
        session: Arc<Session>,
        sessions: Arc<SessionManager>,
        feed: Feed,
        engine: Engine,
        options: RunOptions,
        out: mpsc::Sender<Outgoing>,
    ) -> Run {
        Self::build(session, sessions, feed, engine, options, Some(out)).journaled()
    }

    fn build(
        session: Arc<Session>,
        sessions: Arc<SessionManager>,
        feed: Feed,
        engine: Engine,
        options: RunOptions,
        out: Option<mpsc::Sender<Outgoing>>,
    ) -> Run {
        Run {
            id: session.id.to_string(),
            send_cursor: feed.cursor(),
            settle_cursor: feed.cursor(),
            session,
            sessions,
            feed,
            engine,
            options,
            out,
            settled: 0,
            acked: 0,
            paused: false,
            submitted_since_settle: false,
            events: BarEvents::default(),
            candles: Vec::new(),
            held_fills: Vec::new(),
            ended: false,
            guard: Guard::default(),
            journal: Journal::default(),
        }
    }

    /// Run until the end of data, an early end, an abort, or the daemon's shutdown; then
    /// answer what is still queued (a second stop, say) with `INVALID_STATE`.
    pub async fn run(
        mut self,
        request_id: Option<String>,
        mut rx: mpsc::UnboundedReceiver<Control>,
        shutdown: CancellationToken,
    ) {
        if !self.journal.restored {
            self.arm_guard();
            self.prologue(request_id).await;
        }
        self.run_loop(&mut rx, shutdown).await;
        self.checkpoint();
        rx.close();
        while let Ok(control) = rx.try_recv() {
            self.refuse(control).await;
        }
    }

    async fn prologue(&mut self, request_id: Option<String>) {
        let started = SimulationStarted {
            session_id: self.id.clone(),
            total_ticks: self.feed.len() as u64,
            symbols: self.feed.symbols().to_vec(),
            timeframe: self.session.params.timeframe,
            initial_capital: self.session.params.initial_capital,
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
        self.push(ServerMessage::SimulationStarted(started), request_id)
            .await;
        if self.options.warmup_bars > 0 {
            let history = self.feed.history(&self.id, self.options.warmup_bars);
            self.push(ServerMessage::HistorySnapshot(history), None)
                .await;
        }
        self.settle_next().await;
    }

    async fn run_loop(
        &mut self,
        rx: &mut mpsc::UnboundedReceiver<Control>,
        shutdown: CancellationToken,
    ) {
        loop {
            while let Ok(control) = rx.try_recv() {
                if !self.handle(control).await {
                    return;
                }
            }
            if self.ended {
                return;
            }
            if self.can_send() {
                self.send_ticks(self.feed.len()).await;
                continue;
            }
            self.checkpoint();
            let out = self.out.clone();
            tokio::select! {
                control = rx.recv() => match control {
                    Some(control) => if !self.handle(control).await { return },
                    None => return,
                },
                // The client went away while the run waits for it: pause now (the idle
                // timeout then applies), not at the next frame, which may never come.
                () = connection_closed(out) => self.detach(),
                _ = shutdown.cancelled() => return,
            }
        }
    }

    fn can_send(&self) -> bool {
        !self.paused
            && !self.stop_requested()
            && self.out.is_some()
            && self.send_cursor.position() < self.feed.len()
            && self.send_cursor.position() < self.acked + self.options.window
    }

    /// Send allowed ticks with index below `until` (after any held fills).
    async fn send_ticks(&mut self, until: usize) {
        if self.can_send() && self.send_cursor.position() < until {
            self.send_held_fills().await;
        }
        while self.can_send() && self.send_cursor.position() < until {
            let limit = (self.acked + self.options.window)
                .min(self.feed.len())
                .min(until);
            let message = match self.options.encoding {
                TickEncoding::Block => {
                    // Written straight from the series: no copy of the columns, no serde.
                    let end = limit.min(self.send_cursor.position() + MAX_BLOCK);
                    let text = self.feed.encode_block(
                        &self.id,
                        &mut self.send_cursor,
                        end,
                        self.options.compact_times,
                    );
                    self.push_frame(Outgoing::Text(text)).await;
                    continue;
                }
                TickEncoding::Tick => {
                    ServerMessage::Tick(self.feed.next_tick(&self.id, &mut self.send_cursor))
                }
            };
            self.push(message, None).await;
        }
    }

    /// Returns false when the task should end.
    async fn handle(&mut self, control: Control) -> bool {
        match control {
            Control::Abort => return false,
            Control::Terminate(t) => {
                self.terminate(t).await;
                return false;
            }
            // A stop is on its way behind these in the queue: settle nothing more, so it is
            // answered at once (it flattens at the last settled bar, whenever it lands).
            Control::Ack(..) | Control::Acks(..) if self.stop_requested() => {}
            Control::Ack(ack, reply) => self.on_acks(vec![ack], reply).await,
            Control::Acks(acks, reply) => self.on_acks(acks, reply).await,
            Control::Batch(batch, reply) => self.on_batch(batch, reply).await,
            Control::Pause(reply) => {
                if self.paused || self.transition(SessionState::Paused).is_err() {
                    self.reply_error(&reply, state_error(&self.session, "pause"))
                        .await;
                } else {
                    self.paused = true;
                    let msg = ServerMessage::SimulationPaused(self.control_reply());
                    send_to(&reply, msg).await;
                }
            }
            Control::Resume(reply) => {
                if self.out.as_ref().is_some_and(mpsc::Sender::is_closed) {
                    self.out = None; // the stream's connection is gone: re-attach below
                }
                if !self.paused && self.out.is_some() {
                    self.reply_error(&reply, state_error(&self.session, "resume"))
                        .await;
                } else if self.session.state() == SessionState::Running
                    || self.transition(SessionState::Running).is_ok()
                {
                    self.paused = false;
                    if self.out.is_none() {
                        // Re-attach: resend what the lost connection never acknowledged.
                        self.send_cursor = self.feed.cursor();
                        self.skip_to(self.acked);
                    }
                    self.out = Some(reply.outbound.clone());
                    let control = self.control_reply();
                    tracing::debug!(session_id = %self.id, acknowledged = self.acked, ticks_sent = control.ticks_sent, restored = self.journal.restored, "resuming the stream");
                    send_to(&reply, ServerMessage::SimulationResumed(control)).await;
                    self.resumed().await;
                } else {
                    self.reply_error(&reply, state_error(&self.session, "resume"))
                        .await;
                }
            }
            Control::Account(reply) => send_to(&reply, self.account_message()).await,
        }
        true
    }

    fn skip_to(&mut self, tick: usize) {
        let mut scratch = Vec::new();
        while self.send_cursor.position() < tick {
            self.feed.next_candles(&mut self.send_cursor, &mut scratch);
        }
    }

    fn control_reply(&self) -> SimulationControl {
        SimulationControl {
            session_id: self.id.clone(),
            ticks_sent: self.send_cursor.position() as u64,
            acknowledged: Some(self.acked as u64),
        }
    }

    /// `tick_acks` (and a lone `tick_ack`): each in order (a refused one gets its own error,
    /// the others still apply), then the ticks and the bar the last applied one allows. When
    /// none applied, nothing more is sent or settled: the next bar waits for its decisions.
    async fn on_acks(&mut self, acks: Vec<TickAck>, reply: ReplyTo) {
        let mut applied = false;
        for ack in acks {
            if self.ended || self.stop_requested() {
                break;
            }
            applied |= self.apply_ack(ack, &reply).await;
        }
        if applied && !self.ended && !self.stop_requested() {
            self.send_ticks(self.acked + 1).await;
            self.settle_next().await;
        }
    }

    /// Apply one acknowledgement; true when it moved the acknowledged tick on. False when
    /// it repeated an earlier one, was refused (an error went to `reply`), met a stop, or
    /// ended the run.
    async fn apply_ack(&mut self, ack: TickAck, reply: &ReplyTo) -> bool {
        let t = ack.sequence_id as usize;
        let sent = self.send_cursor.position();
        if ack.sequence_id >= sent as u64 {
            let e = api_error(
                ErrorCode::ValidationFailed,
                format!(
                    "tick_ack for tick {t}, but only ticks below {sent} were sent; acknowledge ticks you received"
                ),
                json!({ "sequence_id": ack.sequence_id, "ticks_sent": sent }),
            );
            self.reply_error(reply, e).await;
            return false;
        }
        if t < self.acked {
            if ack.orders.is_empty() && ack.cancels.is_empty() {
                return false; // a repeated cumulative ack: nothing to do
            }
            let e = api_error(
                ErrorCode::ValidationFailed,
                format!(
                    "tick {t} was already acknowledged; send orders with the ack of the tick you decided them on"
                ),
                json!({ "sequence_id": ack.sequence_id, "acknowledged": self.acked }),
            );
            self.reply_error(reply, e).await;
            return false;
        }
        while self.settled <= t && !self.ended && !self.stop_requested() {
            self.settle_next().await;
        }
        if self.ended || self.settled <= t {
            return false; // ended, or a stop arrived mid-way (it ends the run next)
        }
        if !ack.orders.is_empty() || !ack.cancels.is_empty() {
            self.journal_ack(&ack);
            self.engine.submit(
                self.feed.time(t),
                ack.orders,
                &ack.cancels,
                &mut self.events,
            );
            self.submitted_since_settle = true;
            self.flush_events(false).await;
        }
        self.acked = t + 1;
        if self.acked >= self.feed.len() {
            self.finish().await;
            return false;
        }
        true
    }

    async fn on_batch(&mut self, batch: OrderBatch, reply: ReplyTo) {
        let decided = self.settled.saturating_sub(1);
        let ids: Vec<_> = batch.orders.iter().map(|o| o.order_id.clone()).collect();
        self.journal_batch(&batch);
        self.engine
            .submit(self.feed.time(decided), batch.orders, &[], &mut self.events);
        self.submitted_since_settle = true;
        let mut accepted = Vec::new();
        let mut rejected = BTreeMap::new();
        for update in self.events.order_updates.drain(..) {
            if !ids.contains(&update.order_id) {
                continue;
            }
            match update.status {
                OrderStatus::Rejected => {
                    rejected.insert(update.order_id.into(), update.reason.unwrap_or_default());
                }
                _ => accepted.push(update.order_id.into()),
            }
        }
        self.events.clear();
        let ack = BatchAck {
            session_id: self.id.clone(),
            batch_id: batch.batch_id,
            accepted,
            rejected,
        };
        send_to(&reply, ServerMessage::BatchAck(ack)).await;
    }

    /// Settle the next bar and send its events.
    async fn settle_next(&mut self) {
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
        self.session.set_settled_ticks(self.settled as u64);
        if working {
            let mark = SettledMark {
                sequence_id: s as u64,
                equity: self.engine.equity(),
            };
            self.flush_settlement(Some(mark)).await;
        }
        self.watch_limits().await;
    }

    /// Send the buffered events of a settlement, then its `bar_settled` (`mark`), as the
    /// event mode says.
    async fn flush_settlement(&mut self, mark: Option<SettledMark>) {
        match self.options.events {
            EventMode::Messages => {
                self.flush_events(mark.is_some()).await;
                if let Some(m) = mark {
                    let settled = BarSettled {
                        session_id: self.id.clone(),
                        sequence_id: m.sequence_id,
                        equity: m.equity,
                    };
                    self.push(ServerMessage::BarSettled(settled), None).await;
                }
            }
            EventMode::Blocks => self.flush_block(mark, true).await,
            EventMode::Fills => self.hold_fills().await,
        }
    }

    /// Send the buffered order updates and fills (and an account snapshot when due).
    async fn flush_events(&mut self, bar_end: bool) {
        match self.options.events {
            EventMode::Messages => {}
            EventMode::Blocks => return self.flush_block(None, bar_end).await,
            EventMode::Fills => return self.hold_fills().await,
        }
        let filled = !self.events.executions.is_empty();
        if filled {
            self.publish();
        }
        let updates = std::mem::take(&mut self.events.order_updates);
        for event in updates {
            let msg = ServerMessage::OrderUpdate(SessionEvent {
                session_id: self.id.clone(),
                event,
            });
            self.push(msg, None).await;
        }
        let fills = std::mem::take(&mut self.events.executions);
        for event in fills {
            let msg = ServerMessage::ExecutionReport(SessionEvent {
                session_id: self.id.clone(),
                event,
            });
            self.push(msg, None).await;
        }
        let snapshot = match self.options.account_updates {
            AccountUpdates::EveryFill => filled,
            AccountUpdates::EveryTick => bar_end,
            AccountUpdates::OnDemand => false,
        };
        if snapshot {
            self.push(self.account_message(), None).await;
        }
    }

    /// `events: blocks`: one `event_block` with the buffered events (none when empty).
    async fn flush_block(&mut self, settled: Option<SettledMark>, bar_end: bool) {
        let filled = !self.events.executions.is_empty();
        if filled {
            self.publish();
        }
        let snapshot = match self.options.account_updates {
            AccountUpdates::EveryFill => filled,
            AccountUpdates::EveryTick => bar_end,
            AccountUpdates::OnDemand => false,
        };
        if !filled && !snapshot && settled.is_none() && self.events.order_updates.is_empty() {
            return;
        }
        let block = EventBlock {
            session_id: self.id.clone(),
            order_updates: std::mem::take(&mut self.events.order_updates),
            executions: std::mem::take(&mut self.events.executions),
            account: snapshot.then(|| self.engine.account()),
            settled,
        };
        self.push(ServerMessage::EventBlock(block), None).await;
    }

    /// `events: fills`: keep the fills for the next `event_block`, drop the other events.
    async fn hold_fills(&mut self) {
        self.events.order_updates.clear();
        if self.events.executions.is_empty() {
            return;
        }
        self.publish();
        self.held_fills.append(&mut self.events.executions);
        if self.held_fills.len() >= MAX_HELD_FILLS {
            self.send_held_fills().await;
        }
    }

    /// Send the held fills as one `event_block`.
    async fn send_held_fills(&mut self) {
        if self.held_fills.is_empty() {
            return;
        }
        let block = EventBlock {
            session_id: self.id.clone(),
            order_updates: Vec::new(),
            executions: std::mem::take(&mut self.held_fills),
            account: None,
            settled: None,
        };
        self.push(ServerMessage::EventBlock(block), None).await;
    }

    /// `account_snapshot` of the account now.
    fn account_message(&self) -> ServerMessage {
        ServerMessage::AccountSnapshot(AccountEvent {
            session_id: self.id.clone(),
            event: self.engine.account(),
        })
    }

    async fn finish(&mut self) {
        self.engine.finish(&mut self.events);
        self.flush_events(false).await;
        self.publish();
        let results = self.engine.results(0);
        let metrics = results.metrics.clone();
        self.session.set_results(results);
        let _ = self.sessions.transition(
            &self.session,
            SessionState::Completed,
            Some(TerminationReason::Completed),
        );
        tracing::info!(session_id = %self.id, ticks = self.feed.len(), "simulation completed");
        self.send_held_fills().await;
        let end = SimulationEnd {
            session_id: self.id.clone(),
            reason: TerminationReason::Completed,
            metrics,
        };
        self.push(ServerMessage::SimulationEnd(end), None).await;
        self.ended = true;
    }

    fn transition(&self, to: SessionState) -> Result<SessionState, ApiError> {
        self.sessions.transition(&self.session, to, None)
    }

    /// Send on the attached connection; on failure detach and pause.
    async fn push(&mut self, message: ServerMessage, request_id: Option<String>) {
        self.push_frame(encode(message, request_id)).await;
    }

    /// Send an encoded frame on the attached connection; on failure detach and pause.
    async fn push_frame(&mut self, frame: Outgoing) {
        let Some(out) = &self.out else { return };
        if out.send(frame).await.is_err() {
            self.detach();
        }
    }

    /// The attached connection is gone: detach and pause until a `resume_simulation`.
    fn detach(&mut self) {
        self.out = None;
        if self.session.state() == SessionState::Running {
            let (s, to) = (&self.session, SessionState::Paused);
            let _ = self.sessions.transition_by(s, to, None, Actor::System);
        }
        self.paused = true;
        tracing::info!(session_id = %self.id, "client gone; simulation paused until resumed");
    }

    async fn reply_error(&self, reply: &ReplyTo, error: ApiError) {
        let _ = reply
            .outbound
            .send(encode(
                ServerMessage::Error(error),
                reply.request_id.clone(),
            ))
            .await;
    }
}

async fn send_to(reply: &ReplyTo, message: ServerMessage) {
    let _ = reply
        .outbound
        .send(encode(message, reply.request_id.clone()))
        .await;
}

fn state_error(session: &Session, what: &str) -> ApiError {
    let state = session.state();
    api_error(
        ErrorCode::InvalidState,
        format!("cannot {what} session {}: it is {state}", session.id),
        json!({ "state": state }),
    )
}

/// Session lifecycle (limits, early ends): what the run adds to replaying bars.
impl Run {
    fn arm_guard(&mut self) {
        let limits = &self.session.limits;
        self.guard = Guard {
            handle: self.session.run_handle(),
            loss_warning_at: limits.loss_warning_equity(self.session.params.initial_capital),
            halts: limits.halt.is_some(),
        };
        let rules = limits.engine_rules();
        if !rules.is_empty() {
            self.engine.set_risk(rules);
        }
    }

    fn stop_requested(&self) -> bool {
        self.guard
            .handle
            .as_ref()
            .is_some_and(RunHandle::stop_requested)
    }

    /// Publish equity for monitoring (every 64 bars, at fills and at the end).
    fn publish(&self) {
        let trades = self.engine.trade_count() as u64;
        self.session.publish(self.engine.equity(), trades);
        self.sessions.push_stats(&self.session);
    }

    /// After each settled bar: halts, the loss warning, the loss limit.
    async fn watch_limits(&mut self) {
        if self.settled.is_multiple_of(64) {
            self.session
                .publish(self.engine.equity(), self.engine.trade_count() as u64);
        }
        if self.guard.halts {
            for halt in self.engine.take_halts() {
                self.sessions.halted(&self.session, &halt);
            }
        }
        if let Some(level) = self.guard.loss_warning_at
            && self.engine.equity() <= level
        {
            self.guard.loss_warning_at = None;
            self.publish();
            self.sessions.warn(&self.session, WarningKind::Loss);
        }
        if self.engine.loss_limit_hit() {
            // The engine closed every position at this bar's close.
            self.flush_events(true).await;
            let reason = TerminationReason::LossLimit;
            self.conclude(SessionState::Stopped, reason, Actor::System, None)
                .await;
        }
    }

    /// End early: flatten at the last settled prices, then conclude.
    async fn terminate(&mut self, t: Terminate) {
        if self.settled > 0 && !self.engine.loss_limit_hit() {
            let last = self.feed.time(self.settled - 1);
            self.engine.flatten(last, &mut self.events);
        }
        self.flush_events(false).await;
        self.conclude(t.state, t.reason, t.actor, t.reply).await;
    }

    /// Store the results, end the session, answer the stop request and tell the stream.
    async fn conclude(
        &mut self,
        state: SessionState,
        reason: TerminationReason,
        actor: Actor,
        reply: Option<ReplyTo>,
    ) {
        self.publish();
        let results = self.engine.results(0);
        let metrics = results.metrics.clone();
        self.session.set_results(results);
        let skip = reply.as_ref().map(|r| r.outbound.clone());
        let ended = self
            .sessions
            .end(&self.session, state, reason, actor, skip.as_ref());
        match (ended, &reply) {
            (Ok(t), Some(r)) => send_to(r, ServerMessage::SessionTerminated(t)).await,
            (Err(e), Some(r)) => self.reply_error(r, e).await,
            _ => {}
        }
        self.send_held_fills().await;
        let end = SimulationEnd {
            session_id: self.id.clone(),
            reason,
            metrics,
        };
        self.push(ServerMessage::SimulationEnd(end), None).await;
        self.ended = true;
    }

    /// Answer a request that arrived after the run ended.
    async fn refuse(&self, control: Control) {
        let reply = match control {
            Control::Terminate(t) => t.reply,
            Control::Pause(r) | Control::Resume(r) | Control::Account(r) => Some(r),
            Control::Batch(_, r) => Some(r),
            Control::Ack(..) | Control::Acks(..) | Control::Abort => None,
        };
        if let Some(r) = reply {
            let state = self.session.state();
            let e = api_error(
                ErrorCode::InvalidState,
                format!("session {} has ended ({state})", self.id),
                json!({ "state": state }),
            );
            self.reply_error(&r, e).await;
        }
    }
}

/// Completes when `out`'s connection has closed; never without a connection.
async fn connection_closed(out: Option<mpsc::Sender<Outgoing>>) {
    match out {
        Some(out) => out.closed().await,
        None => std::future::pending().await,
    }
}
