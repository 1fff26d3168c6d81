//! Journals you can trust, on the real daemon binary: journals it wrote are corrupted on disk
//! between a stop and a restart. A bad record in the middle (or on the first line) makes the
//! session `damaged` — shown by `session list` and `session status` with the file and the
//! line, its files moved unchanged to `sessions/quarantine/`, never resumed — and a torn final
//! record is cut, the session resuming to results identical to an uninterrupted run.

use serde_json::Value;
use shared_models::SessionState;
use simutrador_client::Client;
use simutrador_e2e::{DaemonProcess, add_key, client_cmd, run, stdout};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::restart::{HeldRun, hold_at_a_third, json, reference_run, request};

fn journal(state: &Path, id: &str, ext: &str) -> PathBuf {
    state.join("sessions").join(format!("{id}{ext}"))
}

fn quarantined(state: &Path, id: &str, ext: &str) -> PathBuf {
    state.join("sessions/quarantine").join(format!("{id}{ext}"))
}

/// Flip one digit inside line `n` (1-based) of `path`; the line stays valid JSON.
fn flip_a_digit(path: &Path, n: usize) -> Vec<u8> {
    let mut bytes = std::fs::read(path).unwrap();
    let start: usize = bytes
        .split_inclusive(|b| *b == b'\n')
        .take(n - 1)
        .map(<[u8]>::len)
        .sum();
    // Past the frame's `{"seq":N,"crc":"…","rec":` prefix, the first digit of the record.
    let rec = start
        + bytes[start..]
            .windows(6)
            .position(|w| w == b"\"rec\":")
            .unwrap();
    let at = rec + bytes[rec..].iter().position(u8::is_ascii_digit).unwrap();
    bytes[at] = if bytes[at] == b'1' { b'2' } else { b'1' };
    std::fs::write(path, &bytes).unwrap();
    bytes
}

/// `session status ID --json` and `session list --json` through the real CLI.
fn cli_json(home: &Path, url: &str, key: &str, args: &[&str]) -> Value {
    let out = run(client_cmd(home)
        .args(["--url", url, "--json"])
        .env("SIMUTRADOR_API_KEY", key)
        .args(args))
    .unwrap();
    assert!(out.status.success(), "{args:?}: {out:?}");
    serde_json::from_str(&stdout(&out)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_record_marks_the_session_damaged_quarantined_and_unchanged() {
    let home = tempfile::tempdir().unwrap();
    let state = home.path().join("state/simutrador");
    let key = add_key(&state, "erin").unwrap();
    let first = DaemonProcess::start(&state, &[]).unwrap();
    let (url, addr) = (first.url(), first.addr);
    let c = Client::connect_with_api_key(&url, &key).await.unwrap();
    // A finished session (many lifecycle records) and a fresh one (two records).
    let (done, _) = reference_run(&c).await;
    let fresh = c.create_session(request("1h")).await.unwrap();
    drop(c);
    assert!(first.terminate().unwrap().success());

    let middle = flip_a_digit(&journal(&state, &done.session_id, ".jsonl"), 3);
    let first_line = flip_a_digit(&journal(&state, &fresh.session_id, ".jsonl"), 1);

    let second = DaemonProcess::start_bound(&state, &addr.to_string(), &[]).unwrap();
    for (id, bytes, line) in [
        (&done.session_id, &middle, "line 3"),
        (&fresh.session_id, &first_line, "line 1"),
    ] {
        let status = cli_json(home.path(), &url, &key, &["session", "status", id]);
        assert_eq!(status["state"], "damaged", "{status}");
        let damage = status["damage"].as_str().unwrap();
        assert!(damage.contains(line), "{damage}");
        assert!(damage.contains("quarantine"), "{damage}");
        assert!(!journal(&state, id, ".jsonl").exists());
        assert_eq!(
            &std::fs::read(quarantined(&state, id, ".jsonl")).unwrap(),
            bytes,
            "kept byte for byte"
        );
    }
    let list = cli_json(home.path(), &url, &key, &["session", "list"]);
    let states: Vec<&str> = list["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["damaged", "damaged"], "{list}");

    // Never resumed, never started; a delete discards it.
    let c = Client::connect_with_api_key(&url, &key).await.unwrap();
    let e = c
        .run_simulation(
            &fresh.session_id,
            &mut crate::restart::strategy(),
            crate::restart::options(),
        )
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("INVALID_STATE") || e.to_string().contains("damaged"),
        "{e}"
    );
    c.delete_session(&fresh.session_id).await.unwrap();
    assert!(!quarantined(&state, &fresh.session_id, ".jsonl").exists());
    drop(c);

    // A second restart finds the other one in quarantine, still damaged and unchanged.
    assert!(second.terminate().unwrap().success());
    let third = DaemonProcess::start_bound(&state, &addr.to_string(), &[]).unwrap();
    let c = Client::connect_with_api_key(&url, &key).await.unwrap();
    let info = c.get_session(&done.session_id).await.unwrap();
    assert_eq!(info.state, SessionState::Damaged);
    assert_eq!(
        std::fs::read(quarantined(&state, &done.session_id, ".jsonl")).unwrap(),
        middle
    );
    drop(c);
    assert!(third.terminate().unwrap().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_torn_final_record_is_cut_and_the_run_resumes_to_identical_results() {
    let home = tempfile::tempdir().unwrap();
    let state = home.path().join("state/simutrador");
    let key = add_key(&state, "fay").unwrap();
    let first = DaemonProcess::start(&state, &[]).unwrap();
    let (url, addr) = (first.url(), first.addr);
    let c = Client::connect_with_api_key(&url, &key).await.unwrap();
    let (_, expected) = reference_run(&c).await;
    let session = c.create_session(request("1h")).await.unwrap();
    let HeldRun {
        task: interrupted,
        go,
        held_at: _,
    } = hold_at_a_third(&c, &session.session_id, session.bar_count).await;
    let stopped = tokio::task::spawn_blocking(move || first.terminate())
        .await
        .unwrap()
        .unwrap();
    assert!(stopped.success());

    // A write cut short: half a framed record at the end of each journal.
    let mut torn = Vec::new();
    for ext in [".jsonl", ".run.jsonl"] {
        let path = journal(&state, &session.session_id, ext);
        let good = std::fs::read(&path).unwrap();
        let mut bytes = good.clone();
        bytes.extend_from_slice(br#"{"seq":999,"crc":"0000"#);
        std::fs::write(&path, &bytes).unwrap();
        torn.push((path, good));
    }

    let second = DaemonProcess::start_bound(&state, &addr.to_string(), &[]).unwrap();
    for (path, good) in &torn {
        assert_eq!(&std::fs::read(path).unwrap()[..good.len()], &good[..]);
    }
    let c2 = Client::connect_with_api_key(&url, &key).await.unwrap();
    let info = c2.get_session(&session.session_id).await.unwrap();
    assert_eq!(info.state, SessionState::Paused, "{info:?}");
    go.send(()).unwrap();
    let results = tokio::time::timeout(Duration::from_secs(120), interrupted)
        .await
        .unwrap()
        .unwrap()
        .unwrap_or_else(|e| panic!("{e}; log:\n{}", second.log_text()));
    assert_eq!(
        json(&results),
        json(&expected),
        "identical to the uninterrupted run"
    );
    drop((c, c2));
    assert!(second.terminate().unwrap().success());
}
