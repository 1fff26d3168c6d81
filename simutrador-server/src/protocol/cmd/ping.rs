//! `ping` → `pong`.

use shared_models::ServerMessage;
use shared_models::messages::client::Ping;
use shared_models::messages::server::Pong;

use super::{Apply, Reply};
use crate::error::ApiResult;
use crate::protocol::connection::ConnectionContext;

impl Apply for Ping {
    fn apply(self, _ctx: &ConnectionContext, _request_id: Option<&str>) -> ApiResult<Reply> {
        Ok(ServerMessage::Pong(Pong {
            server_time: chrono::Utc::now(),
        })
        .into())
    }
}
