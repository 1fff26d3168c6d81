//! Unit tests of results on disk: a finished session keeps only the summary in memory, its
//! equity curve and trades come back from the journal on demand (also after a restart), and
//! deleting the session deletes them.

use super::*;
use crate::session::SessionManager;
use crate::session::hooks::Hooks;
use crate::session::manager::ManagerLimits;
use crate::session::results::ResultsSlot;
use crate::session::store::{FileStore, SessionStore};
use crate::session::test_support::params;
use rust_decimal::Decimal;
use shared_models::results::SimulationResults;
use shared_models::trading::{EquityPoint, Trade, TradeSide};
use shared_models::{SessionState, TerminationReason};
use std::time::Duration;

fn manager(store: Arc<FileStore>) -> SessionManager {
    crate::session::test_support::manager_on(store)
}

/// Results of `bars` one-minute bars with a trade every 100 bars; the equity goes up and down
/// and the drawdown columns are those the engine gives for it (the journal leaves them out
/// and they are computed again on load).
fn results(bars: i64) -> SimulationResults {
    let mut r = flat_results(bars);
    let bare = shared_models::columns::EquityColumns::from_points(&r.equity_curve);
    let (pct, duration) = simutrador_engine::drawdown_of(&bare);
    for ((p, pct), duration) in r.equity_curve.iter_mut().zip(pct).zip(duration) {
        p.drawdown_pct = pct;
        p.drawdown_duration = duration;
    }
    assert!(r.equity_curve.iter().any(|p| p.drawdown_duration.is_some()));
    r
}

fn flat_results(bars: i64) -> SimulationResults {
    let mut metrics: serde_json::Value = serde_json::from_str(METRICS).unwrap();
    metrics["equity_final"] = serde_json::json!("100123.45");
    let t = |i: i64| chrono::DateTime::from_timestamp(1_600_000_000 + 60 * i, 0).unwrap();
    SimulationResults {
        metrics: serde_json::from_value(metrics).unwrap(),
        trades: (0..bars / 100)
            .map(|i| Trade {
                symbol: "ACME".into(),
                side: TradeSide::Long,
                quantity: Decimal::new(10, 0),
                entry_time: t(i * 100),
                entry_price: Decimal::new(10_000 + i, 2),
                exit_time: t(i * 100 + 50),
                exit_price: Decimal::new(10_100 + i, 2),
                pnl: Decimal::new(1_000, 2),
                return_pct: 1.0,
                commission: Decimal::ZERO,
                duration: 3000,
                entry_bar: Some(i as u64 * 100),
                exit_bar: Some(i as u64 * 100 + 50),
            })
            .collect(),
        open_positions: Vec::new(),
        equity_curve: (0..bars)
            .map(|i| EquityPoint {
                time: t(i),
                equity: Decimal::new(10_000_000 + (i % 7) * 300 - (i % 11) * 150, 2),
                drawdown_pct: 0.0,
                drawdown_duration: None,
            })
            .collect(),
        outcome: Default::default(),
    }
}

/// A session of `m` that ran and completed with `r`.
fn finished(m: &SessionManager, r: &SimulationResults) -> Arc<crate::session::Session> {
    let s = m.create("alice", params(), 250).unwrap();
    m.transition(&s, SessionState::Running, None).unwrap();
    s.set_results(StoredResults::new(r));
    let done = (SessionState::Completed, Some(TerminationReason::Completed));
    m.transition(&s, done.0, done.1).unwrap();
    s
}

fn whole(m: &SessionManager, s: &crate::session::Session) -> SimulationResults {
    let stored = m.results(s).unwrap().unwrap();
    StoredResults::clone(&stored).into_results().unwrap()
}

#[test]
fn a_finished_session_keeps_only_its_summary_in_memory() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(FileStore::open(dir.path()).unwrap());
    let m = manager(store.clone());
    let r = results(5_000);
    let s = finished(&m, &r);
    assert!(
        !s.results_held(),
        "once journaled, the equity curve and trades are not held by the session"
    );
    assert!(matches!(s.results_slot(), ResultsSlot::Stored(_)));
    let summary = s.results_summary().unwrap();
    assert_eq!(summary.trades, 50);
    assert_eq!(summary.equity_points, 5_000);
    assert_eq!(summary.metrics, r.metrics);
    assert_eq!(s.current_equity(), Some(r.metrics.equity_final));
    assert_eq!(
        store.cached_results(),
        1,
        "the results just written start in the bounded cache (their client asks next)"
    );
    assert_eq!(whole(&m, &s), r, "exactly as produced");
    store.trim_results_at(tokio::time::Instant::now() + super::CACHE_IDLE);
    assert_eq!(store.cached_results(), 0, "forgotten when idle");
    assert_eq!(whole(&m, &s), r, "loaded on demand, exactly as produced");
    assert_eq!(store.cached_results(), 1);
}

#[test]
fn results_are_journaled_from_a_borrowed_copy_as_the_results_record() {
    let stored = StoredResults::new(&results(300));
    let borrowed = crate::session::store::record::RecordRef::Results { results: &stored };
    // Journaled as the results record without the drawdown columns ...
    let mut bare = stored.clone();
    bare.equity.drawdown_pct = None;
    bare.equity.drawdown_duration = None;
    let owned = Record::Results {
        results: Box::new(bare),
    };
    let written = serde_json::to_vec(&borrowed).unwrap();
    assert_eq!(written, serde_json::to_vec(&owned).unwrap());
    // ... which come back, bit for bit, when the record is read.
    let Record::Results { results } = serde_json::from_slice(&written).unwrap() else {
        panic!("not a results record");
    };
    assert_eq!(results.with_drawdown(), stored);
}

#[test]
fn without_a_store_the_results_stay_in_memory() {
    let m = SessionManager::with_hooks(
        ManagerLimits {
            max_sessions_per_user: 10,
            idle_timeout: Duration::from_secs(3600),
            retention: Duration::from_secs(3600),
            max_active_per_user: 5,
        },
        Hooks::default(),
    );
    let r = results(300);
    let s = finished(&m, &r);
    assert!(s.results_held(), "nowhere else to keep them");
    assert_eq!(whole(&m, &s), r);
}

#[test]
fn results_survive_a_restart_and_deleting_the_session_deletes_them() {
    let dir = tempfile::tempdir().unwrap();
    let r = results(2_000);
    let id = {
        let m = manager(Arc::new(FileStore::open(dir.path()).unwrap()));
        finished(&m, &r).id.to_string()
    };
    let store = Arc::new(FileStore::open(dir.path()).unwrap());
    let m = manager(store.clone());
    m.restore(store.load().unwrap());
    let s = m.get("alice", &id).unwrap();
    assert!(!s.results_held(), "restored with the summary only");
    assert_eq!(s.results_summary().unwrap().equity_points, 2_000);
    assert_eq!(whole(&m, &s), r);
    let journal = store.dir().join(format!("{id}.jsonl"));
    assert!(journal.exists());
    m.delete("alice", &id).unwrap();
    assert!(!journal.exists(), "the results went with the journal");
    assert_eq!(store.cached_results(), 0, "and out of the cache");
    assert!(store.load_results(&id).is_none());
}
