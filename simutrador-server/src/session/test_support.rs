//! Fixtures shared by the session, store and restore unit tests.

use rust_decimal::Decimal;
use shared_models::{SessionParams, Timeframe};
use std::sync::Arc;
use std::time::Duration;

use super::SessionManager;
use super::hooks::{Hooks, SessionEvent, SessionObserver};
use super::manager::ManagerLimits;
use super::store::FileStore;

/// A manager journaling to `store` (10 sessions a user, 5 active, idle timeout and retention
/// an hour).
pub fn manager_on(store: Arc<FileStore>) -> SessionManager {
    let limits = ManagerLimits {
        max_sessions_per_user: 10,
        idle_timeout: Duration::from_secs(3600),
        retention: Duration::from_secs(3600),
        max_active_per_user: 5,
    };
    SessionManager::with_hooks(
        limits,
        Hooks {
            journal: store,
            ..Hooks::default()
        },
    )
}

/// Keeps every [`SessionEvent`] it observes, in order (what the daemon's metrics would count).
#[derive(Debug, Default)]
pub struct Recorder(parking_lot::Mutex<Vec<SessionEvent>>);

impl SessionObserver for Recorder {
    fn observe(&self, event: SessionEvent) {
        self.0.lock().push(event);
    }
}

impl Recorder {
    /// The events observed since the last call.
    pub fn take(&self) -> Vec<SessionEvent> {
        std::mem::take(&mut *self.0.lock())
    }

    /// How many `JobRun` events named `job` are held.
    pub fn jobs_run(&self, job: &str) -> usize {
        self.0
            .lock()
            .iter()
            .filter(|e| matches!(e, SessionEvent::JobRun { job: j, .. } if *j == job))
            .count()
    }
}

/// ACME daily for 2020, 100,000 of capital, no costs, shorts allowed.
pub fn params() -> SessionParams {
    SessionParams {
        symbols: vec!["ACME".into()],
        start_date: "2020-01-01".into(),
        end_date: "2020-12-31".into(),
        timeframe: Timeframe::D1,
        initial_capital: Decimal::from(100_000),
        commission_rate: Decimal::ZERO,
        commission_per_share: Decimal::ZERO,
        commission_min: Decimal::ZERO,
        slippage_bps: Decimal::ZERO,
        allow_short: true,
        close_at_end: false,
        metadata: Default::default(),
    }
}
