//! Bodies of the daemon's plain HTTP endpoints (`GET /healthz`, `POST /auth/token`,
//! `GET /auth/local-key`).
//! Refused requests answer with an [`crate::ErrorBody`] JSON body.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::session::Plan;

/// `POST /auth/token` (header `X-API-Key`) → 200. Its `Debug` redacts the token, so it cannot
/// end up in a log by accident.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenResponse {
    /// The JWT to send as `Authorization: Bearer …` or `?token=…`.
    pub access_token: String,
    /// Always `"Bearer"`.
    pub token_type: String,
    /// Seconds until the token expires.
    pub expires_in: u64,
    /// The user the key belongs to.
    pub user_id: String,
    /// Their plan.
    pub plan: Plan,
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse")
            .field("access_token", &"<redacted>")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("user_id", &self.user_id)
            .field("plan", &self.plan)
            .finish()
    }
}

/// `GET /auth/local-key` → 200, to loopback callers only: where the daemon keeps the API key
/// it created for user `local`. The key itself is never sent; only a process of the same OS
/// user can read the owner-only file, so the client's loopback auto-login works with any
/// `--state-dir`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalKeyResponse {
    /// Absolute path of `<state-dir>/local.key`.
    pub path: String,
}

/// `GET /healthz` → 200 (503 with `status: "shutting_down"` during shutdown).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthResponse {
    /// `"ok"`, `"shutting_down"` or `"store_unavailable"` (the last two answered with 503).
    pub status: String,
    /// Daemon version.
    pub version: String,
    /// Seconds since start.
    pub uptime_seconds: u64,
    /// Sessions held (all users, all states).
    pub sessions: u64,
    /// Sessions per state.
    #[serde(default)]
    pub sessions_by_state: BTreeMap<String, u64>,
    /// Open WebSocket connections.
    pub connections: u64,
    /// Symbols in the catalog.
    pub symbols: u64,
    /// Why the session store cannot be written (with `status: "store_unavailable"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store_error: Option<String>,
}
