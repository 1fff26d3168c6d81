//! Opening a connection: the WebSocket upgrade with the bearer token, and the wait for the
//! server's first message, `connection_ready`. A refused upgrade (HTTP 401/429 with an
//! `ErrorBody`) becomes [`ClientError::Auth`] or [`ClientError::Server`].

use futures_util::StreamExt;
use shared_models::messages::server::ConnectionReady;
use shared_models::{Envelope, ErrorCode, ServerMessage};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::http::header::AUTHORIZATION;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// Largest frame or message accepted from the daemon.
pub const MAX_INCOMING_BYTES: usize = 1 << 30;

use crate::error::{ClientError, Result};
use crate::http::{refusal, root_cause, unreachable};
use crate::url::ServerUrl;

/// The socket type of a client connection.
pub(crate) type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Upgrade to a WebSocket at `url` presenting `token`, and read `connection_ready`.
pub(crate) async fn open(
    url: &ServerUrl,
    token: &str,
    within: Duration,
) -> Result<(Socket, ConnectionReady)> {
    url.require_plaintext()?;
    let endpoint = url.ws_url();
    let mut request = endpoint
        .as_str()
        .into_client_request()
        .map_err(|e| ClientError::Config(format!("cannot build a request for {endpoint}: {e}")))?;
    let bearer = HeaderValue::from_str(&format!("Bearer {}", token.trim())).map_err(|_| {
        ClientError::Auth {
            code: ErrorCode::InvalidToken,
            message: "the token contains characters that cannot appear in a token; \
                      log in again to get a fresh one"
                .into(),
        }
    })?;
    request.headers_mut().insert(AUTHORIZATION, bearer);

    // Replies from the daemon can be large (the results of a million-bar run carry its whole
    // equity curve), and the daemon is trusted, so accept frames up to 1 GiB.
    let config = WebSocketConfig::default()
        .max_message_size(Some(MAX_INCOMING_BYTES))
        .max_frame_size(Some(MAX_INCOMING_BYTES));
    let connecting = tokio_tungstenite::connect_async_with_config(request, Some(config), true);
    let (mut socket, _response) = tokio::time::timeout(within, connecting)
        .await
        .map_err(|_| unreachable(url, &format!("no answer within {} s", within.as_secs())))?
        .map_err(|e| upgrade_error(url, &endpoint, e))?;

    let first = tokio::time::timeout(within, first_text(&mut socket))
        .await
        .map_err(|_| {
            ClientError::Protocol(format!(
                "{endpoint} accepted the connection but sent no connection_ready within {} s; \
                 is it a SimuTrador daemon?",
                within.as_secs()
            ))
        })??;
    let envelope: Envelope<ServerMessage> = serde_json::from_str(&first).map_err(|e| {
        ClientError::Protocol(format!(
            "the first message from {endpoint} is not one this client understands ({e}); \
             are the client and daemon versions compatible?"
        ))
    })?;
    match envelope.message {
        ServerMessage::ConnectionReady(ready) => Ok((socket, ready)),
        ServerMessage::Error(body) => Err(ClientError::from_body(body)),
        other => Err(ClientError::Protocol(format!(
            "expected connection_ready as the first message, got {}",
            other.type_name()
        ))),
    }
}

/// The first text frame, skipping control frames.
async fn first_text(socket: &mut Socket) -> Result<String> {
    while let Some(frame) = socket.next().await {
        match frame {
            Ok(Message::Text(text)) => return Ok(text.as_str().to_owned()),
            Ok(Message::Close(frame)) => {
                let (code, why) = frame
                    .map(|f| (u16::from(f.code), f.reason.to_string()))
                    .unwrap_or_default();
                // Some daemons refuse credentials after the upgrade, with close codes
                // 4001 missing / 4002 invalid / 4003 expired.
                let auth = match code {
                    4001 => Some(ErrorCode::AuthRequired),
                    4002 => Some(ErrorCode::InvalidToken),
                    4003 => Some(ErrorCode::TokenExpired),
                    _ => None,
                };
                return Err(match auth {
                    Some(code) => ClientError::Auth { code, message: why },
                    None => ClientError::Connection(format!(
                        "the daemon closed the connection right after accepting it ({why})"
                    )),
                });
            }
            Ok(_) => continue,
            Err(e) => {
                return Err(ClientError::Connection(format!(
                    "the connection broke before connection_ready: {e}"
                )));
            }
        }
    }
    Err(ClientError::Connection(
        "the daemon closed the connection right after accepting it".into(),
    ))
}

fn upgrade_error(url: &ServerUrl, endpoint: &str, err: tungstenite::Error) -> ClientError {
    match err {
        tungstenite::Error::Http(response) => {
            let status = response.status().as_u16();
            let body = response.body().as_deref().unwrap_or_default();
            refusal(url, endpoint, status, body)
        }
        other => unreachable(url, &root_cause(&other)),
    }
}
