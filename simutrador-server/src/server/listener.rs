//! The daemon's accept loop: axum's router served by hyper's HTTP/1 connection, with the
//! limits `axum::serve` cannot set (`[connections]` in `docs/configuration.md`):
//!
//! - a cap on open connections, in all and per IP ([`super::conn_limits`]); over it a new
//!   socket is answered `503` with `Retry-After: 1` (best effort, without waiting) and closed;
//! - a header-read timeout: a socket that does not send a whole request head in time (from
//!   its start, or after its previous request) is closed — half-open sockets are reaped;
//! - an unauthenticated timeout: a connection that has not become an authenticated WebSocket
//!   by then (tokens are checked in the upgrade request, [`super::ws`]) is shut down once its
//!   current request is answered.
//!
//! Every refusal and every timeout close is counted in `simutrador_connections_refused_total`
//! (by reason, [`ConnectionRefusal`]).
//!
//! Each socket's permit lives inside its I/O, so an upgraded WebSocket keeps counting until it
//! closes. Connection tasks run on the connection tracker; at shutdown the loop stops
//! accepting and every HTTP connection ends after its request in flight.

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use shared_models::{ErrorBody, ErrorCode};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower_service::Service;

use super::conn_limits::{ConnectionLimits, ConnectionPermit, Refused};
use super::metrics::{ConnectionRefusal, Metrics};
use crate::config::ConnectionsSection;

/// The timeouts of one connection's HTTP phase.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// `[connections] header_read_timeout_seconds`.
    pub header_read: Duration,
    /// `[connections] unauthenticated_timeout_seconds`.
    pub unauthenticated: Duration,
}

impl Timeouts {
    /// From the configuration.
    pub fn from_config(c: &ConnectionsSection) -> Self {
        Timeouts {
            header_read: Duration::from_secs(c.header_read_timeout_seconds),
            unauthenticated: Duration::from_secs(c.unauthenticated_timeout_seconds),
        }
    }
}

/// Accept connections on `listener` and serve `app` on each, until `shutdown`.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Arc<ConnectionLimits>,
    timeouts: Timeouts,
    metrics: Arc<Metrics>,
    shutdown: CancellationToken,
    tasks: TaskTracker,
) -> io::Result<()> {
    loop {
        let accepted = tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            accepted = listener.accept() => accepted,
        };
        let (tcp, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                accept_failed(e).await;
                continue;
            }
        };
        let permit = match limits.try_acquire(peer.ip()) {
            Ok(permit) => permit,
            Err(why) => {
                metrics.connection_refused(match why {
                    Refused::Global => ConnectionRefusal::MaxConnections,
                    Refused::PerIp => ConnectionRefusal::MaxConnectionsPerIp,
                });
                refuse(&tcp, why);
                continue;
            }
        };
        // Small frames (acks, settlements) must not wait for Nagle's algorithm.
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::warn!("cannot set TCP_NODELAY: {e}");
        }
        let counted = Counted {
            io: tcp,
            _permit: permit,
        };
        let connection = serve_connection(
            counted,
            peer,
            app.clone(),
            timeouts,
            metrics.clone(),
            shutdown.clone(),
        );
        tasks.spawn(connection);
    }
}

/// Errors of one incoming connection are skipped; others (out of file descriptors) pause the
/// loop a moment, as `axum::serve` does.
async fn accept_failed(e: io::Error) {
    use io::ErrorKind::*;
    if matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    ) {
        return;
    }
    tracing::warn!("accept failed: {e}; retrying in 1 s");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// Answer 503 with `Retry-After` if the socket takes it at once, then close.
fn refuse(tcp: &TcpStream, why: Refused) {
    let body = ErrorBody::new(ErrorCode::RateLimited, why.message())
        .with_details(serde_json::json!({ "retry_after_ms": 1000 }));
    let body = serde_json::to_string(&body).unwrap_or_default();
    let response = format!(
        "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = tcp.try_write(response.as_bytes());
}

async fn serve_connection(
    io: Counted,
    peer: SocketAddr,
    app: Router,
    timeouts: Timeouts,
    metrics: Arc<Metrics>,
    shutdown: CancellationToken,
) {
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        app.clone().call(request)
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(timeouts.header_read);
    let connection = builder
        .serve_connection(TokioIo::new(io), service)
        .with_upgrades();
    tokio::pin!(connection);
    let why = tokio::select! {
        result = connection.as_mut() => {
            if let Err(e) = result {
                if e.is_timeout() {
                    metrics.connection_refused(ConnectionRefusal::HeaderReadTimeout);
                }
                tracing::debug!(%peer, "HTTP connection ended: {e}");
            }
            return;
        }
        _ = tokio::time::sleep(timeouts.unauthenticated) => {
            metrics.connection_refused(ConnectionRefusal::UnauthenticatedTimeout);
            "not authenticated in time"
        }
        _ = shutdown.cancelled() => "shutting down",
    };
    tracing::debug!(%peer, "closing an HTTP connection: {why}");
    connection.as_mut().graceful_shutdown();
    // The request in flight (if any) gets one more header-read timeout to finish.
    let _ = tokio::time::timeout(timeouts.header_read, connection).await;
}

/// A socket with its place under the connection caps.
struct Counted {
    io: TcpStream,
    _permit: ConnectionPermit,
}

impl AsyncRead for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}
