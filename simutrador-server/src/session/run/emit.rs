//! What a settlement (or a submission) sends, as the run's event mode says: `messages`
//! (`order_update`, `execution_report`, `account_snapshot`, `bar_settled`), `blocks` (one
//! `event_block` per settlement) or `fills` (fills held back and sent in one `event_block`
//! before the next ticks or the end). Also the live figures the run publishes.

use shared_models::ServerMessage;
use shared_models::messages::simulation::{
    AccountEvent, AccountUpdates, BarSettled, EventBlock, EventMode, SessionEvent, SettledMark,
};

use super::core::RunCore;
use super::io::{Effect, Output};

/// Fills held back in `events: fills` mode before they go out in one `event_block` anyway.
const MAX_HELD_FILLS: usize = 1024;

impl RunCore {
    /// Emit the buffered events of the settlement of bar `s`, then its `bar_settled`.
    pub(super) fn flush_settlement(&mut self, s: usize, out: &mut Vec<Output>) {
        let mark = SettledMark {
            sequence_id: s as u64,
            equity: self.engine.equity(),
        };
        match self.options.events {
            EventMode::Messages => {
                self.flush_events(true, out);
                let settled = BarSettled {
                    session_id: self.id.clone(),
                    sequence_id: mark.sequence_id,
                    equity: mark.equity,
                };
                self.stream(ServerMessage::BarSettled(settled), None, out);
            }
            EventMode::Blocks => self.flush_block(Some(mark), true, out),
            EventMode::Fills => self.hold_fills(out),
        }
    }

    /// Emit the buffered order updates and fills (and an account snapshot when due).
    pub(super) fn flush_events(&mut self, bar_end: bool, out: &mut Vec<Output>) {
        match self.options.events {
            EventMode::Messages => {}
            EventMode::Blocks => return self.flush_block(None, bar_end, out),
            EventMode::Fills => return self.hold_fills(out),
        }
        let filled = !self.events.executions.is_empty();
        if filled {
            self.publish(out);
        }
        if self.attached {
            for event in self.events.order_updates.drain(..) {
                let msg = ServerMessage::OrderUpdate(SessionEvent {
                    session_id: self.id.clone(),
                    event,
                });
                out.push(Output::Stream(msg, None));
            }
            for event in self.events.executions.drain(..) {
                let msg = ServerMessage::ExecutionReport(SessionEvent {
                    session_id: self.id.clone(),
                    event,
                });
                out.push(Output::Stream(msg, None));
            }
        } else {
            self.events.clear();
        }
        if self.snapshot_due(filled, bar_end) {
            self.stream(self.account_message(), None, out);
        }
    }

    fn snapshot_due(&self, filled: bool, bar_end: bool) -> bool {
        match self.options.account_updates {
            AccountUpdates::EveryFill => filled,
            AccountUpdates::EveryTick => bar_end,
            AccountUpdates::OnDemand => false,
        }
    }

    /// `events: blocks`: one `event_block` with the buffered events (none when empty).
    fn flush_block(&mut self, settled: Option<SettledMark>, bar_end: bool, out: &mut Vec<Output>) {
        let filled = !self.events.executions.is_empty();
        if filled {
            self.publish(out);
        }
        let snapshot = self.snapshot_due(filled, bar_end);
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
        self.stream(ServerMessage::EventBlock(block), None, out);
    }

    /// `events: fills`: keep the fills for the next `event_block`, drop the other events.
    fn hold_fills(&mut self, out: &mut Vec<Output>) {
        self.events.order_updates.clear();
        if self.events.executions.is_empty() {
            return;
        }
        self.publish(out);
        self.held_fills.append(&mut self.events.executions);
        if self.held_fills.len() >= MAX_HELD_FILLS {
            self.send_held_fills(out);
        }
    }

    /// Emit the held fills as one `event_block`.
    pub(super) fn send_held_fills(&mut self, out: &mut Vec<Output>) {
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
        self.stream(ServerMessage::EventBlock(block), None, out);
    }

    /// `account_snapshot` of the account now.
    pub(super) fn account_message(&self) -> ServerMessage {
        ServerMessage::AccountSnapshot(AccountEvent {
            session_id: self.id.clone(),
            event: self.engine.account(),
        })
    }

    /// Publish equity and trades for monitoring, pushed to subscribers (at fills, warnings
    /// and the end).
    pub(super) fn publish(&self, out: &mut Vec<Output>) {
        out.push(Output::Session(Effect::Publish {
            equity: self.engine.equity(),
            trades: self.engine.trade_count() as u64,
            push: true,
        }));
    }
}
