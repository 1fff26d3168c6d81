//! Request handlers. Each request payload type implements [`Apply`]: given the connection's
//! context it produces the reply or an error. Dispatch is one `match` over
//! [`ClientMessage`].

mod ping;
mod sessions;
mod symbols;

use shared_models::{ClientMessage, ServerMessage};

use super::connection::ConnectionContext;
use crate::error::ApiResult;

/// A request that knows how to carry itself out.
pub trait Apply {
    /// Carry out the request for the connection's user.
    fn apply(self, ctx: &ConnectionContext) -> ApiResult<ServerMessage>;
}

/// Route a decoded message to its handler.
pub fn apply(ctx: &ConnectionContext, message: ClientMessage) -> ApiResult<ServerMessage> {
    match message {
        ClientMessage::CreateSession(req) => sessions::Create(req).apply(ctx),
        ClientMessage::ValidateSession(req) => sessions::Validate(req).apply(ctx),
        ClientMessage::GetSession(req) => sessions::Get(req).apply(ctx),
        ClientMessage::ListSessions(req) => req.apply(ctx),
        ClientMessage::DeleteSession(req) => sessions::Delete(req).apply(ctx),
        ClientMessage::ListSymbols(req) => req.apply(ctx),
        ClientMessage::GetSymbolRange(req) => req.apply(ctx),
        ClientMessage::Ping(req) => req.apply(ctx),
        other => Err(crate::error::api_error(
            shared_models::ErrorCode::InvalidState,
            format!("'{}' is not available yet", other.type_name()),
            serde_json::Value::Null,
        )),
    }
}
