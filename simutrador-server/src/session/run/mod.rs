//! A running simulation: one task per session that streams ticks to the client, settles bars
//! in the [`Engine`](simutrador_engine::Engine) as acknowledgements arrive, and pushes fills,
//! order updates and account snapshots. The rules it follows (window, settlement driven by
//! acks, `bar_settled`) are in `docs/protocol.md`, "Running a simulation".
//!
//! - [`feed`] — the session's bars merged into ticks, and their wire and engine shapes.
//! - [`task`] — the task's loop.
//! - [`RunHandle`] — how connection handlers talk to the task.

pub mod feed;
pub mod task;

use shared_models::messages::simulation::{OrderBatch, TickAck};
use tokio::sync::mpsc;

use crate::session::outbound::Outgoing;

/// Where a reply goes: the requesting connection and its request id.
#[derive(Debug, Clone)]
pub struct ReplyTo {
    /// The connection's outgoing queue.
    pub outbound: mpsc::Sender<Outgoing>,
    /// The request's id, echoed on the reply.
    pub request_id: Option<String>,
}

/// A request for the simulation task.
#[derive(Debug)]
pub enum Control {
    /// `tick_ack`.
    Ack(TickAck, ReplyTo),
    /// `tick_acks`: several acknowledgements, in order.
    Acks(Vec<TickAck>, ReplyTo),
    /// `order_batch`.
    Batch(OrderBatch, ReplyTo),
    /// `pause_simulation`.
    Pause(ReplyTo),
    /// `resume_simulation` (also re-attaches the stream to the requesting connection).
    Resume(ReplyTo),
    /// `get_account`.
    Account(ReplyTo),
    /// Stop at once (session deleted or expired, daemon stopping).
    Abort,
    /// End the session early: flatten at the last settled prices, store the results, move to
    /// `state` with `reason`, answer `reply` with `session_terminated`.
    Terminate(Terminate),
}

/// An early end of a running (or paused) simulation.
#[derive(Debug)]
pub struct Terminate {
    /// `stopped` or `expired`.
    pub state: shared_models::SessionState,
    /// Why.
    pub reason: shared_models::TerminationReason,
    /// Who asked.
    pub actor: shared_models::lifecycle::Actor,
    /// The `stop_session` request to answer, if any.
    pub reply: Option<ReplyTo>,
}

/// The handle a session keeps to its simulation task.
#[derive(Debug, Clone)]
pub struct RunHandle {
    tx: mpsc::UnboundedSender<Control>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl RunHandle {
    /// A handle and the receiver the task reads.
    pub fn channel() -> (RunHandle, mpsc::UnboundedReceiver<Control>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let stop = std::sync::Arc::default();
        (RunHandle { tx, stop }, rx)
    }

    /// Ask the task to end early; it stops streaming at once and answers as soon as it reads
    /// the request. False when the task has ended.
    pub fn terminate(&self, t: Terminate) -> bool {
        self.stop.store(true, std::sync::atomic::Ordering::Release);
        self.tx.send(Control::Terminate(t)).is_ok()
    }

    /// True once an early end was requested.
    pub fn stop_requested(&self) -> bool {
        self.stop.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Send a request; false when the task has ended.
    pub fn send(&self, control: Control) -> bool {
        self.tx.send(control).is_ok()
    }

    /// Ask the task to stop.
    pub fn abort(&self) {
        let _ = self.tx.send(Control::Abort);
    }
}
