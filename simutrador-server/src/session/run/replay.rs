//! Resume after a restart: a run rebuilt by feeding a fresh core the records of its journal.
//!
//! The actor journals, in the order the core applies them: the options of
//! `start_simulation`, every `tick_ack` that carries orders or cancels (with its tick), every
//! `order_batch` (with the number of bars settled when it was applied) and, before it waits
//! for the client, how many ticks are acknowledged. The engine is a pure function of the
//! bars and of those decisions at those points, so feeding them back
//! ([`Input::Replayed`]) to a detached core over the same market data rebuilds it exactly,
//! through the same rules as the live run (`apply_ack`, `settle_next`, `on_batch`). The
//! rebuilt run is where the original was at its last journaled acknowledgement, with the
//! bar after it left open (a detached run settles nothing ahead), and the client resends
//! whatever it decided after that (see "Resuming after a restart" in `docs/protocol.md`).

use shared_models::messages::simulation::{OrderBatch, TickAck};
use simutrador_engine::Engine;

use super::core::{RunCore, RunOptions, RunSetup, StopFlag};
use super::feed::Feed;
use super::io::{Effect, Input, Output};
use crate::session::store::{RunRecord, StoredRun};

impl RunCore {
    /// The run journaled in `stored`, rebuilt paused and detached, plus the session changes
    /// still to make (only when the journal ends the run, e.g. at the loss limit). `None`
    /// when the session has no run journal.
    pub fn replay(
        setup: RunSetup,
        feed: Feed,
        engine: Engine,
        stored: StoredRun,
        stop: StopFlag,
    ) -> Option<(RunCore, Vec<Output>)> {
        let Some(RunRecord::Started {
            window,
            account_updates,
            encoding,
            warmup_bars,
            indicator_warmup_bars,
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
            indicator_warmup_bars: indicator_warmup_bars as usize,
            events,
            compact_times,
        };
        let mut core = RunCore::new(setup, feed, engine, options, stop);
        core.attached = false;
        let mut out = Vec::new();
        core.handle(Input::Start { request_id: None }, &mut out);
        for record in stored.records {
            out.clear();
            core.handle(Input::Replayed(record), &mut out);
        }
        // What happened before the restart was carried out then; only an end the journal
        // reached but the session never saw is left to do.
        out.retain(|o| {
            matches!(
                o,
                Output::Session(Effect::Results(_) | Effect::Ended { .. } | Effect::Completed)
            )
        });
        core.paused = true;
        core.journaled_acked = core.acked;
        Some((core, out))
    }

    /// Bring a replayed run whose session completed to its end, as the live run ended: every
    /// bar settled, then closed out (`finish`); `out` receives the results
    /// ([`Effect::Results`]). For a session whose end was journaled (`completed`) but whose
    /// results record was not, as a crash between the two leaves it: every tick had been
    /// acknowledged, and whatever a client decides is journaled before it is applied, so the
    /// bars after the last journaled decision settle as they did live.
    pub fn finish_replayed(&mut self, out: &mut Vec<Output>) {
        while !self.ended && self.settled < self.feed.len() {
            self.settle_next(out);
        }
        if !self.ended {
            self.acked = self.feed.len();
            self.finish(out);
        }
    }

    /// Apply one journaled record exactly as the live run applied it.
    pub(super) fn replayed(&mut self, record: RunRecord, out: &mut Vec<Output>) {
        match record {
            RunRecord::Started { .. } => {}
            RunRecord::Ack {
                seq,
                orders,
                cancels,
            } => self.replay_ack(seq, orders, cancels, out),
            RunRecord::Progress { acked } => {
                if let Some(seq) = acked.checked_sub(1) {
                    self.replay_ack(seq, Vec::new(), Vec::new(), out);
                }
            }
            RunRecord::Batch { settled, orders } => {
                // The live run had settled this far when the batch came.
                while self.settled < settled as usize && !self.ended {
                    self.settle_next(out);
                }
                let batch = OrderBatch {
                    session_id: self.id.clone(),
                    batch_id: String::new(),
                    orders,
                };
                self.handle(Input::Batch(batch), out);
            }
        }
    }

    /// The acknowledgement of tick `seq`, which the live run had sent.
    fn replay_ack(
        &mut self,
        seq: u64,
        orders: Vec<shared_models::trading::OrderRequest>,
        cancels: Vec<String>,
        out: &mut Vec<Output>,
    ) {
        self.skip_to(seq.saturating_add(1).min(usize::MAX as u64) as usize);
        let ack = TickAck {
            session_id: self.id.clone(),
            sequence_id: seq,
            orders,
            cancels,
        };
        self.handle(Input::Ack(ack), out);
    }
}
