//! A paused run restored after a restart ends like a live one when its deadline fires or it
//! idles out: the session layer rebuilds it from its journal with the market data,
//! and the run task flattens it at the last settled bar and stores its results.

use super::AppState;
use crate::auth::Authenticator;
use crate::config::ServerConfig;
use crate::market_data::Catalog;
use crate::session::limits::RiskLimits;
use crate::session::store::record::StoredResults;
use crate::session::store::{FileStore, RunRecord, SessionStore};
use crate::session::test_support::params;
use crate::session::timers::TimerKind;
use rust_decimal::Decimal;
use shared_models::results::SimulationResults;
use shared_models::trading::OrderRequest;
use shared_models::{SessionState, TerminationReason, Timeframe};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

fn state(dir: &Path) -> AppState {
    let mut config = ServerConfig::default();
    config.server.state_dir = dir.to_path_buf();
    let auth = Authenticator::open(&config.auth_settings()).unwrap();
    let store = Arc::new(FileStore::open(dir).unwrap());
    AppState::new(config, auth, Catalog::built_in(), store)
}

/// The run journal of session `id` in `state`: started (window 1), and 10 ACME bought with
/// the acknowledgement of tick 0; not yet flushed.
fn started_with_a_buy(state: &AppState, id: &str) -> Box<dyn crate::session::store::RunLog> {
    let buy: OrderRequest = serde_json::from_value(serde_json::json!({
        "order_id": "b", "symbol": "ACME", "side": "buy", "quantity": "10"
    }))
    .unwrap();
    let mut log = state.daemon.sessions.store().run_log(id, true).unwrap();
    log.append(&RunRecord::Started {
        window: 1,
        account_updates: Default::default(),
        encoding: Default::default(),
        warmup_bars: 0,
        indicator_warmup_bars: 0,
        events: Default::default(),
        compact_times: false,
    });
    log.append(&RunRecord::Ack {
        seq: 0,
        orders: vec![buy],
        cancels: vec![],
    });
    log
}

/// A daemon that died with a run of `alice` acknowledged up to tick 5 (10 ACME bought on
/// tick 0, still held), restarted: the session is back `paused`, without a run task.
fn restarted(dir: &Path) -> (AppState, String) {
    let id = {
        let first = state(dir);
        let limits = RiskLimits {
            max_duration_seconds: 3600,
            ..RiskLimits::none()
        };
        let s = first
            .daemon
            .sessions
            .create_with_limits("alice", params(), 250, limits)
            .unwrap();
        first
            .daemon
            .sessions
            .transition(&s, SessionState::Running, None)
            .unwrap();
        let mut log = started_with_a_buy(&first, &s.id);
        log.append(&RunRecord::Progress { acked: 5 });
        log.flush().unwrap();
        s.id.to_string()
    };
    let second = state(dir);
    let stored = FileStore::open(dir).unwrap().load().unwrap();
    second.daemon.sessions.restore(stored);
    let s = second.daemon.sessions.get("alice", &id).unwrap();
    assert_eq!(s.state(), SessionState::Paused);
    assert!(
        s.run_handle().is_none(),
        "not rebuilt until something needs it"
    );
    (second, id)
}

/// Wait for the run task to end the session; its results.
async fn ended(state: &AppState, id: &str) -> (SessionState, Arc<SimulationResults>) {
    let s = state.daemon.sessions.get("alice", id).unwrap();
    for _ in 0..1000 {
        if let Ok(Some(results)) = state.daemon.sessions.results(&s) {
            let results = Arc::new((*results).clone().into_results().unwrap());
            return (s.state(), results);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("session {id} ended without results ({})", s.state());
}

fn flattened_at_the_last_settled_bar(results: &SimulationResults) {
    // Ticks 0..=4 acknowledged, so the live run had settled bars 0..=5 (the ack of tick 4
    // settles bar 5, protocol rule 2) and the client had seen bar 5's events: bought at bar
    // 1's open, closed at bar 5's close (before the fix of `last_bar_tests`, bar 4's).
    let catalog = Catalog::built_in();
    let bars = &catalog.get("ACME").unwrap().series[&Timeframe::D1];
    let first = bars.timestamps().iter().position(|&t| t >= 1_577_836_800); // 2020-01-01
    let bar = bars.bar(first.unwrap() + 5);
    let trade = results.trades.last().unwrap();
    assert_eq!(results.trades.len(), 1, "{:?}", results.trades);
    assert_eq!(trade.quantity, Decimal::from(10));
    assert_eq!(trade.exit_time.timestamp(), bar.time);
    assert_eq!(trade.exit_price, bar.candle.close);
    assert!(results.open_positions.is_empty());
    let last = results.equity_curve.last().unwrap();
    assert_eq!(results.metrics.equity_final, last.equity);
}

#[tokio::test]
async fn a_restored_paused_run_expires_at_its_deadline_with_results() {
    let dir = tempfile::tempdir().unwrap();
    let (state, id) = restarted(dir.path());
    // What the timer task runs at the deadline.
    state
        .daemon
        .sessions
        .on_deadline(&id, TimerKind::Expire)
        .unwrap();
    let (to, results) = ended(&state, &id).await;
    assert_eq!(to, SessionState::Expired);
    let s = state.daemon.sessions.get("alice", &id).unwrap();
    assert_eq!(
        s.lifecycle().termination_reason,
        Some(TerminationReason::TimeLimit)
    );
    flattened_at_the_last_settled_bar(&results);
}

#[tokio::test]
async fn a_restored_paused_run_that_idles_out_has_results() {
    let dir = tempfile::tempdir().unwrap();
    let (state, id) = restarted(dir.path());
    let idle = state.daemon.sessions.limits().idle_timeout;
    let report = state
        .daemon
        .sessions
        .sweep(tokio::time::Instant::now() + idle);
    assert_eq!(report.expired, 1);
    let (to, results) = ended(&state, &id).await;
    assert_eq!(to, SessionState::Expired);
    let s = state.daemon.sessions.get("alice", &id).unwrap();
    assert_eq!(
        s.lifecycle().termination_reason,
        Some(TerminationReason::IdleTimeout)
    );
    flattened_at_the_last_settled_bar(&results);
}

/// A daemon that stopped after journaling that a run of `alice` had completed but before
/// journaling its results (a completed run journals them after sending `simulation_end`):
/// start-up replays the run journal, finishes the run and journals the results, so they are
/// there after the restart and the one after it, and the run journal is gone.
#[tokio::test]
async fn a_completed_session_whose_results_were_not_journaled_gets_them_back_at_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let id = {
        let first = state(dir.path());
        let sessions = &first.daemon.sessions;
        let s = sessions.create("alice", params(), 250).unwrap();
        sessions
            .transition(&s, SessionState::Running, None)
            .unwrap();
        started_with_a_buy(&first, &s.id).flush().unwrap();
        // The end is journaled, and the daemon stops before the results that the run
        // journals after `simulation_end` (their values do not matter: never written).
        let unwritten = StoredResults {
            metrics: serde_json::from_str(crate::session::store::results::METRICS).unwrap(),
            trades: Default::default(),
            open_positions: Vec::new(),
            equity: shared_models::columns::EquityColumns::from_points(&[]),
        };
        s.set_completed_results(unwritten);
        let done = (SessionState::Completed, Some(TerminationReason::Completed));
        sessions.transition(&s, done.0, done.1).unwrap();
        s.id.to_string()
    };
    let journals = FileStore::open(dir.path()).unwrap().dir().to_path_buf();
    let run_journal = journals.join(format!("{id}.run.jsonl"));
    assert!(
        run_journal.exists(),
        "the run journal stays until the results are written"
    );

    let second = state(dir.path());
    let report = second
        .daemon
        .sessions
        .restore(FileStore::open(dir.path()).unwrap().load().unwrap());
    assert_eq!(report.results_rebuilt, 1);
    let s = second.daemon.sessions.get("alice", &id).unwrap();
    assert_eq!(s.state(), SessionState::Completed);
    let results = second.daemon.sessions.results(&s).unwrap().unwrap();
    let results = results.as_ref().clone().into_results().unwrap();
    // Bought 10 ACME at bar 1's open and held to the last bar (no close at end).
    assert!(results.trades.is_empty());
    assert_eq!(results.open_positions.len(), 1);
    assert_eq!(results.open_positions[0].quantity, Decimal::from(10));
    assert_eq!(
        results.metrics.equity_final,
        results.equity_curve.last().unwrap().equity
    );
    assert!(
        !run_journal.exists(),
        "the run journal goes once the results are written"
    );

    // Journaled: the next start-up reads them instead of rebuilding them.
    let third = state(dir.path());
    let report = third
        .daemon
        .sessions
        .restore(FileStore::open(dir.path()).unwrap().load().unwrap());
    assert_eq!(report.results_rebuilt, 0);
    let s = third.daemon.sessions.get("alice", &id).unwrap();
    let again = third.daemon.sessions.results(&s).unwrap().unwrap();
    assert_eq!(again.as_ref().clone().into_results().unwrap(), results);
}
