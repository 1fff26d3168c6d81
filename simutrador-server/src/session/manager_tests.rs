//! Unit tests of the session manager (no network; the market data is not involved).

use super::*;
use crate::session::test_support::params;

fn manager(max: u32) -> SessionManager {
    SessionManager::new(ManagerLimits {
        max_sessions_per_user: max,
        idle_timeout: Duration::from_secs(60 * 60),
        retention: Duration::from_secs(24 * 60 * 60),
        max_active_per_user: 5,
    })
}

#[test]
fn users_never_see_each_others_sessions() {
    let m = manager(5);
    let a = m.create("alice", params(), 10).unwrap();
    assert_eq!(m.get("alice", &a.id).unwrap().id, a.id);
    let err = m.get("bob", &a.id).unwrap_err();
    assert_eq!(err.error_code, ErrorCode::SessionNotFound);
    assert_eq!(
        m.delete("bob", &a.id).unwrap_err().error_code,
        ErrorCode::SessionNotFound
    );
    assert_eq!(m.list("bob", &ListSessions::default()).unwrap().total, 0);
    assert_eq!(m.list("alice", &ListSessions::default()).unwrap().total, 1);
}

#[test]
fn the_per_user_limit_counts_open_sessions_only() {
    let m = manager(2);
    let a = m.create("u", params(), 1).unwrap();
    m.create("u", params(), 1).unwrap();
    let err = m.create("u", params(), 1).unwrap_err();
    assert_eq!(err.error_code, ErrorCode::SessionLimitExceeded);
    assert_eq!(err.details["max_sessions_per_user"], 2);
    m.create("other", params(), 1).unwrap();
    m.transition(
        &a,
        SessionState::Stopped,
        Some(TerminationReason::ManualStop),
    )
    .unwrap();
    m.create("u", params(), 1).unwrap();
}

#[test]
fn lists_newest_first_with_pages_and_filters() {
    let m = manager(100);
    let ids: Vec<_> = (0..7)
        .map(|_| m.create("u", params(), 1).unwrap().id.clone())
        .collect();
    let page = m
        .list(
            "u",
            &ListSessions {
                limit: Some(3),
                offset: Some(0),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(page.total, 7);
    assert!(page.has_more);
    let got: Vec<_> = page.sessions.iter().map(|s| s.session_id.clone()).collect();
    assert_eq!(
        got,
        vec![ids[6].to_string(), ids[5].to_string(), ids[4].to_string()]
    );
    let last = m
        .list(
            "u",
            &ListSessions {
                limit: Some(3),
                offset: Some(6),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(last.sessions.len(), 1);
    assert!(!last.has_more);
    let s = m.get("u", &ids[2]).unwrap();
    m.transition(&s, SessionState::Running, None).unwrap();
    let running = m
        .list(
            "u",
            &ListSessions {
                state: Some(SessionState::Running),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(running.total, 1);
    assert_eq!(running.sessions[0].session_id, ids[2].to_string());
}

#[test]
fn delete_frees_the_slot() {
    let m = manager(1);
    let a = m.create("u", params(), 1).unwrap();
    m.delete("u", &a.id).unwrap();
    assert!(m.is_empty());
    m.create("u", params(), 1).unwrap();
    assert_eq!(
        m.delete("u", &a.id).unwrap_err().error_code,
        ErrorCode::SessionNotFound
    );
}

#[test]
fn illegal_transitions_change_nothing() {
    let m = manager(5);
    let a = m.create("u", params(), 1).unwrap();
    let err = m.transition(&a, SessionState::Paused, None).unwrap_err();
    assert_eq!(err.error_code, ErrorCode::InvalidState);
    assert_eq!(a.state(), SessionState::Created);
}

#[tokio::test(start_paused = true)]
async fn idle_sessions_expire_and_ended_ones_are_removed_after_retention() {
    let m = manager(5);
    let idle = m.create("u", params(), 1).unwrap();
    let busy = m.create("u", params(), 1).unwrap();
    tokio::time::advance(Duration::from_secs(59 * 60)).await;
    m.get_to_use("u", &busy.id).unwrap(); // used: its idle timer restarts
    tokio::time::advance(Duration::from_secs(2 * 60)).await;
    let report = m.sweep(Instant::now());
    assert_eq!(
        report,
        SweepReport {
            expired: 1,
            removed: 0
        }
    );
    let info = m
        .get("u", &idle.id)
        .unwrap()
        .info(Duration::from_secs(3600));
    assert_eq!(info.state, SessionState::Expired);
    assert_eq!(
        info.termination_reason,
        Some(TerminationReason::IdleTimeout)
    );
    assert_eq!(busy.state(), SessionState::Created);
    tokio::time::advance(Duration::from_secs(24 * 60 * 60)).await;
    let report = m.sweep(Instant::now());
    assert_eq!(
        report,
        SweepReport {
            expired: 1,
            removed: 1
        }
    );
    assert_eq!(
        m.len(),
        1,
        "the idle one was removed; the busy one expired in this pass"
    );
    assert_eq!(busy.state(), SessionState::Expired);
}

#[tokio::test(start_paused = true)]
async fn reading_a_session_does_not_restart_its_idle_timer() {
    let m = manager(5);
    let read = m.create("u", params(), 1).unwrap();
    let used = m.create("u", params(), 1).unwrap();
    tokio::time::advance(Duration::from_secs(59 * 60)).await;
    m.get("u", &read.id).unwrap(); // status, results, events, a watch: reads
    m.get_to_use("u", &used.id).unwrap();
    tokio::time::advance(Duration::from_secs(2 * 60)).await;
    let report = m.sweep(Instant::now());
    assert_eq!(
        report,
        SweepReport {
            expired: 1,
            removed: 0
        }
    );
    assert_eq!(read.state(), SessionState::Expired, "a read is not use");
    assert_eq!(used.state(), SessionState::Created);
}

#[test]
fn concurrent_creates_lose_nothing_and_respect_the_limit() {
    let m = Arc::new(manager(50));
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let m = m.clone();
            std::thread::spawn(move || {
                (0..20)
                    .filter(|_| m.create("u", params(), 1).is_ok())
                    .count()
            })
        })
        .collect();
    let created: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(created, 50);
    assert_eq!(m.len(), 50);
    assert_eq!(
        m.list(
            "u",
            &ListSessions {
                limit: Some(500),
                ..Default::default()
            }
        )
        .unwrap()
        .total,
        50
    );
}
