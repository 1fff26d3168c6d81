//! The daemon's plain-HTTP endpoints: `POST /auth/token` (exchange an API key for a JWT,
//! [`login`]), `GET /healthz` ([`health`]) and `GET /auth/local-key` ([`local_key_path`],
//! where a daemon on loopback keeps the `local` user's key). No TLS in this build: `https` URLs are refused
//! with a clear [`ClientError::Config`].

use shared_models::ErrorBody;
use std::time::Duration;

use crate::error::{ClientError, Result};
use crate::url::ServerUrl;

/// How long an HTTP call may take before it is reported as a connection failure.
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

/// The answer to `POST /auth/token` (the wire type; its `Debug` redacts the token).
pub use shared_models::http::TokenResponse;

/// The answer to `GET /healthz`.
pub use shared_models::http::HealthResponse as Health;

/// Exchange an API key for a token at `POST /auth/token`.
///
/// A refused key is [`ClientError::Auth`] (`INVALID_API_KEY`); an unreachable daemon is
/// [`ClientError::Connection`].
pub async fn login(url: &ServerUrl, api_key: &str) -> Result<TokenResponse> {
    url.require_plaintext()?;
    let endpoint = url.endpoint("/auth/token");
    let response = http_client()?
        .post(&endpoint)
        .header("X-API-Key", api_key.trim())
        .send()
        .await
        .map_err(|e| unreachable(url, &root_cause(&e)))?;
    decode(url, &endpoint, response).await
}

/// Where the daemon at `url` keeps the API key it created for user `local`
/// (`GET /auth/local-key`, answered to loopback callers only). `None` when the daemon has no
/// such key, does not answer this endpoint, or cannot be reached; the path alone is no secret
/// (the file is owner-only).
pub async fn local_key_path(url: &ServerUrl) -> Option<std::path::PathBuf> {
    url.require_plaintext().ok()?;
    let response = http_client()
        .ok()?
        .get(url.endpoint("/auth/local-key"))
        .send()
        .await
        .ok()?;
    if !response.status().is_success() {
        return None;
    }
    let body: shared_models::http::LocalKeyResponse = response.json().await.ok()?;
    Some(std::path::PathBuf::from(body.path))
}

/// Ask the daemon whether it is alive at `GET /healthz` (no credentials needed).
pub async fn health(url: &ServerUrl) -> Result<Health> {
    url.require_plaintext()?;
    let endpoint = url.endpoint("/healthz");
    let response = http_client()?
        .get(&endpoint)
        .send()
        .await
        .map_err(|e| unreachable(url, &root_cause(&e)))?;
    if response.status() == reqwest::StatusCode::SERVICE_UNAVAILABLE {
        // 503 with the health body: shutting down, or the session store cannot be written.
        let body = response.bytes().await.unwrap_or_default();
        if let Ok(health) = serde_json::from_slice::<Health>(&body) {
            return Err(unhealthy(url, &health));
        }
        return Err(refusal(url, &endpoint, 503, &body));
    }
    decode(url, &endpoint, response).await
}

/// The error for a daemon that answered `/healthz` with 503.
fn unhealthy(url: &ServerUrl, health: &Health) -> ClientError {
    let (code, what) = match health.store_error.as_deref() {
        Some(reason) => (
            shared_models::ErrorCode::StoreUnavailable,
            format!(
                "it cannot write its session store ({reason}); free space or fix its state directory"
            ),
        ),
        None => (
            shared_models::ErrorCode::Internal,
            "it is shutting down".to_string(),
        ),
    };
    let message = format!("the daemon at {url} is {}: {what}", health.status);
    ClientError::from_body(ErrorBody::new(code, message))
}

/// The innermost cause ("Connection refused (os error 111)"), which says more than reqwest's
/// "error sending request for url".
pub(crate) fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = err;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

fn http_client() -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(HTTP_TIMEOUT)
        .build()
        .map_err(|e| ClientError::Config(format!("cannot set up the HTTP client: {e}")))
}

async fn decode<T: serde::de::DeserializeOwned>(
    url: &ServerUrl,
    endpoint: &str,
    response: reqwest::Response,
) -> Result<T> {
    let status = response.status();
    let body = response
        .bytes()
        .await
        .map_err(|e| unreachable(url, &root_cause(&e)))?;
    if status.is_success() {
        return serde_json::from_slice(&body).map_err(|e| {
            ClientError::Protocol(format!(
                "{endpoint} answered with JSON this client does not understand ({e}); \
                 is {url} a SimuTrador daemon of a matching version?"
            ))
        });
    }
    Err(refusal(url, endpoint, status.as_u16(), &body))
}

/// Turn a non-2xx HTTP answer (login, health, or a refused WebSocket handshake) into an error.
pub(crate) fn refusal(url: &ServerUrl, endpoint: &str, status: u16, body: &[u8]) -> ClientError {
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(body) => ClientError::from_body(body),
        Err(_) => ClientError::Connection(format!(
            "{endpoint} answered HTTP {status} without a SimuTrador error body; \
             is {url} really a SimuTrador daemon?"
        )),
    }
}

/// The connection-failure message, with what to do about it.
pub(crate) fn unreachable(url: &ServerUrl, err: &dyn std::fmt::Display) -> ClientError {
    ClientError::Connection(format!(
        "cannot reach the daemon at {url} ({err}); is the daemon running? \
         start it with `simutrador-server serve`, or pass --url"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared_models::{ErrorCode, Plan};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// A one-shot HTTP server: answers the first request with `status` and `body`, and returns
    /// the raw request it received.
    async fn one_shot(
        status: &'static str,
        body: &'static str,
    ) -> (ServerUrl, tokio::task::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = ServerUrl::parse(&listener.local_addr().unwrap().to_string()).unwrap();
        let task = tokio::spawn(async move {
            let (mut sock, _) = listener.accept().await.unwrap();
            let mut buf = Vec::new();
            let mut chunk = [0u8; 1024];
            while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = sock.read(&mut chunk).await.unwrap();
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            let reply = format!(
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            sock.write_all(reply.as_bytes()).await.unwrap();
            String::from_utf8_lossy(&buf).into_owned()
        });
        (url, task)
    }

    #[tokio::test]
    async fn login_sends_the_key_and_reads_the_token() {
        let (url, server) = one_shot(
            "200 OK",
            r#"{"access_token":"jwt","token_type":"Bearer","expires_in":3600,"user_id":"local","plan":"pro"}"#,
        )
        .await;
        let token = login(&url, " key-1 \n").await.unwrap();
        assert_eq!(token.access_token, "jwt");
        assert_eq!(token.plan, Plan::Pro);
        assert!(!format!("{token:?}").contains("jwt"));
        let request = server.await.unwrap().to_ascii_lowercase();
        assert!(request.starts_with("post /auth/token "), "{request}");
        assert!(request.contains("x-api-key: key-1\r\n"), "{request}");
    }

    #[tokio::test]
    async fn a_refused_key_is_an_auth_error() {
        let (url, _server) = one_shot(
            "401 Unauthorized",
            r#"{"error_code":"INVALID_API_KEY","message":"unknown key","details":null}"#,
        )
        .await;
        let err = login(&url, "nope").await.unwrap_err();
        assert_eq!(err.error_code(), Some(ErrorCode::InvalidApiKey));
        assert!(matches!(err, ClientError::Auth { .. }));
    }

    #[tokio::test]
    async fn a_foreign_server_and_a_dead_port_are_connection_errors() {
        let (url, _server) = one_shot("404 Not Found", "nothing here").await;
        let err = health(&url).await.unwrap_err();
        assert!(
            matches!(err, ClientError::Connection(ref m) if m.contains("HTTP 404")),
            "{err}"
        );

        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = ServerUrl::parse(&listener.local_addr().unwrap().to_string()).unwrap();
        drop(listener);
        let err = health(&url).await.unwrap_err();
        assert!(err.to_string().contains("simutrador-server serve"), "{err}");
    }
}
