//! The WebSocket handshake: authenticate (`Authorization: Bearer …` or `?token=…`), take a
//! connection slot and an access lease (the connection is closed when the token's key is
//! revoked or the token expires), then hand the socket to [`crate::protocol::connection::serve`] in a task
//! of the connection tracker ([`AppState::connections`]).
//!
//! A refused handshake is an HTTP error before the upgrade, with an `ErrorBody` JSON body:
//! 401 `AUTH_REQUIRED` / `INVALID_TOKEN` / `TOKEN_EXPIRED`, 429 `RATE_LIMITED` (too many
//! connections), 503 while shutting down.

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde::Deserialize;
use shared_models::{ErrorBody, ErrorCode};
use std::sync::Arc;

use super::AppState;
use super::http::{auth_error_response, error_response};
use crate::auth::AuthError;
use crate::protocol::connection::{self, ConnectionContext, hard_frame_limit};

/// Query string of the upgrade request.
#[derive(Debug, Deserialize)]
pub struct WsQuery {
    token: Option<String>,
}

/// `GET /ws` and `GET /ws/simulate`.
pub async fn upgrade(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(query): Query<WsQuery>,
    ws: WebSocketUpgrade,
) -> Response {
    let daemon = &state.daemon;
    if daemon.shutdown.is_cancelled() {
        return error_response(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorBody::new(
                ErrorCode::Internal,
                "the daemon is shutting down; reconnect when it is back",
            ),
        );
    }
    let token = bearer(&headers).or(query.token);
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        return auth_error_response(&AuthError::Missing);
    };
    let claims = match state.auth.authenticate_token(&token) {
        Ok(c) => c,
        Err(e) => {
            tracing::info!(reason = %e.code(), "websocket handshake refused");
            return auth_error_response(&e);
        }
    };
    let user: Arc<str> = Arc::from(claims.sub.as_str());
    let access = state.auth.lease(&claims);
    let slot = match daemon.rate_limits.acquire_connection(&user) {
        Ok(slot) => slot,
        Err(body) => return error_response(StatusCode::TOO_MANY_REQUESTS, body),
    };
    let limit = hard_frame_limit(daemon.config.server.max_message_bytes);
    let (daemon, tracker) = (daemon.clone(), state.connections.clone());
    ws.max_message_size(limit)
        .max_frame_size(limit)
        // Requests are small; a 16 KiB read buffer keeps idle connections cheap (the writes
        // that carry tick streams keep their larger default buffer).
        .read_buffer_size(16 * 1024)
        .on_upgrade(move |socket| {
            let (ctx, rx) = ConnectionContext::new(daemon, user, claims.plan, slot);
            let ctx = ctx.with_access(access);
            tracker.track_future(connection::serve(socket, ctx, rx, tracker.clone()))
        })
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}
