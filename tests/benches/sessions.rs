//! Session-management benchmark against the real release daemon on loopback:
//! - `create_session` round trip, p50/p99 over 10,000 sequential creates on one connection;
//! - daemon memory per idle session with 100,000 sessions held;
//! - 1,000 concurrent WebSocket connections (connect time, ping round trip, memory).
//!
//! Run: `cargo build --release --workspace && cargo bench -p simutrador-e2e --bench sessions`
//! (figures go to docs/benchmarks.md). Not a test: it asserts nothing about speed.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark: panics abort the run

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use simutrador_e2e::{DaemonProcess, add_key};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

const CONFIG: &str = r#"
[limits]
max_sessions_per_user = 200000
session_timeout_minutes = 1440

[rate_limits]
session_creates_per_minute = 100000000
messages_per_second = 100000000
message_burst = 100000000
connections_per_user = 5000
"#;

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap_or(0)
}

async fn connect(url: &str, token: &str) -> Ws {
    let (mut ws, _) = connect_async(format!("{url}/ws?token={token}"))
        .await
        .expect("connect");
    let _ready = ws.next().await;
    ws
}

async fn reply(ws: &mut Ws) -> Value {
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) => return serde_json::from_str(&t).expect("json"),
            Some(Ok(_)) => continue,
            other => panic!("connection ended: {other:?}"),
        }
    }
}

fn create(i: usize) -> String {
    json!({"type": "create_session", "request_id": i.to_string(), "data": {
        "symbols": ["ACME"], "start_date": "2020-01-01", "end_date": "2020-12-31",
        "initial_capital": 100000, "commission_rate": "0.001"}})
    .to_string()
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = dir.path().join("server.toml");
    std::fs::write(&cfg, CONFIG).expect("config written");
    let state = dir.path().join("state");
    let key = add_key(&state, "bench").expect("key");
    let daemon = DaemonProcess::start(&state, &["--config", cfg.to_str().unwrap_or_default()])
        .expect("daemon starts");
    let pid = daemon.child.id();
    let url = daemon.url();
    let token: Value = reqwest::Client::new()
        .post(format!("http://{}/auth/token", daemon.addr))
        .header("X-API-Key", &key)
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("json");
    let token = token["access_token"].as_str().expect("token").to_string();
    println!("daemon pid {pid}, idle RSS {} KiB", rss_kib(pid));

    // 1. Sequential create_session round trips on one connection.
    let mut ws = connect(&url, &token).await;
    for i in 0..500 {
        ws.send(Message::text(create(i))).await.expect("send");
        reply(&mut ws).await;
    }
    let n = 10_000;
    let mut rtts = Vec::with_capacity(n);
    let started = Instant::now();
    for i in 0..n {
        let t = Instant::now();
        ws.send(Message::text(create(i))).await.expect("send");
        let r = reply(&mut ws).await;
        rtts.push(t.elapsed());
        assert_eq!(r["type"], "session_created", "{r}");
    }
    let total = started.elapsed();
    rtts.sort();
    println!(
        "create_session round trip over {n} sequential creates: p50 {:?}, p90 {:?}, p99 {:?}, max {:?}; {:.0} creates/s",
        pct(&rtts, 0.50),
        pct(&rtts, 0.90),
        pct(&rtts, 0.99),
        rtts[n - 1],
        n as f64 / total.as_secs_f64()
    );

    // 2. Memory per idle session, up to 100,000 sessions held.
    let held_before = n + 500;
    let rss_before = rss_kib(pid);
    let target = 100_000;
    let mut sent = held_before;
    let window = 256;
    let mut in_flight = 0;
    let started = Instant::now();
    while sent < target || in_flight > 0 {
        while sent < target && in_flight < window {
            ws.send(Message::text(create(sent))).await.expect("send");
            sent += 1;
            in_flight += 1;
        }
        let r = reply(&mut ws).await;
        assert_eq!(r["type"], "session_created", "{r}");
        in_flight -= 1;
    }
    let pipelined = started.elapsed();
    let rss_after = rss_kib(pid);
    let added = (target - held_before) as u64;
    println!(
        "{target} sessions held: RSS {rss_before} KiB -> {rss_after} KiB, {:.0} bytes per idle session; pipelined creates: {:.0}/s",
        (rss_after.saturating_sub(rss_before) * 1024) as f64 / added as f64,
        added as f64 / pipelined.as_secs_f64()
    );
    let health: Value = reqwest::get(format!("http://{}/healthz", daemon.addr))
        .await
        .expect("health")
        .json()
        .await
        .expect("json");
    println!("healthz sessions = {}", health["sessions"]);

    // 3. 1,000 concurrent connections.
    let conns = 1_000;
    let rss_before = rss_kib(pid);
    let started = Instant::now();
    let mut sockets = Vec::with_capacity(conns);
    for chunk in 0..(conns / 100) {
        let mut tasks = Vec::new();
        for _ in 0..100 {
            let (url, token) = (url.clone(), token.clone());
            tasks.push(tokio::spawn(async move { connect(&url, &token).await }));
        }
        for t in tasks {
            sockets.push(t.await.expect("connect task"));
        }
        let _ = chunk;
    }
    let connect_time = started.elapsed();
    let rss_conns = rss_kib(pid);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (i, mut s) in sockets.into_iter().enumerate() {
        tasks.push(tokio::spawn(async move {
            let t = Instant::now();
            s.send(Message::text(
                json!({"type": "ping", "request_id": i.to_string()}).to_string(),
            ))
            .await
            .expect("ping");
            let r = reply(&mut s).await;
            assert_eq!(r["type"], "pong");
            (t.elapsed(), s)
        }));
    }
    let mut pings = Vec::new();
    let mut sockets = Vec::new();
    for t in tasks {
        let (rtt, s) = t.await.expect("ping task");
        pings.push(rtt);
        sockets.push(s);
    }
    let all = started.elapsed();
    pings.sort();
    println!(
        "{conns} concurrent connections: opened in {connect_time:?}, RSS +{} KiB ({:.1} KiB per connection); one ping on each at once: all answered in {all:?}, p50 {:?}, p99 {:?}",
        rss_conns.saturating_sub(rss_before),
        rss_conns.saturating_sub(rss_before) as f64 / conns as f64,
        pct(&pings, 0.5),
        pct(&pings, 0.99)
    );
    drop(sockets);
    let status = daemon.terminate().expect("daemon stops");
    println!("daemon exited with {status}");
}
