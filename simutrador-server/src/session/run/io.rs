//! What goes into the [run core](super::core::RunCore) and what comes out of it.
//!
//! An [`Input`] is one thing that happened to the run (a request of the client, the stream's
//! connection going away, room in the window, a stop). The core answers it by appending
//! [`Output`]s to a buffer the actor drains in order: frames for the attached stream or for
//! the requester, changes the session layer makes ([`Effect`]), and run-journal records. A
//! [`Output::Journal`] record always comes before the outputs that depend on it, so an actor
//! that handles them in order journals a decision before anything it caused is sent.

use crate::session::store::record::StoredResults;
use shared_models::lifecycle::{Actor, WarningKind};
use shared_models::messages::simulation::{OrderBatch, TickAck};
use shared_models::{ServerMessage, SessionState, TerminationReason};
use simutrador_engine::HaltEvent;

use crate::session::store::RunRecord;

/// One thing that happened to a run.
#[derive(Debug)]
pub enum Input {
    /// `start_simulation` was accepted: send `simulation_started` (with `request_id`) and the
    /// warm-up history, journal the options, settle the first bar.
    Start {
        /// The id of the `start_simulation` request.
        request_id: Option<String>,
    },
    /// There may be room in the window: send the next ticks (at most one block or
    /// [`MAX_TICKS_PER_PUMP`](super::core::MAX_TICKS_PER_PUMP) `tick` messages).
    Pump,
    /// `tick_ack`.
    Ack(TickAck),
    /// `tick_acks`: several acknowledgements, in order.
    Acks(Vec<TickAck>),
    /// `order_batch`.
    Batch(OrderBatch),
    /// `pause_simulation`.
    Pause,
    /// `resume_simulation`; `stream_closed` when the connection the stream went to has
    /// closed (the requester's connection then becomes the stream).
    Resume {
        /// The attached stream's connection has closed.
        stream_closed: bool,
    },
    /// `get_account`.
    Account,
    /// The stream's connection went away: detach and pause.
    StreamGone,
    /// End early: flatten at the last settled bar, store the results, end the session.
    Terminate {
        /// `stopped` or `expired`.
        state: SessionState,
        /// Why.
        reason: TerminationReason,
        /// Who asked.
        actor: Actor,
    },
    /// The run is about to wait for the client: journal how far it acknowledged and flush.
    Checkpoint,
    /// A record of the run's journal, fed back after a restart (see `replay.rs`).
    Replayed(RunRecord),
}

/// One consequence of an input, in the order the actor must carry them out.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // drained at once from a reused buffer
pub enum Output {
    /// A message for the attached stream, with the id of the request it answers, if any.
    Stream(ServerMessage, Option<String>),
    /// A `tick_block` frame for the attached stream, written straight from the series.
    StreamText(String),
    /// The answer to the request being handled (`error`, `batch_ack`, `account_snapshot`,
    /// `simulation_paused`, `simulation_resumed`).
    Reply(ServerMessage),
    /// From now on the stream goes to the requester's connection (`resume_simulation`).
    Attach,
    /// A change of the session the run belongs to.
    Session(Effect),
    /// A run-journal record; append it before carrying out what follows.
    Journal(RunRecord),
    /// Hand the journal's buffered records to the operating system.
    FlushJournal,
}

/// A change the session layer makes for the run.
#[derive(Debug)]
pub enum Effect {
    /// Move the session to `to` (`paused`, `running`) on behalf of `actor`.
    Transition {
        /// The new state.
        to: SessionState,
        /// Who caused it.
        actor: Actor,
    },
    /// Publish the live figures; `push` also sends a `session_stats_update` to subscribers.
    Publish {
        /// Equity now.
        equity: rust_decimal::Decimal,
        /// Closed trades so far.
        trades: u64,
        /// Push to subscribers too.
        push: bool,
    },
    /// The volatility halt paused a symbol.
    Halted(HaltEvent),
    /// A limit is close (the loss warning at its level).
    Warning(WarningKind),
    /// The final results, to store (in columns, as the store keeps them).
    Results(Box<StoredResults>),
    /// Every tick was acknowledged: the session is `completed`.
    Completed,
    /// The run ended early: end the session with `state` and `reason` on behalf of `actor`;
    /// when `requested` (an [`Input::Terminate`]), answer the stop request with the outcome.
    Ended {
        /// `stopped` or `expired`.
        state: SessionState,
        /// Why.
        reason: TerminationReason,
        /// Who.
        actor: Actor,
        /// Asked for by a stop request (not reached by the run itself).
        requested: bool,
    },
}
