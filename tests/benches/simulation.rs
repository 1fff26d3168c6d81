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
    for window in [1024u32, 65_536, 64] {
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
        let t = Instant::now();
        let results = client
            .run_simulation(&session.session_id, strategy.as_mut(), options)
            .await
            .unwrap();
        let secs = t.elapsed().as_secs_f64();
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
