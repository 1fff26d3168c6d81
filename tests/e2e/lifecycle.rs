//! Session lifecycle against the real daemon: limits refused with their ranges, the loss limit
//! stopping a run at the right bar with the right closing trade, an emergency stop in the
//! middle of a run, illegal transitions, updates locked after the start, the volatility halt,
//! live subscriptions (same user, two connections; refused for another user), the event log,
//! the audit log and `/metrics`.

use crate::support::{Raw, create_data, error_code, login};
use rust_decimal::Decimal;
use serde_json::json;
use shared_models::lifecycle::{EventKind, StopKind};
use shared_models::{ErrorCode, ServerMessage, SessionState, TerminationReason, Timeframe};
use simutrador_client::strategy::{StrategyContext, TickView};
use simutrador_client::{
    Client, ClientError, RunOptions, SessionRequestBuilder, Strategy, StrategySpec, build_strategy,
};
use simutrador_e2e::{TestDaemon, demo_catalog};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Send a request on a connection that also streams ticks; skip pushes until the reply.
async fn ask(raw: &mut Raw, kind: &str, data: serde_json::Value) -> serde_json::Value {
    let id = format!("ask-{kind}");
    let text = json!({ "type": kind, "request_id": id, "data": data }).to_string();
    raw.send_text(&text).await;
    loop {
        let msg = raw.recv().await;
        if msg["request_id"] == id.as_str() {
            return msg;
        }
    }
}

async fn client(d: &TestDaemon, user: &str) -> Client {
    let key = d.add_key(user).unwrap();
    Client::connect_with_api_key(&d.url(), &key).await.unwrap()
}

fn code(e: ClientError) -> (ErrorCode, serde_json::Value) {
    match e {
        ClientError::Server { code, details, .. } => (code, details),
        other => panic!("expected a server error, got {other:?}"),
    }
}

#[tokio::test]
async fn limits_outside_the_policy_are_refused_with_the_allowed_range() {
    let d = TestDaemon::start().await.unwrap();
    let mut raw = Raw::connect(&d, &login(&d, "alice").await).await;
    let mut data = create_data("ACME");
    data["max_duration"] = json!("30m");
    let r = ask(&mut raw, "create_session", data.clone()).await;
    assert_eq!(error_code(&r), "INVALID_DURATION");
    assert_eq!(r["data"]["details"]["min"], "1h");
    assert_eq!(r["data"]["details"]["max"], "7d");
    data["max_duration"] = json!("4h");
    data["loss_limit_pct"] = json!(45);
    let r = ask(&mut raw, "create_session", data.clone()).await;
    assert_eq!(error_code(&r), "LOSS_LIMIT_TOO_HIGH");
    assert_eq!(r["data"]["details"]["max_pct"], "30");
    assert_eq!(r["data"]["details"]["max_amount"], "30000");
    data["loss_limit_pct"] = json!(20);
    let r = ask(&mut raw, "create_session", data).await;
    assert_eq!(r["type"], "session_created", "{r}");
    let limits = &r["data"]["limits"];
    assert_eq!(limits["max_duration"], "4h");
    assert_eq!(limits["max_loss_amount"], "20000");
    assert!(limits["expires_at"].is_string());
    raw.assert_alive().await;
}

#[tokio::test]
async fn the_loss_limit_stops_the_run_at_the_breaching_bar_and_closes_at_its_close() {
    let d = TestDaemon::start().await.unwrap();
    let c = client(&d, "alice").await;
    let req = SessionRequestBuilder::new(["ACME"], "2015-01-01", "2019-12-31").build();
    let mut req = req;
    req.loss_limit_pct = Some(Decimal::from(5));
    let s = c.create_session(req).await.unwrap();
    let spec = StrategySpec::parse("buy-and-hold", []).unwrap();
    let mut strategy = build_strategy(&spec).unwrap();
    let results = c
        .run_simulation(&s.session_id, strategy.as_mut(), RunOptions::default())
        .await
        .unwrap();
    let info = c.get_session(&s.session_id).await.unwrap();
    assert_eq!(info.state, SessionState::Stopped);
    assert_eq!(info.termination_reason, Some(TerminationReason::LossLimit));
    assert!(info.settled_ticks < info.bar_count, "stopped early");

    // The stop bar is the first whose close-marked equity is at or below 95 000.
    let floor = Decimal::from(95_000);
    let curve = &results.equity_curve;
    let last = curve.last().unwrap();
    assert!(last.equity <= floor);
    assert!(curve[..curve.len() - 1].iter().all(|p| p.equity > floor));
    assert_eq!(curve.len() as u64, info.settled_ticks);
    // One round trip, closed at that bar's close, and nothing left open.
    assert_eq!(results.trades.len(), 1);
    let trade = &results.trades[0];
    assert_eq!(trade.exit_time, last.time);
    let series = demo_catalog()
        .series("ACME", Timeframe::D1)
        .unwrap()
        .clone();
    let i = series
        .timestamps()
        .iter()
        .position(|t| *t == last.time.timestamp())
        .unwrap();
    let close = Decimal::new(series.closes()[i], series.price_scale());
    assert_eq!(trade.exit_price, close);
    assert!(results.open_positions.iter().all(|p| p.quantity.is_zero()));
    let events = c.session_events(&s.session_id, None, None).await.unwrap();
    let kinds: Vec<_> = events.events.iter().map(|e| e.kind).collect();
    assert_eq!(kinds.first(), Some(&EventKind::SessionCreated));
    assert!(kinds.contains(&EventKind::LossLimitWarning));
    assert_eq!(kinds.last(), Some(&EventKind::SessionEnded));
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == EventKind::LossLimitWarning)
            .count(),
        1
    );
}

/// Buys at once, then at tick 100 holds the run until the test has sent its stop.
struct HoldAt {
    stop_sent: Arc<AtomicBool>,
    reached: Arc<AtomicBool>,
    bought: bool,
}

impl Strategy for HoldAt {
    fn on_tick(&mut self, tick: &TickView<'_>, ctx: &mut StrategyContext) {
        if !self.bought {
            ctx.buy_percent("BITDEMO", Decimal::ONE);
            self.bought = true;
        }
        if tick.sequence_id() == 100 {
            self.reached.store(true, Ordering::Release);
            // Hand this worker's queue to another thread while waiting, so the
            // connection's tasks keep running.
            tokio::task::block_in_place(|| {
                for _ in 0..10_000 {
                    if self.stop_sent.load(Ordering::Acquire) {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(1));
                }
            });
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_emergency_stop_in_the_middle_of_a_run_flattens_and_reports_final_stats() {
    let d = TestDaemon::start().await.unwrap();
    let runner = client(&d, "alice").await;
    let other = client(&d, "alice").await;
    let req = SessionRequestBuilder::new(["BITDEMO"], "2024-12-02", "2024-12-03")
        .timeframe(Timeframe::M1)
        .build();
    let s = runner.create_session(req).await.unwrap();
    let (stop_sent, reached) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicBool::new(false)),
    );
    let mut strategy = HoldAt {
        stop_sent: stop_sent.clone(),
        reached: reached.clone(),
        bought: false,
    };
    let id = s.session_id.clone();
    let run = tokio::spawn(async move {
        runner
            // Window 1: when tick 100 arrives, the acks of ticks up to 99 (the buy among
            // them) have reached the daemon, however the SDK batches its acks.
            .run_simulation(
                &id,
                &mut strategy,
                RunOptions {
                    window: 1,
                    ..RunOptions::default()
                },
            )
            .await
    });
    while !reached.load(Ordering::Acquire) {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let t = other
        .stop_session(&s.session_id, StopKind::Emergency)
        .await
        .unwrap();
    stop_sent.store(true, Ordering::Release);
    assert_eq!(t.state, SessionState::Stopped);
    assert_eq!(t.reason, TerminationReason::EmergencyStop);
    assert!(t.final_stats.settled_ticks < t.final_stats.total_ticks);
    assert_eq!(
        t.final_stats.num_trades, 1,
        "the position was closed as a trade"
    );
    let results = run.await.unwrap().unwrap();
    assert_eq!(results.trades.len(), 1);
    // Closed at the last settled bar's close.
    let last = results.equity_curve.last().unwrap();
    assert_eq!(results.trades[0].exit_time, last.time);
    assert_eq!(last.equity, t.final_stats.equity);
    assert_eq!(results.metrics.equity_final, t.final_stats.equity);
    let events = other
        .session_events(&s.session_id, None, None)
        .await
        .unwrap();
    let kinds: Vec<_> = events.events.iter().map(|e| e.kind).collect();
    assert!(kinds.contains(&EventKind::EmergencyStop), "{kinds:?}");
    assert_eq!(kinds.last(), Some(&EventKind::SessionEnded));
    // Nothing leaves a terminal state.
    let (code2, _) = code(
        other
            .stop_session(&s.session_id, StopKind::Manual)
            .await
            .unwrap_err(),
    );
    assert_eq!(code2, ErrorCode::InvalidState);
}

#[tokio::test]
async fn illegal_transitions_and_updates_after_the_start_are_refused() {
    let d = TestDaemon::start_with(|c| c.limits.max_active_sessions_per_user = 1)
        .await
        .unwrap();
    let mut raw = Raw::connect(&d, &login(&d, "alice").await).await;
    let a = ask(&mut raw, "create_session", create_data("ACME")).await;
    let a = a["data"]["session_id"].as_str().unwrap().to_string();
    let b = ask(&mut raw, "create_session", create_data("GLOBEX")).await;
    let b = b["data"]["session_id"].as_str().unwrap().to_string();
    // Pausing a session that never started: INVALID_STATE, nothing changes.
    let r = ask(&mut raw, "pause_simulation", json!({"session_id": a})).await;
    assert_eq!(error_code(&r), "INVALID_STATE");
    // Updates work before the start…
    let r = ask(
        &mut raw,
        "update_session",
        json!({"session_id": a, "max_duration": "2h", "loss_limit_pct": 10}),
    )
    .await;
    assert_eq!(r["type"], "session_updated", "{r}");
    assert_eq!(r["data"]["limits"]["max_duration"], "2h");
    assert_eq!(r["data"]["limits"]["max_loss_amount"], "10000");
    // …not after it.
    let r = ask(
        &mut raw,
        "start_simulation",
        json!({"session_id": a, "max_pending_ticks": 1}),
    )
    .await;
    assert_eq!(r["type"], "simulation_started", "{r}");
    let r = ask(
        &mut raw,
        "update_session",
        json!({"session_id": a, "max_duration": "3h"}),
    )
    .await;
    assert_eq!(error_code(&r), "SESSION_LOCKED");
    // One active session at a time in this deployment.
    let r = ask(
        &mut raw,
        "start_simulation",
        json!({"session_id": b, "max_pending_ticks": 1}),
    )
    .await;
    assert_eq!(error_code(&r), "ACTIVE_SESSION_EXISTS");
    // Stop the created one: answered with its final statistics.
    let r = ask(&mut raw, "stop_session", json!({"session_id": b})).await;
    assert_eq!(r["type"], "session_terminated", "{r}");
    assert_eq!(r["data"]["reason"], "manual_stop");
    assert_eq!(r["data"]["final_stats"]["equity"], "100000");
    let r = ask(&mut raw, "stop_session", json!({"session_id": b})).await;
    assert_eq!(error_code(&r), "INVALID_STATE");
    let r = ask(&mut raw, "start_simulation", json!({"session_id": b})).await;
    assert_eq!(error_code(&r), "INVALID_STATE");
}

#[tokio::test]
async fn a_volatility_halt_rejects_new_orders_and_is_recorded() {
    let d = TestDaemon::start().await.unwrap();
    let mut raw = Raw::connect(&d, &login(&d, "alice").await).await;
    let mut data = create_data("ACME");
    data["halt_threshold_pct"] = json!("0.0001");
    data["halt_bars"] = json!(2);
    let r = ask(&mut raw, "create_session", data).await;
    let id = r["data"]["session_id"].as_str().unwrap().to_string();
    let r = ask(
        &mut raw,
        "start_simulation",
        json!({"session_id": id, "max_pending_ticks": 1}),
    )
    .await;
    assert_eq!(r["type"], "simulation_started");
    assert_eq!(r["data"]["risk"]["halt"]["bars"], 2);
    let mut rejected = None;
    let mut next = 0u64;
    while rejected.is_none() && next < 20 {
        let msg = raw.recv().await;
        match msg["type"].as_str().unwrap() {
            "tick" => {
                let seq = msg["data"]["sequence_id"].as_u64().unwrap();
                let order = json!({"order_id": format!("o{seq}"), "symbol": "ACME", "side": "buy", "order_type": "market", "quantity": 1});
                let orders = if seq >= 1 { json!([order]) } else { json!([]) };
                raw.send_text(&json!({"type": "tick_ack", "data": {"session_id": id, "sequence_id": seq, "orders": orders}}).to_string()).await;
                next = seq + 1;
            }
            "order_update" if msg["data"]["status"] == "rejected" => {
                rejected = Some(msg["data"]["reason"].as_str().unwrap().to_string());
            }
            _ => {}
        }
    }
    let reason = rejected.expect("an order was rejected");
    assert!(reason.starts_with("TRADING_HALTED"), "{reason}");
    let r = ask(&mut raw, "get_session_events", json!({"session_id": id})).await;
    let events = r["data"]["events"].as_array().unwrap();
    assert!(events.iter().any(|e| e["kind"] == "SESSION_HALTED"), "{r}");
}

#[tokio::test]
async fn subscribers_are_connections_of_the_owner_only() {
    let d = TestDaemon::start().await.unwrap();
    let alice_a = client(&d, "alice").await;
    let alice_b = client(&d, "alice").await;
    let bob = client(&d, "bob").await;
    let s = alice_a
        .create_session(SessionRequestBuilder::new(["ACME"], "2020-01-01", "2020-12-31").build())
        .await
        .unwrap();
    let mut pushes_b = alice_b.subscribe();
    let mut pushes_bob = bob.subscribe();
    let sub = alice_b.subscribe_session(&s.session_id).await.unwrap();
    assert!(sub.subscribed);
    assert_eq!(sub.interval_ms, 1000);
    let (code_bob, _) = code(bob.subscribe_session(&s.session_id).await.unwrap_err());
    assert_eq!(code_bob, ErrorCode::SessionNotFound);
    // A state change reaches the subscriber at once, then the end.
    alice_a
        .stop_session(&s.session_id, StopKind::Manual)
        .await
        .unwrap();
    let mut saw_stats = false;
    let mut saw_end = false;
    while !(saw_stats && saw_end) {
        let msg = tokio::time::timeout(Duration::from_secs(10), pushes_b.recv())
            .await
            .expect("pushes arrive")
            .unwrap();
        match msg {
            ServerMessage::SessionStatsUpdate(u) if u.session_id == s.session_id => {
                saw_stats |= u.state == SessionState::Stopped;
            }
            ServerMessage::SessionTerminated(t) if t.session_id == s.session_id => saw_end = true,
            _ => {}
        }
    }
    bob.ping().await.unwrap();
    while let Ok(msg) = pushes_bob.try_recv() {
        let text = serde_json::to_string(&msg).unwrap();
        assert!(!text.contains(&s.session_id), "bob saw {text}");
    }
    let un = alice_b.unsubscribe_session(&s.session_id).await.unwrap();
    assert!(!un.subscribed);
}

#[tokio::test]
async fn metrics_and_the_audit_log_record_what_happened_without_secrets() {
    let d = TestDaemon::start().await.unwrap();
    let key = d.add_key("alice").unwrap();
    let c = Client::connect_with_api_key(&d.url(), &key).await.unwrap();
    let s = c
        .create_session(SessionRequestBuilder::new(["ACME"], "2020-01-01", "2020-12-31").build())
        .await
        .unwrap();
    c.stop_session(&s.session_id, StopKind::Manual)
        .await
        .unwrap();
    c.delete_session(&s.session_id).await.unwrap();
    let _ = c.get_session(&s.session_id).await.unwrap_err();

    let text = reqwest::get(format!("http://{}/metrics", d.addr()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("simutrador_sessions{state=\"stopped\"} 0"),
        "{text}"
    );
    assert!(
        text.contains("simutrador_messages_total{type=\"stop_session\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("simutrador_errors_total{code=\"SESSION_NOT_FOUND\"} 1"),
        "{text}"
    );
    assert!(text.contains("simutrador_connections 1"), "{text}");

    let path = d.state_dir.path().join("audit.jsonl");
    let mut actions = Vec::new();
    for _ in 0..500 {
        let body = std::fs::read_to_string(&path).unwrap_or_default();
        actions = body
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .map(|v| v["action"].as_str().unwrap_or_default().to_string())
            .collect();
        if actions.len() >= 3 {
            assert!(!body.contains(&key), "no secrets in the audit log");
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    for a in ["session_created", "session_stopped", "session_deleted"] {
        assert!(
            actions.iter().any(|x| x == a),
            "{a} missing from {actions:?}"
        );
    }
}

#[tokio::test]
async fn a_session_expires_at_its_deadline_in_the_real_daemon() {
    let d = TestDaemon::start_with(|c| {
        c.limits.min_session_duration = simutrador_server::config::HumanDuration(1);
    })
    .await
    .unwrap();
    let c = client(&d, "alice").await;
    let mut req = SessionRequestBuilder::new(["ACME"], "2020-01-01", "2020-12-31").build();
    req.max_duration = Some("1s".into());
    let s = c.create_session(req).await.unwrap();
    let mut info = c.get_session(&s.session_id).await.unwrap();
    for _ in 0..1000 {
        if info.state.is_terminal() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        info = c.get_session(&s.session_id).await.unwrap();
    }
    assert_eq!(info.state, SessionState::Expired);
    assert_eq!(info.termination_reason, Some(TerminationReason::TimeLimit));
    let events = c.session_events(&s.session_id, None, None).await.unwrap();
    let kinds: Vec<_> = events.events.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        vec![
            EventKind::SessionCreated,
            EventKind::TimeLimitWarning,
            EventKind::SessionEnded
        ]
    );
}

/// A client that disappears while its run waits for it (window full, nothing acknowledged):
/// the daemon notices the closed connection at once, pauses the session (actor `system`, so
/// the idle timeout applies and it can be resumed), instead of leaving it `running`.
#[tokio::test]
async fn a_run_whose_client_vanishes_while_the_daemon_waits_is_paused() {
    let d = TestDaemon::start().await.unwrap();
    let token = login(&d, "alice").await;
    let mut raw = Raw::connect(&d, &token).await;
    let s = ask(&mut raw, "create_session", create_data("ACME")).await;
    let id = s["data"]["session_id"].as_str().unwrap().to_string();
    let r = ask(
        &mut raw,
        "start_simulation",
        json!({"session_id": id, "max_pending_ticks": 4}),
    )
    .await;
    assert_eq!(r["type"], "simulation_started", "{r}");
    drop(raw); // no ack, no close frame: the TCP connection just goes away

    let watcher = client(&d, "alice").await;
    let mut state = SessionState::Running;
    for _ in 0..500 {
        state = watcher.get_session(&id).await.unwrap().state;
        if state != SessionState::Running {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(state, SessionState::Paused);
    let events = watcher
        .session_events(&id, None, None)
        .await
        .unwrap()
        .events;
    let paused = events
        .iter()
        .find(|e| e.kind == EventKind::SessionPaused)
        .expect("a SESSION_PAUSED event");
    assert_eq!(paused.actor, shared_models::lifecycle::Actor::System);
    // The owner can pick the run up again from another connection.
    let mut again = Raw::connect(&d, &token).await;
    let r = ask(&mut again, "resume_simulation", json!({"session_id": id})).await;
    assert_eq!(r["type"], "simulation_resumed", "{r}");
    assert_eq!(r["data"]["acknowledged"], 0, "{r}");
}
