//! Unit tests of the file store: round trip through the manager, a line cut short by a crash,
//! unreadable lines, deletion, run journals, and a deadline that passed while down.

use super::*;
use crate::session::SessionManager;
use crate::session::limits::RiskLimits;
use crate::session::test_support::params;
use rust_decimal::Decimal;
use shared_models::SessionInfo;
use shared_models::lifecycle::{Actor, EventKind};
use shared_models::trading::{OrderRequest, OrderSide};
use std::sync::Arc;
use std::time::Duration;

fn manager(store: Arc<FileStore>) -> SessionManager {
    crate::session::test_support::manager_on(store)
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
    let by_id = |id: &str| loaded.iter().find(|s| s.id() == id).unwrap().clone();
    assert_eq!(by_id(&created.id).info.state, SessionState::Created);
    assert_eq!(by_id(&created.id).limits, hour_limit());
    assert_eq!(by_id(&running.id).info.state, SessionState::Running);
    assert_eq!(
        by_id(&running.id).info.settled_ticks,
        0,
        "progress is journaled at state changes"
    );
    assert_eq!(by_id(&stopped.id).info.user_id, "bob");
    assert_eq!(
        by_id(&stopped.id).info.termination_reason,
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
    store
        .append(
            &id,
            &Record::Saved {
                user_id: "alice".into(),
                params: params(),
                bar_count: 10,
                limits: hour_limit(),
                created_at: chrono::Utc::now() - chrono::Duration::hours(2),
                data: None,
            },
        )
        .unwrap();
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
    assert_eq!(reloaded[0].info.state, SessionState::Expired);
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
    assert_eq!(loaded[0].info.state, SessionState::Created);
    assert_eq!(std::fs::metadata(&path).unwrap().len() as usize, good);
    // The next record starts on a fresh line and is read back.
    m.transition(&s, SessionState::Running, None).unwrap();
    assert_eq!(store.load().unwrap()[0].info.state, SessionState::Running);
}

#[test]
fn foreign_files_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(FileStore::open(dir.path()).unwrap());
    let m = manager(store.clone());
    let s = m.create("alice", params(), 10).unwrap();
    m.transition(&s, SessionState::Running, None).unwrap();
    std::fs::write(store.dir().join("notes.jsonl"), "hello\n").unwrap();
    std::fs::write(store.dir().join("readme.txt"), "hello\n").unwrap();

    let loaded = store.load().unwrap();
    assert_eq!(loaded.len(), 1);
    assert_eq!(loaded[0].info.state, SessionState::Running);
    assert!(store.dir().join("notes.jsonl").exists(), "left alone");
}

/// Before framing, an unreadable line in the middle was skipped and the session resumed
/// on what was left; it is now damage: quarantined unchanged, shown `damaged`.
#[test]
fn unreadable_lines_in_the_middle_mark_the_session_damaged() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(FileStore::open(dir.path()).unwrap());
    let m = manager(store.clone());
    let s = m.create("alice", params(), 10).unwrap();
    let path = store.dir().join(format!("{}.jsonl", s.id));
    let mut text = std::fs::read(&path).unwrap();
    text.extend_from_slice(b"not json\n");
    std::fs::write(&path, &text).unwrap();
    m.transition(&s, SessionState::Running, None).unwrap();
    let bytes = std::fs::read(&path).unwrap();

    let loaded = store.load().unwrap();
    assert_eq!(loaded.len(), 1);
    assert_eq!(loaded[0].info.state, SessionState::Damaged);
    let message = loaded[0].info.damage.clone().unwrap();
    assert!(message.contains("line 3"), "{message}");
    assert!(message.contains("quarantine"), "{message}");
    assert!(!path.exists(), "moved out of the live journals");
    let kept = store.quarantine_dir().join(format!("{}.jsonl", s.id));
    assert_eq!(std::fs::read(&kept).unwrap(), bytes, "kept byte for byte");

    // Loading again finds it in quarantine, still damaged, still unchanged.
    let again = store.load().unwrap();
    assert_eq!(again[0].info.state, SessionState::Damaged);
    assert_eq!(std::fs::read(&kept).unwrap(), bytes);

    // Restored, it is never resumed, nor removed by retention; a delete discards it.
    let m2 = manager(Arc::new(FileStore::open(dir.path()).unwrap()));
    let report = m2.restore(again);
    assert_eq!(report.paused, 0);
    let d = m2.get("alice", &s.id).unwrap();
    assert_eq!(d.state(), SessionState::Damaged);
    assert!(d.lifecycle().ended_instant.is_none());
    assert!(m2.transition(&d, SessionState::Running, None).is_err());
    m2.delete("alice", &s.id).unwrap();
    assert!(!kept.exists());
}

#[test]
fn a_corrupt_first_line_keeps_the_session_and_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(FileStore::open(dir.path()).unwrap());
    let m = manager(store.clone());
    let s = m.create("alice", params(), 10).unwrap();
    let path = store.dir().join(format!("{}.jsonl", s.id));
    let mut bytes = std::fs::read(&path).unwrap();
    // One flipped digit of the initial capital: the line still parses, its checksum fails.
    let at = bytes.windows(8).position(|w| w == b"\"100000\"").unwrap();
    bytes[at + 1] = b'9';
    std::fs::write(&path, &bytes).unwrap();

    let loaded = store.load().unwrap();
    assert_eq!(loaded.len(), 1, "not dropped");
    assert_eq!(loaded[0].info.state, SessionState::Damaged);
    assert_eq!(loaded[0].info.user_id, "alice", "its owner still sees it");
    assert!(loaded[0].info.damage.as_ref().unwrap().contains("line 1"));
    let kept = store.quarantine_dir().join(format!("{}.jsonl", s.id));
    assert_eq!(std::fs::read(&kept).unwrap(), bytes, "nothing cut");
}

#[test]
fn deleting_a_session_deletes_its_journals() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(FileStore::open(dir.path()).unwrap());
    let m = manager(store.clone());
    let s = m.create("alice", params(), 10).unwrap();
    let mut log = store.run_log(&s.id, true).unwrap();
    log.append(&RunRecord::Progress { acked: 3 });
    log.flush().unwrap();
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
        indicator_warmup_bars: 0,
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
        let mut log = store.run_log(&id, true).unwrap();
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
    let mut log = store.run_log(&id, false).unwrap();
    log.append(&RunRecord::Progress { acked: 25 });
    log.flush().unwrap();
    assert_eq!(store.load_run(&id).acked(), 25);
    // A new start replaces the old run.
    let mut log = store.run_log(&id, true).unwrap();
    log.append(&started);
    log.flush().unwrap();
    assert!(store.load_run(&id).records.is_empty());
    assert_eq!(OrderSide::Buy, order("x").side);
}

#[test]
fn the_stored_summary_is_the_one_the_daemon_reports() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(FileStore::open(dir.path()).unwrap());
    let m = manager(store.clone());
    let created = m
        .create_with_limits("alice", params(), 250, hour_limit())
        .unwrap();
    let stopped = m.create("bob", params(), 250).unwrap();
    m.transition(&stopped, SessionState::Running, None).unwrap();
    stopped.set_settled_ticks(40);
    stopped.publish(Decimal::from(95_000), 2);
    m.transition(
        &stopped,
        SessionState::Stopped,
        Some(TerminationReason::ManualStop),
    )
    .unwrap();

    let loaded = store.load().unwrap();
    for s in [&created, &stopped] {
        let mut daemon = s.info(Duration::from_secs(3600));
        daemon.idle_expires_at = None; // the daemon's clock, not journaled
        let stored = loaded.iter().find(|l| l.id() == &*s.id).unwrap();
        assert_eq!(stored.info, daemon);
    }
}

#[test]
fn a_journal_written_by_an_earlier_daemon_still_loads() {
    // Lines as the daemon has written them since journals exist (state dirs in the field).
    let journal = r#"{"t":"saved","user_id":"alice","params":{"symbols":["ACME"],"start_date":"2020-01-01","end_date":"2020-12-31","timeframe":"1d","initial_capital":"100000","commission_rate":"0","commission_per_share":"0","commission_min":"0","slippage_bps":"0","allow_short":true,"close_at_end":false},"bar_count":250,"limits":{"max_duration_seconds":3600,"loss_limit":null,"loss_limit_pct":null,"warning_pct":"80","halt":null},"created_at":"2024-03-01T10:00:00Z"}
{"t":"event","event":{"seq":0,"time":"2024-03-01T10:00:00Z","kind":"SESSION_CREATED","actor":"user","data":{"expires_at":"2024-03-01T11:00:00Z","max_duration":"1h","max_duration_seconds":3600,"warning_threshold_pct":"80"}}}
{"t":"state","from":"created","to":"running","at":"2024-03-01T10:01:00Z","settled_ticks":0,"live":{"equity":null,"peak":"0","max_drawdown_pct":0.0,"trades":0,"warned_time":false,"warned_loss":false}}
{"t":"event","event":{"seq":1,"time":"2024-03-01T10:01:00Z","kind":"SESSION_STARTED","actor":"user","data":{"from":"created","to":"running"}}}
{"t":"state","from":"running","to":"stopped","reason":"manual_stop","at":"2024-03-01T10:02:00Z","settled_ticks":40,"live":{"equity":"95000","peak":"95000","max_drawdown_pct":0.0,"trades":2,"warned_time":false,"warned_loss":false}}
"#;
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::open(dir.path()).unwrap();
    let id = uuid::Uuid::new_v4().to_string();
    std::fs::write(store.dir().join(format!("{id}.jsonl")), journal).unwrap();

    let loaded = store.load().unwrap();
    assert_eq!(loaded.len(), 1);
    let s = &loaded[0];
    let at = |t: &str| t.parse::<chrono::DateTime<chrono::Utc>>().unwrap();
    let expected = SessionInfo {
        session_id: id.clone(),
        user_id: "alice".into(),
        state: SessionState::Stopped,
        params: params(),
        bar_count: 250,
        created_at: at("2024-03-01T10:00:00Z"),
        updated_at: at("2024-03-01T10:02:00Z"),
        idle_expires_at: None,
        started_at: Some(at("2024-03-01T10:01:00Z")),
        ended_at: Some(at("2024-03-01T10:02:00Z")),
        termination_reason: Some(TerminationReason::ManualStop),
        settled_ticks: 40,
        limits: Some(hour_limit().wire(Some(at("2024-03-01T10:00:00Z")))),
        equity: Some(Decimal::from(95_000)),
        return_pct: Some(-5.0),
        trades: Some(2),
        max_drawdown_pct: Some(0.0 - s.live.max_drawdown_pct),
        damage: None,
        strategy: None,
        client_version: None,
        data_fingerprint: None,
    };
    assert_eq!(s.info, expected);
    assert_eq!(s.limits, hour_limit());
    assert_eq!((s.live.trades, s.events.len()), (2, 2));
    assert_eq!(
        s.info.limits.as_ref().unwrap().expires_at,
        Some(at("2024-03-01T11:00:00Z"))
    );
}
