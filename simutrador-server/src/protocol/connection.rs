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
//! The connection task (tracked by the server) spawns its writer ([`super::writer`]) on the
//! same tracker, so a graceful shutdown waits for both. The outgoing queue is bounded by frames
//! and by bytes (`[connections] outbound_queue_frames` / `outbound_queue_bytes`). While it is
//! full the loop reads no new request (back-pressure); when it stays full and undrained for
//! `slow_consumer_timeout_seconds` the connection is closed with close code
//! [`CLOSE_SLOW_CONSUMER`] (4008).
//!
//! When the connection's access ends ([`AccessLease`]: its API key revoked, its token
//! expired) it says `connection_closing` and closes with code 4001 or 4003; like any other
//! disconnect, that pauses the runs streaming to it.

use axum::extract::ws::{Message, WebSocket, close_code};
use futures_util::StreamExt;
use shared_models::messages::server::{ConnectionClosing, ConnectionReady};
use shared_models::{ErrorBody, ErrorCode, Plan, ServerMessage, decode_client_message};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

use super::cmd;
use super::rate_limit::{ConnectionLimiter, ConnectionSlot};
use super::state::{ConnectionCount, DaemonState, RequestEvent};
pub use super::writer::CLOSE_SLOW_CONSUMER;
use super::writer::{Writer, stalled};
use crate::auth::{AccessEnd, AccessLease};
pub use crate::session::outbound::{OutboundRx, OutboundTx, Outgoing, encode};

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
    pub outbound: OutboundTx,
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
    ) -> (Self, OutboundRx) {
        let limits = &state.config.connections;
        let frames = usize::try_from(limits.outbound_queue_frames).unwrap_or(usize::MAX);
        let bytes = u32::try_from(limits.outbound_queue_bytes).unwrap_or(u32::MAX);
        let (outbound, rx) = crate::session::outbound::channel(frames, bytes);
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

/// Serve `socket` until the client leaves or the daemon shuts down; the writer task is
/// spawned on `tasks` (the tracker of the connection tasks).
pub async fn serve(socket: WebSocket, ctx: ConnectionContext, rx: OutboundRx, tasks: TaskTracker) {
    let span = tracing::info_span!("connection", conn = ctx.count.id, user_id = %ctx.user_id);
    run(socket, ctx, rx, tasks).instrument(span).await
}

async fn run(socket: WebSocket, ctx: ConnectionContext, rx: OutboundRx, tasks: TaskTracker) {
    let (sink, mut stream) = socket.split();
    let tx = ctx.outbound.clone();
    let writer = Writer::spawn(sink, rx, &tasks);
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
    let slow_after =
        Duration::from_secs(ctx.state.config.connections.slow_consumer_timeout_seconds);
    let stall = stalled(&tx, slow_after);
    tokio::pin!(stall);
    let mut ctx = ctx;
    let lease = ctx.access.take();
    let mut access_ended = Box::pin(access_ended(lease.as_ref()));
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
                send_within(&tx, encode(closing, None)).await;
                send_within(&tx, Outgoing::Close(close_code::AWAY, "server shutdown".into())).await;
                break;
            }
            _ = &mut stall => {
                slow_consumer(&ctx, slow_after, &writer);
                break;
            }
            // Back-pressure: no new request while the outbound queue is full.
            frame = async { tx.room().await; stream.next().await } => frame,
        };
        let reply = match frame {
            None | Some(Ok(Message::Close(_))) => break,
            Some(Ok(Message::Text(t))) => handle_text(&ctx, &t, max_bytes),
            Some(Ok(Message::Binary(b))) => match std::str::from_utf8(&b) {
                Ok(t) => handle_text(&ctx, t, max_bytes),
                Err(_) => {
                    let body = ErrorBody::new(
                        ErrorCode::InvalidMessage,
                        "binary frame is not UTF-8 JSON; send JSON text frames",
                    );
                    Some(encode(ServerMessage::Error(body), None))
                }
            },
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            Some(Err(e)) => {
                close_on_transport_error(&tx, &e.to_string(), max_bytes).await;
                break;
            }
        };
        if let Some(reply) = reply {
            tokio::select! {
                sent = tx.send(reply) => if sent.is_err() { break },
                _ = &mut stall => {
                    slow_consumer(&ctx, slow_after, &writer);
                    break;
                }
            }
        }
    }
    // The connection is over for the daemon (counts, registrations) while the writer delivers
    // its last frames.
    drop(access_ended);
    drop(lease);
    drop(ctx);
    writer.finish().await;
    tracing::info!("disconnected");
}

/// Queue a last frame, giving up after a second when the queue stays full.
async fn send_within(tx: &OutboundTx, frame: Outgoing) {
    let _ = tokio::time::timeout(Duration::from_secs(1), tx.send(frame)).await;
}

/// The client left the queue full for `after`: log it (no tokens), count it and have the
/// writer close.
fn slow_consumer(ctx: &ConnectionContext, after: Duration, writer: &Writer) {
    let tx = &ctx.outbound;
    tracing::warn!(
        queued_bytes = tx.queued_bytes(),
        queued_frames = tx.queued_frames(),
        timeout_s = after.as_secs(),
        "slow consumer: the outbound queue stayed full without the client reading; closing with 4008"
    );
    ctx.state.observer.observe(RequestEvent::SlowConsumerClosed);
    writer.slow_consumer();
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
async fn close_for(tx: &OutboundTx, end: AccessEnd) {
    tracing::info!(
        reason = end.reason(),
        "access ended; closing the connection"
    );
    let closing = ServerMessage::ConnectionClosing(ConnectionClosing {
        reason: end.reason().into(),
        message: end.message().into(),
    });
    send_within(tx, encode(closing, None)).await;
    send_within(
        tx,
        Outgoing::Close(end.close_code(), end.close_text().into()),
    )
    .await;
}

async fn close_on_transport_error(tx: &OutboundTx, error: &str, max_bytes: usize) {
    let lower = error.to_ascii_lowercase();
    if lower.contains("too long") || lower.contains("too big") || lower.contains("capacity") {
        let body = ErrorBody::new(
            ErrorCode::MessageTooLarge,
            format!(
                "frame exceeds the transport limit; messages must stay under {max_bytes} bytes"
            ),
        );
        send_within(tx, encode(ServerMessage::Error(body), None)).await;
        send_within(
            tx,
            Outgoing::Close(close_code::SIZE, "message too large".into()),
        )
        .await;
    } else if lower.contains("utf-8") || lower.contains("utf8") {
        let body = ErrorBody::new(
            ErrorCode::InvalidMessage,
            "text frame is not valid UTF-8, which the WebSocket protocol answers by closing (1007); reconnect and send UTF-8 JSON (binary frames with bad bytes get an error and keep the connection)",
        );
        send_within(tx, encode(ServerMessage::Error(body), None)).await;
        let reason = "text frame is not valid UTF-8".into();
        send_within(tx, Outgoing::Close(close_code::INVALID, reason)).await;
    }
    tracing::info!(error, "connection closed after a transport error");
}
