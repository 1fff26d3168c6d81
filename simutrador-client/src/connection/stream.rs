//! Per-session streams: the pushes of a running simulation (`history_snapshot`, `tick_block`,
//! `order_update`, `execution_report`, `account_snapshot`, `bar_settled`, `simulation_end`)
//! go to a dedicated channel of the session instead of the broadcast, in arrival order, so the
//! runner never lags or loses a tick and the hot path costs one channel send per frame.
//!
//! The channel is unbounded, but flow control bounds it: the server sends at most
//! `max_pending_ticks` ticks beyond the last acknowledged one.

use shared_models::ServerMessage;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::mpsc;

use super::Client;
use super::io::Shared;
use crate::error::{ClientError, Result};

/// The session a simulation push belongs to; `None` for every other message.
pub(crate) fn session_of(message: &ServerMessage) -> Option<&str> {
    Some(match message {
        ServerMessage::HistorySnapshot(m) => &m.session_id,
        ServerMessage::Tick(m) => &m.session_id,
        ServerMessage::TickBlock(m) => &m.session_id,
        ServerMessage::OrderUpdate(m) => &m.session_id,
        ServerMessage::ExecutionReport(m) => &m.session_id,
        ServerMessage::AccountSnapshot(m) => &m.session_id,
        ServerMessage::BarSettled(m) => &m.session_id,
        ServerMessage::EventBlock(m) => &m.session_id,
        ServerMessage::SimulationEnd(m) => &m.session_id,
        // An unsolicited error about a running session (`STORE_UNAVAILABLE`: its run paused).
        ServerMessage::Error(e) => e.details.get("session_id")?.as_str()?,
        _ => return None,
    })
}

#[derive(Default)]
struct RouteTable {
    streams: HashMap<String, mpsc::UnboundedSender<ServerMessage>>,
    closed: bool,
}

/// The open session streams of one connection.
#[derive(Default)]
pub(crate) struct Routes {
    table: Mutex<RouteTable>,
}

impl Routes {
    fn lock(&self) -> MutexGuard<'_, RouteTable> {
        // Nothing in the table can be left half-updated by a panic.
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Hand `message` to its session's stream; gives it back when no stream takes it.
    pub(crate) fn route(&self, message: ServerMessage) -> Option<ServerMessage> {
        let Some(id) = session_of(&message) else {
            return Some(message);
        };
        let table = self.lock();
        match table.streams.get(id) {
            Some(tx) => tx.send(message).err().map(|e| e.0),
            None => Some(message),
        }
    }

    /// The connection is gone: end every stream, and refuse new ones.
    pub(crate) fn close(&self) {
        let mut table = self.lock();
        table.closed = true;
        table.streams.clear();
    }
}

/// The pushes of one session, in arrival order. Dropping it gives the session's pushes back
/// to [`Client::subscribe`].
pub struct SessionStream {
    session_id: String,
    rx: mpsc::UnboundedReceiver<ServerMessage>,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for SessionStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionStream")
            .field("session_id", &self.session_id)
            .finish()
    }
}

impl SessionStream {
    /// The next push; `None` once the connection is closed.
    pub async fn recv(&mut self) -> Option<ServerMessage> {
        self.rx.recv().await
    }

    /// The next push if one is already here.
    pub fn try_recv(&mut self) -> Option<ServerMessage> {
        self.rx.try_recv().ok()
    }

    /// The session.
    pub fn session_id(&self) -> &str {
        &self.session_id
    }
}

impl Drop for SessionStream {
    fn drop(&mut self) {
        self.shared.routes.lock().streams.remove(&self.session_id);
    }
}

impl Client {
    /// Receive the simulation pushes of `session_id` on a dedicated stream (instead of
    /// [`Client::subscribe`]) from now on. Open it before `start_simulation` so nothing is
    /// missed. One stream per session and connection.
    pub fn session_stream(&self, session_id: &str) -> Result<SessionStream> {
        let shared = self.inner.shared.clone();
        let (tx, rx) = mpsc::unbounded_channel();
        {
            let mut table = shared.routes.lock();
            if table.closed {
                return Err(shared.pending.closed().unwrap_or_else(|| {
                    ClientError::Connection("the connection to the daemon is closed".into())
                }));
            }
            if table.streams.contains_key(session_id) {
                return Err(ClientError::Config(format!(
                    "session {session_id} already has a stream on this connection; \
                     run one simulation per session at a time"
                )));
            }
            table.streams.insert(session_id.to_string(), tx);
        }
        Ok(SessionStream {
            session_id: session_id.to_string(),
            rx,
            shared,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BLOCK: &str = r#"{"type":"tick_block","data":{"session_id":"s1","first_sequence_id":0,"times":[1],"symbols":{"A":{"price_scale":2,"volume_scale":0,"open":[1],"high":[1],"low":[1],"close":[1],"volume":[1]}}}}"#;

    #[test]
    fn session_pushes_go_to_their_stream_and_the_rest_to_the_broadcast() {
        let shared = Shared::new(8);
        let mut pushes = shared.pushes.subscribe();
        let (tx, mut rx) = mpsc::unbounded_channel();
        shared.routes.lock().streams.insert("s1".into(), tx);

        shared.dispatch(BLOCK); // fast path
        // Same message with `data` first: the generic path.
        let reordered =
            r#"{"data":{"session_id":"s1","sequence_id":3,"equity":"1"},"type":"bar_settled"}"#;
        shared.dispatch(reordered);
        shared.dispatch(&BLOCK.replace("\"s1\"", "\"other\""));
        shared.dispatch(r#"{"type":"tick_block","data":{"session_id":"s1"}}"#); // malformed

        assert!(matches!(rx.try_recv(), Ok(ServerMessage::TickBlock(b)) if b.times == [1]));
        assert!(matches!(rx.try_recv(), Ok(ServerMessage::BarSettled(b)) if b.sequence_id == 3));
        assert!(rx.try_recv().is_err());
        assert!(
            matches!(pushes.try_recv(), Ok(ServerMessage::TickBlock(b)) if b.session_id == "other")
        );
        assert!(
            pushes.try_recv().is_err(),
            "a malformed frame is dropped, not a panic"
        );

        shared.routes.close();
        assert!(rx.try_recv().is_err());
        assert!(shared.routes.lock().streams.is_empty());
    }
}
