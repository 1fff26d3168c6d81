//! Surviving a lost connection during [`crate::Client::run_simulation`]: the daemon
//! restarted (or the network dropped), so the runner reconnects with exponential backoff,
//! resumes the session and carries on where the daemon's journal ends, so the final results
//! are those of an uninterrupted run. The protocol side is "Resuming after a restart" in
//! `docs/protocol.md`.
//!
//! 1. Every acknowledgement that carried orders or cancels is kept (by tick) until the run
//!    ends: the daemon may have lost the latest ones.
//! 2. On a lost connection: wait (100 ms, doubling up to [`ReconnectOptions::max_backoff`]),
//!    open a new connection with the same token ([`crate::Client::reconnect`]), open the
//!    session stream, send `resume_simulation`. `simulation_resumed.acknowledged` = `A` says
//!    how many ticks the daemon has journaled; it streams again from tick `A`.
//! 3. Catch-up: the strategy has already seen ticks up to `T ≥ A − 1`. For the ticks `A..=T`
//!    the runner skips the strategy and resends its kept decisions (and a cumulative ack),
//!    exactly as it sent them the first time; from tick `T + 1` on the run continues as usual.
//! 4. Fills of the bars up to `T + 1` are no longer compared with the prediction (the
//!    daemon may report them again, or — when only the connection was lost — not at all);
//!    later fills are checked as usual.
//!
//! Only runs that predict fills (the default) reconnect: without the model the strategy
//! depends on the daemon's events, which a restart cannot replay.

use shared_models::messages::client::SessionRef;
use shared_models::messages::simulation::{SimulationEnd, TickAck};
use shared_models::trading::{ExecutionReport, OrderRequest};
use shared_models::{ClientMessage, ErrorCode, ServerMessage, TerminationReason};
use std::collections::BTreeMap;
use std::time::Duration;

use super::Run;
use crate::error::{ClientError, Result};
use crate::runner::RunOptions;
use crate::runner::predict::Predictor;

/// How [`crate::Client::run_simulation`] reconnects when the connection drops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReconnectOptions {
    /// Attempts per outage before giving up (default 10; 0 = never reconnect).
    pub max_attempts: u32,
    /// Wait before the first attempt (default 100 ms); doubled after each failure.
    pub initial_backoff: Duration,
    /// Longest wait between attempts (default 5 s).
    pub max_backoff: Duration,
}

impl Default for ReconnectOptions {
    fn default() -> Self {
        ReconnectOptions {
            max_attempts: 10,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
        }
    }
}

/// The runner's reconnect state.
pub(super) struct Reconnect {
    options: ReconnectOptions,
    enabled: bool,
    /// Decisions sent, by tick.
    decisions: BTreeMap<u64, (Vec<OrderRequest>, Vec<String>)>,
    /// Fills at or before this bar time (Unix seconds) are not checked any more.
    unchecked_through: Option<i64>,
    /// Completed reconnections (for tests and diagnostics).
    pub(super) reconnects: u32,
}

impl Reconnect {
    pub(super) fn new(options: &RunOptions) -> Reconnect {
        Reconnect {
            options: options.reconnect,
            enabled: options.predict_fills && options.reconnect.max_attempts > 0,
            decisions: BTreeMap::new(),
            unchecked_through: None,
            reconnects: 0,
        }
    }

    /// Keep the decisions of tick `seq` (when they are sent or queued to be sent), so a
    /// resume can resend whatever the daemon did not journal.
    pub(super) fn keep(&mut self, seq: u64, orders: &[OrderRequest], cancels: &[String]) {
        if self.enabled && (!orders.is_empty() || !cancels.is_empty()) {
            self.decisions
                .insert(seq, (orders.to_vec(), cancels.to_vec()));
        }
    }

    /// True for a daemon fill of a bar around a resume, which is not checked.
    pub(super) fn replayed(&self, fill: &ExecutionReport) -> bool {
        self.unchecked_through
            .is_some_and(|t| fill.sim_time.timestamp() <= t)
    }

    /// Drop the predicted fills of the bars around a resume from what the daemon must confirm.
    pub(super) fn sync_predictor(&mut self, p: &mut Predictor) {
        if let Some(t) = self.unchecked_through {
            p.forget_through(t);
        }
    }
}

/// A message with no effect on the run, returned by a wait that reconnected so the caller
/// checks again what it is waiting for.
pub(super) fn resumed_marker() -> ServerMessage {
    ServerMessage::Pong(shared_models::messages::server::Pong {
        server_time: chrono::Utc::now(),
    })
}

fn retryable(e: &ClientError) -> bool {
    matches!(
        e,
        ClientError::Connection(_)
            | ClientError::Timeout { .. }
            | ClientError::Server {
                code: ErrorCode::InvalidState,
                ..
            }
    )
}

impl Run<'_> {
    /// The connection broke (`cause`): reconnect, resume and catch up, or return `cause`.
    pub(super) async fn recover(&mut self, cause: ClientError) -> Result<()> {
        if !self.reconnect.enabled || self.end.is_some() {
            return Err(cause);
        }
        let options = self.reconnect.options;
        let mut delay = options.initial_backoff;
        let mut last = cause;
        for attempt in 1..=options.max_attempts {
            tracing::info!(session_id = %self.session_id, attempt, "connection lost ({last}); reconnecting in {delay:?}");
            tokio::time::sleep(delay).await;
            match self.resume().await {
                Ok(()) => {
                    self.reconnect.reconnects += 1;
                    tracing::info!(session_id = %self.session_id, attempt, "resumed");
                    return Ok(());
                }
                Err(e) if retryable(&e) => last = e,
                Err(e) => return Err(e),
            }
            delay = (delay * 2).min(options.max_backoff);
        }
        Err(ClientError::Connection(format!(
            "lost the connection during the run of session {} and could not resume it after {} attempts: {last}",
            self.session_id, options.max_attempts
        )))
    }

    async fn resume(&mut self) -> Result<()> {
        let client = self.client.reconnect().await?;
        let stream = client.session_stream(&self.session_id)?;
        let session = SessionRef {
            session_id: self.session_id.clone(),
        };
        let control = match client
            .request(ClientMessage::ResumeSimulation(session))
            .await
        {
            Ok(ServerMessage::SimulationResumed(c)) => c,
            Ok(other) => {
                return Err(ClientError::Protocol(format!(
                    "expected 'simulation_resumed', got '{}'",
                    other.type_name()
                )));
            }
            Err(
                e @ ClientError::Server {
                    code: ErrorCode::InvalidState,
                    ..
                },
            ) => {
                // Ended meanwhile (nothing to resume), or the daemon has not yet noticed the
                // old connection is gone (retry).
                let info = client.get_session(&self.session_id).await?;
                if !info.state.is_terminal() {
                    return Err(e);
                }
                let results = client.get_results_summary(&self.session_id).await?;
                self.end = Some(SimulationEnd {
                    session_id: self.session_id.clone(),
                    reason: info
                        .termination_reason
                        .unwrap_or(TerminationReason::Completed),
                    metrics: results.metrics,
                });
                self.client = client;
                self.stream = stream;
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        let acknowledged = control.acknowledged.unwrap_or(control.ticks_sent);
        let through = self.last_done.map_or(0, |t| t + 1);
        if acknowledged > through {
            return Err(ClientError::Protocol(format!(
                "the daemon says {acknowledged} ticks were acknowledged, but this client processed {through}"
            )));
        }
        tracing::debug!(session_id = %self.session_id, acknowledged, through, "catching up after a resume");
        self.client = client;
        self.stream = stream;
        self.blocks.clear();
        self.events.clear();
        // Queued decisions never reached the daemon; catch_up resends them from `decisions`.
        self.queued.clear();
        self.queued_since = None;
        self.next_block = acknowledged;
        self.unacked = 0;
        // Until the block holding tick `through` arrives, nothing after it is checked.
        self.reconnect.unchecked_through = Some(i64::MAX);
        self.catch_up(acknowledged, through).await
    }

    /// Resend the decisions of ticks `from..through` as their ticks arrive again, then hand
    /// the block holding tick `through` to the run.
    async fn catch_up(&mut self, from: u64, through: u64) -> Result<()> {
        if from == through && through >= self.total {
            return Ok(()); // every tick processed and acknowledged: simulation_end is next
        }
        loop {
            let msg = match tokio::time::timeout(self.timeout, self.stream.recv()).await {
                Ok(Some(msg)) => msg,
                Ok(None) => {
                    return Err(ClientError::Connection(
                        "the connection closed while resuming".into(),
                    ));
                }
                Err(_) => {
                    return Err(ClientError::Timeout {
                        request: "tick_block",
                        after: self.timeout,
                    });
                }
            };
            let block = match msg {
                ServerMessage::TickBlock(block) => block,
                ServerMessage::SimulationEnd(e) => {
                    self.end = Some(e);
                    return Ok(());
                }
                _ => continue, // events of bars this client already settled
            };
            let first = block.first_sequence_id;
            let end = first + block.len() as u64;
            if first != self.next_block {
                return Err(ClientError::Protocol(format!(
                    "tick_block starts at {first} but {} was expected",
                    self.next_block
                )));
            }
            let upto = end.min(through);
            let resend: Vec<_> = self
                .reconnect
                .decisions
                .range(first.max(from)..upto)
                .map(|(seq, d)| (*seq, d.clone()))
                .collect();
            for (seq, (orders, cancels)) in resend {
                self.resend(seq, orders, cancels).await?;
            }
            if upto > first && !self.reconnect.decisions.contains_key(&(upto - 1)) {
                self.resend(upto - 1, Vec::new(), Vec::new()).await?;
            }
            if end > through {
                let at = block.time_at((through - first) as usize);
                self.reconnect.unchecked_through = at;
                tracing::debug!(session_id = %self.session_id, first, end, through, "caught up; the run continues in this block");
                self.next_block = first;
                return self.absorb(ServerMessage::TickBlock(block));
            }
            self.next_block = end;
            if end >= self.total {
                return Ok(());
            }
        }
    }

    async fn resend(
        &mut self,
        seq: u64,
        orders: Vec<OrderRequest>,
        cancels: Vec<String>,
    ) -> Result<()> {
        let ack = TickAck {
            session_id: self.session_id.clone(),
            sequence_id: seq,
            orders,
            cancels,
        };
        self.client.send(ClientMessage::TickAck(ack)).await?;
        self.stats.acks += 1;
        Ok(())
    }
}
