//! Everything a handler needs, built once at start-up and shared behind an `Arc`.

use chrono::Utc;
use shared_models::messages::server::ServerLimits;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::rate_limit::RateLimits;
use crate::audit::AuditLog;
use crate::auth::Authenticator;
use crate::config::ServerConfig;
use crate::market_data::{Catalog, MarketDataValidator};
use crate::session::SessionManager;
use crate::session::hooks::Hooks;
use crate::session::manager::ManagerLimits;
use crate::session::run::start::RunEnv;
use crate::session::store::SessionStore;

/// Shared daemon state.
#[derive(Debug)]
pub struct AppState {
    /// The validated configuration.
    pub config: ServerConfig,
    /// API keys and tokens.
    pub auth: Authenticator,
    /// The session table.
    pub sessions: Arc<SessionManager>,
    /// Checks requests against the catalog.
    pub validator: MarketDataValidator,
    /// Rate limiters and connection counts.
    pub rate_limits: RateLimits,
    /// Limits told to clients in `connection_ready`.
    pub wire_limits: ServerLimits,
    /// Cancelled when the daemon shuts down.
    pub shutdown: CancellationToken,
    /// Tracks open WebSocket connections so shutdown can wait for them.
    pub tracker: TaskTracker,
    started: Instant,
    started_wall: chrono::DateTime<Utc>,
    connections: AtomicU64,
    next_connection_id: AtomicU64,
}

impl AppState {
    /// Build the state; sessions are journaled to `store`.
    pub fn new(
        config: ServerConfig,
        auth: Authenticator,
        catalog: Catalog,
        store: Arc<dyn SessionStore>,
    ) -> Self {
        let limits = &config.limits;
        let catalog = Arc::new(catalog);
        let shutdown = CancellationToken::new();
        let hooks = Hooks {
            audit: Some(Arc::new(AuditLog::in_dir(&config.server.state_dir))),
            journal: store,
            job_retries: limits.job_max_retries,
            stats_interval: Duration::from_millis(limits.stats_interval_ms),
            runs: RunEnv {
                catalog: catalog.clone(),
                shutdown: shutdown.clone(),
            },
            ..Hooks::default()
        };
        let manager_limits = ManagerLimits {
            max_sessions_per_user: limits.max_sessions_per_user,
            idle_timeout: Duration::from_secs(limits.session_timeout_minutes.saturating_mul(60)),
            retention: Duration::from_secs(
                limits.ended_session_retention_minutes.saturating_mul(60),
            ),
            max_active_per_user: limits.max_active_sessions_per_user,
        };
        let sessions = SessionManager::shared(manager_limits, hooks);
        let validator = MarketDataValidator::new(catalog, limits.max_symbols_per_session as usize);
        let wire_limits = ServerLimits {
            max_sessions_per_user: limits.max_sessions_per_user,
            max_symbols_per_session: limits.max_symbols_per_session,
            min_initial_capital: limits.min_initial_capital,
            max_initial_capital: limits.max_initial_capital,
            session_timeout_minutes: limits.session_timeout_minutes,
            max_message_bytes: config.server.max_message_bytes as u64,
            messages_per_second: config.rate_limits.messages_per_second,
            session_creates_per_minute: config.rate_limits.session_creates_per_minute,
        };
        AppState {
            rate_limits: RateLimits::new(&config.rate_limits),
            config,
            auth,
            sessions,
            validator,
            wire_limits,
            shutdown,
            tracker: TaskTracker::new(),
            started: Instant::now(),
            started_wall: Utc::now(),
            connections: AtomicU64::new(0),
            next_connection_id: AtomicU64::new(1),
        }
    }

    /// Seconds since start.
    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }

    /// When the daemon started.
    pub fn started_at(&self) -> chrono::DateTime<Utc> {
        self.started_wall
    }

    /// Open WebSocket connections.
    pub fn connection_count(&self) -> u64 {
        self.connections.load(Ordering::Relaxed)
    }

    /// Count a connection in; the returned guard counts it out when dropped.
    pub fn connection_opened(self: &Arc<Self>) -> ConnectionCount {
        self.connections.fetch_add(1, Ordering::Relaxed);
        ConnectionCount {
            state: self.clone(),
            id: self.next_connection_id.fetch_add(1, Ordering::Relaxed),
        }
    }
}

/// Keeps a connection counted while alive.
#[derive(Debug)]
pub struct ConnectionCount {
    state: Arc<AppState>,
    /// Process-unique connection number, for logs.
    pub id: u64,
}

impl Drop for ConnectionCount {
    fn drop(&mut self) {
        self.state.connections.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
#[path = "restore_tests.rs"]
mod restore_tests;
