//! The two tasks behind every [`super::Client`]: the writer (the only owner of the socket's
//! sending half) and the reader (routes each reply to its waiting request by `request_id`,
//! the pushes of a running simulation to that session's stream, and every other unsolicited
//! message to the push subscribers).
//!
//! Tick blocks take a fast path: a frame starting with `{"type":"tick_block",` (the server
//! always writes `type` first) is read by the hand-written [`super::tick_parse`] (falling
//! back to serde straight into a [`TickBlock`] for any other spelling); every other frame is
//! decoded in one pass by `shared_models::frame::decode_envelope`.

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use shared_models::messages::server::ConnectionClosing;
use shared_models::messages::simulation::TickBlock;
use shared_models::{Envelope, ServerMessage};
use std::sync::{Arc, Mutex};
use tokio::sync::{broadcast, mpsc, watch};
use tokio_tungstenite::tungstenite::Message;

use super::handshake::Socket;
use super::pending::Pending;
use super::stream::Routes;
use crate::error::ClientError;

/// State shared by the client handles and the two tasks.
pub(crate) struct Shared {
    /// Requests waiting for replies.
    pub(crate) pending: Pending,
    /// Unsolicited messages (no `request_id`), for [`super::Client::subscribe`].
    pub(crate) pushes: broadcast::Sender<ServerMessage>,
    /// Per-session streams of simulation pushes (ticks, fills, `bar_settled` …).
    pub(crate) routes: Routes,
    /// Flips to true once the reader stopped.
    pub(crate) closed: watch::Sender<bool>,
    /// The server's `connection_closing` notice, if one came.
    closing: Mutex<Option<ConnectionClosing>>,
}

impl Shared {
    pub(crate) fn new(push_capacity: usize) -> Self {
        Shared {
            pending: Pending::default(),
            pushes: broadcast::channel(push_capacity.max(1)).0,
            routes: Routes::default(),
            closed: watch::channel(false).0,
            closing: Mutex::new(None),
        }
    }

    /// Route one text frame.
    pub(crate) fn dispatch(&self, text: &str) {
        // A frame that is not the shape we expect falls through: the generic path explains it.
        if text.starts_with(TICK_BLOCK_PREFIX) {
            if let Some(block) = super::tick_parse::parse_tick_block(text) {
                self.push(ServerMessage::TickBlock(block));
                return;
            }
            if let Ok(frame) = serde_json::from_str::<TickBlockFrame>(text) {
                self.push(ServerMessage::TickBlock(frame.data));
                return;
            }
        }
        match shared_models::frame::decode_envelope::<ServerMessage>(text) {
            Ok(Envelope {
                message,
                request_id: Some(id),
            }) => {
                if !self.pending.resolve(&id, Ok(message)) {
                    tracing::debug!(request_id = %id, "reply to a request nobody waits for (timed out?)");
                }
            }
            Ok(Envelope {
                message,
                request_id: None,
            }) => {
                if let ServerMessage::ConnectionClosing(notice) = &message {
                    *self.closing.lock().unwrap_or_else(|p| p.into_inner()) = Some(notice.clone());
                }
                self.push(message);
            }
            Err(e) => self.undecodable(text, &e),
        }
    }

    /// An unsolicited message: to its session's stream when one is open, else to the
    /// subscribers (having none is fine: pushes are optional to consume).
    fn push(&self, message: ServerMessage) {
        if let Some(unrouted) = self.routes.route(message) {
            let _ = self.pushes.send(unrouted);
        }
    }

    /// A frame we cannot decode: fail its request if we can find its id, otherwise log it.
    fn undecodable(&self, text: &str, err: &serde_json::Error) {
        #[derive(Deserialize)]
        struct Probe {
            #[serde(rename = "type", default)]
            kind: Option<String>,
            #[serde(default)]
            request_id: Option<String>,
        }
        let probe = serde_json::from_str::<Probe>(text).ok();
        let kind = probe
            .as_ref()
            .and_then(|p| p.kind.clone())
            .unwrap_or_else(|| "?".into());
        match probe.and_then(|p| p.request_id) {
            Some(id) => {
                let err = ClientError::Protocol(format!(
                    "cannot decode the '{kind}' reply ({err}); are the client and daemon versions compatible?"
                ));
                self.pending.resolve(&id, Err(err));
            }
            None => {
                tracing::debug!(%kind, error = %err, "ignoring a server message this client cannot decode")
            }
        }
    }

    /// The error every pending and later request gets once the connection is gone.
    fn closed_error(&self, what: String) -> ClientError {
        let notice = self
            .closing
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        match notice {
            Some(n) => ClientError::Connection(format!(
                "the daemon closed the connection ({}): {}",
                n.reason, n.message
            )),
            None => ClientError::Connection(format!(
                "{what}; is the daemon still running? check with `simutrador-client health`"
            )),
        }
    }
}

/// How every `tick_block` frame starts (the server writes `type` first, without spaces).
const TICK_BLOCK_PREFIX: &str = "{\"type\":\"tick_block\",";

/// A `tick_block` frame: only `data` matters (`type` is known from the prefix).
#[derive(Deserialize)]
struct TickBlockFrame {
    data: TickBlock,
}

/// Read frames until the connection ends, then fail everything still waiting.
pub(crate) async fn read_loop(mut stream: SplitStream<Socket>, shared: Arc<Shared>) {
    let what = loop {
        match stream.next().await {
            Some(Ok(Message::Text(text))) => shared.dispatch(text.as_str()),
            Some(Ok(Message::Close(frame))) => {
                break match frame {
                    Some(f) if !f.reason.is_empty() => {
                        format!("the daemon closed the connection ({})", f.reason)
                    }
                    _ => "the daemon closed the connection".to_string(),
                };
            }
            Some(Ok(_)) => {} // pings are answered by tungstenite; binary frames are not ours
            Some(Err(e)) => break format!("the connection to the daemon broke ({e})"),
            None => break "the daemon closed the connection".to_string(),
        }
    };
    shared.pending.close(shared.closed_error(what));
    shared.routes.close();
    shared.closed.send_replace(true);
}

/// Send queued frames until every sender is gone or a `Close` was sent. Frames queued together
/// are written with one flush.
pub(crate) async fn write_loop(
    mut sink: SplitSink<Socket, Message>,
    mut queue: mpsc::Receiver<Message>,
    shared: Arc<Shared>,
) {
    while let Some(first) = queue.recv().await {
        let mut closing = matches!(first, Message::Close(_));
        let mut result = sink.feed(first).await;
        while result.is_ok() && !closing {
            match queue.try_recv() {
                Ok(next) => {
                    closing = matches!(next, Message::Close(_));
                    result = sink.feed(next).await;
                }
                Err(_) => break,
            }
        }
        if let Err(e) = match result {
            Ok(()) => sink.flush().await,
            Err(e) => Err(e),
        } {
            shared
                .pending
                .close(shared.closed_error(format!("cannot send to the daemon ({e})")));
            return;
        }
        if closing {
            return;
        }
    }
    // Every client handle is gone: say goodbye properly.
    let _ = sink.close().await;
}
