//! Memory measurement (not a test): the daemon's resident memory while one client has asked
//! for the results of a 1M-bar session 40 times and reads none of the replies.
//!
//! It writes 1,000,000 one-minute bars (`UNREAD_BARS` to change), starts the real daemon binary
//! of this build with `[connections]` from `UNREAD_CONNECTIONS` (TOML lines; e.g.
//! `outbound_queue_bytes = 4294967295` to emulate the queue bounded by frames only), runs
//! buy-and-hold over the session with the SDK, then opens a raw WebSocket, sends 40
//! `get_results` and never reads. It prints the daemon's VmRSS (from `/proc/<pid>/status`)
//! before the requests and its peak over the next `UNREAD_SECONDS` (default 20).
//!
//! Run: `bench/memory/unread_replies.sh` (see docs/benchmarks.md).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a measurement: panics abort the run

use shared_models::Timeframe;
use simutrador_client::strategies::{StrategySpec, build_strategy};
use simutrador_client::{Client, RunOptions, SessionRequestBuilder};
use simutrador_e2e::{DaemonProcess, add_key};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const START: i64 = 1_577_836_800; // 2020-01-01T00:00:00Z

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// VmRSS of `pid` in MiB.
fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

/// A client text frame (masked with the all-zero key, which leaves the payload as is).
fn text_frame(payload: &str) -> Vec<u8> {
    let mut frame = vec![0x81];
    let n = payload.len();
    if n < 126 {
        frame.push(0x80 | n as u8);
    } else {
        frame.push(0x80 | 126);
        frame.extend_from_slice(&(n as u16).to_be_bytes());
    }
    frame.extend_from_slice(&[0, 0, 0, 0]);
    frame.extend_from_slice(payload.as_bytes());
    frame
}

#[tokio::main]
async fn main() {
    let bars: usize = env_or("UNREAD_BARS", 1_000_000);
    let seconds: u64 = env_or("UNREAD_SECONDS", 20);
    let connections = std::env::var("UNREAD_CONNECTIONS").unwrap_or_default();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(data.join("1m")).unwrap();
    let series = simutrador_server::market_data::demo::minute_series("BENCH", START, bars);
    let mut file = std::fs::File::create(data.join("1m/BENCH.csv")).unwrap();
    simutrador_server::market_data::csv::write_csv(&series, &mut file).unwrap();
    drop(file);
    let last = series.timestamps()[bars - 1];
    let end = chrono::DateTime::from_timestamp(last, 0)
        .unwrap()
        .to_rfc3339();

    let cfg = dir.path().join("server.toml");
    std::fs::write(
        &cfg,
        format!("[connections]\n{}\n", connections.replace(';', "\n")),
    )
    .unwrap();
    let state = dir.path().join("state");
    let key = add_key(&state, "bench").unwrap();
    let flags = [
        "--config",
        cfg.to_str().unwrap(),
        "--data-dir",
        data.to_str().unwrap(),
    ];
    let daemon = DaemonProcess::start(&state, &flags).unwrap();
    let pid = daemon.child.id();
    let client = Client::connect_with_api_key(&daemon.url(), &key)
        .await
        .unwrap();
    let request = SessionRequestBuilder::new(["BENCH"], "2020-01-01T00:00:00Z", end)
        .timeframe(Timeframe::M1)
        .build();
    let session = client.create_session(request).await.unwrap();
    let mut strategy = build_strategy(&StrategySpec::parse("buy-and-hold", []).unwrap()).unwrap();
    let t = Instant::now();
    client
        .run_simulation(
            &session.session_id,
            strategy.as_mut(),
            RunOptions::default(),
        )
        .await
        .unwrap();
    println!("{bars} bars run in {:.1} s", t.elapsed().as_secs_f64());
    let url = simutrador_client::ServerUrl::parse(&daemon.url()).unwrap();
    let token = simutrador_client::login(&url, &key)
        .await
        .unwrap()
        .access_token;

    // A raw WebSocket that asks 40 times and never reads.
    let mut tcp = TcpStream::connect(daemon.addr).await.unwrap();
    let handshake = format!(
        "GET /ws?token={token} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        daemon.addr
    );
    tcp.write_all(handshake.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        tcp.read_exact(&mut byte).await.unwrap();
        head.push(byte[0]);
    }
    assert!(
        head.starts_with(b"HTTP/1.1 101"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    let before = rss_mib(pid);
    for i in 0..40 {
        let request = format!(
            r#"{{"type":"get_results","request_id":"r{i}","data":{{"session_id":"{}"}}}}"#,
            session.session_id
        );
        tcp.write_all(&text_frame(&request)).await.unwrap();
    }
    let mut peak = before;
    let until = Instant::now() + Duration::from_secs(seconds);
    while Instant::now() < until {
        peak = peak.max(rss_mib(pid));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let after = rss_mib(pid);
    println!(
        "daemon VmRSS: {before:.0} MiB before the 40 unread get_results, peak {peak:.0} MiB over {seconds} s, {after:.0} MiB at the end ([connections] {connections:?})"
    );
    drop(tcp);
}
