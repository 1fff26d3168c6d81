//! Session requests: `create_session`, `validate_session`, `get_session`, `list_sessions`,
//! `delete_session`, `fork_session`, and the history analytics `compare_sessions` and
//! `get_history_stats`.

use serde_json::json;
use shared_models::lifecycle::Actor;
use shared_models::messages::client::{ListSessions, SessionRef};
use shared_models::messages::history::{CompareSessions, GetHistoryStats};
use shared_models::messages::lifecycle::UpdateSession;
use shared_models::messages::server::{SessionDeleted, SessionPreview};
use shared_models::{CreateSessionRequest, ServerMessage};

use super::{Apply, Reply};
use crate::error::ApiResult;
use crate::protocol::connection::ConnectionContext;
use crate::session::params;

/// `create_session`.
pub struct Create(pub CreateSessionRequest);
/// `validate_session`.
pub struct Validate(pub CreateSessionRequest);
/// `get_session`.
pub struct Get(pub SessionRef);
/// `delete_session`.
pub struct Delete(pub SessionRef);
/// `fork_session`.
pub struct Fork(pub SessionRef);

/// Every check of `create_session`, against this daemon's catalog and limits.
fn check(
    req: &CreateSessionRequest,
    ctx: &ConnectionContext,
) -> ApiResult<params::ValidatedSession> {
    let state = &ctx.state;
    params::validate(
        req,
        &state.validator,
        &state.config.limits,
        chrono::Utc::now(),
    )
}

impl Apply for Create {
    fn apply(self, ctx: &ConnectionContext, _request_id: Option<&str>) -> ApiResult<Reply> {
        let state = &ctx.state;
        let valid = check(&self.0, ctx)?;
        state.rate_limits.check_create(&ctx.user_id)?;
        let session = state.sessions.create_validated(&ctx.user_id, valid)?;
        tracing::info!(
            session_id = %session.id,
            symbols = ?session.params.symbols,
            timeframe = %session.params.timeframe,
            bars = session.bar_count,
            "session created"
        );
        Ok(
            ServerMessage::SessionCreated(session.info(state.sessions.limits().idle_timeout))
                .into(),
        )
    }
}

impl Apply for Validate {
    fn apply(self, ctx: &ConnectionContext, _request_id: Option<&str>) -> ApiResult<Reply> {
        let valid = check(&self.0, ctx)?;
        Ok(ServerMessage::SessionValidated(SessionPreview {
            params: valid.params,
            bar_count: valid.bar_count,
            limits: valid.limits.is_set().then(|| valid.limits.wire(None)),
        })
        .into())
    }
}

impl Apply for Get {
    fn apply(self, ctx: &ConnectionContext, _request_id: Option<&str>) -> ApiResult<Reply> {
        let sessions = &ctx.state.sessions;
        let session = sessions.get(&ctx.user_id, &self.0.session_id)?;
        Ok(ServerMessage::Session(session.info(sessions.limits().idle_timeout)).into())
    }
}

impl Apply for ListSessions {
    fn apply(self, ctx: &ConnectionContext, _request_id: Option<&str>) -> ApiResult<Reply> {
        Ok(ServerMessage::SessionList(ctx.state.sessions.list(&ctx.user_id, &self)?).into())
    }
}

impl Apply for CompareSessions {
    fn apply(self, ctx: &ConnectionContext, _request_id: Option<&str>) -> ApiResult<Reply> {
        let comparison = ctx.state.sessions.compare(&ctx.user_id, &self)?;
        Ok(ServerMessage::SessionComparison(comparison).into())
    }
}

impl Apply for GetHistoryStats {
    fn apply(self, ctx: &ConnectionContext, _request_id: Option<&str>) -> ApiResult<Reply> {
        let stats = ctx.state.sessions.history_stats(&ctx.user_id, &self)?;
        Ok(ServerMessage::HistoryStats(stats).into())
    }
}

impl Apply for Delete {
    fn apply(self, ctx: &ConnectionContext, _request_id: Option<&str>) -> ApiResult<Reply> {
        let session = ctx
            .state
            .sessions
            .delete(&ctx.user_id, &self.0.session_id)?;
        // The manager aborted any run, audited the deletion and dropped its deadlines.
        tracing::info!(session_id = %session.id, "session deleted");
        Ok(ServerMessage::SessionDeleted(SessionDeleted {
            session_id: session.id.to_string(),
        })
        .into())
    }
}

impl Apply for Fork {
    /// A new session with the parameters and limits of the given one (any state), validated
    /// again against the catalog as it is now and fingerprinted on its data; it starts from
    /// scratch (`created`: no orders, fills, events or results of the original). The original
    /// is left as it is. Counts as a `create_session` for the limits.
    fn apply(self, ctx: &ConnectionContext, _request_id: Option<&str>) -> ApiResult<Reply> {
        let state = &ctx.state;
        let from = state.sessions.get(&ctx.user_id, &self.0.session_id)?;
        let req = super::lifecycle::merged(&from, &UpdateSession::default());
        let valid = check(&req, ctx)?;
        state.rate_limits.check_create(&ctx.user_id)?;
        let session = state.sessions.create_validated(&ctx.user_id, valid)?;
        state.sessions.audit(
            Actor::User,
            &ctx.user_id,
            "session_forked",
            Some(&session.id),
            json!({ "forked_from": from.id.as_ref(), "session_id": session.id.as_ref() }),
        );
        tracing::info!(session_id = %session.id, forked_from = %from.id, bars = session.bar_count, "session forked");
        Ok(
            ServerMessage::SessionCreated(session.info(state.sessions.limits().idle_timeout))
                .into(),
        )
    }
}
