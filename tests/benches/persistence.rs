//! Persistence benchmark (issue 4):
//! - the cost of journaling a run: the run records of a 1,000,000-bar `sma-cross` 10/20 run
//!   (≈ 50,000 acks with two orders each, a progress mark per 512 ticks) appended and flushed
//!   through the real file store, against the run's time;
//! - restart time with 10,000 stored sessions: loading the journals and restoring them into a
//!   session manager in process, and the real release daemon's start-up on that state dir
//!   compared with an empty one.
//!
//! Run: `cargo build --release --workspace && cargo bench -p simutrador-e2e --bench persistence`
//! (figures go to docs/benchmarks.md). Not a test: it asserts nothing about speed.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark: panics abort the run

use rust_decimal::Decimal;
use shared_models::lifecycle::{Actor, EventKind};
use shared_models::trading::OrderRequest;
use shared_models::{SessionParams, SessionState, TerminationReason, Timeframe};
use simutrador_e2e::DaemonProcess;
use simutrador_server::session::SessionManager;
use simutrador_server::session::hooks::Hooks;
use simutrador_server::session::limits::RiskLimits;
use simutrador_server::session::manager::ManagerLimits;
use simutrador_server::session::store::{FileStore, RunRecord, SessionStore};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SESSIONS: usize = 10_000;

fn params() -> SessionParams {
    SessionParams {
        symbols: vec!["ACME".into()],
        start_date: "2020-01-01".into(),
        end_date: "2020-12-31".into(),
        timeframe: Timeframe::D1,
        initial_capital: Decimal::from(100_000),
        commission_rate: Decimal::new(1, 3),
        commission_per_share: Decimal::ZERO,
        commission_min: Decimal::ZERO,
        slippage_bps: Decimal::ZERO,
        allow_short: true,
        close_at_end: false,
        metadata: Default::default(),
    }
}

fn manager(store: Arc<FileStore>) -> SessionManager {
    let limits = ManagerLimits {
        max_sessions_per_user: u32::MAX,
        idle_timeout: Duration::from_secs(86_400),
        retention: Duration::from_secs(86_400),
        max_active_per_user: u32::MAX,
    };
    SessionManager::with_hooks(
        limits,
        Hooks {
            journal: store,
            ..Hooks::default()
        },
    )
}

fn order(id: String, side: &str) -> OrderRequest {
    serde_json::from_value(serde_json::json!({
        "order_id": id, "symbol": "BENCH", "side": side, "percent_of_equity": "1"
    }))
    .unwrap()
}

fn journal_cost(dir: &std::path::Path) {
    let store = FileStore::open(dir).unwrap();
    let id = uuid::Uuid::new_v4().to_string();
    let bars = 1_000_000u64;
    let every = 20u64; // one reversal per ~20 bars, as in the simulation benchmark
    let t = Instant::now();
    let mut log = store.run_log(&id, true).unwrap();
    log.append(&RunRecord::Started {
        window: 1024,
        account_updates: Default::default(),
        encoding: Default::default(),
        warmup_bars: 0,
        indicator_warmup_bars: 0,
        events: Default::default(),
        compact_times: true,
    });
    let mut records = 1u64;
    for tick in 0..bars {
        if tick.is_multiple_of(every) {
            let side = if (tick / every).is_multiple_of(2) {
                "buy"
            } else {
                "sell"
            };
            log.append(&RunRecord::Ack {
                seq: tick,
                orders: vec![
                    order(format!("c-{tick}"), side),
                    order(format!("o-{tick}"), side),
                ],
                cancels: vec![],
            });
            records += 1;
        }
        if tick % 512 == 511 {
            log.append(&RunRecord::Progress { acked: tick + 1 });
            log.flush().unwrap();
            records += 1;
        }
    }
    log.flush().unwrap();
    drop(log);
    let secs = t.elapsed().as_secs_f64();
    let bytes = std::fs::metadata(dir.join("sessions").join(format!("{id}.run.jsonl")))
        .unwrap()
        .len();
    println!(
        "run journal of a 1M-bar run: {records} records, {:.1} MB, written in {:.0} ms ({:.0} ns per bar, {:.2} µs per record)",
        bytes as f64 / 1e6,
        secs * 1e3,
        secs * 1e9 / bars as f64,
        secs * 1e6 / records as f64
    );
    let t = Instant::now();
    let run = store.load_run(&id);
    println!(
        "reading it back: {} records in {:.0} ms",
        run.records.len(),
        t.elapsed().as_secs_f64() * 1e3
    );
}

fn fill_store(state: &std::path::Path) {
    let store = Arc::new(FileStore::open(state).unwrap());
    let m = manager(store);
    let limits = RiskLimits {
        max_duration_seconds: 7 * 86_400,
        ..RiskLimits::none()
    };
    let t = Instant::now();
    for i in 0..SESSIONS {
        let user = format!("user{}", i % 100);
        let s = m
            .create_with_limits(&user, params(), 252, limits.clone())
            .unwrap();
        match i % 3 {
            0 => {}
            1 => {
                m.transition(&s, SessionState::Running, None).unwrap();
            }
            _ => {
                m.transition(&s, SessionState::Running, None).unwrap();
                m.record(
                    &s,
                    EventKind::TimeLimitWarning,
                    Actor::System,
                    serde_json::json!({"used_pct": 80}),
                );
                m.transition(
                    &s,
                    SessionState::Completed,
                    Some(TerminationReason::Completed),
                )
                .unwrap();
            }
        }
    }
    println!(
        "wrote {SESSIONS} sessions (⅓ created, ⅓ running, ⅓ completed) in {:.0} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
}

fn restore_in_process(state: &std::path::Path) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let _guard = rt.enter();
    for round in 0..3 {
        let store = Arc::new(FileStore::open(state).unwrap());
        let t = Instant::now();
        let stored = store.load().unwrap();
        let loaded = t.elapsed();
        let m = manager(store);
        let report = m.restore(stored);
        println!(
            "round {round}: load {:.0} ms + restore {:.0} ms = {:.0} ms for {} sessions ({} paused)",
            loaded.as_secs_f64() * 1e3,
            (t.elapsed() - loaded).as_secs_f64() * 1e3,
            t.elapsed().as_secs_f64() * 1e3,
            report.sessions,
            report.paused,
        );
    }
}

fn daemon_start(state: &std::path::Path) -> Duration {
    let t = Instant::now();
    let daemon = DaemonProcess::start(state, &[]).unwrap();
    let elapsed = t.elapsed();
    daemon.terminate().unwrap();
    elapsed
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    journal_cost(dir.path());

    let state = dir.path().join("state");
    fill_store(&state);
    restore_in_process(&state);

    let empty = dir.path().join("empty");
    let mut with = Vec::new();
    let mut without = Vec::new();
    for _ in 0..3 {
        without.push(daemon_start(&empty));
        with.push(daemon_start(&state));
    }
    let best = |v: &[Duration]| v.iter().min().copied().unwrap_or_default().as_secs_f64() * 1e3;
    println!(
        "release daemon start-up to 'listening' (best of 3): {:.0} ms with {SESSIONS} sessions, {:.0} ms empty",
        best(&with),
        best(&without)
    );
}
