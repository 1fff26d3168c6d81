//! The run loop: one [`Run`] per simulation, fed by the session's [`SessionStream`].
//!
//! Incoming messages are absorbed into buffers (tick blocks into a queue, order updates,
//! fills and snapshots into a list of pending events, `bar_settled` into a counter); nothing
//! reaches the strategy until the loop hands it tick `s`, at which point it applies every
//! buffered event (they all belong to bars ≤ `s`), pushes the tick's bars into the history and
//! calls `on_tick`. So what the strategy sees depends only on the data and its own decisions,
//! never on how messages interleave.

use shared_models::ClientMessage;
use shared_models::ServerMessage;
use shared_models::messages::simulation::{
    AccountUpdates, AckEntry, EventMode, HistorySnapshot, SimulationEnd, SimulationStarted,
    StartSimulation, TickAck, TickAcks, TickEncoding,
};
use shared_models::results::SimulationResults;
use shared_models::trading::{AccountSnapshot, ExecutionReport, OrderRequest, OrderUpdate};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::predict::Predictor;
#[path = "reconnect.rs"]
mod reconnect;
use super::{Progress, ProgressFn, RunOptions, RunStats};
use crate::connection::{Client, SessionStream};
use crate::error::{ClientError, Result};
use crate::strategy::tick::DecodedBlock;
use crate::strategy::{Account, Bar, History, StartContext, Strategy, StrategyContext};
pub use reconnect::ReconnectOptions;

/// A server event waiting to be applied before the next tick.
enum Event {
    Update(OrderUpdate),
    Fill(ExecutionReport),
    Snapshot(AccountSnapshot),
}

/// The state of one run (everything but the strategy and its context).
struct Run<'c> {
    client: Client,
    _borrowed: std::marker::PhantomData<&'c Client>,
    stream: SessionStream,
    session_id: String,
    symbols: Vec<String>,
    total: u64,
    ack_every: u64,
    timeout: Duration,
    blocks: VecDeque<DecodedBlock>,
    /// Sequence id the next block must start at.
    next_block: u64,
    events: Vec<Event>,
    snapshot: Option<HistorySnapshot>,
    end: Option<SimulationEnd>,
    last_settled: Option<u64>,
    /// The last tick handed to the strategy, and how many since the last ack.
    last_done: Option<u64>,
    unacked: u64,
    /// The last tick's ack carried orders or cancels.
    prev_decided: bool,
    orders: Vec<OrderRequest>,
    cancels: Vec<String>,
    /// Acknowledgements with decisions not sent yet (`tick_acks`, protocol version 2, when
    /// predicting fills), and when the oldest was queued.
    queued: Vec<AckEntry>,
    queued_since: Option<Instant>,
    /// When the last acknowledgement frame went out.
    last_sent: Option<Instant>,
    batch_acks: bool,
    stats: RunStats,
    reconnect: reconnect::Reconnect,
}

/// Most acknowledgements in one `tick_acks` frame (keeps it far below `max_message_bytes`).
const MAX_QUEUED_ACKS: usize = 256;
/// Longest a decision waits in the queue before it is sent anyway.
const MAX_ACK_DELAY: Duration = Duration::from_millis(50);

/// Run `strategy` on `session_id` to the end.
pub(crate) async fn run<S: Strategy + ?Sized>(
    client: &Client,
    session_id: &str,
    strategy: &mut S,
    mut options: RunOptions,
) -> Result<(SimulationResults, RunStats)> {
    let stream = client.session_stream(session_id)?;
    // Protocol version 2: settlement events in blocks, or only the fills when predicting.
    let v2 = client.connection_info().protocol_version >= 2;
    let events = v2.then_some(if options.predict_fills {
        EventMode::Fills
    } else {
        EventMode::Blocks
    });
    let started = client
        .start_simulation(StartSimulation {
            session_id: session_id.to_string(),
            warmup_bars: (options.warmup_bars > 0).then_some(options.warmup_bars),
            indicator_warmup_bars: options
                .indicator_warmup_bars
                .or_else(|| strategy.indicator_warmup_bars(options.warmup_bars))
                .filter(|&bars| bars > 0),
            max_pending_ticks: Some(options.window.max(1)),
            // A predicting client keeps its account from the model's own events.
            account_updates: Some(if options.predict_fills {
                AccountUpdates::OnDemand
            } else {
                options.account_updates
            }),
            tick_encoding: Some(TickEncoding::Block),
            events,
            compact_times: v2.then_some(true),
            strategy: options.strategy_record(),
            client_version: Some(super::CLIENT_VERSION.to_string()),
        })
        .await?;
    if started.tick_encoding != TickEncoding::Block {
        return Err(ClientError::Protocol(
            "the daemon did not accept tick_encoding 'block'; upgrade the daemon".into(),
        ));
    }
    let mut run = Run::new(client, stream, &started, &options);
    let mut predictor = if options.predict_fills {
        Predictor::new(&started)
    } else {
        None
    };
    if predictor.is_none() && started.events == EventMode::Fills {
        return Err(ClientError::Protocol(
            "the daemon sends only fills, but this client cannot predict them (execution model differs)".into(),
        ));
    }
    // A predicting client never waits for a settlement, so it may hold its decisions back.
    run.batch_acks = v2 && predictor.is_some();
    let mut progress = options.progress.take();
    let summary = options.summary_results;

    let capacity = options
        .history
        .max(strategy.history_capacity())
        .max(started.warmup_bars as usize);
    let mut history = History::new(started.symbols.len(), capacity);
    let mut account = Account::new(started.symbols.clone(), started.initial_capital);
    if started.warmup_bars > 0 {
        while run.snapshot.is_none() && run.end.is_none() {
            let msg = run.next_message("history_snapshot").await?;
            run.absorb(msg)?;
        }
        if let Some(snapshot) = run.snapshot.take() {
            prime(&snapshot, &run.symbols, &mut history, &mut account);
        }
    }
    strategy.on_start(&StartContext {
        session_id,
        symbols: &run.symbols,
        total_ticks: run.total,
        timeframe: started.timeframe,
        initial_capital: started.initial_capital,
        history: &history,
    });
    let mut ctx = StrategyContext::new(run.symbols.clone(), history, account);
    report(&mut progress, &run, &ctx, None);

    let mut next = 0u64;
    'ticks: while next < run.total {
        // An early end (stop, time limit, loss limit, bankruptcy): no more ticks for the
        // strategy.
        if run.ended_early() || predictor.as_ref().is_some_and(Predictor::stopped) {
            break;
        }
        while !run.has_tick(next) {
            if run.end.is_some() {
                break 'ticks;
            }
            // Rule 5: ack before blocking — but only when nothing is here yet.
            let msg = match run.stream.try_recv() {
                Some(msg) => msg,
                None => {
                    run.flush_ack().await?;
                    run.next_message("tick_block").await?
                }
            };
            run.absorb(msg)?;
        }
        if let Some(p) = predictor.as_mut() {
            // Fills without a round trip: the daemon's events only confirm the prediction.
            run.confirm_events(p)?;
        } else if ctx.account().has_working_orders() || run.prev_decided {
            // Rule 4: wait for bar_settled(next) exactly when the server sends one.
            run.stats.settle_waits += 1;
            run.flush_ack().await?;
            while !run.settled(next) {
                if run.end.is_some() {
                    break 'ticks;
                }
                let msg = run.next_message("bar_settled").await?;
                run.absorb(msg)?;
            }
        }
        if predictor.is_none() {
            run.apply_events(strategy, &mut ctx);
        }

        let Some(block) = run.blocks.front() else {
            break;
        };
        let Some(tick) = block.view(next) else {
            break;
        };
        if let Some(p) = predictor.as_mut() {
            p.begin_bar();
        }
        for i in 0..run.symbols.len() {
            let candle = tick.raw(i).map(|raw| raw.to_candle());
            if let Some(candle) = candle {
                ctx.history_mut().push(
                    i,
                    Bar {
                        time: tick.timestamp(),
                        candle,
                    },
                );
                ctx.account_mut().mark(i, candle.close);
            }
            if let Some(p) = predictor.as_mut() {
                p.push_candle(candle);
            }
        }
        if let Some(p) = predictor.as_mut() {
            p.settle(tick.timestamp());
            apply_predicted(p, strategy, &mut ctx);
        }
        strategy.on_tick(&tick, &mut ctx);
        let timestamp = tick.timestamp();

        run.last_done = Some(next);
        run.unacked += 1;
        run.prev_decided = ctx.has_decisions();
        if run.prev_decided {
            ctx.take_decisions(&mut run.orders, &mut run.cancels);
            if let Some(p) = predictor.as_mut() {
                p.submit(timestamp, &run.orders, &run.cancels);
                apply_predicted(p, strategy, &mut ctx);
            }
            if run.batch_acks {
                run.queue_ack().await?;
            } else {
                run.send_ack().await?;
            }
        } else if run.unacked >= run.ack_every {
            run.send_ack().await?;
        } else if next.is_multiple_of(256) {
            run.send_overdue().await?;
        }
        next += 1;
        // By content, not by the block this tick came from: an ack above may have
        // reconnected, and the queue then holds the daemon's new block with tick `next`.
        run.drop_blocks_before(next);
        report(&mut progress, &run, &ctx, Some((next, timestamp)));
    }

    run.flush_ack().await?;
    while run.end.is_none() {
        let msg = run.next_message("simulation_end").await?;
        run.absorb(msg)?;
    }
    if let Some(p) = predictor.as_mut() {
        run.reconnect.sync_predictor(p);
        p.finish();
        apply_predicted(p, strategy, &mut ctx);
        run.confirm_events(p)?;
    } else {
        run.apply_events(strategy, &mut ctx);
    }
    let mut results = if summary {
        run.client.get_results_summary(session_id).await?
    } else {
        run.client.get_results(session_id).await?
    };
    // A daemon from before `get_results` said why: `simulation_end` did.
    if results.outcome.termination_reason.is_none() {
        results.outcome.termination_reason = run.end.as_ref().map(|e| e.reason);
    }
    strategy.on_end(&results);
    if let Some(f) = progress.as_mut() {
        f(&Progress {
            ticks_done: next,
            total_ticks: run.total,
            equity: results.metrics.equity_final,
            sim_time: Some(results.metrics.end),
        });
    }
    Ok((results, run.stats))
}

/// Apply predicted events: order updates and fills to the account, fills to `on_fill`.
fn apply_predicted<S: Strategy + ?Sized>(
    p: &mut Predictor,
    strategy: &mut S,
    ctx: &mut StrategyContext,
) {
    for u in p.events.order_updates.drain(..) {
        ctx.account_mut().apply_update(&u);
    }
    let mut fills = std::mem::take(&mut p.events.executions);
    for f in fills.drain(..) {
        ctx.account_mut().apply_fill(&f);
        strategy.on_fill(&f, ctx);
        p.expect(f);
    }
    p.events.executions = fills; // keeps its capacity
}

/// Put the warm-up bars into the history (and their last closes into the account).
fn prime(snapshot: &HistorySnapshot, symbols: &[String], h: &mut History, a: &mut Account) {
    for (name, bars) in &snapshot.bars {
        let Some(i) = symbols.iter().position(|s| s == name) else {
            continue;
        };
        for b in bars {
            h.push(i, *b);
            a.mark(i, b.candle.close);
        }
    }
}

/// Call the progress callback at the start, every ~0.1 % and at the last tick.
fn report(
    progress: &mut Option<ProgressFn>,
    run: &Run<'_>,
    ctx: &StrategyContext,
    at: Option<(u64, i64)>,
) {
    let Some(f) = progress.as_mut() else { return };
    let (done, time) = match at {
        Some((done, time)) => (done, chrono::DateTime::from_timestamp(time, 0)),
        None => (0, None),
    };
    let step = (run.total / 1000).max(1);
    if at.is_none() || done.is_multiple_of(step) || done == run.total {
        f(&Progress {
            ticks_done: done,
            total_ticks: run.total,
            equity: ctx.account().equity(),
            sim_time: time,
        });
    }
}

impl<'c> Run<'c> {
    fn new(
        client: &'c Client,
        stream: SessionStream,
        started: &SimulationStarted,
        options: &RunOptions,
    ) -> Self {
        let window = u64::from(started.max_pending_ticks.max(1));
        Run {
            client: client.clone(),
            _borrowed: std::marker::PhantomData,
            reconnect: reconnect::Reconnect::new(options),
            session_id: stream.session_id().to_string(),
            stream,
            symbols: started.symbols.clone(),
            total: started.total_ticks,
            ack_every: (window / 2).max(1),
            timeout: options.stall_timeout.unwrap_or(client.request_timeout()),
            blocks: VecDeque::new(),
            next_block: 0,
            events: Vec::new(),
            snapshot: None,
            end: None,
            last_settled: None,
            last_done: None,
            unacked: 0,
            prev_decided: false,
            orders: Vec::new(),
            cancels: Vec::new(),
            queued: Vec::new(),
            queued_since: None,
            last_sent: None,
            batch_acks: false,
            stats: RunStats::default(),
        }
    }

    fn ended_early(&self) -> bool {
        self.end
            .as_ref()
            .is_some_and(|e| e.reason != shared_models::TerminationReason::Completed)
    }

    fn has_tick(&self, seq: u64) -> bool {
        self.blocks
            .iter()
            .any(|b| b.first() <= seq && seq < b.end())
    }

    /// Drop the blocks whose ticks are all below `next` (handed to the strategy).
    fn drop_blocks_before(&mut self, next: u64) {
        while self.blocks.front().is_some_and(|b| b.end() <= next) {
            self.blocks.pop_front();
        }
    }

    fn settled(&self, seq: u64) -> bool {
        self.last_settled.is_some_and(|s| s >= seq)
    }

    /// The next push of this session, or why none will come.
    async fn next_message(&mut self, waiting_for: &'static str) -> Result<ServerMessage> {
        match tokio::time::timeout(self.timeout, self.stream.recv()).await {
            Ok(Some(msg)) => Ok(msg),
            Ok(None) => {
                let lost = ClientError::Connection(format!(
                    "the connection closed while waiting for '{waiting_for}' of session {}",
                    self.session_id
                ));
                self.recover(lost).await?;
                // Resumed: let the caller look again at what it waits for.
                Ok(reconnect::resumed_marker())
            }
            Err(_) => Err(ClientError::Timeout {
                request: waiting_for,
                after: self.timeout,
            }),
        }
    }

    /// Buffer one push.
    fn absorb(&mut self, msg: ServerMessage) -> Result<()> {
        match msg {
            ServerMessage::TickBlock(block) => {
                if block.first_sequence_id != self.next_block {
                    return Err(ClientError::Protocol(format!(
                        "tick_block starts at {} but {} was expected",
                        block.first_sequence_id, self.next_block
                    )));
                }
                let block = DecodedBlock::decode(block, &self.symbols)?;
                self.next_block = block.end();
                if block.end() > block.first() {
                    self.blocks.push_back(block);
                }
            }
            ServerMessage::OrderUpdate(u) => self.events.push(Event::Update(u.event)),
            ServerMessage::ExecutionReport(f) => self.events.push(Event::Fill(f.event)),
            ServerMessage::AccountSnapshot(a) => self.events.push(Event::Snapshot(a.event)),
            ServerMessage::BarSettled(b) => self.mark_settled(b.sequence_id),
            ServerMessage::EventBlock(b) => {
                self.events
                    .extend(b.order_updates.into_iter().map(Event::Update));
                self.events
                    .extend(b.executions.into_iter().map(Event::Fill));
                if let Some(a) = b.account {
                    self.events.push(Event::Snapshot(a));
                }
                if let Some(mark) = b.settled {
                    self.mark_settled(mark.sequence_id);
                }
            }
            ServerMessage::HistorySnapshot(h) => self.snapshot = Some(h),
            ServerMessage::SimulationEnd(e) => self.end = Some(e),
            // The daemon stopped the run (its journal cannot be written): it is paused.
            ServerMessage::Error(body) => return Err(ClientError::from_body(body)),
            ServerMessage::Tick(_) => {
                return Err(ClientError::Protocol(
                    "got a 'tick' message, but this client asked for tick blocks".into(),
                ));
            }
            other => {
                tracing::debug!(kind = other.type_name(), "ignoring a session push");
            }
        }
        Ok(())
    }

    fn mark_settled(&mut self, seq: u64) {
        self.last_settled = Some(self.last_settled.map_or(seq, |s| s.max(seq)));
    }

    /// Apply the buffered events in arrival order; fills reach `on_fill` after the account.
    fn apply_events<S: Strategy + ?Sized>(&mut self, strategy: &mut S, ctx: &mut StrategyContext) {
        for event in self.events.drain(..) {
            match event {
                Event::Update(u) => ctx.account_mut().apply_update(&u),
                Event::Snapshot(s) => ctx.account_mut().apply_snapshot(&s),
                Event::Fill(f) => {
                    ctx.account_mut().apply_fill(&f);
                    strategy.on_fill(&f, ctx);
                }
            }
        }
    }

    /// Drop the daemon's buffered events, checking its fills against the prediction.
    fn confirm_events(&mut self, p: &mut Predictor) -> Result<()> {
        self.reconnect.sync_predictor(p);
        for event in self.events.drain(..) {
            if let Event::Fill(f) = event
                && !self.reconnect.replayed(&f)
            {
                p.confirm(&f)?;
            }
        }
        Ok(())
    }

    /// Acknowledge the last processed tick if it is not yet.
    async fn flush_ack(&mut self) -> Result<()> {
        if self.unacked > 0 {
            self.send_ack().await?;
        }
        Ok(())
    }

    /// Queue the acknowledgement of the last processed tick with its decisions; send the
    /// queue when it is full or its oldest entry has waited long enough.
    async fn queue_ack(&mut self) -> Result<()> {
        let Some(seq) = self.last_done else {
            return Ok(());
        };
        let entry = AckEntry {
            sequence_id: seq,
            orders: std::mem::take(&mut self.orders),
            cancels: std::mem::take(&mut self.cancels),
        };
        self.reconnect.keep(seq, &entry.orders, &entry.cancels);
        self.queued.push(entry);
        // A decision after a quiet spell goes out at once; a burst is batched.
        let quiet = self.last_sent.is_none_or(|t| t.elapsed() >= MAX_ACK_DELAY);
        let since = *self.queued_since.get_or_insert_with(Instant::now);
        if (self.queued.len() == 1 && quiet)
            || self.queued.len() >= MAX_QUEUED_ACKS
            || self.unacked >= self.ack_every
            || since.elapsed() >= MAX_ACK_DELAY
        {
            self.send_ack().await?;
        }
        Ok(())
    }

    /// Send the queued decisions if the oldest has waited `MAX_ACK_DELAY`.
    async fn send_overdue(&mut self) -> Result<()> {
        if self
            .queued_since
            .is_some_and(|since| since.elapsed() >= MAX_ACK_DELAY)
        {
            self.send_ack().await?;
        }
        Ok(())
    }

    /// Acknowledge the last processed tick with the queued orders and cancels (and every
    /// queued acknowledgement before it, in one `tick_acks`).
    async fn send_ack(&mut self) -> Result<()> {
        let Some(seq) = self.last_done else {
            return Ok(());
        };
        if !self.queued.is_empty() {
            let mut acks = std::mem::take(&mut self.queued);
            if acks.last().is_some_and(|a| a.sequence_id < seq) {
                let entry = AckEntry {
                    sequence_id: seq,
                    orders: std::mem::take(&mut self.orders),
                    cancels: std::mem::take(&mut self.cancels),
                };
                self.reconnect.keep(seq, &entry.orders, &entry.cancels);
                acks.push(entry);
            }
            let frame = TickAcks {
                session_id: self.session_id.clone(),
                acks,
            };
            self.queued_since = None;
            self.last_sent = Some(Instant::now());
            self.unacked = 0;
            self.stats.acks += 1;
            return match self.client.send(ClientMessage::TickAcks(frame)).await {
                Err(e @ ClientError::Connection(_)) => self.recover(e).await,
                other => other,
            };
        }
        let ack = TickAck {
            session_id: self.session_id.clone(),
            sequence_id: seq,
            orders: std::mem::take(&mut self.orders),
            cancels: std::mem::take(&mut self.cancels),
        };
        self.reconnect.keep(seq, &ack.orders, &ack.cancels);
        self.unacked = 0;
        self.stats.acks += 1;
        match self.client.send(ClientMessage::TickAck(ack)).await {
            Err(e @ ClientError::Connection(_)) => self.recover(e).await,
            other => other,
        }
    }
}
