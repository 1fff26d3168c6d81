//! The task around a [`RunCore`]: it owns the run's inbox, the stream's connection and the
//! run journal, feeds the core what happens and carries out what the core answers — in
//! order: journal records are appended before the frames that follow them, session changes
//! go through the [`SessionManager`], frames to the stream or to the requester.
//!
//! It ends at the end of the run, an abort, or the daemon's shutdown (the journal is then
//! flushed and the session stays resumable), and answers what is still queued (a second
//! stop, say) with `INVALID_STATE`.
//!
//! Write ahead: buffered journal records — the run's, and the session's lifecycle records
//! (state changes, events) that a failed write left unwritten — are flushed before any frame
//! or reply is sent after them, so nothing the client sees depends on a record that is not
//! written. When a flush fails (disk full, read-only, I/O error) the frames that depended on
//! it are not sent: a reply becomes a `STORE_UNAVAILABLE` error, the stream gets one (with the
//! id of the request whose answer was held back, if any), the run detaches and the session
//! pauses with reason `store_error` (the records stay buffered). A resume first writes them;
//! it is refused with `STORE_UNAVAILABLE` while the store still cannot be written. A run that
//! ended but whose end could not be written says so the same way; its end is written once
//! the store can be written again.
//!
//! A flush the store *refuses* because another daemon sharing it took the session's lease
//! (`StoreError::moved`, the PostgreSQL store's fencing) is handled the same way but for
//! good: the stream gets `SESSION_MOVED` naming the new owner, the run detaches and pauses
//! here, nothing of it is written any more, and a resume here is refused with `SESSION_MOVED`.

use serde_json::json;
use shared_models::{ErrorCode, ServerMessage, SessionState, TerminationReason};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

use super::core::RunCore;
use super::handle::{Control, ReplyTo, RunInbox, Stop};
use super::io::{Effect, Input, Output};
use crate::error::api_error;
use crate::session::outbound::{OutboundTx, Outgoing, encode};
use crate::session::store::RunLog;
use crate::session::store::record::StoredResults;
use crate::session::{Session, SessionManager};

/// One run's task.
pub struct RunActor {
    core: RunCore,
    session: Arc<Session>,
    sessions: Arc<SessionManager>,
    /// The attached stream's connection.
    stream: Option<OutboundTx>,
    log: Box<dyn RunLog>,
    /// The core's outputs, drained after every input (reused: no allocation per bar).
    out: Vec<Output>,
    /// Rebuilt from its journal: already started.
    restored: bool,
    /// Why the last journal flush failed, until a resume writes the records.
    store_failed: Option<String>,
    /// The run was paused for `store_failed` (once per failure).
    store_paused: bool,
    /// The daemon that took the session's lease from this one: the run is over here.
    moved: Option<String>,
    /// The id of the request whose answer on the stream was held back by a failed flush.
    withheld_request: Option<String>,
    /// The run's results, between the core's `Results` and the session's end that follows.
    results: Option<Box<StoredResults>>,
    /// The run completed: its results are journaled once `simulation_end` is on its way.
    journal_results: bool,
}

impl std::fmt::Debug for RunActor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunActor")
            .field("core", &self.core)
            .finish()
    }
}

impl RunActor {
    /// The actor of a new run streaming to `stream`, journaling to `log`.
    pub fn new(
        core: RunCore,
        session: Arc<Session>,
        sessions: Arc<SessionManager>,
        stream: OutboundTx,
        log: Box<dyn RunLog>,
    ) -> RunActor {
        RunActor {
            core,
            session,
            sessions,
            stream: Some(stream),
            log,
            out: Vec::new(),
            restored: false,
            store_failed: None,
            store_paused: false,
            moved: None,
            withheld_request: None,
            results: None,
            journal_results: false,
        }
    }

    /// The actor of a run rebuilt from its journal (paused, detached), with the session
    /// changes the replay left to make.
    pub fn restored(
        core: RunCore,
        pending: Vec<Output>,
        session: Arc<Session>,
        sessions: Arc<SessionManager>,
        log: Box<dyn RunLog>,
    ) -> RunActor {
        session.set_settled_ticks(core.settled() as u64);
        let (equity, trades) = (core.engine().equity(), core.engine().trade_count());
        session.publish(equity, trades as u64);
        tracing::info!(session_id = %session.id, acked = core.acked(), settled = core.settled(), "run rebuilt from its journal");
        RunActor {
            core,
            session,
            sessions,
            stream: None,
            log,
            out: pending,
            restored: true,
            store_failed: None,
            store_paused: false,
            moved: None,
            withheld_request: None,
            results: None,
            journal_results: false,
        }
    }

    /// Run until the end of data, an early end, an abort, or the daemon's shutdown; then
    /// answer what is still queued with `INVALID_STATE`.
    pub async fn run(
        mut self,
        request_id: Option<String>,
        mut inbox: RunInbox,
        shutdown: CancellationToken,
    ) {
        if self.restored {
            self.carry_out(None).await;
        } else {
            self.step(Input::Start { request_id }, None).await;
        }
        self.serve(&mut inbox, &shutdown).await;
        self.step(Input::Checkpoint, None).await;
        for stop in inbox.close() {
            if let Stop::Terminate(t) = stop {
                self.refuse(t.reply).await;
            }
        }
        while let Ok(control) = inbox.rx.try_recv() {
            let reply = match control {
                Control::Pause(r) | Control::Resume(r) | Control::Account(r) => Some(r),
                Control::Batch(_, r) => Some(r),
                Control::Ack(..) | Control::Acks(..) => None,
            };
            self.refuse(reply).await;
        }
        if self.session.state().is_terminal() {
            self.session.release_run();
        }
    }

    async fn serve(&mut self, inbox: &mut RunInbox, shutdown: &CancellationToken) {
        loop {
            if self.core.is_ended() {
                return;
            }
            if self.core_stop_raised()
                && let Some(stop) = inbox.take_stop()
            {
                return self.on_stop(stop).await;
            }
            if let Ok(control) = inbox.rx.try_recv() {
                let _timer = inbox.time_one();
                self.control(control).await;
                continue;
            }
            if self.core.can_send() {
                self.step(Input::Pump, None).await;
                continue;
            }
            self.step(Input::Checkpoint, None).await;
            let stream = self.stream.clone();
            tokio::select! {
                () = inbox.stop_signalled() => {}
                control = inbox.rx.recv() => match control {
                    Some(control) => {
                        let _timer = inbox.time_one();
                        self.control(control).await;
                    }
                    None => {
                        if let Some(stop) = inbox.take_stop() {
                            self.on_stop(stop).await;
                        }
                        return;
                    }
                },
                // The client went away while the run waits for it: pause now (the idle
                // timeout then applies), not at the next frame, which may never come.
                () = connection_closed(stream) => self.stream_gone().await,
                () = shutdown.cancelled() => return,
            }
        }
    }

    fn core_stop_raised(&self) -> bool {
        self.core.stop.is_raised()
    }

    async fn on_stop(&mut self, stop: Stop) {
        if let Stop::Terminate(t) = stop {
            let input = Input::Terminate {
                state: t.state,
                reason: t.reason,
                actor: t.actor,
            };
            self.step(input, t.reply.as_ref()).await;
        }
    }

    async fn control(&mut self, control: Control) {
        match control {
            Control::Ack(ack, r) => self.step(Input::Ack(ack), Some(&r)).await,
            Control::Acks(acks, r) => self.step(Input::Acks(acks), Some(&r)).await,
            Control::Batch(batch, r) => self.step(Input::Batch(batch), Some(&r)).await,
            Control::Pause(r) => self.step(Input::Pause, Some(&r)).await,
            Control::Account(r) => self.step(Input::Account, Some(&r)).await,
            Control::Resume(r) => {
                if let Err(e) = self.recover_store() {
                    return send_to(&r, ServerMessage::Error(e)).await;
                }
                let stream_closed = self.stream.as_ref().is_some_and(OutboundTx::is_closed);
                if stream_closed {
                    self.stream = None;
                }
                tracing::debug!(session_id = %self.session.id, acknowledged = self.core.acked(), restored = self.restored, "resuming the stream");
                self.step(Input::Resume { stream_closed }, Some(&r)).await;
            }
        }
    }

    /// Feed `input` to the core and carry out what it answers; `reply` is the requester.
    async fn step(&mut self, input: Input, reply: Option<&ReplyTo>) {
        self.core.handle(input, &mut self.out);
        self.carry_out(reply).await;
    }

    async fn stream_gone(&mut self) {
        self.stream = None;
        tracing::info!(session_id = %self.session.id, "client gone; simulation paused until resumed");
        self.step(Input::StreamGone, None).await;
    }

    /// Hand the buffered journal records to the store; a failure is remembered (and counted
    /// once) until a resume writes them.
    fn flush_log(&mut self) {
        if let Err(e) = self.log.flush()
            && self.store_failed.is_none()
        {
            self.sessions.store_failed(&e);
            self.moved = e.moved;
            self.store_failed = Some(e.message);
        }
    }

    /// Before a resume after a failed flush: the store must take a probe and the buffered
    /// records, else `STORE_UNAVAILABLE`.
    fn recover_store(&mut self) -> Result<(), crate::error::ApiError> {
        if let Some(owner) = &self.moved {
            return Err(crate::session::store::health::session_moved(
                &self.session.id,
                owner,
            ));
        }
        if self.store_failed.is_none() {
            return Ok(());
        }
        self.sessions.check_store()?;
        self.log.flush().map_err(|e| {
            self.sessions.store_failed(&e);
            crate::session::store::health::store_unavailable(&e.message)
        })?;
        tracing::info!(session_id = %self.session.id, "the run journal can be written again");
        (self.store_failed, self.store_paused) = (None, false);
        Ok(())
    }

    /// A frame may go out only once every record before it is written.
    fn may_send(&mut self) -> bool {
        if self.log.dirty() {
            self.flush_log();
        }
        self.store_failed.is_none()
    }

    /// Carry out the core's outputs in order.
    async fn carry_out(&mut self, reply: Option<&ReplyTo>) {
        let mut out = std::mem::take(&mut self.out);
        let mut gone = false;
        for output in out.drain(..) {
            match output {
                Output::Stream(_, request_id) if !self.may_send() => {
                    self.withheld_request = self.withheld_request.take().or(request_id);
                }
                Output::StreamText(_) if !self.may_send() => {}
                Output::Reply(_) if !self.may_send() => {
                    if let (Some(r), Some(reason)) = (reply, self.store_failed.as_deref()) {
                        let e = match &self.moved {
                            Some(owner) => crate::session::store::health::session_moved(
                                &self.session.id,
                                owner,
                            ),
                            None => crate::session::store::health::store_unavailable(reason),
                        };
                        send_to(r, ServerMessage::Error(e)).await;
                    }
                }
                Output::Stream(message, request_id) => {
                    gone |= !self.push(encode(message, request_id)).await;
                }
                Output::StreamText(text) => gone |= !self.push(Outgoing::Text(text)).await,
                Output::Reply(message) => {
                    if let Some(r) = reply {
                        send_to(r, message).await;
                    }
                }
                Output::Attach => self.stream = reply.map(|r| r.outbound.clone()),
                Output::Session(effect) => {
                    // Progress first: what the change reports (stats, events) counts it.
                    self.session.set_settled_ticks(self.core.settled() as u64);
                    self.apply(effect, reply).await;
                }
                Output::Journal(record) => self.log.append(&record),
                Output::FlushJournal => self.flush_log(),
            }
        }
        self.out = out;
        self.session.set_settled_ticks(self.core.settled() as u64);
        if let Some(results) = self.results.take() {
            self.session.set_results(*results); // results without an end (not expected)
        }
        if std::mem::take(&mut self.journal_results) {
            // After `simulation_end` and the fills before it are queued: the client reads
            // the results from memory meanwhile, and a crash before this write leaves a
            // completed session whose run journal rebuilds them at start-up. Off this
            // worker thread where the runtime has others: the connection's writer, just
            // woken by `simulation_end`, waits in this worker's next-task slot (which other
            // workers do not steal) and would otherwise wait for the whole write.
            let (sessions, session) = (&self.sessions, &self.session);
            let write = || sessions.results_ready(session);
            match tokio::runtime::Handle::current().runtime_flavor() {
                tokio::runtime::RuntimeFlavor::MultiThread => tokio::task::block_in_place(write),
                _ => write(),
            }
        }
        if let Some(reason) = self.store_failed.clone()
            && !self.store_paused
        {
            self.store_paused = true;
            return Box::pin(self.pause_for_store(&reason)).await;
        }
        if gone {
            // Detached now, the core sends nothing more to the stream: no recursion.
            tracing::info!(session_id = %self.session.id, "client gone; simulation paused until resumed");
            self.core.handle(Input::StreamGone, &mut self.out);
            Box::pin(self.carry_out(None)).await;
        }
    }

    /// The journal cannot be written: tell the stream, detach it and pause the session with
    /// reason `store_error`; a resume re-sends what the client never acknowledged.
    async fn pause_for_store(&mut self, reason: &str) {
        let ended = self.session.state().is_terminal();
        let mut e = crate::session::store::health::store_unavailable(reason);
        e.message = if let Some(owner) = &self.moved {
            tracing::warn!(session_id = %self.session.id, owner = %owner, "another daemon took the session's lease; its run stops here and nothing more of it is written");
            e = crate::session::store::health::session_moved(&self.session.id, owner);
            e.message.clone()
        } else if ended {
            tracing::warn!(session_id = %self.session.id, "the end of the run cannot be journaled; kept until the store can be written: {reason}");
            format!(
                "the end of session {} could not be written: {}; its results are kept and written once the store can be written again",
                self.session.id, e.message
            )
        } else {
            tracing::warn!(session_id = %self.session.id, "the session's journal cannot be written; session paused: {reason}");
            format!(
                "session {} is paused: {}; resume it once the store can be written",
                self.session.id, e.message
            )
        };
        e.details["session_id"] = json!(self.session.id.as_ref());
        let request_id = self.withheld_request.take();
        if let Some(stream) = self.stream.take() {
            let _ = stream
                .send(encode(ServerMessage::Error(e), request_id))
                .await;
        }
        if !ended {
            self.core.handle(Input::StreamGone, &mut self.out);
            self.carry_out(None).await;
        }
    }

    /// Send on the attached stream; false when its connection is gone.
    async fn push(&mut self, frame: Outgoing) -> bool {
        let Some(stream) = &self.stream else {
            return true;
        };
        if stream.send(frame).await.is_err() {
            self.stream = None;
            return false;
        }
        true
    }

    async fn apply(&mut self, effect: Effect, reply: Option<&ReplyTo>) {
        let (s, sessions) = (&self.session, &self.sessions);
        match effect {
            Effect::Transition { to, actor } => {
                let reason = (self.store_paused && to == SessionState::Paused)
                    .then_some(TerminationReason::StoreError);
                if let Err(e) = sessions.transition_by(s, to, reason, actor) {
                    tracing::warn!(session_id = %s.id, %to, "run transition refused: {}", e.message);
                }
            }
            Effect::Publish {
                equity,
                trades,
                push,
            } => {
                s.publish(equity, trades);
                if push {
                    sessions.push_stats(s);
                }
            }
            Effect::Halted(halt) => sessions.halted(s, &halt),
            Effect::Warning(kind) => {
                sessions.warn(s, kind);
            }
            Effect::Results(results) => self.results = Some(results),
            Effect::Completed => {
                let completing = self.results.take().is_some_and(|r| {
                    s.set_completed_results(*r);
                    true
                });
                let (to, reason) = (SessionState::Completed, Some(TerminationReason::Completed));
                let ended = sessions.transition(s, to, reason).is_ok();
                self.journal_results = ended && completing;
                tracing::info!(session_id = %s.id, ticks = self.core.len(), "simulation completed");
            }
            Effect::Ended {
                state,
                reason,
                actor,
                requested,
            } => {
                if let Some(results) = self.results.take() {
                    s.set_results(*results); // journaled with the end, before it is told
                }
                let reply = reply.filter(|_| requested);
                let skip = reply.map(|r| &r.outbound);
                match (sessions.end(s, state, reason, actor, skip), reply) {
                    (Ok(t), Some(r)) => send_to(r, ServerMessage::SessionTerminated(t)).await,
                    (Err(e), Some(r)) => send_to(r, ServerMessage::Error(e)).await,
                    _ => {}
                }
            }
        }
    }

    /// Answer a request that arrived after the run ended.
    async fn refuse(&self, reply: Option<ReplyTo>) {
        if let Some(r) = reply {
            let state = self.session.state();
            let e = api_error(
                ErrorCode::InvalidState,
                format!("session {} has ended ({state})", self.session.id),
                json!({ "state": state }),
            );
            send_to(&r, ServerMessage::Error(e)).await;
        }
    }
}

async fn send_to(reply: &ReplyTo, message: ServerMessage) {
    let _ = reply
        .outbound
        .send(encode(message, reply.request_id.clone()))
        .await;
}

/// Completes when `out`'s connection has closed; never without a connection.
async fn connection_closed(out: Option<OutboundTx>) {
    match out {
        Some(out) => out.closed().await,
        None => std::future::pending().await,
    }
}
