//! The connection layer against a real in-test WebSocket server on `127.0.0.1:0`: handshake
//! and refusal, many requests in flight with out-of-order replies, error replies, pushes,
//! connection drops and timeouts.

use futures_util::{SinkExt, StreamExt};
use rust_decimal_macros::dec;
use serde_json::{Value, json};
use shared_models::messages::server::{ConnectionReady, ServerLimits};
use shared_models::{ErrorCode, Plan, ServerMessage};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};

use super::{Client, ConnectOptions};
use crate::error::ClientError;
use crate::url::ServerUrl;

pub(crate) fn ready() -> ConnectionReady {
    ConnectionReady {
        user_id: "alice".into(),
        plan: Plan::Pro,
        server_time: chrono::DateTime::UNIX_EPOCH,
        server_version: "0.1.0".into(),
        protocol_version: shared_models::PROTOCOL_VERSION,
        limits: ServerLimits {
            max_sessions_per_user: 5,
            max_symbols_per_session: 50,
            min_initial_capital: dec!(1000),
            max_initial_capital: dec!(10000000),
            session_timeout_minutes: 60,
            max_message_bytes: 4096,
            messages_per_second: 100,
            session_creates_per_minute: 10,
        },
    }
}

fn frame(kind: &str, request_id: Option<&str>, data: Value) -> Message {
    let mut v = json!({"type": kind, "data": data});
    if let Some(id) = request_id {
        v["request_id"] = json!(id);
    }
    Message::text(v.to_string())
}

/// How the mock server treats the requests it receives.
#[derive(Clone, Copy)]
enum Script {
    /// Collect this many requests, then answer them in reverse order.
    ReverseBatch(usize),
    /// Read one request, then drop the connection.
    DropAfterFirst,
    /// Read requests and never answer.
    Silent,
    /// On the first request, push `connection_closing` and close.
    ShutDown,
    /// Accept the upgrade, then close with code 4003 (token expired) instead of greeting.
    CloseExpired,
}

/// Start a mock daemon that accepts one connection, checks the bearer token, sends
/// `connection_ready` and follows `script`. Requests are answered per type: `ping` → `pong`,
/// `get_session` → `session` echoing the id (or `error` SESSION_NOT_FOUND for id "missing"),
/// `delete_session` → a wrong reply type, anything else → `error` INTERNAL.
async fn mock(script: Script) -> ServerUrl {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = ServerUrl::parse(&listener.local_addr().unwrap().to_string()).unwrap();
    tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        #[allow(clippy::result_large_err)] // the signature tungstenite asks for
        let check = |req: &Request, resp: Response| -> Result<Response, ErrorResponse> {
            let auth = req
                .headers()
                .get("authorization")
                .and_then(|v| v.to_str().ok());
            if auth == Some("Bearer good") && req.uri().path() == "/ws" {
                Ok(resp)
            } else {
                let body =
                    r#"{"error_code":"INVALID_TOKEN","message":"bad signature","details":null}"#;
                let mut refused = ErrorResponse::new(Some(body.to_string()));
                *refused.status_mut() =
                    tokio_tungstenite::tungstenite::http::StatusCode::UNAUTHORIZED;
                Err(refused)
            }
        };
        let Ok(mut ws) = tokio_tungstenite::accept_hdr_async(tcp, check).await else {
            return;
        };
        if let Script::CloseExpired = script {
            use tokio_tungstenite::tungstenite::protocol::CloseFrame;
            let frame = CloseFrame {
                code: 4003.into(),
                reason: "token expired".into(),
            };
            let _ = ws.close(Some(frame)).await;
            return;
        }
        let ready = serde_json::to_value(ready()).unwrap();
        ws.send(frame("connection_ready", None, ready))
            .await
            .unwrap();
        let mut batch = Vec::new();
        while let Some(Ok(msg)) = ws.next().await {
            let Message::Text(text) = msg else { continue };
            let req: Value = serde_json::from_str(text.as_str()).unwrap();
            match script {
                Script::DropAfterFirst => return,
                Script::Silent | Script::CloseExpired => continue,
                Script::ShutDown => {
                    let notice = json!({"reason": "server_shutdown", "message": "the daemon is stopping; reconnect later"});
                    ws.send(frame("connection_closing", None, notice))
                        .await
                        .unwrap();
                    let _ = ws.close(None).await;
                    return;
                }
                Script::ReverseBatch(n) => {
                    batch.push(req);
                    if batch.len() < n {
                        continue;
                    }
                    for req in batch.drain(..).rev() {
                        ws.send(answer(&req)).await.unwrap();
                    }
                }
            }
        }
    });
    url
}

fn answer(req: &Value) -> Message {
    let id = req["request_id"].as_str();
    match req["type"].as_str() {
        Some("ping") => frame("pong", id, json!({"server_time": "2024-01-01T00:00:00Z"})),
        Some("get_session") if req["data"]["session_id"] == "missing" => frame(
            "error",
            id,
            json!({"error_code": "SESSION_NOT_FOUND", "message": "no such session", "details": {"session_id": "missing"}}),
        ),
        Some("get_session") => frame("session", id, session_json(&req["data"]["session_id"])),
        Some("delete_session") => frame("pong", id, json!({"server_time": "2024-01-01T00:00:00Z"})),
        _ => frame(
            "error",
            id,
            json!({"error_code": "INTERNAL", "message": "?", "details": null}),
        ),
    }
}

fn session_json(id: &Value) -> Value {
    json!({
        "session_id": id, "user_id": "alice", "state": "created",
        "symbols": ["ACME"], "start_date": "2020-01-02", "end_date": "2020-12-31",
        "timeframe": "1d", "initial_capital": "100000", "commission_rate": "0",
        "commission_per_share": "0", "commission_min": "0", "slippage_bps": "0",
        "allow_short": true, "bar_count": 252,
        "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z"
    })
}

async fn connect(url: &ServerUrl, timeout_ms: u64) -> Client {
    let options = ConnectOptions::default().request_timeout(Duration::from_millis(timeout_ms));
    Client::connect_with_options(url, "good", options)
        .await
        .unwrap()
}

#[tokio::test]
async fn connection_ready_is_kept() {
    let url = mock(Script::ReverseBatch(1)).await;
    let client = connect(&url, 5_000).await;
    assert_eq!(client.connection_info().user_id, "alice");
    assert_eq!(client.connection_info().limits.max_message_bytes, 4096);
    assert!(client.ping().await.is_ok());
}

#[tokio::test]
async fn a_refused_handshake_is_an_auth_error() {
    let url = mock(Script::ReverseBatch(1)).await;
    let err = Client::connect(&url.to_string(), "forged")
        .await
        .unwrap_err();
    assert_eq!(
        err,
        ClientError::Auth {
            code: ErrorCode::InvalidToken,
            message: "bad signature".into()
        }
    );
}

#[tokio::test]
async fn auth_close_codes_after_the_upgrade_are_auth_errors() {
    let url = mock(Script::CloseExpired).await;
    let err = Client::connect(&url.to_string(), "good").await.unwrap_err();
    assert_eq!(err.error_code(), Some(ErrorCode::TokenExpired), "{err}");
}

#[tokio::test]
async fn concurrent_requests_are_matched_by_request_id_in_any_order() {
    const N: usize = 20;
    let url = mock(Script::ReverseBatch(N)).await;
    let client = connect(&url, 10_000).await;
    let tasks: Vec<_> = (0..N)
        .map(|i| {
            let client = client.clone();
            tokio::spawn(async move { (i, client.get_session(&format!("s{i}")).await) })
        })
        .collect();
    for task in tasks {
        let (i, reply) = task.await.unwrap();
        assert_eq!(reply.unwrap().session_id, format!("s{i}"));
    }
}

#[tokio::test]
async fn error_replies_and_wrong_reply_types_are_typed() {
    let url = mock(Script::ReverseBatch(1)).await;
    let client = connect(&url, 5_000).await;
    let err = client.get_session("missing").await.unwrap_err();
    assert_eq!(err.error_code(), Some(ErrorCode::SessionNotFound));
    assert_eq!(err.details()["session_id"], "missing");
    let err = client.delete_session("x").await.unwrap_err();
    assert!(
        matches!(err, ClientError::Protocol(ref m) if m.contains("session_deleted")),
        "{err}"
    );
}

#[tokio::test]
async fn oversize_requests_are_refused_before_sending() {
    let url = mock(Script::ReverseBatch(1)).await;
    let client = connect(&url, 5_000).await;
    let err = client.get_session(&"x".repeat(5_000)).await.unwrap_err();
    assert_eq!(err.error_code(), Some(ErrorCode::MessageTooLarge));
    assert!(
        client.ping().await.is_ok(),
        "the connection is still usable"
    );
}

#[tokio::test]
async fn a_dropped_connection_fails_every_pending_request() {
    let url = mock(Script::DropAfterFirst).await;
    let client = connect(&url, 30_000).await;
    let (a, b) = tokio::join!(client.ping(), client.get_session("s"));
    for err in [a.unwrap_err(), b.unwrap_err()] {
        assert!(matches!(err, ClientError::Connection(_)), "{err}");
    }
    assert!(matches!(client.closed().await, ClientError::Connection(_)));
    assert!(client.is_closed());
    assert!(matches!(
        client.ping().await,
        Err(ClientError::Connection(_))
    ));
}

#[tokio::test]
async fn a_silent_server_times_out_and_the_request_is_forgotten() {
    let url = mock(Script::Silent).await;
    let client = connect(&url, 150).await;
    let err = client.ping().await.unwrap_err();
    assert!(
        matches!(
            err,
            ClientError::Timeout {
                request: "ping",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.is_transient());
    assert_eq!(client.inner.shared.pending.len(), 0);
}

#[tokio::test]
async fn close_fails_pending_requests_for_every_clone() {
    let url = mock(Script::Silent).await;
    let client = connect(&url, 30_000).await;
    let other = client.clone();
    let waiting = tokio::spawn(async move { other.ping().await });
    while client.inner.shared.pending.len() == 0 {
        tokio::task::yield_now().await;
    }
    client.close().await;
    assert!(matches!(
        waiting.await.unwrap(),
        Err(ClientError::Connection(_))
    ));
}

#[tokio::test]
async fn pushes_reach_subscribers_and_explain_the_close() {
    let url = mock(Script::ShutDown).await;
    let client = connect(&url, 30_000).await;
    let mut pushes = client.subscribe();
    let err = client.ping().await.unwrap_err();
    assert!(
        matches!(err, ClientError::Connection(ref m) if m.contains("server_shutdown")),
        "{err}"
    );
    match pushes.recv().await.unwrap() {
        ServerMessage::ConnectionClosing(c) => assert_eq!(c.reason, "server_shutdown"),
        other => panic!("unexpected push {other:?}"),
    }
}
