//! Emergency-stop latency (issue 4: "answered within 10 ms even while a simulation is
//! streaming at full speed"), end to end through the real release daemon on loopback.
//!
//! Each round: a one-month, one-minute `sma-cross` run of BITDEMO (~43,000 bars) streams at
//! full speed (window 65,536) on one connection; when the strategy has seen a quarter of it,
//! a second connection of the same user sends `stop_session {reason: emergency}` and times the
//! reply (`session_terminated`: orders cancelled, positions flattened, final statistics).
//!
//! Run: `cargo build --release --workspace && cargo bench -p simutrador-e2e --bench stop`
//! (figures go to docs/benchmarks.md). Not a test: it asserts nothing about speed.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark: panics abort the run

use shared_models::lifecycle::StopKind;
use shared_models::{SessionState, Timeframe};
use simutrador_client::strategies::{StrategySpec, build_strategy};
use simutrador_client::{Client, RunOptions, SessionRequestBuilder};
use simutrador_e2e::{DaemonProcess, add_key};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    println!("load average at start: {}", load());
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let key = add_key(&state, "bench").unwrap();
    let daemon = DaemonProcess::start(&state, &[]).unwrap();
    let url = daemon.url();
    let runner = Client::connect_with_api_key(&url, &key).await.unwrap();
    let stopper = Client::connect_with_api_key(&url, &key).await.unwrap();
    let request = SessionRequestBuilder::new(["BITDEMO"], "2024-12-02", "2024-12-31")
        .timeframe(Timeframe::M1)
        .build();
    let spec = StrategySpec::parse("sma-cross", ["fast=10", "slow=20"]).unwrap();
    let rounds = 30;
    let mut latencies = Vec::with_capacity(rounds);
    let mut progress_at_stop = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let s = runner.create_session(request.clone()).await.unwrap();
        let total = s.bar_count;
        let (tx, rx) = oneshot::channel::<()>();
        let mut tx = Some(tx);
        let options = RunOptions::default().window(65_536).on_progress(move |p| {
            if p.ticks_done >= total / 4
                && let Some(tx) = tx.take()
            {
                let _ = tx.send(());
            }
        });
        let c = runner.clone();
        let id = s.session_id.clone();
        let spec = spec.clone();
        let run = tokio::spawn(async move {
            let mut strategy = build_strategy(&spec).unwrap();
            c.run_simulation(&id, &mut strategy, options).await
        });
        rx.await.unwrap();
        let t = Instant::now();
        let stopped = stopper
            .stop_session(&s.session_id, StopKind::Emergency)
            .await
            .unwrap();
        latencies.push(t.elapsed());
        assert_eq!(stopped.state, SessionState::Stopped);
        progress_at_stop.push(stopped.final_stats.settled_ticks as f64 / total as f64);
        let _ = run.await.unwrap(); // ends early: the session was stopped
        runner.delete_session(&s.session_id).await.unwrap();
    }
    let ms_of = |d: &Duration| format!("{:.1}", d.as_secs_f64() * 1e3);
    println!(
        "in order (ms): {}",
        latencies.iter().map(ms_of).collect::<Vec<_>>().join(" ")
    );
    latencies.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let mean = latencies.iter().map(|d| ms(*d)).sum::<f64>() / rounds as f64;
    let settled = progress_at_stop.iter().sum::<f64>() / rounds as f64 * 100.0;
    println!(
        "emergency stop during a full-speed run, {rounds} rounds: mean {mean:.3} ms, median {:.3} ms, \
         p90 {:.3} ms, max {:.3} ms (run {settled:.0} % settled on average when stopped) [load {}]",
        ms(latencies[rounds / 2]),
        ms(latencies[rounds * 9 / 10]),
        ms(latencies[rounds - 1]),
        load()
    );
}
