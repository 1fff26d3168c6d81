//! [`Client`]: one authenticated WebSocket connection to the daemon, shared by any number of
//! tasks.
//!
//! Behind each connection run two tasks: a writer that owns the sending half of the socket,
//! and a reader that matches each reply to its request by `request_id` (through a table of
//! oneshot channels), hands the pushes of a running simulation to that session's
//! [`SessionStream`], and broadcasts every other unsolicited message (`connection_closing`) to
//! [`Client::subscribe`]rs. Many requests can be in flight at once; replies may come back in
//! any order. When the connection drops, every waiting request fails at once with
//! [`ClientError::Connection`].

mod handshake;
mod io;
mod pending;
mod stream;
#[cfg(test)]
mod tests;
mod tick_parse;

use serde_json::json;
use shared_models::messages::server::ConnectionReady;
use shared_models::{ClientMessage, Envelope, ErrorCode, ServerMessage};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};
use tokio::task::AbortHandle;
use tokio_tungstenite::tungstenite::Message;

use crate::error::{ClientError, Result};
use crate::http;
use crate::url::ServerUrl;
use io::Shared;
pub use stream::SessionStream;
#[cfg(test)]
pub(crate) use tests::ready as test_ready;

/// Default time to wait for each reply.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Default time to wait for the WebSocket upgrade and `connection_ready`.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How a [`Client`] connects and waits.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// Time to wait for each reply before [`ClientError::Timeout`]; default 30 s.
    pub request_timeout: Duration,
    /// Time to wait for the upgrade and `connection_ready`; default 10 s.
    pub connect_timeout: Duration,
    /// Unsolicited messages buffered per subscriber before it lags; default 1024.
    pub push_capacity: usize,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            push_capacity: 1024,
        }
    }
}

impl ConnectOptions {
    /// Set the per-request timeout.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Set the connect timeout.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }
}

/// A connection to the daemon. Cheap to clone; every clone uses the same connection, and the
/// connection closes when the last clone is dropped (or on [`Client::close`]).
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    url: ServerUrl,
    /// The token and options the connection was made with, for [`Client::reconnect`]
    /// (never printed).
    token: String,
    options: ConnectOptions,
    /// The API key, when the client logged in with one: a reconnect whose token has expired
    /// logs in again (never printed).
    api_key: Option<String>,
    ready: ConnectionReady,
    outgoing: mpsc::Sender<Message>,
    shared: Arc<Shared>,
    next_id: AtomicU64,
    request_timeout: Duration,
    reader: AbortHandle,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // The writer ends by itself when `outgoing` is dropped (sending a Close frame); the
        // reader would wait for the server, so stop it.
        self.reader.abort();
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("url", &self.inner.url.to_string())
            .field("user_id", &self.inner.ready.user_id)
            .field("in_flight", &self.inner.shared.pending.len())
            .finish()
    }
}

impl Client {
    /// Connect to the daemon at `url` (any form [`ServerUrl::parse`] accepts) with a token from
    /// [`crate::login`].
    pub async fn connect(url: &str, token: &str) -> Result<Client> {
        Client::connect_with_options(&ServerUrl::parse(url)?, token, ConnectOptions::default())
            .await
    }

    /// Exchange `api_key` for a token at `POST /auth/token`, then connect with it.
    pub async fn connect_with_api_key(url: &str, api_key: &str) -> Result<Client> {
        let url = ServerUrl::parse(url)?;
        let token = http::login(&url, api_key).await?;
        let client =
            Client::connect_with_options(&url, &token.access_token, ConnectOptions::default())
                .await?;
        Ok(client.keeping_api_key(api_key))
    }

    /// This client, remembering `api_key` so that [`Client::reconnect`] — and so a run's
    /// reconnection — logs in again when the token is refused: the daemon closes a
    /// connection when its token expires (close code 4003). Call it on a fresh client (one
    /// nothing else shares yet); on a shared one it changes nothing.
    pub fn with_api_key(self, api_key: &str) -> Client {
        self.keeping_api_key(api_key)
    }

    /// This client, remembering `api_key` so [`Client::reconnect`] can log in again.
    fn keeping_api_key(self, api_key: &str) -> Client {
        match Arc::try_unwrap(self.inner) {
            Ok(mut inner) => {
                inner.api_key = Some(api_key.to_string());
                Client {
                    inner: Arc::new(inner),
                }
            }
            Err(inner) => Client { inner },
        }
    }

    /// Connect with explicit options.
    pub async fn connect_with_options(
        url: &ServerUrl,
        token: &str,
        options: ConnectOptions,
    ) -> Result<Client> {
        let (socket, ready) = handshake::open(url, token, options.connect_timeout).await?;
        let token = token.to_string();
        let (sink, stream) = futures_util::StreamExt::split(socket);
        let shared = Arc::new(Shared::new(options.push_capacity));
        let (outgoing, queue) = mpsc::channel(256);
        tokio::spawn(io::write_loop(sink, queue, shared.clone()));
        let reader = tokio::spawn(io::read_loop(stream, shared.clone())).abort_handle();
        tracing::debug!(url = %url, user_id = %ready.user_id, "connected");
        Ok(Client {
            inner: Arc::new(Inner {
                url: url.clone(),
                token,
                options: options.clone(),
                api_key: None,
                ready,
                outgoing,
                shared,
                next_id: AtomicU64::new(1),
                request_timeout: options.request_timeout,
                reader,
            }),
        })
    }

    /// A new connection to the same daemon with the same token and options (this one is
    /// left as it is). The daemon keeps its signing secret across restarts, so a restarted
    /// daemon accepts the token; if it has expired and the client logged in with an API key
    /// ([`Client::connect_with_api_key`]), it logs in again.
    pub async fn reconnect(&self) -> Result<Client> {
        let inner = &self.inner;
        let first =
            Client::connect_with_options(&inner.url, &inner.token, inner.options.clone()).await;
        let Some(key) = &inner.api_key else {
            return first;
        };
        match first {
            // The token expired meanwhile: log in again with the key.
            Err(ClientError::Auth { .. }) => {
                let token = http::login(&inner.url, key).await?;
                let client = Client::connect_with_options(
                    &inner.url,
                    &token.access_token,
                    inner.options.clone(),
                )
                .await?;
                Ok(client.keeping_api_key(key))
            }
            Ok(client) => Ok(client.keeping_api_key(key)),
            Err(e) => Err(e),
        }
    }

    /// What the server said on connect: user, plan, server version and limits.
    pub fn connection_info(&self) -> &ConnectionReady {
        &self.inner.ready
    }

    /// The daemon this client talks to.
    pub fn url(&self) -> &ServerUrl {
        &self.inner.url
    }

    /// Receive every unsolicited message (those without a `request_id`) from now on. A slow
    /// receiver that falls more than `push_capacity` messages behind gets
    /// `RecvError::Lagged`.
    pub fn subscribe(&self) -> broadcast::Receiver<ServerMessage> {
        self.inner.shared.pushes.subscribe()
    }

    /// True once the connection is gone; requests then fail at once.
    pub fn is_closed(&self) -> bool {
        *self.inner.shared.closed.borrow()
    }

    /// Wait until the connection is gone, and say why.
    pub async fn closed(&self) -> ClientError {
        let mut watch = self.inner.shared.closed.subscribe();
        let _ = watch.wait_for(|closed| *closed).await;
        self.inner
            .shared
            .pending
            .closed()
            .unwrap_or_else(|| ClientError::Connection("the connection is closed".into()))
    }

    /// Close the connection for every clone: requests still waiting fail with
    /// [`ClientError::Connection`]. Waits briefly for the server to acknowledge.
    pub async fn close(&self) {
        self.inner.shared.pending.close(ClientError::Connection(
            "the connection was closed by this client".into(),
        ));
        if self.inner.outgoing.send(Message::Close(None)).await.is_ok() {
            let _ = tokio::time::timeout(Duration::from_secs(2), self.closed()).await;
        }
        self.inner.reader.abort();
        self.inner.shared.closed.send_replace(true);
    }

    /// Send any request and wait for its reply, with the default timeout. `error` replies
    /// become [`ClientError::Server`]; the typed methods (`create_session`, …) are built on
    /// this.
    pub async fn request(&self, message: ClientMessage) -> Result<ServerMessage> {
        self.request_with_timeout(message, self.inner.request_timeout)
            .await
    }

    /// [`Client::request`] with an explicit timeout.
    pub async fn request_with_timeout(
        &self,
        message: ClientMessage,
        timeout: Duration,
    ) -> Result<ServerMessage> {
        let kind = message.type_name();
        let id = format!("r{}", self.inner.next_id.fetch_add(1, Ordering::Relaxed));
        let text = serde_json::to_string(&Envelope::new(message, Some(id.clone())))
            .map_err(|e| ClientError::Protocol(format!("cannot encode '{kind}': {e}")))?;
        self.check_size(kind, text.len())?;

        let reply = self.inner.shared.pending.register(id.clone())?;
        // The timeout covers queueing too: a daemon that stops reading must not hang us.
        let exchange = async {
            if self.inner.outgoing.send(Message::text(text)).await.is_err() {
                return Err(self.inner.shared.pending.closed().unwrap_or_else(|| {
                    ClientError::Connection("the connection to the daemon is closed".into())
                }));
            }
            match reply.await {
                Ok(Ok(ServerMessage::Error(body))) => Err(ClientError::from_body(body)),
                Ok(result) => result,
                Err(_) => Err(ClientError::Connection(
                    "the connection to the daemon closed before the reply".into(),
                )),
            }
        };
        match tokio::time::timeout(timeout, exchange).await {
            Ok(result) => {
                if result.is_err() {
                    self.inner.shared.pending.forget(&id);
                }
                result
            }
            Err(_) => {
                self.inner.shared.pending.forget(&id);
                Err(ClientError::Timeout {
                    request: kind,
                    after: timeout,
                })
            }
        }
    }

    /// Send a message that has no reply (`tick_ack`), without a `request_id`. Waits only
    /// for room in the send queue.
    pub async fn send(&self, message: ClientMessage) -> Result<()> {
        let kind = message.type_name();
        // Acks with orders are most of a run's frames: written by hand (`wire_text`, equal to
        // serde's text); anything else through serde.
        let text = match shared_models::wire_text::encode_client(&message, None) {
            Some(text) => text,
            None => serde_json::to_string(&Envelope::new(message, None))
                .map_err(|e| ClientError::Protocol(format!("cannot encode '{kind}': {e}")))?,
        };
        self.check_size(kind, text.len())?;
        if self.inner.outgoing.send(Message::text(text)).await.is_err() {
            return Err(self.inner.shared.pending.closed().unwrap_or_else(|| {
                ClientError::Connection("the connection to the daemon is closed".into())
            }));
        }
        Ok(())
    }

    /// The per-request timeout this client was connected with.
    pub fn request_timeout(&self) -> Duration {
        self.inner.request_timeout
    }

    /// Refuse locally what the server would refuse with `MESSAGE_TOO_LARGE` (and maybe a
    /// closed connection).
    fn check_size(&self, kind: &str, bytes: usize) -> Result<()> {
        let max = self.inner.ready.limits.max_message_bytes;
        if max > 0 && bytes as u64 > max {
            return Err(ClientError::Server {
                code: ErrorCode::MessageTooLarge,
                message: format!(
                    "the '{kind}' request is {bytes} bytes; the daemon accepts at most {max} \
                     (limits.max_message_bytes) — send less data, e.g. smaller metadata"
                ),
                details: json!({ "size": bytes, "max_message_bytes": max }),
            });
        }
        Ok(())
    }
}
