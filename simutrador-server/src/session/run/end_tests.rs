//! What a run leaves in its session once it has ended: nothing of the run itself (the control
//! handle and its queue go with the actor) and, once the store has journaled them, only the
//! summary of its results. A finished session stays in the table for the retention period,
//! so whatever it still held would be paid for by every finished session.

use shared_models::lifecycle::Actor;
use shared_models::messages::simulation::StartSimulation;
use shared_models::{SessionState, TerminationReason};
use std::sync::Arc;
use std::time::Duration;

use super::start::{self, RunEnv};
use super::test_harness::catalog;
use crate::session::hooks::Hooks;
use crate::session::manager::ManagerLimits;
use crate::session::store::FileStore;
use crate::session::test_support::params;
use crate::session::{SessionManager, outbound};

#[tokio::test]
async fn a_finished_run_leaves_no_handle_and_no_results_in_its_session() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(FileStore::open(dir.path()).unwrap());
    let m = Arc::new(SessionManager::with_hooks(
        ManagerLimits {
            max_sessions_per_user: 10,
            idle_timeout: Duration::from_secs(3600),
            retention: Duration::from_secs(3600),
            max_active_per_user: 5,
        },
        Hooks {
            journal: store,
            runs: RunEnv {
                catalog: crate::market_data::SharedCatalog::shared(catalog().clone()),
                shutdown: Default::default(),
            },
            ..Hooks::default()
        },
    ));
    let s = m.create("alice", params(), 253).unwrap();
    let (stream, _frames) = outbound::channel(1024, 1 << 24);
    let req = StartSimulation {
        session_id: s.id.to_string(),
        warmup_bars: None,
        indicator_warmup_bars: None,
        max_pending_ticks: Some(4),
        account_updates: None,
        tick_encoding: None,
        events: None,
        compact_times: None,
        strategy: None,
        client_version: None,
    };
    start::start(&m, &s, &req, stream, None).unwrap();
    assert!(s.run_handle().is_some(), "a running session has its run");
    let stop = (SessionState::Stopped, TerminationReason::ManualStop);
    m.terminate(&s, stop.0, stop.1, Actor::User, None).unwrap();
    // The actor ends the session and stops; wait for every task of the manager.
    m.tasks().close();
    m.tasks().wait().await;
    assert_eq!(s.state(), SessionState::Stopped);
    assert!(
        s.run_handle().is_none(),
        "a finished session keeps no handle (nor control queue) of its run"
    );
    assert!(!s.results_held(), "journaled: only the summary stays");
    assert!(s.results_summary().is_some());
}
