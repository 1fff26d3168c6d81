//! Persistence of a run: what the run task journals, and how a run is rebuilt from its
//! journal after a restart.
//!
//! Journaled, in the order the run applies them: the options of `start_simulation`, every
//! `tick_ack` that carries orders or cancels (with its tick), every `order_batch` (with the
//! number of bars settled when it was applied) and, before the task waits for the client,
//! how many ticks are acknowledged. The engine is a pure function of the bars and of those
//! decisions at those points, so replaying them over the same market data rebuilds it
//! exactly: the rebuilt run is where the original was at its last journaled acknowledgement,
//! and the client resends whatever it decided after that (see "Resuming after a restart" in
//! `docs/protocol.md`).

use shared_models::messages::simulation::{OrderBatch, TickAck};

use super::{Feed, Run, RunOptions};
use crate::session::store::{RunLog, RunRecord, StoredRun};
use crate::session::{Session, SessionManager};
use simutrador_engine::Engine;
use std::sync::Arc;

/// The run's journal.
#[derive(Default)]
pub(super) struct Journal {
    log: Option<Box<dyn RunLog>>,
    /// Acknowledged ticks already journaled.
    acked: usize,
    /// Rebuilt from a journal (it has already started).
    pub(super) restored: bool,
}

impl Run {
    /// Open a fresh run journal and record the options.
    pub(super) fn journaled(mut self) -> Run {
        let mut log = self.sessions.store().run_log(&self.id, true);
        log.append(&RunRecord::Started {
            window: self.options.window as u32,
            account_updates: self.options.account_updates,
            encoding: self.options.encoding,
            warmup_bars: self.options.warmup_bars as u32,
            events: self.options.events,
            compact_times: self.options.compact_times,
        });
        log.flush();
        self.journal.log = Some(log);
        self
    }

    fn append(&mut self, record: &RunRecord) {
        if let Some(log) = self.journal.log.as_mut() {
            log.append(record);
        }
    }

    /// Journal a `tick_ack` with decisions (before they are applied).
    pub(super) fn journal_ack(&mut self, ack: &TickAck) {
        self.append(&RunRecord::Ack {
            seq: ack.sequence_id,
            orders: ack.orders.clone(),
            cancels: ack.cancels.clone(),
        });
    }

    /// Journal an `order_batch` (before it is applied).
    pub(super) fn journal_batch(&mut self, batch: &OrderBatch) {
        self.append(&RunRecord::Batch {
            settled: self.settled as u64,
            orders: batch.orders.clone(),
        });
    }

    /// Journal the acknowledged ticks and hand everything to the OS (before waiting).
    pub(super) fn checkpoint(&mut self) {
        if self.acked > self.journal.acked {
            self.journal.acked = self.acked;
            let acked = self.acked as u64;
            self.append(&RunRecord::Progress { acked });
        }
        if let Some(log) = self.journal.log.as_mut() {
            log.flush();
        }
    }

    /// A paused, detached run of `session` rebuilt from its journal `stored`: the engine
    /// replays the journaled decisions over `feed` up to the last journaled
    /// acknowledgement `A`, and leaves the bar of tick `A` unsettled until the resume.
    /// `None` when the session has no run journal.
    pub fn restore(
        session: Arc<Session>,
        sessions: Arc<SessionManager>,
        feed: Feed,
        engine: Engine,
        stored: StoredRun,
    ) -> Option<Run> {
        let Some(RunRecord::Started {
            window,
            account_updates,
            encoding,
            warmup_bars,
            events,
            compact_times,
        }) = stored.started
        else {
            return None;
        };
        let options = RunOptions {
            window: window.max(1) as usize,
            account_updates,
            encoding,
            warmup_bars: warmup_bars as usize,
            events,
            compact_times,
        };
        let log = sessions.store().run_log(&session.id, false);
        let mut run = Run::build(session, sessions, feed, engine, options, None);
        run.arm_guard();
        run.replay_settle();
        for record in &stored.records {
            run.replay(record);
        }
        run.journal = Journal {
            log: Some(log),
            acked: run.acked,
            restored: true,
        };
        run.paused = true;
        run.session.set_settled_ticks(run.settled as u64);
        run.session
            .publish(run.engine.equity(), run.engine.trades().len() as u64);
        tracing::info!(session_id = %run.id, acked = run.acked, settled = run.settled, "run rebuilt from its journal");
        Some(run)
    }

    /// Apply one journaled record exactly as the live run applied it.
    fn replay(&mut self, record: &RunRecord) {
        match record {
            RunRecord::Started { .. } => {}
            RunRecord::Ack {
                seq,
                orders,
                cancels,
            } => {
                let t = *seq as usize;
                self.replay_ack(t, |run| {
                    let time = run.feed.time(t);
                    run.engine
                        .submit(time, orders.clone(), cancels, &mut run.events);
                });
            }
            RunRecord::Progress { acked } => {
                if let Some(t) = (*acked as usize).checked_sub(1) {
                    self.replay_ack(t, |_| {});
                }
            }
            RunRecord::Batch { settled, orders } => {
                while self.settled < *settled as usize && self.replay_settle() {}
                let decided = self.settled.saturating_sub(1);
                let time = self.feed.time(decided);
                self.engine
                    .submit(time, orders.clone(), &[], &mut self.events);
                self.events.clear();
            }
        }
    }

    /// What `on_ack` does for tick `t`, without sending anything.
    fn replay_ack(&mut self, t: usize, submit: impl FnOnce(&mut Run)) {
        if t < self.acked || t >= self.feed.len() {
            return;
        }
        while self.settled <= t && self.replay_settle() {}
        submit(self);
        self.events.clear();
        self.acked = t + 1;
        // The bar of tick t + 1 is settled live when the run resumes (`resumed`), so the
        // client gets its fills.
    }

    /// After a resume re-attached the stream: settle the bar a rebuilt run left open (its
    /// events go to the client), and end a run whose every tick was acknowledged.
    pub(super) async fn resumed(&mut self) {
        if self.journal.restored && self.settled <= self.acked && !self.ended {
            // As after an ack: the tick first, then its bar's events.
            self.send_ticks(self.acked + 1).await;
            self.settle_next().await;
        }
        if self.acked >= self.feed.len() && !self.ended {
            self.finish().await;
        }
    }

    /// Settle the next bar silently; false at the end of data or after the loss limit.
    fn replay_settle(&mut self) -> bool {
        if self.settled >= self.feed.len() || self.engine.loss_limit_hit() {
            return false;
        }
        let s = self.settled;
        self.feed
            .next_candles(&mut self.settle_cursor, &mut self.candles);
        self.engine
            .settle(self.feed.time(s), &self.candles, &mut self.events);
        self.events.clear();
        let _ = self.engine.take_halts(); // their events are in the session's log already
        self.settled = s + 1;
        true
    }
}
