//! What the session manager reports to: the connection registry and subscriptions
//! ([`Monitor`]), the metrics, the audit log, the journal (persistence seam) and the deadline
//! timers.

use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

use super::journal::NoJournal;
use super::monitor::Monitor;
use super::store::SessionStore;
use super::timers::{self, TimerHandle, TimerQueue};
use crate::audit::AuditLog;
use crate::server::metrics::Metrics;

/// The manager's collaborators.
#[derive(Debug)]
pub struct Hooks {
    /// Owner connections and subscribers.
    pub monitor: Arc<Monitor>,
    /// Counters for `/metrics`.
    pub metrics: Arc<Metrics>,
    /// The audit log (`None` in unit tests).
    pub audit: Option<Arc<AuditLog>>,
    /// Receives every change and keeps it (the session store).
    pub journal: Arc<dyn SessionStore>,
    /// Deadlines.
    pub timers: TimerHandle,
    /// The deadline queue, until the timer task takes it.
    pub timer_queue: parking_lot::Mutex<Option<TimerQueue>>,
    /// Retries of a failed job.
    pub job_retries: u32,
    /// Interval of `session_stats_update`.
    pub stats_interval: Duration,
    /// What runs are built from: the market data and the shutdown signal (an empty catalog
    /// in unit tests).
    pub runs: super::run::start::RunEnv,
    /// Run tasks that `restore` handed an expiry to, for start-up to wait for.
    pub restored_ends: parking_lot::Mutex<Vec<JoinHandle<()>>>,
}

impl Default for Hooks {
    fn default() -> Self {
        let (timers, queue) = timers::channel();
        Hooks {
            monitor: Arc::default(),
            metrics: Arc::default(),
            audit: None,
            journal: Arc::new(NoJournal),
            timers,
            timer_queue: parking_lot::Mutex::new(Some(queue)),
            job_retries: 3,
            stats_interval: Duration::from_secs(1),
            runs: Default::default(),
            restored_ends: parking_lot::Mutex::default(),
        }
    }
}
