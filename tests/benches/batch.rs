//! Batch benchmark (issue 5), end to end through the real release daemon on loopback:
//!
//! 1. **Sweep**: 1,000 `sma-cross` runs (fast 1..=40 × slow 41..=65) over ~2,600 daily bars
//!    of ACME (2015-01-01 .. 2024-12-31), through `BatchRunner` exactly as `batch run` does,
//!    against a daemon with the **default** configuration (parallelism = what it allows, 5).
//! 2. **Per-session overhead**: a near-empty session (one bar, `buy-and-hold`):
//!    create + start + end + results, one after another (latency), then 1,000 of them through
//!    `BatchRunner` (throughput, including the delete). This daemon's message rate is raised
//!    so the figure is the daemon's cost, not the rate limit's.
//!
//! Run: `cargo build --release --workspace && cargo bench -p simutrador-e2e --bench batch`
//! (figures go to docs/benchmarks.md). Not a test: it asserts nothing about speed.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark: panics abort the run

use simutrador_client::batch::{
    BatchConfig, BatchOptions, BatchRunner, CancellationToken, RunStatus, Silent, StrategyRegistry,
    expand,
};
use simutrador_client::strategies::{StrategySpec, build_strategy};
use simutrador_client::{Client, SessionRequestBuilder};
use simutrador_e2e::{DaemonProcess, add_key};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

fn sweep_toml() -> String {
    let fast: Vec<String> = (1..=40).map(|n| n.to_string()).collect();
    let slow: Vec<String> = (41..=65).map(|n| n.to_string()).collect();
    format!(
        "[defaults]\nsymbols = [\"ACME\"]\nstart_date = \"2015-01-01\"\nend_date = \"2024-12-31\"\n\
         initial_capital = 100000\ncommission_rate = 0.001\nstrategy = \"sma-cross\"\n\
         [sweep]\nfast = [{}]\nslow = [{}]\n",
        fast.join(", "),
        slow.join(", ")
    )
}

async fn clients(url: &str, key: &str, n: usize) -> Vec<Client> {
    let mut v = Vec::new();
    for _ in 0..n {
        v.push(Client::connect_with_api_key(url, key).await.unwrap());
    }
    v
}

async fn sweep(url: &str, key: &str) {
    let registry = StrategyRegistry::built_ins();
    let t = Instant::now();
    let config = BatchConfig::parse(&sweep_toml(), "bench", Path::new("."), &registry).unwrap();
    let plan = expand(&config, &registry).unwrap();
    println!(
        "sweep: {} runs expanded ({} skipped) in {:?}",
        plan.runs.len(),
        plan.skipped.len(),
        t.elapsed()
    );
    let cs = clients(url, key, 4).await;
    let runner = BatchRunner::new(cs, registry);
    let parallel = runner.parallelism();
    let t = Instant::now();
    let report = runner
        .run(&plan.runs, Arc::new(Silent), CancellationToken::new())
        .await;
    let secs = t.elapsed().as_secs_f64();
    let ok = report
        .records
        .iter()
        .filter(|r| r.status == RunStatus::Ok)
        .count();
    let bars: usize = report
        .records
        .iter()
        .filter_map(|r| r.results.as_ref())
        .map(|r| r.equity_curve.len())
        .sum();
    let trades: u64 = report
        .records
        .iter()
        .filter_map(|r| r.results.as_ref())
        .map(|r| r.metrics.num_trades)
        .sum();
    println!(
        "sweep: {ok}/{} runs ok, parallel {parallel}, {secs:.2} s end to end = {:.2} ms/run, \
         {:.0} bars/s ({bars} bars, {trades} trades) [load {}]",
        report.records.len(),
        secs * 1e3 / report.records.len() as f64,
        bars as f64 / secs,
        load()
    );
    for r in report
        .records
        .iter()
        .filter(|r| r.status != RunStatus::Ok)
        .take(3)
    {
        println!("  not ok: {} {:?}", r.spec.name, r.status);
    }
}

async fn overhead(url: &str, key: &str) {
    let c = Client::connect_with_api_key(url, key).await.unwrap();
    let request = SessionRequestBuilder::new(["ACME"], "2024-12-02", "2024-12-02").build();
    let spec = StrategySpec::new("buy-and-hold");
    // Warm up the connection and the daemon's code paths.
    for _ in 0..50 {
        let s = c.create_session(request.clone()).await.unwrap();
        let mut strategy = build_strategy(&spec).unwrap();
        c.run_simulation(&s.session_id, &mut strategy, Default::default())
            .await
            .unwrap();
        c.delete_session(&s.session_id).await.unwrap();
    }
    let n = 1000;
    let mut cycle = Vec::with_capacity(n);
    let mut delete = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        let s = c.create_session(request.clone()).await.unwrap();
        let mut strategy = build_strategy(&spec).unwrap();
        let results = c
            .run_simulation(&s.session_id, &mut strategy, Default::default())
            .await
            .unwrap();
        cycle.push(t.elapsed());
        assert_eq!(results.equity_curve.len(), 1);
        let t = Instant::now();
        c.delete_session(&s.session_id).await.unwrap();
        delete.push(t.elapsed());
    }
    let stats = |v: &mut Vec<Duration>| {
        v.sort();
        let mean = v.iter().sum::<Duration>().as_secs_f64() * 1e3 / v.len() as f64;
        (
            mean,
            v[v.len() / 2].as_secs_f64() * 1e3,
            v[v.len() * 99 / 100].as_secs_f64() * 1e3,
        )
    };
    let (m, p50, p99) = stats(&mut cycle);
    let (dm, dp50, _) = stats(&mut delete);
    println!(
        "overhead, sequential: create+start+end+results mean {m:.3} ms, median {p50:.3} ms, \
         p99 {p99:.3} ms; delete mean {dm:.3} ms, median {dp50:.3} ms [load {}]",
        load()
    );

    let text = "[defaults]\nsymbols = [\"ACME\"]\nstart_date = \"2024-12-02\"\nend_date = \"2024-12-02\"\nstrategy = \"buy-and-hold\"\n[sweep]\ninitial_capital = [";
    let caps: Vec<String> = (0..1000).map(|i| (10_000 + i).to_string()).collect();
    let text = format!("{text}{}]\n", caps.join(", "));
    let registry = StrategyRegistry::built_ins();
    let config = BatchConfig::parse(&text, "bench", Path::new("."), &registry).unwrap();
    let plan = expand(&config, &registry).unwrap();
    for parallel in [1usize, 5] {
        let cs = clients(url, key, parallel.min(4)).await;
        let runner = BatchRunner::new(cs, registry.clone()).options(BatchOptions {
            parallel: Some(parallel),
            ..Default::default()
        });
        let t = Instant::now();
        let report = runner
            .run(&plan.runs, Arc::new(Silent), CancellationToken::new())
            .await;
        let secs = t.elapsed().as_secs_f64();
        let ok = report
            .records
            .iter()
            .filter(|r| r.status == RunStatus::Ok)
            .count();
        println!(
            "overhead, BatchRunner parallel {parallel}: {ok}/{} near-empty runs in {secs:.3} s = \
             {:.3} ms/run (create+start+end+results+delete) [load {}]",
            report.records.len(),
            secs * 1e3 / report.records.len() as f64,
            load()
        );
    }
}

#[tokio::main]
async fn main() {
    println!("load average at start: {}", load());
    let dir = tempfile::tempdir().unwrap();

    let state = dir.path().join("state-default");
    let key = add_key(&state, "bench").unwrap();
    let daemon = DaemonProcess::start(&state, &[]).unwrap();
    sweep(&daemon.url(), &key).await;
    drop(daemon);

    let cfg = dir.path().join("server.toml");
    std::fs::write(
        &cfg,
        "[rate_limits]\nmessages_per_second = 1000000\nmessage_burst = 1000000\n",
    )
    .unwrap();
    let state = dir.path().join("state-fast");
    let key = add_key(&state, "bench").unwrap();
    let daemon = DaemonProcess::start(&state, &["--config", cfg.to_str().unwrap()]).unwrap();
    overhead(&daemon.url(), &key).await;
}
