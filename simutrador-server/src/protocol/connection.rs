//! Serving one authenticated WebSocket connection.
//!
//! The read loop decodes each frame, applies it and queues the reply; a writer task owns the
//! sink, so pushes from elsewhere (later: simulation ticks) share the same ordered queue. Bad
//! input never closes the connection: malformed JSON, unknown types, wrong field types and
//! frames over `max_message_bytes` each get an `error` reply and the loop goes on. Only frames
//! beyond the transport cap ([`hard_frame_limit`]) or invalid UTF-8 in a
//! *text* frame (a WebSocket protocol violation, after which the transport cannot read on) end
//! the connection: the client still gets an `error` saying why, then close code 1009 or 1007.
//!
//! The connection task (tracked by the server) spawns its writer on the same tracker, so a
//! graceful shutdown waits for both. The outgoing queue is bounded ([`OUTGOING_QUEUE`]).
//!
//! When the connection's access ends ([`AccessLease`]: its API key revoked, its token
//! expired) it says `connection_closing` and closes with code 4001 or 4003; like any other
//! disconnect, that pauses the runs streaming to it.

use axum::extract::ws::{CloseFrame, Message, WebSocket, close_code};
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use shared_models::messages::server::{ConnectionClosing, ConnectionReady};
use shared_models::{ErrorBody, ErrorCode, Plan, ServerMessage, decode_client_message};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

use super::cmd;
use super::rate_limit::{ConnectionLimiter, ConnectionSlot};
use super::state::{ConnectionCount, DaemonState, RequestEvent};
use crate::auth::{AccessEnd, AccessLease};
pub use crate::session::outbound::{Outgoing, encode};

/// Transport-level frame cap: frames above `max_message_bytes` but below this are answered
/// with `MESSAGE_TOO_LARGE` and the connection stays; above it the connection is closed (1009).
pub fn hard_frame_limit(max_message_bytes: usize) -> usize {
    max_message_bytes.saturating_mul(4).max(1 << 20)
}

/// What a handler knows about the connection it serves.
#[derive(Debug)]
pub struct ConnectionContext {
    /// Daemon state.
    pub state: Arc<DaemonState>,
    /// The authenticated user.
    pub user_id: Arc<str>,
    /// Their plan.
    pub plan: Plan,
    /// This connection's outgoing queue (replies and pushes, in order).
    pub outbound: mpsc::Sender<Outgoing>,
    limiter: ConnectionLimiter,
    /// This connection in the registry of owner connections (warnings, subscriptions).
    pub registration: crate::session::monitor::Registration,
    _slot: ConnectionSlot,
    count: ConnectionCount,
    /// Ends when the key behind the token is revoked or the token expires.
    access: Option<AccessLease>,
}

impl ConnectionContext {
    /// Context for a freshly upgraded connection, and the receiving end of its outgoing queue.
    pub fn new(
        state: Arc<DaemonState>,
        user_id: Arc<str>,
        plan: Plan,
        slot: ConnectionSlot,
    ) -> (Self, mpsc::Receiver<Outgoing>) {
        let (outbound, rx) = mpsc::channel(OUTGOING_QUEUE);
        let registration = state
            .sessions
            .monitor()
            .register(&user_id, outbound.clone());
        let ctx = ConnectionContext {
            registration,
            outbound,
            limiter: state.rate_limits.connection_limiter(),
            count: state.connection_opened(),
            state,
            user_id,
            plan,
            _slot: slot,
            access: None,
        };
        (ctx, rx)
    }

    /// The connection ends (4001/4003) when `lease` does.
    pub fn with_access(mut self, lease: AccessLease) -> Self {
        self.access = Some(lease);
        self
    }
}

/// Frames queued for the writer before senders wait (back-pressure on tick streams).
pub const OUTGOING_QUEUE: usize = 64;

/// Serve `socket` until the client leaves or the daemon shuts down; the writer task is
/// spawned on `tasks` (the tracker of the connection tasks).
pub async fn serve(
    socket: WebSocket,
    ctx: ConnectionContext,
    rx: mpsc::Receiver<Outgoing>,
    tasks: TaskTracker,
) {
    let span = tracing::info_span!("connection", conn = ctx.count.id, user_id = %ctx.user_id);
    run(socket, ctx, rx, tasks).instrument(span).await
}

async fn run(
    socket: WebSocket,
    ctx: ConnectionContext,
    rx: mpsc::Receiver<Outgoing>,
    tasks: TaskTracker,
) {
    let (sink, mut stream) = socket.split();
    let tx = ctx.outbound.clone();
    let stop_writer = CancellationToken::new();
    let writer = tasks.spawn(write_loop(sink, rx, stop_writer.clone()));
    tracing::info!("connected");

    let ready = ServerMessage::ConnectionReady(ConnectionReady {
        user_id: ctx.user_id.to_string(),
        plan: ctx.plan,
        server_time: chrono::Utc::now(),
        server_version: crate::VERSION.to_string(),
        protocol_version: shared_models::PROTOCOL_VERSION,
        limits: ctx.state.wire_limits.clone(),
    });
    let _ = tx.send(encode(ready, None)).await;

    let shutdown = ctx.state.shutdown.clone();
    let max_bytes = ctx.state.config.server.max_message_bytes;
    let access_ended = access_ended(ctx.access.as_ref());
    tokio::pin!(access_ended);
    loop {
        let frame = tokio::select! {
            end = &mut access_ended => {
                close_for(&tx, end).await;
                break;
            }
            _ = shutdown.cancelled() => {
                let closing = ServerMessage::ConnectionClosing(ConnectionClosing {
                    reason: "server_shutdown".into(),
                    message: "the daemon is shutting down; reconnect when it is back".into(),
                });
                let _ = tx.send(encode(closing, None)).await;
                let _ = tx.send(Outgoing::Close(close_code::AWAY, "server shutdown".into())).await;
                break;
            }
            frame = stream.next() => frame,
        };
        let text = match frame {
            None | Some(Ok(Message::Close(_))) => break,
            Some(Ok(Message::Text(t))) => t.to_string(),
            Some(Ok(Message::Binary(b))) => match String::from_utf8(b.to_vec()) {
                Ok(t) => t,
                Err(_) => {
                    let body = ErrorBody::new(
                        ErrorCode::InvalidMessage,
                        "binary frame is not UTF-8 JSON; send JSON text frames",
                    );
                    let _ = tx.send(encode(ServerMessage::Error(body), None)).await;
                    continue;
                }
            },
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            Some(Err(e)) => {
                close_on_transport_error(&tx, &e.to_string(), max_bytes).await;
                break;
            }
        };
        if let Some(reply) = handle_text(&ctx, &text, max_bytes)
            && tx.send(reply).await.is_err()
        {
            break;
        }
    }
    drop(tx);
    stop_writer.cancel();
    let _ = tokio::time::timeout(Duration::from_secs(5), writer).await;
    tracing::info!("disconnected");
}

/// Own the sink: write queued frames, flushing when the queue runs dry (so a burst of tick
/// blocks goes out in few syscalls). On `stop`, write what is already queued and close.
async fn write_loop(
    mut sink: SplitSink<WebSocket, Message>,
    mut rx: mpsc::Receiver<Outgoing>,
    stop: CancellationToken,
) {
    loop {
        let out = tokio::select! {
            biased;
            out = rx.recv() => out,
            _ = stop.cancelled() => rx.try_recv().ok(),
        };
        let Some(out) = out else { break };
        let result = match out {
            Outgoing::Text(text) => sink.feed(Message::Text(text.into())).await,
            Outgoing::Close(code, reason) => {
                let frame = CloseFrame {
                    code,
                    reason: reason.into(),
                };
                let _ = sink.send(Message::Close(Some(frame))).await;
                break;
            }
        };
        if result.is_err() || (rx.is_empty() && sink.flush().await.is_err()) {
            break;
        }
    }
    let _ = sink.close().await;
}

/// Decode, rate-limit and apply one frame. Produces its reply, or `None` when another task
/// answers (simulation requests) or the request needs no answer (a successful `tick_ack`).
fn handle_text(ctx: &ConnectionContext, text: &str, max_bytes: usize) -> Option<Outgoing> {
    if text.len() > max_bytes {
        let body = ErrorBody::new(
            ErrorCode::MessageTooLarge,
            format!(
                "message is {} bytes; the limit is {max_bytes} bytes, so split it",
                text.len()
            ),
        )
        .with_details(serde_json::json!({ "bytes": text.len(), "max_bytes": max_bytes }));
        return Some(encode(ServerMessage::Error(body), None));
    }
    let envelope = match decode_client_message(text) {
        Ok(env) => env,
        Err(e) => {
            tracing::debug!(code = %e.body.error_code, "undecodable message");
            return Some(encode(ServerMessage::Error(e.body), e.request_id));
        }
    };
    let request_id = envelope.request_id;
    // Acks pace a running simulation (one per trading bar); the window bounds them, not the
    // per-connection message rate.
    let is_ack = matches!(
        envelope.message,
        shared_models::ClientMessage::TickAck(_) | shared_models::ClientMessage::TickAcks(_)
    );
    if !is_ack && let Err(body) = ctx.limiter.check() {
        return Some(encode(ServerMessage::Error(body), request_id));
    }
    let kind = envelope.message.type_name();
    let observer = &ctx.state.observer;
    observer.observe(RequestEvent::Received(kind));
    match cmd::apply(ctx, envelope.message, request_id.as_deref()) {
        Ok(cmd::Reply::Message(msg)) => Some(encode(msg, request_id)),
        Ok(cmd::Reply::Deferred) => None,
        Err(body) => {
            observer.observe(RequestEvent::Refused(body.error_code.as_str()));
            tracing::debug!(request = kind, code = %body.error_code, "request refused");
            Some(encode(ServerMessage::Error(body), request_id))
        }
    }
}

/// When the connection's access ends; never without a lease.
async fn access_ended(lease: Option<&AccessLease>) -> AccessEnd {
    match lease {
        Some(lease) => lease.ended().await,
        None => std::future::pending().await,
    }
}

/// `connection_closing` with the reason, then the close frame with its code.
async fn close_for(tx: &mpsc::Sender<Outgoing>, end: AccessEnd) {
    tracing::info!(
        reason = end.reason(),
        "access ended; closing the connection"
    );
    let closing = ServerMessage::ConnectionClosing(ConnectionClosing {
        reason: end.reason().into(),
        message: end.message().into(),
    });
    let _ = tx.send(encode(closing, None)).await;
    let _ = tx
        .send(Outgoing::Close(end.close_code(), end.close_text().into()))
        .await;
}

async fn close_on_transport_error(tx: &mpsc::Sender<Outgoing>, error: &str, max_bytes: usize) {
    let lower = error.to_ascii_lowercase();
    if lower.contains("too long") || lower.contains("too big") || lower.contains("capacity") {
        let body = ErrorBody::new(
            ErrorCode::MessageTooLarge,
            format!(
                "frame exceeds the transport limit; messages must stay under {max_bytes} bytes"
            ),
        );
        let _ = tx.send(encode(ServerMessage::Error(body), None)).await;
        let _ = tx
            .send(Outgoing::Close(
                close_code::SIZE,
                "message too large".into(),
            ))
            .await;
    } else if lower.contains("utf-8") || lower.contains("utf8") {
        let body = ErrorBody::new(
            ErrorCode::InvalidMessage,
            "text frame is not valid UTF-8, which the WebSocket protocol answers by closing (1007); reconnect and send UTF-8 JSON (binary frames with bad bytes get an error and keep the connection)",
        );
        let _ = tx.send(encode(ServerMessage::Error(body), None)).await;
        let _ = tx
            .send(Outgoing::Close(
                close_code::INVALID,
                "text frame is not valid UTF-8".into(),
            ))
            .await;
    }
    tracing::info!(error, "connection closed after a transport error");
}
