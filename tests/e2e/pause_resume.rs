//! A run paused and resumed through the real daemon ends exactly like the same run
//! uninterrupted: the full `results` (metrics, trades, equity curve) and the final
//! statistics the session records when it ends (`final_stats` of its `SESSION_ENDED` event:
//! equity, trades, max drawdown) — once per pause point, a few points across the run.

use serde_json::{Value, json};
use simutrador_e2e::TestDaemon;

use crate::support::{Raw, login, order, request_as, wait_tick};

/// Orders at a few ticks: a long, a sale, a short, its cover (ACME daily 2020).
fn orders_at(t: u64) -> Vec<Value> {
    match t {
        3 => vec![order("o1", "buy", "600")],
        70 => vec![order("o2", "sell", "600")],
        90 => vec![order("o3", "sell", "400")],
        200 => vec![order("o4", "buy", "400")],
        _ => Vec::new(),
    }
}

/// Create a fresh ACME 2020 session and start it (window 1): its id and tick count.
async fn start(raw: &mut Raw) -> (String, u64) {
    let created = raw
        .request(
            "create_session",
            json!({"symbols": ["ACME"], "start_date": "2020-01-01", "end_date": "2020-12-31"}),
        )
        .await;
    let id = created["data"]["session_id"].as_str().unwrap().to_string();
    let total = created["data"]["bar_count"].as_u64().unwrap();
    let started = request_as(raw, "start_simulation", "st", json!({"session_id": id})).await;
    assert_eq!(started["type"], "simulation_started", "{started}");
    (id, total)
}

/// After the last acknowledgement: wait for `simulation_end`, then the results (without the
/// session id) and the final statistics of the session's `SESSION_ENDED` event.
pub(crate) async fn end_figures(raw: &mut Raw, id: &str) -> (Value, Value) {
    loop {
        let m = raw.recv().await;
        assert_ne!(m["type"], "error", "{m}");
        if m["type"] == "simulation_end" {
            break;
        }
    }
    end_figures_after_end(raw, id).await
}

/// What [`end_figures`] reads, once `simulation_end` has been received: the results (without
/// the session id) and the final statistics of the `SESSION_ENDED` event.
pub(crate) async fn end_figures_after_end(raw: &mut Raw, id: &str) -> (Value, Value) {
    let mut results = raw.request("get_results", json!({"session_id": id})).await;
    assert_eq!(results["type"], "results", "{results}");
    results["data"]
        .as_object_mut()
        .unwrap()
        .remove("session_id");
    let events = raw
        .request(
            "get_session_events",
            json!({"session_id": id, "limit": 1000}),
        )
        .await;
    let ended = events["data"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .rfind(|e| e["kind"] == "SESSION_ENDED")
        .cloned()
        .unwrap_or_else(|| panic!("no SESSION_ENDED: {events}"));
    (
        results["data"].clone(),
        ended["data"]["final_stats"].clone(),
    )
}

/// Run a fresh ACME 2020 session to the end with a window of 1, pausing and resuming at
/// tick `pause_at` (if any); the results and the final statistics, without the session id.
async fn run(raw: &mut Raw, pause_at: Option<u64>) -> (Value, Value) {
    let (id, total) = start(raw).await;
    for t in 0..total {
        wait_tick(raw, &id, t).await;
        if Some(t) == pause_at {
            let p = request_as(raw, "pause_simulation", "pa", json!({"session_id": id})).await;
            assert_eq!(p["type"], "simulation_paused", "{p}");
            let r = request_as(raw, "resume_simulation", "re", json!({"session_id": id})).await;
            assert_eq!(r["type"], "simulation_resumed", "{r}");
        }
        let ack = json!({"type": "tick_ack", "data": {"session_id": id, "sequence_id": t, "orders": orders_at(t)}});
        raw.send_text(&ack.to_string()).await;
    }
    end_figures(raw, &id).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_and_resumed_run_ends_like_the_uninterrupted_run() {
    let daemon = TestDaemon::start().await.unwrap();
    let token = login(&daemon, "alice").await;
    let mut raw = Raw::connect(&daemon, &token).await;
    let (expected, expected_stats) = run(&mut raw, None).await;
    assert!(
        expected["metrics"]["num_trades"].as_u64().unwrap() >= 2,
        "{expected}"
    );
    // The final max drawdown is that of the whole equity curve (the results'), not of the
    // bars whose figures happened to be published — and exactly the results' figure: one
    // max drawdown everywhere (docs/metrics.md).
    let curve_dd = expected["metrics"]["max_drawdown_pct"].as_f64().unwrap();
    assert!(curve_dd < 0.0, "{expected}");
    assert_eq!(
        expected_stats["max_drawdown_pct"].as_f64().unwrap(),
        curve_dd,
        "{expected_stats}"
    );
    for pause_at in [0, 5, 80, 150, 251] {
        let (results, stats) = run(&mut raw, Some(pause_at)).await;
        assert_eq!(
            results, expected,
            "results after a pause at tick {pause_at}"
        );
        assert_eq!(
            stats, expected_stats,
            "final statistics after a pause at tick {pause_at}"
        );
    }
}

/// Drive `id` from tick `from` to the end (window 1) and return its results and final
/// statistics as [`run`] does.
async fn finish(raw: &mut Raw, id: &str, from: u64, total: u64) -> (Value, Value) {
    for t in from..total {
        wait_tick(raw, id, t).await;
        let ack = json!({"type": "tick_ack", "data": {"session_id": id, "sequence_id": t, "orders": orders_at(t)}});
        raw.send_text(&ack.to_string()).await;
    }
    end_figures(raw, id).await
}

/// The same with the daemon binary restarted while the run is paused: the run is rebuilt
/// from its journal and ends with the uninterrupted run's results and final statistics.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_paused_across_a_restart_ends_like_the_uninterrupted_run() {
    use simutrador_e2e::{DaemonProcess, add_key};
    let home = tempfile::tempdir().unwrap();
    let state = home.path().join("state");
    let key = add_key(&state, "alice").unwrap();
    let connect = |d: &DaemonProcess| Raw::connect_with_key(d.addr, &key);
    let mut daemon = DaemonProcess::start(&state, &[]).unwrap();
    let addr = daemon.addr.to_string();
    let mut raw = connect(&daemon).await;
    let (expected, expected_stats) = run(&mut raw, None).await;
    // Pause where it hurts: at the bottom of the deepest drawdown (a bar no fill and no
    // periodic figure marks), and one bar later.
    let trough = trough(&expected);
    for pause_at in [trough, trough + 1] {
        let (id, total) = start(&mut raw).await;
        for t in 0..pause_at {
            wait_tick(&mut raw, &id, t).await;
            let ack = json!({"type": "tick_ack", "data": {"session_id": id, "sequence_id": t, "orders": orders_at(t)}});
            raw.send_text(&ack.to_string()).await;
        }
        wait_tick(&mut raw, &id, pause_at).await;
        let p = request_as(
            &mut raw,
            "pause_simulation",
            "pa",
            json!({"session_id": id}),
        )
        .await;
        assert_eq!(p["type"], "simulation_paused", "{p}");
        drop(raw);
        assert!(daemon.terminate().unwrap().success());
        daemon = DaemonProcess::start_bound(&state, &addr, &[]).unwrap();
        raw = connect(&daemon).await;
        let r = request_as(
            &mut raw,
            "resume_simulation",
            "re",
            json!({"session_id": id}),
        )
        .await;
        assert_eq!(r["type"], "simulation_resumed", "{r}");
        let from = r["data"]["acknowledged"].as_u64().unwrap();
        assert!(from <= pause_at, "{r}");
        let (results, stats) = finish(&mut raw, &id, from, total).await;
        assert_eq!(
            results, expected,
            "results after a restart at tick {pause_at}"
        );
        assert_eq!(
            stats, expected_stats,
            "final statistics after a restart at tick {pause_at}"
        );
    }
    drop(raw);
    assert!(daemon.terminate().unwrap().success());
}

/// The tick of the equity curve's deepest fall from its running peak.
fn trough(results: &Value) -> u64 {
    let curve = results["equity_curve"].as_array().unwrap();
    let (mut peak, mut worst, mut at) = (f64::MIN, 0.0, 0);
    for (i, p) in curve.iter().enumerate() {
        let e: f64 = p["equity"].as_str().unwrap().parse().unwrap();
        peak = peak.max(e);
        if e / peak - 1.0 < worst {
            (worst, at) = (e / peak - 1.0, i);
        }
    }
    assert!(worst < 0.0 && at > 0, "the run has a drawdown");
    at as u64
}
