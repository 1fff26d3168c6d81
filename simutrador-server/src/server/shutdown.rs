//! Graceful shutdown: waiting for SIGINT (Ctrl-C) or SIGTERM, then draining the daemon.
//!
//! [`drain`] cancels the shutdown token that every part of the daemon watches, then waits for
//! the three task trackers to empty:
//!
//! 1. the accept loop ([`super::listener`]) stops accepting, every plain HTTP connection ends
//!    after its request in flight, and a WebSocket upgrade that
//!    still arrives is refused with 503;
//! 2. every connection sends `connection_closing` and a close frame, and its writer drains;
//! 3. every simulation run stops where it waits (between bars), checkpoints its run journal
//!    and returns — the session stays `running` in the store and comes back `paused`, ready
//!    to resume, at the next start;
//! 4. background jobs (cleanup, deadlines, statistics ticker) end, and the session layer's
//!    short tasks (audit writes, pushes to full queues) finish.
//!
//! It gives up at the deadline (`shutdown_grace_seconds` after the signal) and logs what was
//! still running.

use std::time::Instant;

use super::AppState;

/// Resolves on the first SIGINT or SIGTERM.
pub async fn signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!("cannot listen for Ctrl-C: {e}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!("cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => tracing::info!("SIGINT received; shutting down"),
        _ = term => tracing::info!("SIGTERM received; shutting down"),
    }
}

/// Stop the daemon's work and wait, until `deadline`, for every tracked task: connections and
/// their writers, the server's jobs, and the session layer's tasks (runs, audit writes,
/// pushes). True when all of them ended in time.
pub async fn drain(state: &AppState, deadline: tokio::time::Instant) -> bool {
    let started = Instant::now();
    let daemon = &state.daemon;
    daemon.shutdown.cancel();
    let sessions = daemon.sessions.tasks();
    for tracker in [&state.connections, &state.jobs, sessions] {
        tracker.close();
    }
    let all = async { tokio::join!(state.connections.wait(), state.jobs.wait(), sessions.wait()) };
    let finished = tokio::time::timeout_at(deadline, all).await.is_ok();
    let elapsed_ms = started.elapsed().as_millis() as u64;
    if finished {
        tracing::info!(
            elapsed_ms,
            "every connection, run and job has ended; run journals are flushed"
        );
    } else {
        tracing::warn!(
            elapsed_ms,
            connections = state.connections.len(),
            jobs = state.jobs.len(),
            session_tasks = sessions.len(),
            "the shutdown grace period ended with tasks still running; stopping anyway \
             (raise shutdown_grace_seconds to give them longer)"
        );
    }
    finished
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{ApiKeyStore, Authenticator, JwtKeys};
    use crate::config::ServerConfig;
    use crate::market_data::Catalog;
    use crate::session::journal::NoJournal;
    use std::sync::Arc;
    use std::time::Duration;

    fn state(dir: &std::path::Path) -> AppState {
        let mut config = ServerConfig::default();
        config.server.state_dir = dir.to_path_buf();
        let auth = Authenticator::new(
            ApiKeyStore::open(dir).unwrap(),
            JwtKeys::new(&[7u8; 32], 60),
        );
        AppState::new(config, auth, Catalog::empty(), Arc::new(NoJournal))
    }

    #[tokio::test(start_paused = true)]
    async fn drain_cancels_the_token_and_waits_for_every_tracker() {
        let dir = tempfile::tempdir().unwrap();
        let state = state(dir.path());
        let token = state.daemon.shutdown.clone();
        // One task per tracker, each ending a while after the token is cancelled.
        let trackers = [
            &state.connections,
            &state.jobs,
            state.daemon.sessions.tasks(),
        ];
        for (i, tracker) in trackers.into_iter().enumerate() {
            let token = token.clone();
            tracker.spawn(async move {
                token.cancelled().await;
                tokio::time::sleep(Duration::from_secs(1 + i as u64)).await;
            });
        }
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        assert!(drain(&state, deadline).await);
        assert!(token.is_cancelled());
        assert!(state.connections.is_empty() && state.jobs.is_empty());
        assert!(state.daemon.sessions.tasks().is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn drain_gives_up_at_the_deadline() {
        let dir = tempfile::tempdir().unwrap();
        let state = state(dir.path());
        state
            .daemon
            .sessions
            .tasks()
            .spawn(std::future::pending::<()>());
        let start = tokio::time::Instant::now();
        let deadline = start + Duration::from_secs(3);
        assert!(!drain(&state, deadline).await);
        assert_eq!(start.elapsed(), Duration::from_secs(3));
        assert_eq!(state.daemon.sessions.tasks().len(), 1);
    }
}
