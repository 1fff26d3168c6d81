//! Lifecycle unit tests on a paused clock: deadlines, warnings once, illegal transitions,
//! updates locked after the start, list filters and pages.

use super::*;
use crate::session::hooks::Hooks;
use crate::session::limits::RiskLimits;
use crate::session::test_support::{Recorder, params};
use crate::session::timers;
use rust_decimal::Decimal;
use shared_models::lifecycle::{EventKind, Performance, SessionSort};
use shared_models::messages::client::ListSessions;
use shared_models::{ErrorCode, SessionState, TerminationReason};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

fn one_hour() -> RiskLimits {
    RiskLimits {
        max_duration_seconds: 3600,
        ..RiskLimits::none()
    }
}

fn manager() -> Arc<SessionManager> {
    observed_manager().0
}

/// A manager with its timer task running, and what it reports.
fn observed_manager() -> (Arc<SessionManager>, Arc<Recorder>) {
    let events = Arc::new(Recorder::default());
    let limits = manager::ManagerLimits {
        max_sessions_per_user: 50,
        idle_timeout: Duration::from_secs(100 * 3600),
        retention: Duration::from_secs(100 * 3600),
        max_active_per_user: 5,
    };
    let hooks = Hooks {
        observer: events.clone(),
        ..Hooks::default()
    };
    let m = Arc::new(SessionManager::with_hooks(limits, hooks));
    let queue = m.take_timer_queue().unwrap();
    tokio::spawn(timers::run(m.clone(), queue, CancellationToken::new()));
    (m, events)
}

async fn advance(d: Duration) {
    tokio::time::advance(d).await;
    for _ in 0..20 {
        tokio::task::yield_now().await;
    }
}

fn count(s: &Session, kind: EventKind) -> usize {
    s.event_log().count(kind)
}

#[tokio::test(start_paused = true)]
async fn a_session_expires_at_its_deadline_after_one_warning() {
    let (m, events) = observed_manager();
    let s = m.create_with_limits("u", params(), 10, one_hour()).unwrap();
    let other = m.create("u", params(), 10).unwrap(); // no limit: never expires
    advance(Duration::from_secs(47 * 60)).await;
    assert_eq!(count(&s, EventKind::TimeLimitWarning), 0);
    advance(Duration::from_secs(60)).await; // 48 min = 80 %
    assert_eq!(count(&s, EventKind::TimeLimitWarning), 1);
    assert!(
        !m.warn(&s, shared_models::lifecycle::WarningKind::Time),
        "once only"
    );
    advance(Duration::from_millis(12 * 60 * 1000 - 1)).await;
    assert_eq!(s.state(), SessionState::Created, "1 ms before the deadline");
    advance(Duration::from_millis(1)).await;
    let info = s.info(Duration::from_secs(3600));
    assert_eq!(info.state, SessionState::Expired);
    assert_eq!(info.termination_reason, Some(TerminationReason::TimeLimit));
    assert_eq!(count(&s, EventKind::TimeLimitWarning), 1);
    let ended = s.event_log().latest(1);
    assert_eq!(ended[0].kind, EventKind::SessionEnded);
    assert_eq!(ended[0].actor, shared_models::lifecycle::Actor::System);
    assert_eq!(other.state(), SessionState::Created);
    assert_eq!(events.jobs_run("time_limit"), 1);
}

#[tokio::test(start_paused = true)]
async fn an_update_reschedules_the_deadline_and_is_locked_after_the_start() {
    let m = manager();
    let s = m.create_with_limits("u", params(), 10, one_hour()).unwrap();
    let two_hours = RiskLimits {
        max_duration_seconds: 7200,
        ..RiskLimits::none()
    };
    let s2 = m.update(&s, params(), 10, two_hours.clone()).unwrap();
    assert_eq!(s2.id, s.id);
    assert_eq!(
        m.transition(&s, SessionState::Running, None)
            .unwrap_err()
            .error_code,
        ErrorCode::InvalidState,
        "the replaced record cannot start"
    );
    advance(Duration::from_secs(3601)).await;
    assert_eq!(
        s2.state(),
        SessionState::Created,
        "the old deadline was cancelled"
    );
    assert_eq!(
        count(&s2, EventKind::TimeLimitWarning),
        0,
        "{:?}",
        s2.event_log().latest(9)
    );
    m.transition(&s2, SessionState::Running, None).unwrap();
    let e = m.update(&s2, params(), 10, two_hours).unwrap_err();
    assert_eq!(e.error_code, ErrorCode::SessionLocked);
    advance(Duration::from_secs(3600)).await;
    assert_eq!(s2.state(), SessionState::Expired);
    let kinds: Vec<_> = s2.event_log().latest(10).iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        vec![
            EventKind::SessionCreated,
            EventKind::SessionUpdated,
            EventKind::SessionStarted,
            EventKind::TimeLimitWarning,
            EventKind::SessionEnded
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn illegal_transitions_are_refused_and_change_nothing() {
    let m = manager();
    let s = m.create("u", params(), 1).unwrap();
    for to in [SessionState::Paused, SessionState::Created] {
        assert_eq!(
            m.transition(&s, to, None).unwrap_err().error_code,
            ErrorCode::InvalidState
        );
    }
    m.terminate(
        &s,
        SessionState::Stopped,
        TerminationReason::ManualStop,
        shared_models::lifecycle::Actor::User,
        None,
    )
    .unwrap();
    for to in SessionState::ALL {
        assert_eq!(
            m.transition(&s, to, None).unwrap_err().error_code,
            ErrorCode::InvalidState
        );
    }
    assert_eq!(s.state(), SessionState::Stopped);
    assert_eq!(count(&s, EventKind::SessionEnded), 1);
}

#[tokio::test(start_paused = true)]
async fn lists_filter_by_creation_time_and_performance_and_sort_by_return() {
    let m = manager();
    let ids: Vec<_> = (0..5)
        .map(|_| m.create("u", params(), 1).unwrap())
        .collect();
    // Returns: +10 %, -5 %, none, +2 %, -20 %.
    for (s, eq) in ids.iter().zip([
        Some(110_000),
        Some(95_000),
        None,
        Some(102_000),
        Some(80_000),
    ]) {
        if let Some(e) = eq {
            s.publish(Decimal::from(e), 0);
        }
    }
    let q = |performance, sort, limit, offset| ListSessions {
        performance,
        sort,
        limit,
        offset,
        ..Default::default()
    };
    let profit = m
        .list("u", &q(Some(Performance::Profit), None, None, None))
        .unwrap();
    assert_eq!(profit.total, 2);
    let loss = m
        .list("u", &q(Some(Performance::Loss), None, None, None))
        .unwrap();
    assert_eq!(loss.total, 2);
    let best = m
        .list("u", &q(None, Some(SessionSort::Return), Some(2), Some(0)))
        .unwrap();
    assert_eq!(best.sessions[0].session_id, ids[0].id.to_string());
    assert_eq!(best.sessions[1].session_id, ids[3].id.to_string());
    assert!(best.has_more);
    let rest = m
        .list("u", &q(None, Some(SessionSort::Return), Some(2), Some(4)))
        .unwrap();
    assert_eq!(
        rest.sessions[0].session_id,
        ids[2].id.to_string(),
        "never ran: last"
    );
    assert!(!rest.has_more);
    let today = chrono::Utc::now().date_naive().to_string();
    let window = ListSessions {
        created_from: Some(today.clone()),
        created_to: Some(today),
        ..Default::default()
    };
    assert_eq!(m.list("u", &window).unwrap().total, 5);
    let future = ListSessions {
        created_from: Some("2999-01-01".into()),
        ..Default::default()
    };
    assert_eq!(m.list("u", &future).unwrap().total, 0);
    let bad = ListSessions {
        created_to: Some("yesterday".into()),
        ..Default::default()
    };
    assert_eq!(
        m.list("u", &bad).unwrap_err().error_code,
        ErrorCode::InvalidDateRange
    );
}
