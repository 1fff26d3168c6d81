//! A run that was mid-way when the daemon died and whose time limit passed during the
//! downtime: the restarted daemon rebuilds it from its run journal and ends it like a live
//! paused run on expiry — `expired` with `time_limit`, positions closed at the close of the
//! last bar the live run had settled (the bar after the last journaled acknowledgement),
//! results stored — identical to a run of the same decisions stopped at that bar without any
//! crash.

use crate::support::{Raw, order, request_as, wait_tick};
use serde_json::{Value, json};
use simutrador_e2e::{DaemonProcess, add_key};
use std::path::Path;
use std::time::Duration;

/// Acknowledge ticks `0..to`: buy 10 on tick 0, sell them on tick 3, buy 5 on tick 6 (held).
async fn drive(raw: &mut Raw, session: &str, to: u64) {
    for t in 0..to {
        wait_tick(raw, session, t).await;
        let orders = match t {
            0 => vec![order("b-1", "buy", "10")],
            3 => vec![order("s-1", "sell", "10")],
            6 => vec![order("b-2", "buy", "5")],
            _ => vec![],
        };
        let data = json!({"session_id": session, "sequence_id": t, "orders": orders});
        raw.send_text(&json!({"type": "tick_ack", "data": data}).to_string())
            .await;
    }
}

async fn start(raw: &mut Raw, max_duration: &str) -> (String, String) {
    let created = request_as(
        raw,
        "create_session",
        "c",
        json!({"symbols": ["ACME"], "start_date": "2020-01-01", "end_date": "2020-12-31",
               "max_duration": max_duration}),
    )
    .await;
    assert_eq!(created["type"], "session_created", "{created}");
    let id = created["data"]["session_id"].as_str().unwrap().to_string();
    let expires = created["data"]["limits"]["expires_at"]
        .as_str()
        .unwrap()
        .to_string();
    let started = request_as(
        raw,
        "start_simulation",
        "s",
        json!({"session_id": id, "max_pending_ticks": 1}),
    )
    .await;
    assert_eq!(started["type"], "simulation_started", "{started}");
    (id, expires)
}

/// The results of `session` without its id, and without how it ended (`final_state`,
/// `termination_reason`: compared on their own, as the reference run ends by a stop).
async fn results(raw: &mut Raw, session: &str) -> Value {
    let r = request_as(raw, "get_results", "gr", json!({"session_id": session})).await;
    assert_eq!(r["type"], "results", "{r}");
    let mut data = r["data"].clone();
    let fields = data.as_object_mut().unwrap();
    fields.remove("session_id");
    fields.remove("final_state");
    fields.remove("termination_reason");
    data
}

async fn connect(addr: std::net::SocketAddr, key: &str) -> Raw {
    Raw::connect_with_key(addr, key).await
}

/// Wait until the run journal of `session` holds `acked` acknowledged ticks (the daemon hands
/// it to the OS before it waits for the client, so a kill after this loses nothing).
async fn journaled(state: &Path, session: &str, acked: u64) {
    let path = state.join(format!("sessions/{session}.run.jsonl"));
    let line = format!("\"acked\":{acked}}}");
    for _ in 0..1000 {
        if std::fs::read_to_string(&path).is_ok_and(|t| t.contains(&line)) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the run journal {} never reached {line}", path.display());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_whose_deadline_passed_during_the_downtime_expires_with_results() {
    let home = tempfile::tempdir().unwrap();
    let state = home.path().join("state/simutrador");
    std::fs::create_dir_all(&state).unwrap();
    let config = home.path().join("server.toml");
    std::fs::write(&config, "[limits]\nmin_session_duration = \"1s\"\n").unwrap();
    let key = add_key(&state, "dora").unwrap();
    let args = ["--config", config.to_str().unwrap()];
    let mut first = DaemonProcess::start_bound(&state, "127.0.0.1:0", &args).unwrap();
    let mut raw = connect(first.addr, &key).await;

    // The reference, never interrupted: the same decisions, stopped once bar 8 has settled
    // (the ack of tick 7 applied, protocol rule 2) — where the crashed run below was, and
    // what its client had seen, when the daemon died. (Before the fix of the run core's
    // `last_bar_tests`, the rebuilt run flattened one bar earlier, at bar 7, losing the
    // last bar whose events the client had been sent.)
    let (reference, _) = start(&mut raw, "1h").await;
    drive(&mut raw, &reference, 8).await;
    let last_bar = wait_tick(&mut raw, &reference, 8).await;
    let stop = json!({"session_id": reference, "reason": "manual"});
    let t = request_as(&mut raw, "stop_session", "st", stop).await;
    assert_eq!(t["type"], "session_terminated", "{t}");
    let expected = results(&mut raw, &reference).await;
    let trades = expected["trades"].as_array().unwrap();
    assert_eq!(
        trades.len(),
        2,
        "one round trip and the flattened long: {expected}"
    );
    assert!(expected["open_positions"].as_array().unwrap().is_empty());

    // The crashed run: every tick up to 7 acknowledged and journaled, long 5 ACME.
    let (id, expires_at) = start(&mut raw, "6s").await;
    drive(&mut raw, &id, 8).await;
    wait_tick(&mut raw, &id, 8).await;
    journaled(&state, &id, 8).await;
    first.kill().unwrap();
    drop(raw);
    let expires_at: chrono::DateTime<chrono::Utc> = expires_at.parse().unwrap();
    while chrono::Utc::now() <= expires_at {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let second = DaemonProcess::start_bound(&state, "127.0.0.1:0", &args).unwrap();
    let mut raw = connect(second.addr, &key).await;
    let info = request_as(&mut raw, "get_session", "g", json!({"session_id": id})).await;
    assert_eq!(info["data"]["state"], "expired", "{info}");
    assert_eq!(info["data"]["termination_reason"], "time_limit", "{info}");
    let said = request_as(&mut raw, "get_results", "gr", json!({"session_id": id})).await;
    assert_eq!(said["data"]["final_state"], "expired", "{said}");
    assert_eq!(said["data"]["termination_reason"], "time_limit", "{said}");
    let got = results(&mut raw, &id).await;
    assert_eq!(got, expected, "the same results as the uninterrupted run");
    let closing = got["trades"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        closing["exit_time"], last_bar["sim_time"],
        "closed at the last bar the live run settled: {closing}"
    );
    assert_eq!(
        closing["exit_price"], last_bar["candles"]["ACME"]["close"],
        "at its close: {closing} {last_bar}"
    );
    let curve = got["equity_curve"].as_array().unwrap();
    let last_point = curve.last().unwrap();
    assert_eq!(
        got["metrics"]["equity_final"], last_point["equity"],
        "{got}"
    );
    assert_eq!(last_point["time"], last_bar["sim_time"], "{got}");
    assert!(
        got["open_positions"].as_array().unwrap().is_empty(),
        "{got}"
    );

    // The end is recorded with its final statistics, by the system.
    let events = request_as(
        &mut raw,
        "get_session_events",
        "ev",
        json!({"session_id": id}),
    )
    .await;
    let ended = events["data"]["events"].as_array().unwrap().last().unwrap();
    assert_eq!(ended["kind"], "SESSION_ENDED", "{events}");
    assert_eq!(ended["actor"], "system", "{ended}");
    assert_eq!(ended["data"]["reason"], "time_limit", "{ended}");
    let stats = &ended["data"]["final_stats"];
    assert_eq!(
        stats["equity"], expected["metrics"]["equity_final"],
        "{ended}"
    );
    assert_eq!(stats["num_trades"], 2, "{ended}");
    let log = second.log_text();
    assert!(log.contains("run rebuilt from its journal"), "{log}");
    assert!(
        log.contains("the time limit passed while the daemon was down"),
        "{log}"
    );
}
