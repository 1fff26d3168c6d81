//! Session-lifecycle requests on [`Client`]: change a session before it starts, stop it,
//! read its event log, and follow it live (`subscribe_session` → `session_stats_update`
//! pushes, read with [`Client::subscribe`]).

use shared_models::lifecycle::{SessionTerminated, StopKind};
use shared_models::messages::client::SessionRef;
use shared_models::messages::lifecycle::{
    GetSessionEvents, SessionEventList, SessionSubscription, StopSession, UpdateSession,
};
use shared_models::{ClientMessage, ServerMessage, SessionInfo};

use crate::connection::Client;
use crate::error::{ClientError, Result};

fn unexpected(expected: &str, got: &ServerMessage) -> ClientError {
    ClientError::Protocol(format!(
        "expected '{expected}' but the daemon replied '{}'",
        got.type_name()
    ))
}

impl Client {
    /// Change parameters or limits of a session that has not started (`SESSION_LOCKED`
    /// afterwards).
    pub async fn update_session(&self, update: UpdateSession) -> Result<SessionInfo> {
        match self.request(ClientMessage::UpdateSession(update)).await? {
            ServerMessage::SessionUpdated(info) => Ok(info),
            other => Err(unexpected("session_updated", &other)),
        }
    }

    /// End a session now (any non-terminal state): open orders are cancelled, positions
    /// closed at the last settled prices. Returns the final statistics.
    pub async fn stop_session(
        &self,
        session_id: &str,
        kind: StopKind,
    ) -> Result<SessionTerminated> {
        let stop = StopSession {
            session_id: session_id.to_string(),
            reason: kind,
        };
        match self.request(ClientMessage::StopSession(stop)).await? {
            ServerMessage::SessionTerminated(t) => Ok(t),
            other => Err(unexpected("session_terminated", &other)),
        }
    }

    /// A page of the session's event log, oldest first.
    pub async fn session_events(
        &self,
        session_id: &str,
        limit: Option<u32>,
        offset: Option<u32>,
    ) -> Result<SessionEventList> {
        let req = GetSessionEvents {
            session_id: session_id.to_string(),
            limit,
            offset,
        };
        match self.request(ClientMessage::GetSessionEvents(req)).await? {
            ServerMessage::SessionEvents(list) => Ok(list),
            other => Err(unexpected("session_events", &other)),
        }
    }

    /// Receive `session_stats_update`s for the session on this connection (through
    /// [`Client::subscribe`]) until [`Client::unsubscribe_session`].
    pub async fn subscribe_session(&self, session_id: &str) -> Result<SessionSubscription> {
        let r = SessionRef {
            session_id: session_id.to_string(),
        };
        match self.request(ClientMessage::SubscribeSession(r)).await? {
            ServerMessage::SessionSubscription(s) => Ok(s),
            other => Err(unexpected("session_subscription", &other)),
        }
    }

    /// Stop the statistics of a session on this connection.
    pub async fn unsubscribe_session(&self, session_id: &str) -> Result<SessionSubscription> {
        let r = SessionRef {
            session_id: session_id.to_string(),
        };
        match self.request(ClientMessage::UnsubscribeSession(r)).await? {
            ServerMessage::SessionSubscription(s) => Ok(s),
            other => Err(unexpected("session_subscription", &other)),
        }
    }
}
