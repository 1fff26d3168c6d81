//! Session-lifecycle requests: `update_session` (before the start only), `stop_session` (any
//! non-terminal state, answered at once), `get_session_events`, `subscribe_session` and
//! `unsubscribe_session`; and the `max_active_sessions_per_user` check of a start.

use serde_json::json;
use shared_models::lifecycle::{Actor, EventKind, StopKind};
use shared_models::messages::client::SessionRef;
use shared_models::messages::lifecycle::{
    GetSessionEvents, SessionSubscription, StopSession, UpdateSession,
};
use shared_models::{CreateSessionRequest, ErrorCode, ServerMessage, SessionState};

use super::{Apply, Reply};
use crate::error::{ApiResult, api_error};
use crate::protocol::connection::ConnectionContext;
use crate::session::Session;
use crate::session::params;
use crate::session::run::ReplyTo;

/// `subscribe_session`.
pub struct Subscribe(pub SessionRef);
/// `unsubscribe_session`.
pub struct Unsubscribe(pub SessionRef);

/// The request that re-creates `s` with the changes of `u` applied (with no changes: the
/// request `fork_session` validates again).
pub(super) fn merged(s: &Session, u: &UpdateSession) -> CreateSessionRequest {
    let p = &s.params;
    let mut limits = s.limits.as_request();
    if u.loss_limit_amount.is_some() || u.loss_limit_pct.is_some() {
        limits.loss_limit_amount = u.loss_limit_amount;
        limits.loss_limit_pct = u.loss_limit_pct;
    } else if s.limits.loss_limit.is_none() {
        limits.loss_limit_amount = None;
    }
    CreateSessionRequest {
        symbols: p.symbols.clone(),
        start_date: p.start_date.clone(),
        end_date: p.end_date.clone(),
        timeframe: Some(p.timeframe.to_string()),
        initial_capital: u.initial_capital.or(Some(p.initial_capital)),
        commission_rate: u.commission_rate.or(Some(p.commission_rate)),
        commission_per_share: u.commission_per_share.or(Some(p.commission_per_share)),
        commission_min: u.commission_min.or(Some(p.commission_min)),
        slippage_bps: u.slippage_bps.or(Some(p.slippage_bps)),
        allow_short: u.allow_short.or(Some(p.allow_short)),
        metadata: u.metadata.clone().or_else(|| Some(p.metadata.clone())),
        close_at_end: u.close_at_end.or(Some(p.close_at_end)),
        max_duration: u.max_duration.clone().or(limits.max_duration),
        loss_limit_amount: limits.loss_limit_amount,
        loss_limit_pct: limits.loss_limit_pct,
        halt_threshold_pct: u.halt_threshold_pct.or(limits.halt_threshold_pct),
        halt_bars: u.halt_bars.or(limits.halt_bars),
    }
}

impl Apply for UpdateSession {
    fn apply(self, ctx: &ConnectionContext, _request_id: Option<&str>) -> ApiResult<Reply> {
        let sessions = &ctx.state.sessions;
        let session = sessions.get_to_use(&ctx.user_id, &self.session_id)?;
        if session.state() != SessionState::Created {
            let state = session.state();
            return Err(api_error(
                ErrorCode::SessionLocked,
                format!(
                    "session {} is {state}; parameters and limits can only change before it starts",
                    session.id
                ),
                json!({ "state": state }),
            ));
        }
        let req = merged(&session, &self);
        let valid = params::validate(
            &req,
            &ctx.state.validator,
            &ctx.state.config.limits,
            chrono::Utc::now(),
        )?;
        let next = sessions.update_with_data(
            &session,
            valid.params,
            valid.bar_count,
            valid.limits,
            Some(valid.data),
        )?;
        tracing::info!(session_id = %next.id, "session updated");
        let info = next.info(sessions.limits().idle_timeout);
        Ok(ServerMessage::SessionUpdated(info).into())
    }
}

impl Apply for StopSession {
    fn apply(self, ctx: &ConnectionContext, request_id: Option<&str>) -> ApiResult<Reply> {
        let sessions = &ctx.state.sessions;
        let session = sessions.get_to_use(&ctx.user_id, &self.session_id)?;
        if session.state().is_terminal() {
            let state = session.state();
            return Err(api_error(
                ErrorCode::InvalidState,
                format!(
                    "session {} has already ended ({state}); nothing to stop",
                    session.id
                ),
                json!({ "state": state }),
            ));
        }
        if self.reason == StopKind::Emergency {
            sessions.record(&session, EventKind::EmergencyStop, Actor::User, json!({}));
        }
        let reply = ReplyTo {
            outbound: ctx.outbound.clone(),
            request_id: request_id.map(str::to_string),
        };
        let ended = sessions.terminate(
            &session,
            SessionState::Stopped,
            self.reason.reason(),
            Actor::User,
            Some(reply),
        )?;
        Ok(match ended {
            Some(t) => ServerMessage::SessionTerminated(t).into(),
            None => Reply::Deferred,
        })
    }
}

impl Apply for GetSessionEvents {
    fn apply(self, ctx: &ConnectionContext, _request_id: Option<&str>) -> ApiResult<Reply> {
        let session = ctx.state.sessions.get(&ctx.user_id, &self.session_id)?;
        let page = session
            .event_log()
            .page(&session.id, self.limit, self.offset);
        Ok(ServerMessage::SessionEvents(page).into())
    }
}

fn subscription(ctx: &ConnectionContext, session_id: &str, subscribed: bool) -> Reply {
    let interval = ctx.state.sessions.stats_interval();
    ServerMessage::SessionSubscription(SessionSubscription {
        session_id: session_id.to_string(),
        subscribed,
        interval_ms: u64::try_from(interval.as_millis()).unwrap_or(u64::MAX),
    })
    .into()
}

impl Apply for Subscribe {
    fn apply(self, ctx: &ConnectionContext, _request_id: Option<&str>) -> ApiResult<Reply> {
        let sessions = &ctx.state.sessions;
        // Looked up with the caller's id: another user's session is SESSION_NOT_FOUND.
        let session = sessions.get(&ctx.user_id, &self.0.session_id)?;
        let id = ctx.registration.id;
        sessions
            .monitor()
            .subscribe(&session.id, id, ctx.outbound.clone());
        Ok(subscription(ctx, &session.id, true))
    }
}

impl Apply for Unsubscribe {
    fn apply(self, ctx: &ConnectionContext, _request_id: Option<&str>) -> ApiResult<Reply> {
        let sessions = &ctx.state.sessions;
        let session = sessions.get(&ctx.user_id, &self.0.session_id)?;
        sessions
            .monitor()
            .unsubscribe(&session.id, ctx.registration.id);
        Ok(subscription(ctx, &session.id, false))
    }
}
