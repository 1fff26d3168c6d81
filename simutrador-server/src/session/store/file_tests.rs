//! Unit tests of the file store: round trip through the manager, a line cut short by a crash,
//! unreadable lines, deletion, run journals, and a deadline that passed while down.

use super::*;
use crate::session::SessionManager;
use crate::session::hooks::Hooks;
use crate::session::limits::RiskLimits;
use crate::session::manager::ManagerLimits;
use crate::session::test_support::params;
use shared_models::lifecycle::{Actor, EventKind};
use shared_models::trading::{OrderRequest, OrderSide};
use std::sync::Arc;
use std::time::Duration;

fn manager(store: Arc<FileStore>) -> SessionManager {
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

fn hour_limit() -> RiskLimits {
    RiskLimits {
        max_duration_seconds: 3600,
        ..RiskLimits::none()
    }
}

fn order(id: &str) -> OrderRequest {
    serde_json::from_value(serde_json::json!({
        "order_id": id, "symbol": "ACME", "side": "buy", "quantity": "10"
    }))
    .unwrap()
}

#[test]
fn sessions_events_and_states_round_trip_through_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(FileStore::open(dir.path()).unwrap());
    let m = manager(store.clone());
    let created = m
        .create_with_limits("alice", params(), 250, hour_limit())
        .unwrap();
    let running = m
        .create_with_limits("alice", params(), 250, hour_limit())
        .unwrap();
    m.transition(&running, SessionState::Running, None).unwrap();
    running.set_settled_ticks(17);
    m.record(
        &running,
        EventKind::TimeLimitWarning,
        Actor::System,
        serde_json::json!({"used_pct": 80.0}),
    );
    let stopped = m.create("bob", params(), 250).unwrap();
    m.transition(&stopped, SessionState::Running, None).unwrap();
    m.transition(
        &stopped,
        SessionState::Stopped,
        Some(TerminationReason::ManualStop),
    )
    .unwrap();

    let loaded = FileStore::open(dir.path()).unwrap().load().unwrap();
    assert_eq!(loaded.len(), 3);
    let by_id = |id: &str| loaded.iter().find(|s| s.id == id).unwrap().clone();
    assert_eq!(by_id(&created.id).state, SessionState::Created);
    assert_eq!(by_id(&created.id).limits, hour_limit());
    assert_eq!(by_id(&running.id).state, SessionState::Running);
    assert_eq!(
        by_id(&running.id).settled_ticks,
        0,
        "progress is journaled at state changes"
    );
    assert_eq!(by_id(&stopped.id).user_id, "bob");
    assert_eq!(
        by_id(&stopped.id).termination_reason,
        Some(TerminationReason::ManualStop)
    );

    let again = manager(Arc::new(FileStore::open(dir.path()).unwrap()));
    let report = again.restore(loaded);
    assert_eq!(report.sessions, 3);
    assert_eq!(report.paused, 1);
    assert_eq!(report.expired, 0);
    let r = again.get("alice", &running.id).unwrap();
    assert_eq!(r.state(), SessionState::Paused);
    let before = running.event_log().latest(100);
    let after = r.event_log().latest(100);
    assert_eq!(
        &after[..before.len()],
        &before[..],
        "every event is back, in order"
    );
    assert_eq!(after.last().unwrap().kind, EventKind::SessionPaused);
    assert!(
        r.live().warned_time,
        "a warning fired before the restart does not fire again"
    );
    assert_eq!(again.get("alice", &created.id).unwrap().params, params());
    assert!(again.get("alice", &stopped.id).is_err(), "owners are kept");
    assert_eq!(
        again.get("bob", &stopped.id).unwrap().state(),
        SessionState::Stopped
    );
    assert!(r.deadline().is_some());
}

#[test]
fn a_deadline_that_passed_while_down_fires_at_restore() {
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::open(dir.path()).unwrap();
    let id = uuid::Uuid::new_v4().to_string();
    store.append(
        &id,
        &Record::Saved {
            user_id: "alice".into(),
            params: params(),
            bar_count: 10,
            limits: hour_limit(),
            created_at: chrono::Utc::now() - chrono::Duration::hours(2),
        },
    );
    let m = manager(Arc::new(FileStore::open(dir.path()).unwrap()));
    let report = m.restore(store.load().unwrap());
    assert_eq!(report.expired, 1);
    let s = m.get("alice", &id).unwrap();
    assert_eq!(s.state(), SessionState::Expired);
    assert_eq!(
        s.lifecycle().termination_reason,
        Some(TerminationReason::TimeLimit)
    );
    // And the expiry itself was journaled.
    let reloaded = store.load().unwrap();
    assert_eq!(reloaded[0].state, SessionState::Expired);
}

#[test]
fn a_line_cut_short_by_a_crash_is_ignored_and_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(FileStore::open(dir.path()).unwrap());
    let m = manager(store.clone());
    let s = m.create("alice", params(), 10).unwrap();
    let path = store.dir().join(format!("{}.jsonl", s.id));
    let mut text = std::fs::read(&path).unwrap();
    let good = text.len();
    text.extend_from_slice(br#"{"t":"state","from":"created","to":"runn"#);
    std::fs::write(&path, &text).unwrap();

    let loaded = store.load().unwrap();
    assert_eq!(loaded.len(), 1);
    assert_eq!(loaded[0].state, SessionState::Created);
    assert_eq!(std::fs::metadata(&path).unwrap().len() as usize, good);
    // The next record starts on a fresh line and is read back.
    m.transition(&s, SessionState::Running, None).unwrap();
    assert_eq!(store.load().unwrap()[0].state, SessionState::Running);
}

#[test]
fn unreadable_lines_and_foreign_files_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(FileStore::open(dir.path()).unwrap());
    let m = manager(store.clone());
    let s = m.create("alice", params(), 10).unwrap();
    let path = store.dir().join(format!("{}.jsonl", s.id));
    let mut text = std::fs::read(&path).unwrap();
    text.extend_from_slice(b"not json\n{\"t\":\"mystery\"}\n\n");
    std::fs::write(&path, &text).unwrap();
    m.transition(&s, SessionState::Running, None).unwrap();
    std::fs::write(store.dir().join("notes.jsonl"), "hello\n").unwrap();
    std::fs::write(
        store.dir().join(format!("{}.jsonl", uuid::Uuid::new_v4())),
        "{}\n",
    )
    .unwrap();

    let loaded = store.load().unwrap();
    assert_eq!(loaded.len(), 1);
    assert_eq!(loaded[0].state, SessionState::Running);
}

#[test]
fn deleting_a_session_deletes_its_journals() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(FileStore::open(dir.path()).unwrap());
    let m = manager(store.clone());
    let s = m.create("alice", params(), 10).unwrap();
    let mut log = store.run_log(&s.id, true);
    log.append(&RunRecord::Progress { acked: 3 });
    log.flush();
    assert_eq!(std::fs::read_dir(store.dir()).unwrap().count(), 2);
    m.delete("alice", &s.id).unwrap();
    assert_eq!(std::fs::read_dir(store.dir()).unwrap().count(), 0);
    assert!(store.load().unwrap().is_empty());
}

#[test]
fn run_journals_round_trip_and_tolerate_a_cut_tail() {
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::open(dir.path()).unwrap();
    let id = uuid::Uuid::new_v4().to_string();
    let started = RunRecord::Started {
        window: 64,
        account_updates: Default::default(),
        encoding: Default::default(),
        warmup_bars: 5,
        events: Default::default(),
        compact_times: true,
    };
    let records = vec![
        RunRecord::Ack {
            seq: 3,
            orders: vec![order("a")],
            cancels: vec![],
        },
        RunRecord::Batch {
            settled: 6,
            orders: vec![order("b")],
        },
        RunRecord::Ack {
            seq: 7,
            orders: vec![],
            cancels: vec!["a".into()],
        },
        RunRecord::Progress { acked: 20 },
    ];
    {
        let mut log = store.run_log(&id, true);
        log.append(&started);
        for r in &records {
            log.append(r);
        }
    } // dropped: flushed
    let run = store.load_run(&id);
    assert_eq!(run.started, Some(started.clone()));
    assert_eq!(run.records, records);
    assert_eq!(run.acked(), 20);

    let path = store.dir().join(format!("{id}.run.jsonl"));
    let mut text = std::fs::read(&path).unwrap();
    text.extend_from_slice(br#"{"t":"ack","seq":2"#);
    std::fs::write(&path, &text).unwrap();
    assert_eq!(store.load_run(&id).records, records);
    let mut log = store.run_log(&id, false);
    log.append(&RunRecord::Progress { acked: 25 });
    log.flush();
    assert_eq!(store.load_run(&id).acked(), 25);
    // A new start replaces the old run.
    let mut log = store.run_log(&id, true);
    log.append(&started);
    log.flush();
    assert!(store.load_run(&id).records.is_empty());
    assert_eq!(OrderSide::Buy, order("x").side);
}
