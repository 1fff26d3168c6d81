//! What the HTTP and WebSocket handlers share, built once at start-up behind an `Arc`: the
//! protocol layer's [`DaemonState`] (which the server builds here, installing its metrics as
//! the observer of the session and protocol layers), the authenticator, the metrics registry,
//! and the trackers of the tasks the server starts.

use chrono::Utc;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::metrics::Metrics;
use crate::audit::AuditLog;
use crate::auth::Authenticator;
use crate::config::ServerConfig;
use crate::market_data::{Catalog, SharedCatalog};
use crate::protocol::DaemonState;
use crate::session::SessionManager;
use crate::session::hooks::Hooks;
use crate::session::manager::ManagerLimits;
use crate::session::run::start::RunEnv;
use crate::session::store::SessionStore;

/// Shared state of the server layer.
#[derive(Debug)]
pub struct AppState {
    /// What the request handlers act on (config, sessions, validator, limits, shutdown).
    pub daemon: Arc<DaemonState>,
    /// API keys and tokens.
    pub auth: Authenticator,
    /// Back-off on `POST /auth/token` after failed guesses.
    pub token_throttle: super::token_throttle::TokenThrottle,
    /// Counters for `GET /metrics`; also the observer of the lower layers.
    pub metrics: Arc<Metrics>,
    /// Every WebSocket connection task and its writer task: shutdown waits for them.
    pub connections: TaskTracker,
    /// The server's background tasks (listener, cleanup, deadlines, statistics ticker, data
    /// reload).
    pub jobs: TaskTracker,
    /// The catalog every layer reads (a snapshot per request or run); the data-reload job
    /// ([`super::data_reload`]) replaces it when the data dir changes.
    pub catalog: Arc<SharedCatalog>,
    started: Instant,
    started_wall: chrono::DateTime<Utc>,
}

impl AppState {
    /// Build the state; sessions are journaled to `store`.
    pub fn new(
        config: ServerConfig,
        auth: Authenticator,
        catalog: Catalog,
        store: Arc<dyn SessionStore>,
    ) -> Self {
        let metrics = Arc::new(Metrics::default());
        let catalog = SharedCatalog::shared(catalog);
        let shutdown = CancellationToken::new();
        let runs = RunEnv {
            catalog: catalog.clone(),
            shutdown: shutdown.clone(),
        };
        let sessions = session_manager(&config, store, metrics.clone(), runs);
        let daemon = Arc::new(DaemonState::new(
            config,
            sessions,
            catalog.clone(),
            shutdown,
            metrics.clone(),
        ));
        AppState {
            daemon,
            auth,
            token_throttle: Default::default(),
            metrics,
            connections: TaskTracker::new(),
            jobs: TaskTracker::new(),
            catalog,
            started: Instant::now(),
            started_wall: Utc::now(),
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
}

/// The session manager with the daemon's collaborators: the audit log in the state dir, the
/// journal `store`, `metrics` as the observer of its background jobs, and what its runs need
/// (`runs`: the catalog and the shutdown token), so it rebuilds restored runs itself.
fn session_manager(
    config: &ServerConfig,
    store: Arc<dyn SessionStore>,
    metrics: Arc<Metrics>,
    runs: RunEnv,
) -> Arc<SessionManager> {
    let limits = &config.limits;
    let hooks = Hooks {
        observer: metrics,
        audit: Some(Arc::new(AuditLog::in_dir(&config.server.state_dir))),
        journal: store,
        job_retries: limits.job_max_retries,
        stats_interval: Duration::from_millis(limits.stats_interval_ms),
        runs,
        ..Hooks::default()
    };
    let manager_limits = ManagerLimits {
        max_sessions_per_user: limits.max_sessions_per_user,
        idle_timeout: Duration::from_secs(limits.session_timeout_minutes.saturating_mul(60)),
        retention: Duration::from_secs(limits.ended_session_retention_minutes.saturating_mul(60)),
        max_active_per_user: limits.max_active_sessions_per_user,
    };
    SessionManager::shared(manager_limits, hooks)
}

#[cfg(test)]
#[path = "restore_tests.rs"]
mod restore_tests;
