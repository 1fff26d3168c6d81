//! One owner per running session across daemons sharing one PostgreSQL database (leases with
//! fencing, `docs/scaling.md`): two real daemon binaries on one throwaway database
//! ([`crate::pg`]), driven over the raw protocol. A session running on daemon A cannot be
//! resumed on daemon B while A's lease is live (`SESSION_MOVED` naming A); once A is frozen
//! with a real `SIGSTOP` and its lease has lapsed, B takes the lease, rebuilds the run from
//! its records and finishes it with the uninterrupted run's results; A, woken with
//! `SIGCONT`, has its next writes refused (`SESSION_MOVED` naming B on its stream) and
//! nothing it wrote after losing the lease is in the database.

use serde_json::{Value, json};
use simutrador_e2e::{DaemonProcess, add_key};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::pause_resume::{end_figures, end_figures_after_end};
use crate::pg;
use crate::support::{Raw, error_code, order, request_as, wait_tick};

/// Orders at a few ticks (ACME daily 2020): a long, its sale, a short, its cover.
fn orders_at(t: u64) -> Vec<Value> {
    match t {
        3 => vec![order("o1", "buy", "600")],
        70 => vec![order("o2", "sell", "600")],
        90 => vec![order("o3", "sell", "400")],
        200 => vec![order("o4", "buy", "400")],
        _ => Vec::new(),
    }
}

/// A daemon on `url` named `id`, with 2-second leases.
fn daemon(home: &Path, id: &str, url: &str) -> DaemonProcess {
    let state = home.join(id);
    let config = home.join(format!("{id}.toml"));
    let text = format!("[store]\nlease_seconds = 2\ndaemon_id = \"{id}\"\n");
    std::fs::write(&config, text).unwrap();
    let args = ["--store", url, "--config", config.to_str().unwrap()];
    DaemonProcess::start(&state, &args).unwrap()
}

/// Create an ACME 2020 session and start it (window 1): its id and tick count.
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

fn ack(id: &str, t: u64) -> String {
    json!({"type": "tick_ack", "data": {"session_id": id, "sequence_id": t, "orders": orders_at(t)}})
        .to_string()
}

fn signal(daemon: &DaemonProcess, sig: &str) {
    let pid = daemon.child.id().to_string();
    let status = std::process::Command::new("kill")
        .args([sig, &pid])
        .status()
        .unwrap();
    assert!(status.success(), "kill {sig} {pid}");
}

/// Acknowledge every tick from now to the end, whatever the first one resent is.
async fn ack_to_the_end(raw: &mut Raw, id: &str) {
    loop {
        let m = raw.recv().await;
        assert_ne!(m["type"], "error", "{m}");
        if m["type"] == "tick" && m["data"]["session_id"] == id {
            let t = m["data"]["sequence_id"].as_u64().unwrap();
            raw.send_text(&ack(id, t)).await;
        }
        if m["type"] == "simulation_end" {
            return;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_lease_refuses_another_daemon_and_a_stale_owner_is_fenced_off() {
    let Some(cluster) = pg::shared() else { return };
    let url = cluster.database().await;
    let home = tempfile::tempdir().unwrap();
    let key_a = add_key(&home.path().join("daemon-a"), "erin").unwrap();
    let key_b = add_key(&home.path().join("daemon-b"), "erin").unwrap();
    let a = daemon(home.path(), "daemon-a", &url);
    let mut on_a = Raw::connect_with_key(a.addr, &key_a).await;

    // The uninterrupted run, on A.
    let (reference, total) = start(&mut on_a).await;
    for t in 0..total {
        wait_tick(&mut on_a, &reference, t).await;
        on_a.send_text(&ack(&reference, t)).await;
    }
    let (expected, expected_stats) = end_figures(&mut on_a, &reference).await;

    // The session under test runs on A to tick 100 (acknowledged: tick 101 is sent).
    let (id, _) = start(&mut on_a).await;
    for t in 0..=100 {
        wait_tick(&mut on_a, &id, t).await;
        on_a.send_text(&ack(&id, t)).await;
    }
    wait_tick(&mut on_a, &id, 101).await;

    // B starts after the session exists; A's lease is live: B refuses to resume it.
    let b = daemon(home.path(), "daemon-b", &url);
    let mut on_b = Raw::connect_with_key(b.addr, &key_b).await;
    let refused = on_b
        .request("resume_simulation", json!({"session_id": id}))
        .await;
    assert_eq!(error_code(&refused), "SESSION_MOVED", "{refused}");
    assert_eq!(refused["data"]["details"]["owner"], "daemon-a", "{refused}");
    let health = reqwest::get(format!("http://{}/healthz", b.addr))
        .await
        .unwrap();
    assert_eq!(
        health.status().as_u16(),
        200,
        "a refusal is not a store failure"
    );

    // Freeze A; once its lease has lapsed (the database's clock), B takes the session.
    signal(&a, "-STOP");
    let db = pg::connect(&url).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let row = db
            .query_one(
                "SELECT lease_until < now() FROM sessions WHERE id = $1",
                &[&id],
            )
            .await
            .unwrap();
        if row.get::<_, Option<bool>>(0) == Some(true) {
            break;
        }
        assert!(Instant::now() < deadline, "A's lease never lapsed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let resumed = request_as(
        &mut on_b,
        "resume_simulation",
        "re",
        json!({"session_id": id}),
    )
    .await;
    assert_eq!(
        resumed["type"],
        "simulation_resumed",
        "{resumed}; B's log:\n{}",
        b.log_text()
    );
    ack_to_the_end(&mut on_b, &id).await;
    let (results, stats) = end_figures_after_end(&mut on_b, &id).await;
    assert_eq!(
        results, expected,
        "B finishes with the uninterrupted run's results"
    );
    assert_eq!(stats, expected_stats);

    // A completed run's results (and the removal of its records) are written just after
    // `simulation_end`: wait for them in the database.
    let deadline = Instant::now() + Duration::from_secs(60);
    while db
        .query_one("SELECT count(*) FROM results WHERE session_id = $1", &[&id])
        .await
        .unwrap()
        .get::<_, i64>(0)
        == 0
    {
        assert!(Instant::now() < deadline, "B never stored the results");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // A wakes up and goes on where it was: its next writes are refused.
    signal(&a, "-CONT");
    on_a.send_text(&ack(&id, 101)).await;
    let moved = loop {
        let m = on_a.recv().await;
        if m["type"] == "error" {
            break m;
        }
    };
    assert_eq!(error_code(&moved), "SESSION_MOVED", "{moved}");
    assert_eq!(moved["data"]["details"]["owner"], "daemon-b", "{moved}");
    assert_eq!(
        moved["data"]["details"]["session_id"],
        id.as_str(),
        "{moved}"
    );
    let log = a.log_text();
    assert!(
        log.contains("another daemon took the session's lease"),
        "{log}"
    );

    // Nothing A wrote after losing the lease is in the database.
    let row = db
        .query_one(
            "SELECT state, generation, (SELECT count(*) FROM run_records WHERE session_id = $1) \
             FROM sessions WHERE id = $1",
            &[&id],
        )
        .await
        .unwrap();
    let (state, generation, records): (String, i64, i64) = (row.get(0), row.get(1), row.get(2));
    let left: Vec<(i64, i64, String)> = db
        .query(
            "SELECT n, generation, record::text FROM run_records WHERE session_id = $1",
            &[&id],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!((state.as_str(), generation), ("completed", 2));
    // A's records (generation 1) went with B's end; its acknowledgement of tick 101, sent
    // after it lost the lease, was never written. (B's own final progress record may remain.)
    assert!(
        left.iter().all(|(_, g, _)| *g == 2) && left.len() as i64 == records,
        "{left:?}"
    );
    let kinds: Vec<String> = db
        .query(
            "SELECT kind FROM session_events WHERE session_id = $1 ORDER BY seq",
            &[&id],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        kinds,
        [
            "SESSION_CREATED",
            "SESSION_STARTED",
            "SESSION_RESUMED",
            "SESSION_ENDED"
        ],
        "A's pause after losing the lease is not written (B's refused pause at start-up neither)"
    );
}
