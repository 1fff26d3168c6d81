//! Store failures of a session's *state* (its lifecycle journal `<id>.jsonl`), not only of
//! its run journal, while it runs. The journal is replaced by a link to `/dev/full`, so every
//! write to it fails with the kernel's real ENOSPC while the rest of the store works (no root
//! needed). A state change the daemon cannot write stops the run: nothing more is sent, the
//! client gets `STORE_UNAVAILABLE`, the session pauses with reason `store_error`, `/healthz`
//! answers 503 naming the file, and `session run` exits 1 with the message. Once the file can
//! be written again, the kept records are written in order, the run resumes and ends exactly
//! like an uninterrupted one, and a restarted daemon reads the journal back whole.

use serde_json::{Value, json};
use simutrador_e2e::{DaemonProcess, add_key, client_cmd, run, stderr};
use std::path::{Path, PathBuf};

use crate::pause_resume::end_figures;
use crate::support::{Raw, order, request_as, wait_tick};

/// ACME daily 2020 with a volatility halt: each halt (a move over 1 %) is a state change
/// (`SESSION_HALTED`) the daemon journals in the middle of the run.
fn request() -> Value {
    json!({"symbols": ["ACME"], "start_date": "2020-01-01", "end_date": "2020-12-31",
           "halt_threshold_pct": "1"})
}

fn orders_at(t: u64) -> Vec<Value> {
    match t {
        3 => vec![order("o1", "buy", "600")],
        150 => vec![order("o2", "sell", "600")],
        _ => Vec::new(),
    }
}

async fn ack(raw: &mut Raw, id: &str, t: u64) {
    let ack = json!({"type": "tick_ack", "data": {"session_id": id, "sequence_id": t, "orders": orders_at(t)}});
    raw.send_text(&ack.to_string()).await;
}

/// Create and start a session (window 1); its id and tick count.
async fn start(raw: &mut Raw) -> (String, u64) {
    let created = raw.request("create_session", request()).await;
    assert_eq!(created["type"], "session_created", "{created}");
    let id = created["data"]["session_id"].as_str().unwrap().to_string();
    let total = created["data"]["bar_count"].as_u64().unwrap();
    let started = request_as(raw, "start_simulation", "st", json!({"session_id": id})).await;
    assert_eq!(started["type"], "simulation_started", "{started}");
    (id, total)
}

async fn events(raw: &mut Raw, id: &str) -> Vec<Value> {
    let reply = raw
        .request(
            "get_session_events",
            json!({"session_id": id, "limit": 1000}),
        )
        .await;
    reply["data"]["events"].as_array().unwrap().clone()
}

/// The session's lifecycle journal made unwritable: moved aside, a link to `/dev/full` in its
/// place. `restore` puts it back.
struct BrokenJournal {
    path: PathBuf,
    kept: PathBuf,
}

impl BrokenJournal {
    fn break_it(state: &Path, id: &str) -> BrokenJournal {
        let path = state.join("sessions").join(format!("{id}.jsonl"));
        let kept = path.with_extension("kept");
        std::fs::rename(&path, &kept).unwrap();
        std::os::unix::fs::symlink("/dev/full", &path).unwrap();
        BrokenJournal { path, kept }
    }

    fn restore(self) {
        std::fs::remove_file(&self.path).unwrap();
        std::fs::rename(&self.kept, &self.path).unwrap();
    }
}

async fn healthz(addr: std::net::SocketAddr) -> (u16, Value) {
    let r = reqwest::get(format!("http://{addr}/healthz"))
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_state_write_failing_mid_run_pauses_it_and_it_resumes_to_identical_results() {
    let home = tempfile::tempdir().unwrap();
    let state = home.path().join("state");
    let key = add_key(&state, "sam").unwrap();
    let daemon = DaemonProcess::start(&state, &[]).unwrap();
    let mut raw = Raw::connect_with_key(daemon.addr, &key).await;

    // The reference, uninterrupted, and where its halts were.
    let (reference, total) = start(&mut raw).await;
    for t in 0..total {
        wait_tick(&mut raw, &reference, t).await;
        ack(&mut raw, &reference, t).await;
    }
    let expected = end_figures(&mut raw, &reference).await;
    let fail_at = total / 3;
    let halts: Vec<u64> = events(&mut raw, &reference)
        .await
        .iter()
        .filter(|e| e["kind"] == "SESSION_HALTED")
        .map(|e| e["data"]["halted_through_bar"].as_u64().unwrap())
        .collect();
    assert!(
        halts.iter().any(|&h| h > fail_at + 1),
        "the data has a halt after tick {fail_at}: {halts:?}"
    );

    // The same run; its state journal stops taking writes a third of the way in.
    let (id, _) = start(&mut raw).await;
    for t in 0..fail_at {
        wait_tick(&mut raw, &id, t).await;
        ack(&mut raw, &id, t).await;
    }
    let broken = BrokenJournal::break_it(&state, &id);
    let mut next = fail_at;
    let error = loop {
        let m = raw.recv().await;
        if m["type"] == "error" {
            break m;
        }
        if m["type"] == "tick" && m["data"]["sequence_id"] == next {
            ack(&mut raw, &id, next).await;
            next += 1;
        }
    };
    assert!(next < total, "stopped before the end");
    let data = &error["data"];
    assert_eq!(data["error_code"], "STORE_UNAVAILABLE", "{error}");
    assert_eq!(data["details"]["session_id"], id.as_str(), "{error}");
    assert!(
        data["message"].as_str().unwrap().contains("paused"),
        "{error}"
    );
    let info = raw.request("get_session", json!({"session_id": id})).await;
    assert_eq!(info["data"]["state"], "paused", "{info}");
    let log = events(&mut raw, &id).await;
    let paused = log.last().unwrap();
    assert_eq!(paused["kind"], "SESSION_PAUSED", "{log:?}");
    assert_eq!(paused["data"]["reason"], "store_error", "{paused}");
    let (status, body) = healthz(daemon.addr).await;
    assert_eq!(status, 503, "{body}");
    assert!(
        body["store_error"].as_str().unwrap().contains(&id),
        "the reason names the journal: {body}"
    );
    // A resume is refused while the state cannot be written.
    let refused = request_as(
        &mut raw,
        "resume_simulation",
        "r0",
        json!({"session_id": id}),
    )
    .await;
    assert_eq!(
        refused["data"]["error_code"], "STORE_UNAVAILABLE",
        "{refused}"
    );

    // Writable again: the resume writes what was kept, and the run ends like the reference.
    broken.restore();
    let resumed = request_as(
        &mut raw,
        "resume_simulation",
        "r1",
        json!({"session_id": id}),
    )
    .await;
    assert_eq!(resumed["type"], "simulation_resumed", "{resumed}");
    for t in next..total {
        wait_tick(&mut raw, &id, t).await;
        ack(&mut raw, &id, t).await;
    }
    assert_eq!(end_figures(&mut raw, &id).await, expected);
    assert_eq!(healthz(daemon.addr).await.0, 200);

    // The kept records are in the journal, in order: a restart reads it back whole.
    let journal =
        std::fs::read_to_string(state.join("sessions").join(format!("{id}.jsonl"))).unwrap();
    assert!(journal.contains("store_error") && journal.contains("SESSION_HALTED"));
    daemon.terminate().unwrap();
    let again = DaemonProcess::start(&state, &[]).unwrap();
    let mut raw = Raw::connect_with_key(again.addr, &key).await;
    let info = raw.request("get_session", json!({"session_id": id})).await;
    assert_eq!(info["data"]["state"], "completed", "{info}");
    let log = events(&mut raw, &id).await;
    assert!(
        log.iter().any(|e| e["data"]["reason"] == "store_error"),
        "{log:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_run_exits_1_when_the_start_of_the_run_cannot_be_written() {
    let home = tempfile::tempdir().unwrap();
    let state = home.path().join("state");
    let key = add_key(&state, "sue").unwrap();
    let daemon = DaemonProcess::start(&state, &[]).unwrap();
    let url = daemon.url();
    let mut raw = Raw::connect_with_key(daemon.addr, &key).await;
    let created = raw.request("create_session", request()).await;
    let id = created["data"]["session_id"].as_str().unwrap().to_string();

    let broken = BrokenJournal::break_it(&state, &id);
    let out = run(client_cmd(home.path())
        .args(["--url", &url])
        .env("SIMUTRADOR_API_KEY", &key)
        .args(["session", "run", &id, "--strategy", "buy-and-hold"]))
    .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(stderr(&out).contains("session store"), "{}", stderr(&out));
    let info = raw.request("get_session", json!({"session_id": id})).await;
    assert_eq!(info["data"]["state"], "paused", "{info}");
    let log = events(&mut raw, &id).await;
    assert_eq!(log.last().unwrap()["data"]["reason"], "store_error");

    // Writable again: `/healthz` writes what was kept; a restart reads it back.
    broken.restore();
    assert_eq!(healthz(daemon.addr).await.0, 200);
    daemon.terminate().unwrap();
    let again = DaemonProcess::start(&state, &[]).unwrap();
    let mut raw = Raw::connect_with_key(again.addr, &key).await;
    let info = raw.request("get_session", json!({"session_id": id})).await;
    assert_eq!(info["data"]["state"], "paused", "{info}");
    assert!(info["data"]["damage"].is_null(), "{info}");
}
