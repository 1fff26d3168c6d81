//! The daemon state the request handlers act on, and how the protocol layer reports upward.
//!
//! [`DaemonState`] is built once by the `server` layer (which first builds the session
//! manager and installs its observers) and shared behind an `Arc` by every connection. It
//! holds what a request needs — the configuration, the sessions, the market-data validator,
//! the rate limits, the limits told to clients, the shutdown token, the open-connection count
//! — and nothing of the transport (HTTP, the WebSocket upgrade, authentication), which stays
//! in `server`.
//!
//! The protocol layer reports each request and each refusal as a [`RequestEvent`] to a
//! [`RequestObserver`] (the server's metrics), never by naming the layer above it.

use shared_models::messages::server::ServerLimits;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio_util::sync::CancellationToken;

use super::rate_limit::RateLimits;
use crate::config::ServerConfig;
use crate::market_data::{MarketDataValidator, SharedCatalog};
use crate::session::SessionManager;

/// What the protocol layer reports about the requests it serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestEvent {
    /// A decoded request of this type (`create_session`, `tick_ack`, …) arrived.
    Received(&'static str),
    /// A request was answered with an `error` of this code.
    Refused(&'static str),
    /// A connection was closed with close code 4008: its outbound queue stayed full for
    /// `slow_consumer_timeout_seconds` (a slow consumer).
    SlowConsumerClosed,
}

/// Receives [`RequestEvent`]s; the daemon installs its metrics registry.
pub trait RequestObserver: Send + Sync + std::fmt::Debug {
    /// One event; must not block (it is called from a connection's read loop).
    fn observe(&self, event: RequestEvent);
}

/// Shared daemon state, as the request handlers see it.
#[derive(Debug)]
pub struct DaemonState {
    /// The validated configuration.
    pub config: ServerConfig,
    /// The session table.
    pub sessions: Arc<SessionManager>,
    /// Checks requests against the catalog.
    pub validator: MarketDataValidator,
    /// Rate limiters and per-user connection counts.
    pub rate_limits: RateLimits,
    /// Limits told to clients in `connection_ready`.
    pub wire_limits: ServerLimits,
    /// Cancelled when the daemon shuts down: connections say `connection_closing`, runs
    /// checkpoint their journal and return, background jobs end.
    pub shutdown: CancellationToken,
    /// Hears about every request and refusal.
    pub observer: Arc<dyn RequestObserver>,
    connections: AtomicU64,
    next_connection_id: AtomicU64,
}

impl DaemonState {
    /// The state over `sessions` (built by the caller) and `catalog` (the swappable catalog
    /// the server's reload job replaces), reporting to `observer`.
    pub fn new(
        config: ServerConfig,
        sessions: Arc<SessionManager>,
        catalog: Arc<SharedCatalog>,
        shutdown: CancellationToken,
        observer: Arc<dyn RequestObserver>,
    ) -> Self {
        let limits = &config.limits;
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
        DaemonState {
            rate_limits: RateLimits::new(&config.rate_limits),
            config,
            sessions,
            validator,
            wire_limits,
            shutdown,
            observer,
            connections: AtomicU64::new(0),
            next_connection_id: AtomicU64::new(1),
        }
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
    state: Arc<DaemonState>,
    /// Process-unique connection number, for logs.
    pub id: u64,
}

impl Drop for ConnectionCount {
    fn drop(&mut self) {
        self.state.connections.fetch_sub(1, Ordering::Relaxed);
    }
}
