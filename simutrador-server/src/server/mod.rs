//! The server layer, the top of the daemon: one port serving `GET /healthz`, `GET /metrics`,
//! `POST /auth/token` and the WebSocket at `/ws` (also `/ws/simulate`), plus start-up, the
//! tasks it runs and graceful shutdown. It builds the layers below (the session manager, the
//! protocol's [`DaemonState`]) and is the only layer that knows about HTTP and metrics.
//!
//! - [`state`] — everything a request handler needs, shared behind an `Arc`.
//! - [`http`] — the router and the plain HTTP endpoints.
//! - [`ws`] — the WebSocket handshake (token check, connection limit) before handing the socket
//!   to [`crate::protocol::connection`].
//! - [`listener`] — the accept loop: header-read and unauthenticated timeouts, and the caps
//!   on open connections ([`conn_limits`]).
//! - [`shutdown`] — SIGINT/SIGTERM, and draining the daemon's tasks within the grace period.
//! - [`metrics`] — counters and the Prometheus text of `GET /metrics`.
//! - [`token_throttle`] — exponential back-off on `POST /auth/token` after failed guesses.
//! - [`data_reload`] — the job that reloads the market data when the data dir changes (or on
//!   SIGHUP), so imported data is served without a restart.

pub mod conn_limits;
pub mod data_reload;
pub mod http;
pub mod listener;
pub mod metrics;
pub mod shutdown;
pub mod state;
pub mod token_throttle;
pub mod ws;

use anyhow::Context;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::auth::Authenticator;
use crate::config::ServerConfig;
use crate::market_data::Catalog;
use crate::protocol::DaemonState;
use crate::session::store::{FileStore, PgStore, SessionStore, StoredSession};
use crate::session::{cleanup, monitor, timers};
pub use state::AppState;

/// Create the state dir owner-only when missing, then tighten anything in it that is open to
/// other users (dirs 0700, files 0600), with a warning naming each path.
fn secure_state_dir(state_dir: &std::path::Path) -> anyhow::Result<()> {
    crate::auth::private_file::create_private_dir(state_dir)?;
    for path in crate::auth::private_file::secure_state_dir(state_dir)? {
        tracing::warn!(path = %path.display(), "permissions were open to other users; tightened to owner-only (dirs 0700, files 0600)");
    }
    Ok(())
}

/// A daemon running in this process (the binary uses it; tests and benchmarks too).
#[derive(Debug)]
pub struct RunningServer {
    addr: SocketAddr,
    state: Arc<AppState>,
    listener: JoinHandle<std::io::Result<()>>,
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

    /// The state the request handlers act on (sessions, config, catalog).
    pub fn daemon(&self) -> &Arc<DaemonState> {
        &self.state.daemon
    }

    /// Graceful shutdown (see [`shutdown::drain`]): stop accepting, tell every client
    /// `connection_closing`, let every run checkpoint its journal and return, and wait for
    /// every tracked task, all within `shutdown_grace_seconds`; then return. Tasks still
    /// running after the grace period are logged and left to the runtime's end.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        let grace = Duration::from_secs(self.state.daemon.config.server.shutdown_grace_seconds);
        let deadline = tokio::time::Instant::now() + grace;
        shutdown::drain(&self.state, deadline).await;
        match tokio::time::timeout_at(deadline, self.listener).await {
            Ok(joined) => joined
                .context("server task panicked")?
                .context("server failed"),
            Err(_) => Ok(()),
        }
    }
}

/// The session store `config` names — PostgreSQL with `[store] url`, else the embedded
/// store in the state dir — and the sessions it holds.
fn open_store(
    config: &ServerConfig,
) -> anyhow::Result<(Arc<dyn SessionStore>, Vec<StoredSession>)> {
    if config.store.url.is_some() {
        let daemon_id = PgStore::daemon_id(&config.store, &config.server.state_dir)?;
        let store = PgStore::open(&config.store, &daemon_id)?;
        let stored = store.load().with_context(|| {
            format!(
                "cannot read the sessions from {}",
                config.store.shown_url().unwrap_or_default()
            )
        })?;
        return Ok((Arc::new(store), stored));
    }
    let store = FileStore::open(&config.server.state_dir).with_context(|| {
        format!(
            "cannot open the session store in {}",
            config.server.state_dir.display()
        )
    })?;
    let stored = store
        .load()
        .with_context(|| format!("cannot read the session store in {}", store.dir().display()))?;
    Ok((Arc::new(store), stored))
}

/// Build the state from `config` and `catalog`, bind `config.server.bind`, and start serving.
/// `catalog` is what the data source of `config` ([`data_reload::data_source`]) held a moment
/// ago; from now on the data dir is watched and reloaded when it changes ([`data_reload`]).
pub async fn start(config: ServerConfig, catalog: Catalog) -> anyhow::Result<RunningServer> {
    // Taken before anything else, so a change made while the daemon starts is seen.
    let source = data_reload::data_source(&config.server);
    let signature = source.signature();
    let auth = Authenticator::open(&config.auth_settings())?;
    let listener = TcpListener::bind(config.server.bind)
        .await
        .with_context(|| format!("cannot listen on {}; is another daemon running there? pick another address with --bind", config.server.bind))?;
    let addr = listener.local_addr()?;
    secure_state_dir(&config.server.state_dir)?;
    let loaded = std::time::Instant::now();
    let (store, stored) = open_store(&config)?;
    let state = Arc::new(AppState::new(config, auth, catalog, store));
    let daemon = state.daemon.clone();
    let restored = daemon.sessions.restore(stored);
    daemon.sessions.restored_ends().await;
    if restored.sessions > 0 {
        tracing::info!(
            sessions = restored.sessions,
            paused = restored.paused,
            expired = restored.expired,
            elapsed_ms = loaded.elapsed().as_millis() as u64,
            "sessions restored from the store"
        );
    }

    // The background jobs, tracked so that shutdown waits for them; each ends when the
    // shutdown token is cancelled.
    let jobs = &state.jobs;
    jobs.spawn(cleanup::run(
        daemon.sessions.clone(),
        Duration::from_secs(daemon.config.limits.cleanup_interval_seconds),
        daemon.shutdown.clone(),
    ));
    if let Some(queue) = daemon.sessions.take_timer_queue() {
        jobs.spawn(timers::run(
            daemon.sessions.clone(),
            queue,
            daemon.shutdown.clone(),
        ));
    }
    jobs.spawn(monitor::run_ticker(
        daemon.sessions.clone(),
        daemon.shutdown.clone(),
    ));
    // Data imported while the daemon runs is served without a restart.
    let reloader = data_reload::Reloader {
        source,
        catalog: state.catalog.clone(),
        metrics: state.metrics.clone(),
    };
    jobs.spawn(data_reload::run(
        reloader,
        signature,
        Duration::from_secs(daemon.config.server.data_poll_secs),
        data_reload::Hangup::install(),
        daemon.shutdown.clone(),
    ));
    // Revoked keys' connections are closed (the key file is checked every interval).
    let (watched, token) = (state.clone(), daemon.shutdown.clone());
    jobs.spawn(async move { watched.auth.watch_revocations(token).await });

    let app = http::router(state.clone());
    let caps = &daemon.config.connections;
    let limits =
        conn_limits::ConnectionLimits::new(caps.max_connections, caps.max_connections_per_ip);
    // The listener stops accepting as soon as the shutdown token is cancelled.
    let listener = jobs.spawn(listener::serve(
        listener,
        app,
        limits,
        listener::Timeouts::from_config(caps),
        state.metrics.clone(),
        daemon.shutdown.clone(),
        state.connections.clone(),
    ));
    tracing::info!(%addr, "listening");
    Ok(RunningServer {
        addr,
        state,
        listener,
    })
}
