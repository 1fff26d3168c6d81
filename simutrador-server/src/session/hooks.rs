//! What the session manager reports to: the connection registry and subscriptions
//! ([`Monitor`]), an observer of its background work ([`SessionObserver`], which the
//! daemon's metrics implement), the audit log, the journal (persistence seam) and the
//! deadline timers.
//!
//! The session layer reports upward only through [`SessionEvent`]s: it never names the layers
//! above it (`protocol`, `server`).

use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

use super::journal::NoJournal;
use super::monitor::Monitor;
use super::store::SessionStore;
use super::timers::{self, TimerHandle, TimerQueue};
use crate::audit::AuditLog;

/// What the session layer reports about its background jobs (deadlines, audit writes) and
/// its store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionEvent {
    /// Job `job` started, `lag` after it was due.
    JobRun {
        /// The job's name (`time_limit`, `time_warning`, `audit`).
        job: &'static str,
        /// Delay between the job's due time and its start.
        lag: Duration,
    },
    /// A failed try of `job` is retried after a backoff.
    JobRetried {
        /// The job's name.
        job: &'static str,
    },
    /// `job` failed for good, after its retries.
    JobFailed {
        /// The job's name.
        job: &'static str,
    },
    /// A write to the session store failed (a journal record, or a probe).
    StoreFailed,
}

/// Receives the session layer's [`SessionEvent`]s. The daemon installs its metrics registry;
/// the default ([`NoObserver`]) drops them.
pub trait SessionObserver: Send + Sync + std::fmt::Debug {
    /// One event; must not block (it is called from the session layer's tasks).
    fn observe(&self, event: SessionEvent);
}

/// An observer that ignores every event (unit tests, tools).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoObserver;

impl SessionObserver for NoObserver {
    fn observe(&self, _event: SessionEvent) {}
}

/// The manager's collaborators.
#[derive(Debug)]
pub struct Hooks {
    /// Owner connections and subscribers.
    pub monitor: Arc<Monitor>,
    /// Hears about background jobs (the daemon's metrics for `/metrics`).
    pub observer: Arc<dyn SessionObserver>,
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
            observer: Arc::new(NoObserver),
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
