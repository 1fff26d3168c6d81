//! Tests of the history aggregation ([`super::aggregate`], [`super::history_stats`]), of
//! `compare_sessions` / `get_history_stats` on a real manager, and of the duration and
//! end-reason filters and new orders of `list_sessions` they share.

use super::*;
use crate::session::manager::ManagerLimits;
use crate::session::test_support::params;
use rust_decimal::Decimal;
use serde_json::Value;
use shared_models::lifecycle::SessionSort;
use shared_models::messages::client::ListSessions;
use shared_models::{SessionState, TerminationReason};
use std::time::Duration;

fn manager(max: u32) -> SessionManager {
    SessionManager::new(ManagerLimits {
        max_sessions_per_user: max,
        idle_timeout: Duration::from_secs(3600),
        retention: Duration::from_secs(3600),
        max_active_per_user: 5,
    })
}

fn point(id: &str, strategy: Option<&str>, ret: Option<f64>, trades: u64) -> HistoryPoint {
    HistoryPoint {
        session_id: id.into(),
        strategy: strategy.map(str::to_string),
        return_pct: ret,
        trades,
        max_drawdown_pct: ret.map(|r| r.abs()),
    }
}

#[test]
fn empty_history_has_counts_of_zero_and_no_figures() {
    let g = aggregate(&[], None);
    assert_eq!((g.sessions, g.with_return, g.winners), (0, 0, 0));
    assert_eq!(g.win_rate_pct, None);
    assert_eq!(g.mean_return_pct, None);
    assert_eq!(g.median_return_pct, None);
    assert_eq!((g.best, g.worst), (None, None));
    assert_eq!(g.mean_max_drawdown_pct, None);
    let h = history_stats(&[]);
    assert!(h.by_strategy.is_empty());
}

#[test]
fn the_median_of_an_even_count_is_the_mean_of_the_middle_two() {
    let ps = [
        point("a", None, Some(4.0), 1),
        point("b", None, Some(-2.0), 1),
        point("c", None, Some(10.0), 1),
        point("d", None, Some(1.0), 1),
    ];
    let g = aggregate(&ps, None);
    assert_eq!(g.median_return_pct, Some(2.5));
    assert_eq!(g.mean_return_pct, Some(3.25));
    let odd = aggregate(&ps[..3], None);
    assert_eq!(odd.median_return_pct, Some(4.0));
}

#[test]
fn win_rate_best_and_worst_count_only_sessions_that_ran() {
    let ps = [
        point("new", None, Some(5.0), 3),
        point("never", None, None, 0),
        point("flat", None, Some(0.0), 0),
        point("old", None, Some(5.0), 2),
        point("bad", None, Some(-8.0), 1),
    ];
    let g = aggregate(&ps, None);
    assert_eq!((g.sessions, g.with_return, g.winners), (5, 4, 2));
    assert_eq!(g.win_rate_pct, Some(50.0), "a 0 % return is not a win");
    let best = g.best.unwrap();
    assert_eq!((best.session_id.as_str(), best.return_pct), ("new", 5.0));
    assert_eq!(g.worst.unwrap().session_id, "bad");
    assert_eq!(g.total_trades, 6);
    assert_eq!(
        g.zero_trade_sessions, 1,
        "zero-trade sessions that ran count"
    );
    assert_eq!(g.mean_max_drawdown_pct, Some(-4.5));
}

#[test]
fn groups_follow_the_strategy_with_unnamed_ones_last() {
    let ps = [
        point("a", Some("sma-cross"), Some(1.0), 1),
        point("b", None, Some(-1.0), 1),
        point("c", Some("buy-and-hold"), Some(3.0), 0),
        point("d", Some("sma-cross"), Some(-3.0), 2),
    ];
    let h = history_stats(&ps);
    assert_eq!(h.overall.sessions, 4);
    let names: Vec<_> = h.by_strategy.iter().map(|g| g.strategy.clone()).collect();
    assert_eq!(
        names,
        vec![Some("buy-and-hold".into()), Some("sma-cross".into()), None]
    );
    assert_eq!(h.by_strategy[1].sessions, 2);
    assert_eq!(h.by_strategy[1].median_return_pct, Some(-1.0));
}

#[test]
fn the_manager_compares_and_aggregates_its_users_sessions() {
    let m = manager(10);
    let mut tagged = params();
    tagged
        .metadata
        .insert("strategy".into(), Value::String("sma-cross".into()));
    let a = m.create("u", tagged, 10).unwrap();
    let b = m.create("u", params(), 10).unwrap();
    let _other = m.create("v", params(), 10).unwrap();
    m.transition(&a, SessionState::Running, None).unwrap();
    a.publish(a.params.initial_capital + Decimal::from(500), 2);
    let c = m
        .compare(
            "u",
            &CompareSessions {
                session_ids: vec![b.id.to_string(), a.id.to_string()],
            },
        )
        .unwrap();
    assert_eq!(c.sessions[0].session_id, b.id.to_string());
    assert_eq!(c.sessions[0].equity, None);
    assert_eq!(c.sessions[1].pnl, Some(Decimal::from(500)));
    assert_eq!(c.sessions[1].strategy.as_deref(), Some("sma-cross"));
    for (ids, code) in [
        (vec![], ErrorCode::ValidationFailed),
        (
            vec![a.id.to_string(), a.id.to_string()],
            ErrorCode::ValidationFailed,
        ),
        (vec![_other.id.to_string()], ErrorCode::SessionNotFound),
    ] {
        let err = m
            .compare("u", &CompareSessions { session_ids: ids })
            .unwrap_err();
        assert_eq!(err.error_code, code);
    }
    let h = m.history_stats("u", &GetHistoryStats::default()).unwrap();
    assert_eq!((h.overall.sessions, h.overall.with_return), (2, 1));
    assert_eq!(h.by_strategy.len(), 2);
    let running = GetHistoryStats {
        state: Some(SessionState::Running),
        ..Default::default()
    };
    assert_eq!(m.history_stats("u", &running).unwrap().overall.sessions, 1);
}

#[test]
fn lists_filter_by_duration_and_reason_and_sort_by_drawdown_trades_and_duration() {
    let m = manager(10);
    let span = |start: &str, end: &str| {
        let mut p = params();
        p.start_date = start.into();
        p.end_date = end.into();
        p
    };
    // 366, 31 and 10 days; the first two run, the first ends at its loss limit.
    let year = m.create("u", span("2020-01-01", "2020-12-31"), 10).unwrap();
    let month = m.create("u", span("2020-03-01", "2020-03-31"), 10).unwrap();
    let days = m.create("u", span("2020-05-01", "2020-05-10"), 10).unwrap();
    for (s, trades) in [(&year, 1), (&month, 7)] {
        m.transition(s, SessionState::Running, None).unwrap();
        s.publish(Decimal::from(100_000), trades);
    }
    year.publish(Decimal::from(80_000), 1);
    month.publish(Decimal::from(99_000), 7);
    m.transition(
        &year,
        SessionState::Stopped,
        Some(TerminationReason::LossLimit),
    )
    .unwrap();
    let ids = |q: ListSessions| -> Vec<String> {
        let list = m.list("u", &q).unwrap();
        list.sessions.into_iter().map(|s| s.session_id).collect()
    };
    let id = |s: &Session| s.id.to_string();
    let d = 86_400;
    assert_eq!(
        ids(ListSessions {
            min_duration_seconds: Some(31 * d),
            ..Default::default()
        }),
        vec![id(&month), id(&year)]
    );
    assert_eq!(
        ids(ListSessions {
            max_duration_seconds: Some(31 * d - 1),
            ..Default::default()
        }),
        vec![id(&days)]
    );
    assert_eq!(
        ids(ListSessions {
            reason: Some(TerminationReason::LossLimit),
            ..Default::default()
        }),
        vec![id(&year)]
    );
    let sorted = |sort| {
        ids(ListSessions {
            sort: Some(sort),
            ..Default::default()
        })
    };
    assert_eq!(
        sorted(SessionSort::Drawdown),
        vec![id(&month), id(&year), id(&days)],
        "mildest first, never ran last"
    );
    assert_eq!(
        sorted(SessionSort::Trades),
        vec![id(&month), id(&year), id(&days)]
    );
    assert_eq!(
        sorted(SessionSort::Duration),
        vec![id(&year), id(&month), id(&days)]
    );
    let info = m.get("u", &year.id).unwrap().info(Duration::from_secs(1));
    assert_eq!(info.trades, Some(1));
    assert_eq!(info.max_drawdown_pct, Some(-20.0));
}
