//! Simulation benchmark, end to end: 1,000,000 deterministic one-minute bars of one symbol,
//! `sma-cross` 10/20, the real release daemon on loopback and the SDK's runner in this process.
//! Reports bars/s for a few windows, and checks that every window gives the same results.
//!
//! Run: `cargo build --release --workspace && cargo bench -p simutrador-e2e --bench simulation`
//! (figures go to docs/benchmarks.md). Not a test: it asserts nothing about speed.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark: panics abort the run

use shared_models::Timeframe;
use simutrador_client::strategies::{StrategySpec, build_strategy};
use simutrador_client::{Client, RunOptions, SessionRequestBuilder};
use simutrador_e2e::{DaemonProcess, add_key};
use std::time::Instant;

const BARS: usize = 1_000_000;
const START: i64 = 1_577_836_800; // 2020-01-01T00:00:00Z

const CONFIG: &str = "[limits]\nmax_sessions_per_user = 100\n";

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(data.join("1m")).unwrap();
    let t = Instant::now();
    let series = simutrador_server::market_data::demo::minute_series("BENCH", START, BARS);
    let mut file = std::fs::File::create(data.join("1m/BENCH.csv")).unwrap();
    simutrador_server::market_data::csv::write_csv(&series, &mut file).unwrap();
    drop(file);
    println!("wrote {BARS} one-minute bars in {:?}", t.elapsed());
    let last = series.timestamps()[BARS - 1];
    let end = chrono::DateTime::from_timestamp(last, 0)
        .unwrap()
        .to_rfc3339();

    let cfg = dir.path().join("server.toml");
    std::fs::write(&cfg, CONFIG).unwrap();
    let state = dir.path().join("state");
    let key = add_key(&state, "bench").unwrap();
    let t = Instant::now();
    let daemon = DaemonProcess::start(
        &state,
        &[
            "--config",
            cfg.to_str().unwrap(),
            "--data-dir",
            data.to_str().unwrap(),
        ],
    )
    .unwrap();
    println!("daemon ready (loading the CSV) in {:?}", t.elapsed());
    let client = Client::connect_with_api_key(&daemon.url(), &key)
        .await
        .unwrap();

    let mut reference = None;
    // SIM_BENCH_WINDOWS=65536 (comma-separated) runs only those windows, e.g. for a profile.
    let windows: Vec<u32> = std::env::var("SIM_BENCH_WINDOWS")
        .ok()
        .map(|v| v.split(',').filter_map(|w| w.trim().parse().ok()).collect())
        .filter(|w: &Vec<u32>| !w.is_empty())
        .unwrap_or_else(|| vec![1024, 65_536, 64]);
    for window in windows {
        let request = SessionRequestBuilder::new(["BENCH"], "2020-01-01T00:00:00Z", end.clone())
            .timeframe(Timeframe::M1)
            .build();
        let session = client.create_session(request).await.unwrap();
        let spec = StrategySpec {
            name: "sma-cross".into(),
            params: [("fast", "10"), ("slow", "20")]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        let mut strategy = build_strategy(&spec).unwrap();
        // When the strategy got the last tick: splits the time into streaming the bars and
        // finishing (the daemon's results, their transfer and decoding).
        let last_tick = std::sync::Arc::new(std::sync::Mutex::new(None));
        let seen = last_tick.clone();
        let total = session.bar_count;
        let options = RunOptions {
            window,
            ..RunOptions::default()
        }
        .on_progress(move |p| {
            if p.ticks_done == total && p.sim_time.is_some() {
                seen.lock().unwrap().get_or_insert_with(Instant::now);
            }
        });
        let cpu_before = (
            cpu_seconds("self"),
            cpu_seconds(&daemon.child.id().to_string()),
        );
        let t = Instant::now();
        let results = client
            .run_simulation(&session.session_id, strategy.as_mut(), options)
            .await
            .unwrap();
        let secs = t.elapsed().as_secs_f64();
        let cpu_client = cpu_seconds("self") - cpu_before.0;
        let cpu_daemon = cpu_seconds(&daemon.child.id().to_string()) - cpu_before.1;
        let streamed = last_tick
            .lock()
            .unwrap()
            .map_or(secs, |at| (at - t).as_secs_f64());
        println!(
            "window {window:>6}: {} bars in {secs:.2} s = {:.0} bars/s (bars streamed in {streamed:.2} s, results in {:.2} s); {} trades, equity {}, sharpe {:?}",
            session.bar_count,
            session.bar_count as f64 / secs,
            secs - streamed,
            results.metrics.num_trades,
            results.metrics.equity_final,
            results.metrics.sharpe_ratio,
        );
        println!(
            "               CPU time: SDK process {cpu_client:.2} s, daemon {cpu_daemon:.2} s; load average {}",
            std::fs::read_to_string("/proc/loadavg")
                .unwrap_or_default()
                .split(' ')
                .next()
                .unwrap_or("?")
        );
        let t = Instant::now();
        let again = client.get_results(&session.session_id).await.unwrap();
        println!(
            "               get_results alone: {:.3} s",
            t.elapsed().as_secs_f64()
        );
        assert_eq!(again, results);
        let text = serde_json::to_string(&results).unwrap();
        match &reference {
            None => reference = Some(text),
            Some(r) => assert_eq!(r, &text, "results differ between windows"),
        }
        client.delete_session(&session.session_id).await.unwrap();
    }
    println!("results identical across windows");
    drop(client);
    daemon.terminate().unwrap();
}

/// User + system CPU seconds of a process (`self` or a pid), from `/proc/<pid>/stat`; 0 where
/// that is not readable. Wall-clock time on a shared machine depends on the other load, CPU
/// time much less.
fn cpu_seconds(pid: &str) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // Fields after the command name (which is in parentheses and may hold spaces).
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the line: 12 and 13 after the name.
    (ticks(11) + ticks(12)) / 100.0
}
