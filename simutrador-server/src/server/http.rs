//! The router and the plain HTTP endpoints: `GET /healthz` (503 while shutting down or while the
//! session store cannot be written), `GET /metrics`, `POST /auth/token` and
//! `GET /auth/local-key` (loopback callers only: where the `local` user's key file is).
//! Refusals answer with an [`ErrorBody`] JSON body.

use axum::Json;
use axum::Router;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use shared_models::ErrorBody;
use shared_models::http::{HealthResponse, LocalKeyResponse, TokenResponse};
use std::net::SocketAddr;
use std::sync::Arc;

use super::AppState;
use super::ws;
use crate::auth::AuthError;

/// Every route the daemon serves.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/auth/token", post(token))
        .route("/auth/local-key", get(local_key))
        .route("/ws", any(ws::upgrade))
        .route("/ws/simulate", any(ws::upgrade))
        .fallback(not_found)
        .with_state(state)
}

async fn healthz(State(state): State<Arc<AppState>>) -> Response {
    let daemon = &state.daemon;
    let shutting_down = daemon.shutdown.is_cancelled();
    // Probes the store while it is failed, so a recovery shows at once.
    let store_error = daemon.sessions.store_failure();
    let status = match (shutting_down, &store_error) {
        (true, _) => "shutting_down",
        (false, Some(_)) => "store_unavailable",
        (false, None) => "ok",
    };
    let body = HealthResponse {
        status: status.to_string(),
        version: crate::VERSION.to_string(),
        uptime_seconds: state.uptime().as_secs(),
        sessions: daemon.sessions.len() as u64,
        sessions_by_state: daemon
            .sessions
            .count_by_state()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        connections: daemon.connection_count(),
        symbols: daemon.validator.catalog().symbol_count() as u64,
        store_error,
    };
    let status = if status != "ok" {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    (status, Json(body)).into_response()
}

/// `GET /metrics`: Prometheus text format (no authentication; bind to loopback or firewall it).
async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    let by_state = state.daemon.sessions.count_by_state();
    let rows: Vec<(&str, u64)> = shared_models::SessionState::ALL
        .iter()
        .map(|s| (s.as_str(), by_state.get(s.as_str()).copied().unwrap_or(0)))
        .collect();
    let body = state.metrics.render(&rows, state.daemon.connection_count());
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        body,
    )
        .into_response()
}

/// `POST /auth/token`: exchange `X-API-Key` for a token; throttled after failed guesses
/// ([`super::token_throttle`]).
async fn token(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    let key = headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|k| !k.is_empty());
    let Some(key) = key else {
        return error_response(
            StatusCode::UNAUTHORIZED,
            ErrorBody::new(
                shared_models::ErrorCode::InvalidApiKey,
                "send your API key in the X-API-Key header; create one with `simutrador-server keys add --user NAME`",
            ),
        );
    };
    if let Some(wait) = state.token_throttle.wait(peer.ip(), key) {
        let ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX).max(1);
        tracing::info!(
            retry_after_ms = ms,
            "token request throttled after failed attempts"
        );
        return error_response(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorBody::new(
                shared_models::ErrorCode::RateLimited,
                format!("too many failed API key attempts; retry after {ms} ms"),
            )
            .with_details(serde_json::json!({ "retry_after_ms": ms })),
        );
    }
    match state.auth.exchange_api_key(key) {
        Ok((record, issued)) => {
            state.token_throttle.succeeded(peer.ip(), key);
            tracing::info!(user_id = %record.user_id, key_id = %record.key_id, "token issued");
            Json(TokenResponse {
                access_token: issued.token,
                token_type: "Bearer".to_string(),
                expires_in: issued.expires_in,
                user_id: record.user_id,
                plan: record.plan,
            })
            .into_response()
        }
        Err(e) => {
            if matches!(e, AuthError::InvalidApiKey) {
                state.token_throttle.failed(peer.ip(), key);
            }
            tracing::info!(reason = %e.code(), "token refused");
            auth_error_response(&e)
        }
    }
}

/// `GET /auth/local-key`: the absolute path of `<state-dir>/local.key`, so that the client's
/// loopback auto-login finds it whatever `--state-dir` the daemon was started with. Only to
/// loopback callers (others get the plain 404), and only the path: the file is owner-only.
async fn local_key(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Response {
    if !peer.ip().is_loopback() {
        return not_found().await;
    }
    let file = state
        .daemon
        .config
        .server
        .state_dir
        .join(crate::auth::LOCAL_KEY_FILE);
    match std::fs::canonicalize(&file) {
        Ok(path) => Json(LocalKeyResponse {
            path: path.display().to_string(),
        })
        .into_response(),
        Err(_) => error_response(
            StatusCode::NOT_FOUND,
            ErrorBody::new(
                shared_models::ErrorCode::InvalidApiKey,
                "this daemon has no local key (it creates one only on a first start without keys); \
                 log in with `simutrador-client auth login --api-key KEY`",
            ),
        ),
    }
}

async fn not_found() -> Response {
    error_response(
        StatusCode::NOT_FOUND,
        ErrorBody::new(
            shared_models::ErrorCode::UnknownType,
            "no such endpoint; the daemon serves GET /healthz, POST /auth/token and the WebSocket at /ws",
        ),
    )
}

/// A JSON error body with a status. A 429 carries `Retry-After` (whole seconds, rounded up,
/// at least 1) from the body's `details.retry_after_ms`.
pub fn error_response(status: StatusCode, body: ErrorBody) -> Response {
    let retry_after = (status == StatusCode::TOO_MANY_REQUESTS).then(|| {
        let ms = body
            .details
            .get("retry_after_ms")
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(1_000);
        ms.div_ceil(1_000).max(1)
    });
    let mut response = (status, Json(body)).into_response();
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

/// HTTP 401 with the reason as JSON and in `WWW-Authenticate`.
pub fn auth_error_response(e: &AuthError) -> Response {
    let mut response = error_response(StatusCode::UNAUTHORIZED, e.to_body());
    let challenge = format!(
        "Bearer error=\"{}\", error_description=\"{}\"",
        if matches!(e, AuthError::Missing) {
            "invalid_request"
        } else {
            "invalid_token"
        },
        e.code()
    );
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}
