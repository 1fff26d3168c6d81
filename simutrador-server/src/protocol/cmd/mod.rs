//! Request handlers. Each request payload type implements [`Apply`]: given the connection's
//! context it produces the reply or an error. Dispatch is one `match` over
//! [`ClientMessage`].

mod lifecycle;
mod ping;
mod results;
mod sessions;
pub(crate) mod simulation;
mod symbols;

use shared_models::{ClientMessage, ServerMessage};

use super::connection::ConnectionContext;
use crate::error::ApiResult;

/// What a handler answers.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // short-lived on the stack, encoded at once
pub enum Reply {
    /// Send this now, with the request's id.
    Message(ServerMessage),
    /// Another task (the session's run task) answers, in order with what it streams.
    Deferred,
}

impl From<ServerMessage> for Reply {
    fn from(message: ServerMessage) -> Self {
        Reply::Message(message)
    }
}

/// A request that knows how to carry itself out.
pub trait Apply {
    /// Carry out the request for the connection's user.
    fn apply(self, ctx: &ConnectionContext, request_id: Option<&str>) -> ApiResult<Reply>;
}

/// Route a decoded message to its handler.
pub fn apply(
    ctx: &ConnectionContext,
    message: ClientMessage,
    request_id: Option<&str>,
) -> ApiResult<Reply> {
    let r = request_id;
    match message {
        ClientMessage::CreateSession(req) => sessions::Create(req).apply(ctx, r),
        ClientMessage::ValidateSession(req) => sessions::Validate(req).apply(ctx, r),
        ClientMessage::GetSession(req) => sessions::Get(req).apply(ctx, r),
        ClientMessage::ListSessions(req) => req.apply(ctx, r),
        ClientMessage::DeleteSession(req) => sessions::Delete(req).apply(ctx, r),
        ClientMessage::ListSymbols(req) => req.apply(ctx, r),
        ClientMessage::GetSymbolRange(req) => req.apply(ctx, r),
        ClientMessage::Ping(req) => req.apply(ctx, r),
        ClientMessage::StartSimulation(req) => req.apply(ctx, r),
        ClientMessage::TickAck(req) => req.apply(ctx, r),
        ClientMessage::TickAcks(req) => req.apply(ctx, r),
        ClientMessage::OrderBatch(req) => req.apply(ctx, r),
        ClientMessage::PauseSimulation(req) => simulation::Pause(req).apply(ctx, r),
        ClientMessage::ResumeSimulation(req) => simulation::Resume(req).apply(ctx, r),
        ClientMessage::GetResults(req) => results::Results(req).apply(ctx, r),
        ClientMessage::GetAccount(req) => simulation::Account(req).apply(ctx, r),
        ClientMessage::UpdateSession(req) => req.apply(ctx, r),
        ClientMessage::StopSession(req) => req.apply(ctx, r),
        ClientMessage::GetSessionEvents(req) => req.apply(ctx, r),
        ClientMessage::SubscribeSession(req) => lifecycle::Subscribe(req).apply(ctx, r),
        ClientMessage::UnsubscribeSession(req) => lifecycle::Unsubscribe(req).apply(ctx, r),
        ClientMessage::ForkSession(req) => sessions::Fork(req).apply(ctx, r),
        ClientMessage::CompareSessions(req) => req.apply(ctx, r),
        ClientMessage::GetHistoryStats(req) => req.apply(ctx, r),
    }
}
