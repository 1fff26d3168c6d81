//! The cleanup task: every `cleanup_interval_seconds`, expire idle sessions and remove ended
//! ones whose retention has passed, and let the store forget results it loaded on demand
//! that were not used for a while. It stops when the server shuts down.

use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

use super::SessionManager;

/// Run the cleanup loop until `shutdown` is cancelled.
pub async fn run(sessions: Arc<SessionManager>, every: Duration, shutdown: CancellationToken) {
    let mut tick = tokio::time::interval(every.max(Duration::from_millis(10)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await; // the first tick fires at once; skip it
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tick.tick() => {
                let report = sessions.sweep(tokio::time::Instant::now());
                sessions.store().trim_results();
                if report.expired + report.removed > 0 {
                    tracing::info!(expired = report.expired, removed = report.removed, "session cleanup");
                }
            }
        }
    }
}
