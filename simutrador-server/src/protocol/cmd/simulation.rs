//! Simulation requests: `start_simulation`, `tick_ack`, `order_batch`, `pause_simulation`,
//! `resume_simulation`, `get_account` (answered by the session's run actor, in order with the
//! tick stream). `get_results` is in `results.rs`.

use serde_json::json;
use shared_models::messages::client::SessionRef;
use shared_models::messages::simulation::{OrderBatch, StartSimulation, TickAck, TickAcks};
use shared_models::{ErrorCode, SessionState};
use tokio::sync::mpsc::error::TrySendError;

use super::{Apply, Reply};
use crate::error::{ApiResult, api_error};
use crate::protocol::connection::ConnectionContext;
use crate::session::Session;
use crate::session::run::{CONTROL_QUEUE, Control, ReplyTo, start};

fn reply_to(ctx: &ConnectionContext, request_id: Option<&str>) -> ReplyTo {
    ReplyTo {
        outbound: ctx.outbound.clone(),
        request_id: request_id.map(str::to_string),
    }
}

fn not_running(session: &Session) -> crate::error::ApiError {
    let state = session.state();
    api_error(
        ErrorCode::InvalidState,
        format!(
            "session {} has no running simulation (it is {state}); start it with start_simulation",
            session.id
        ),
        json!({ "state": state }),
    )
}

/// Forward a request to the session's run actor.
fn forward(
    ctx: &ConnectionContext,
    session_id: &str,
    make: impl FnOnce(ReplyTo) -> Control,
    request_id: Option<&str>,
) -> ApiResult<Reply> {
    let session = ctx.state.sessions.get_to_use(&ctx.user_id, session_id)?;
    let handle = session.run_handle().ok_or_else(|| not_running(&session))?;
    // The read loop is synchronous here: a full queue is refused rather than waited for.
    match handle.try_send(make(reply_to(ctx, request_id))) {
        Ok(()) => Ok(Reply::Deferred),
        Err(TrySendError::Full(_)) => {
            // The run's measured time per request: when a slot will have freed.
            let retry_after_ms =
                u64::try_from(handle.retry_after().as_millis()).unwrap_or(u64::MAX);
            Err(api_error(
                ErrorCode::RateLimited,
                format!(
                    "session {} already has {CONTROL_QUEUE} requests queued; wait for its replies and the ticks you acknowledged before sending more; retry after {retry_after_ms} ms",
                    session.id
                ),
                json!({ "queued": CONTROL_QUEUE, "retry_after_ms": retry_after_ms }),
            ))
        }
        Err(TrySendError::Closed(_)) => Err(not_running(&session)),
    }
}

impl Apply for StartSimulation {
    fn apply(self, ctx: &ConnectionContext, request_id: Option<&str>) -> ApiResult<Reply> {
        let sessions = &ctx.state.sessions;
        let session = sessions.get_to_use(&ctx.user_id, &self.session_id)?;
        let stream = ctx.outbound.clone();
        start::start(
            sessions,
            &session,
            &self,
            stream,
            request_id.map(str::to_string),
        )?;
        Ok(Reply::Deferred)
    }
}

impl Apply for TickAck {
    fn apply(self, ctx: &ConnectionContext, request_id: Option<&str>) -> ApiResult<Reply> {
        let id = self.session_id.clone();
        forward(ctx, &id, |r| Control::Ack(self, r), request_id)
    }
}

impl Apply for TickAcks {
    fn apply(self, ctx: &ConnectionContext, request_id: Option<&str>) -> ApiResult<Reply> {
        let id = self.session_id.clone();
        let acks: Vec<TickAck> = self.into_acks().collect();
        forward(ctx, &id, |r| Control::Acks(acks, r), request_id)
    }
}

impl Apply for OrderBatch {
    fn apply(self, ctx: &ConnectionContext, request_id: Option<&str>) -> ApiResult<Reply> {
        let id = self.session_id.clone();
        forward(ctx, &id, |r| Control::Batch(self, r), request_id)
    }
}

/// `pause_simulation`.
pub struct Pause(pub SessionRef);
/// `resume_simulation`.
pub struct Resume(pub SessionRef);
/// `get_account`.
pub struct Account(pub SessionRef);
impl Apply for Pause {
    fn apply(self, ctx: &ConnectionContext, request_id: Option<&str>) -> ApiResult<Reply> {
        forward(ctx, &self.0.session_id, Control::Pause, request_id)
    }
}

impl Apply for Resume {
    fn apply(self, ctx: &ConnectionContext, request_id: Option<&str>) -> ApiResult<Reply> {
        let sessions = &ctx.state.sessions;
        let session = sessions.get_to_use(&ctx.user_id, &self.0.session_id)?;
        if session.run_handle().is_none() && session.state() == SessionState::Paused {
            // Restored after a restart: rebuild the run from its journal first.
            start::rebuild(sessions, &session)?;
        } else {
            // A live paused run holds the bars it started on: not resumed on data reloaded since.
            start::check_resume(sessions, &session)?;
        }
        forward(ctx, &self.0.session_id, Control::Resume, request_id)
    }
}

impl Apply for Account {
    fn apply(self, ctx: &ConnectionContext, request_id: Option<&str>) -> ApiResult<Reply> {
        forward(ctx, &self.0.session_id, Control::Account, request_id)
    }
}
