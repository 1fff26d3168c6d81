//! The listener: one port serving `GET /healthz`, `GET /metrics`, `POST /auth/token` and the WebSocket at
//! `/ws` (also `/ws/simulate`), plus start-up and graceful shutdown.
//!
//! - [`state`] — everything a request handler needs, shared behind an `Arc`.
//! - [`http`] — the router and the plain HTTP endpoints.
//! - [`ws`] — the WebSocket handshake (token check, connection limit) before handing the socket
//!   to [`crate::protocol::connection`].
//! - [`rate_limit`] — `governor` limiters and the per-user connection count.
//! - [`shutdown`] — SIGINT/SIGTERM.
//! - [`metrics`] — counters and the Prometheus text of `GET /metrics`.

pub mod http;
pub mod metrics;
pub mod rate_limit;
pub mod shutdown;
pub mod state;
pub mod ws;

use anyhow::Context;
use axum::serve::ListenerExt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::auth::Authenticator;
use crate::config::ServerConfig;
use crate::market_data::Catalog;
use crate::session::store::{FileStore, SessionStore};
use crate::session::{cleanup, monitor, timers};
pub use state::AppState;

/// A daemon running in this process (the binary uses it; tests and benchmarks too).
#[derive(Debug)]
pub struct RunningServer {
    addr: SocketAddr,
    state: Arc<AppState>,
    join: JoinHandle<std::io::Result<()>>,
}

impl RunningServer {
    /// The bound address (useful with port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The shared state (for tests and benchmarks that want to look inside).
    pub fn state(&self) -> &Arc<AppState> {
        &self.state
    }

    /// Stop accepting, tell every client `connection_closing`, let in-flight replies finish
    /// (up to `shutdown_grace_seconds`), then return.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        let grace = Duration::from_secs(self.state.config.server.shutdown_grace_seconds);
        self.state.shutdown.cancel();
        self.state.tracker.close();
        if tokio::time::timeout(grace, self.state.tracker.wait())
            .await
            .is_err()
        {
            tracing::warn!("some connections did not close within {grace:?}; dropping them");
        }
        match tokio::time::timeout(grace, self.join).await {
            Ok(joined) => joined
                .context("server task panicked")?
                .context("server failed"),
            Err(_) => Ok(()),
        }
    }
}

/// Build the state from `config` and `catalog`, bind `config.server.bind`, and start serving.
pub async fn start(config: ServerConfig, catalog: Catalog) -> anyhow::Result<RunningServer> {
    let auth = Authenticator::from_config(&config)?;
    let listener = TcpListener::bind(config.server.bind)
        .await
        .with_context(|| format!("cannot listen on {}; is another daemon running there? pick another address with --bind", config.server.bind))?;
    let addr = listener.local_addr()?;
    let store = FileStore::open(&config.server.state_dir).with_context(|| {
        format!(
            "cannot open the session store in {}",
            config.server.state_dir.display()
        )
    })?;
    let loaded = std::time::Instant::now();
    let stored = store
        .load()
        .with_context(|| format!("cannot read the session store in {}", store.dir().display()))?;
    let state = Arc::new(AppState::new(config, auth, catalog, Arc::new(store)));
    let restored = state.sessions.restore(stored);
    state.sessions.restored_ends().await;
    if restored.sessions > 0 {
        tracing::info!(
            sessions = restored.sessions,
            paused = restored.paused,
            expired = restored.expired,
            elapsed_ms = loaded.elapsed().as_millis() as u64,
            "sessions restored from the store"
        );
    }

    tokio::spawn(cleanup::run(
        state.sessions.clone(),
        Duration::from_secs(state.config.limits.cleanup_interval_seconds),
        state.shutdown.clone(),
    ));
    if let Some(queue) = state.sessions.take_timer_queue() {
        tokio::spawn(timers::run(
            state.sessions.clone(),
            queue,
            state.shutdown.clone(),
        ));
    }
    tokio::spawn(monitor::run_ticker(
        state.sessions.clone(),
        state.shutdown.clone(),
    ));

    let app = http::router(state.clone());
    let token = state.shutdown.clone();
    // Small frames (acks, settlements) must not wait for Nagle's algorithm.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::warn!("cannot set TCP_NODELAY: {e}");
        }
    });
    let join = tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move { token.cancelled().await })
        .await
    });
    tracing::info!(%addr, "listening");
    Ok(RunningServer { addr, state, join })
}
