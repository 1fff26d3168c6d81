//! Pacing of a run: sending ticks within the window, applying acknowledgements (and the
//! settlements they allow) and order batches. See the invariants in `core.rs`.

use serde_json::json;
use shared_models::messages::simulation::{BatchAck, OrderBatch, TickAck, TickEncoding};
use shared_models::trading::OrderStatus;
use shared_models::{ErrorCode, ServerMessage};
use std::collections::BTreeMap;

use super::core::{MAX_BLOCK, MAX_TICKS_PER_PUMP, RunCore};
use super::io::Output;
use crate::error::api_error;
use crate::session::store::RunRecord;

impl RunCore {
    /// Send allowed ticks with index below `until` (after any held fills): at most one
    /// block (or [`MAX_TICKS_PER_PUMP`] ticks), so the actor reads requests in between.
    pub(super) fn send_ticks(&mut self, until: usize, out: &mut Vec<Output>) {
        if !self.can_send() || self.send_cursor.position() >= until {
            return;
        }
        self.send_held_fills(out);
        let limit = (self.acked + self.options.window)
            .min(self.feed.len())
            .min(until);
        match self.options.encoding {
            TickEncoding::Block => {
                // Written straight from the series: no copy of the columns, no serde.
                let end = limit.min(self.send_cursor.position() + MAX_BLOCK);
                let text = self.feed.encode_block(
                    &self.id,
                    &mut self.send_cursor,
                    end,
                    self.options.compact_times,
                );
                out.push(Output::StreamText(text));
            }
            TickEncoding::Tick => {
                let end = limit.min(self.send_cursor.position() + MAX_TICKS_PER_PUMP);
                while self.send_cursor.position() < end {
                    let tick = self.feed.next_tick(&self.id, &mut self.send_cursor);
                    out.push(Output::Stream(ServerMessage::Tick(tick), None));
                }
            }
        }
    }

    /// `tick_acks` (and a lone `tick_ack`): each in order (a refused one gets its own error,
    /// the others still apply), then the tick and the bar the last applied one allows. When
    /// none applied, nothing more is sent or settled: the next bar waits for its decisions.
    pub(super) fn on_acks(&mut self, acks: impl Iterator<Item = TickAck>, out: &mut Vec<Output>) {
        let mut applied = false;
        for ack in acks {
            if self.stop.is_raised() {
                break;
            }
            applied |= self.apply_ack(ack, out);
        }
        if applied {
            self.advance(out);
        }
    }

    /// After acknowledgements moved on, with a stream attached: complete the run when every
    /// tick is acknowledged, else send the next tick and settle its bar.
    pub(super) fn advance(&mut self, out: &mut Vec<Output>) {
        if self.ended || self.stop.is_raised() || !self.attached {
            return;
        }
        if self.acked >= self.feed.len() {
            self.finish(out);
        } else {
            self.send_ticks(self.acked + 1, out);
            self.settle_next(out);
        }
    }

    /// Apply one acknowledgement; true when it moved the acknowledged tick on. False when
    /// it repeated an earlier one, was refused (an error reply), or met a stop.
    fn apply_ack(&mut self, ack: TickAck, out: &mut Vec<Output>) -> bool {
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
            out.push(Output::Reply(ServerMessage::Error(e)));
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
            out.push(Output::Reply(ServerMessage::Error(e)));
            return false;
        }
        while self.settled <= t && !self.ended && !self.stop.is_raised() {
            self.settle_next(out);
        }
        if self.ended || self.settled <= t {
            return false; // ended, or a stop arrived mid-way (it ends the run next)
        }
        if !ack.orders.is_empty() || !ack.cancels.is_empty() {
            out.push(Output::Journal(RunRecord::Ack {
                seq: ack.sequence_id,
                orders: ack.orders.clone(),
                cancels: ack.cancels.clone(),
            }));
            let time = self.feed.time(t);
            self.engine
                .submit(time, ack.orders, &ack.cancels, &mut self.events);
            self.submitted_since_settle = true;
            self.flush_events(false, out);
        }
        self.acked = t + 1;
        true
    }

    pub(super) fn on_batch(&mut self, batch: OrderBatch, out: &mut Vec<Output>) {
        let decided = self.settled.saturating_sub(1);
        let ids: Vec<_> = batch.orders.iter().map(|o| o.order_id.clone()).collect();
        out.push(Output::Journal(RunRecord::Batch {
            settled: self.settled as u64,
            orders: batch.orders.clone(),
        }));
        let time = self.feed.time(decided);
        self.engine
            .submit(time, batch.orders, &[], &mut self.events);
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
        out.push(Output::Reply(ServerMessage::BatchAck(ack)));
    }

    /// Move the send cursor to `tick` without sending.
    pub(super) fn skip_to(&mut self, tick: usize) {
        let tick = tick.min(self.feed.len());
        while self.send_cursor.position() < tick {
            self.feed
                .next_candles(&mut self.send_cursor, &mut self.candles);
        }
    }
}
