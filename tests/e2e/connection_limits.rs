//! Connection limits on the real daemon binary: half-open sockets are closed after the
//! header-read timeout, connections over the caps are answered 503 with `Retry-After`, and a
//! flood of half-open sockets larger than the caps cannot lock a normal client out.

use crate::support::Raw;
use serde_json::Value;
use shared_models::SessionState;
use simutrador_client::strategies::{StrategySpec, build_strategy};
use simutrador_client::{Client, RunOptions, SessionRequestBuilder};
use simutrador_e2e::{DaemonProcess, add_key};
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// Start the binary with a `[connections]` section.
fn start(home: &Path, connections: &str) -> (DaemonProcess, String) {
    let state = home.join("state");
    std::fs::create_dir_all(&state).unwrap();
    let key = add_key(&state, "dana").unwrap();
    let config = home.join("server.toml");
    std::fs::write(&config, format!("[connections]\n{connections}")).unwrap();
    let flags = ["--config", config.to_str().unwrap()];
    (DaemonProcess::start(&state, &flags).unwrap(), key)
}

/// A TCP connection from `source` (any address of 127.0.0.0/8 is loopback on Linux).
pub(crate) async fn connect_from(source: IpAddr, to: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::new(source, 0)).unwrap();
    socket.connect(to).await.unwrap()
}

/// Everything the server sends until it closes the socket (a reset counts as closed).
pub(crate) async fn read_to_close(tcp: &mut TcpStream) -> String {
    let mut got = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(60), async {
        let mut buf = [0u8; 4096];
        loop {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    });
    read.await.expect("the server closes the socket");
    String::from_utf8_lossy(&got).into_owned()
}

/// A token, asked for from 127.0.0.3 (so that the request's connection does not count against
/// 127.0.0.1's cap while the server notices it closed).
async fn token(addr: SocketAddr, key: &str) -> String {
    let body: Value = reqwest::Client::builder()
        .local_address(IpAddr::from([127, 0, 0, 3]))
        .build()
        .unwrap()
        .post(format!("http://{addr}/auth/token"))
        .header("X-API-Key", key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["access_token"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_open_sockets_are_closed_after_the_header_read_timeout() {
    let home = tempfile::tempdir().unwrap();
    // A long unauthenticated timeout: only the header-read timeout can close these sockets.
    let limits = "header_read_timeout_seconds = 1\nunauthenticated_timeout_seconds = 3600\n";
    let (daemon, _) = start(home.path(), limits);
    let localhost: IpAddr = "127.0.0.1".parse().unwrap();
    let mut silent = Vec::new();
    for _ in 0..8 {
        silent.push(connect_from(localhost, daemon.addr).await);
    }
    let mut partial = Vec::new();
    for _ in 0..8 {
        let mut tcp = connect_from(localhost, daemon.addr).await;
        tcp.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        partial.push(tcp);
    }
    for tcp in silent.iter_mut().chain(partial.iter_mut()) {
        let got = read_to_close(tcp).await;
        assert!(!got.contains("200 OK"), "{got}");
    }
    // A whole request is still answered.
    let health = reqwest::get(format!("http://{}/healthz", daemon.addr))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_per_ip_cap_get_503_with_retry_after() {
    let home = tempfile::tempdir().unwrap();
    let (daemon, key) = start(
        home.path(),
        "max_connections = 64\nmax_connections_per_ip = 4\n",
    );
    let token = token(daemon.addr, &key).await;
    // Authenticated WebSockets are never reaped by the HTTP timeouts: they hold the cap.
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(Raw::connect_addr(daemon.addr, &token).await);
    }
    let localhost: IpAddr = "127.0.0.1".parse().unwrap();
    let mut refused = connect_from(localhost, daemon.addr).await;
    let got = read_to_close(&mut refused).await;
    assert!(got.starts_with("HTTP/1.1 503"), "{got}");
    assert!(got.contains("Retry-After: 1"), "{got}");
    assert!(got.contains("RATE_LIMITED"), "{got}");
    // Another address is under its own cap.
    let other: IpAddr = "127.0.0.2".parse().unwrap();
    let mut tcp = connect_from(other, daemon.addr).await;
    tcp.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let got = read_to_close(&mut tcp).await;
    assert!(got.starts_with("HTTP/1.1 200"), "{got}");
    // A closed WebSocket gives its place back.
    drop(held.pop());
    let health = loop {
        match reqwest::get(format!("http://{}/healthz", daemon.addr)).await {
            Ok(r) if r.status() == 200 => break r,
            _ => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    };
    assert_eq!(health.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_half_open_sockets_cannot_lock_out_a_normal_client() {
    let home = tempfile::tempdir().unwrap();
    let limits = "max_connections = 64\nmax_connections_per_ip = 16\n\
                  header_read_timeout_seconds = 1\nunauthenticated_timeout_seconds = 2\n";
    let (daemon, key) = start(home.path(), limits);
    // 96 half-open sockets from six addresses: more than both caps.
    let mut flood = Vec::new();
    for host in 1..=6u8 {
        let source = IpAddr::from([127, 0, 0, host]);
        for i in 0..16 {
            let mut tcp = connect_from(source, daemon.addr).await;
            if i % 2 == 1 {
                let _ = tcp.write_all(b"POST /auth/token HTTP/1.1\r\n").await;
            }
            flood.push(tcp);
        }
    }
    // The normal client retries until the half-open sockets are reaped, then works as usual.
    let url = format!("ws://{}", daemon.addr);
    let c = loop {
        match Client::connect_with_api_key(&url, &key).await {
            Ok(c) => break c,
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    };
    let req = SessionRequestBuilder::new(["ACME"], "2020-01-01", "2020-06-30").build();
    let session = c.create_session(req).await.unwrap();
    let mut strategy = build_strategy(&StrategySpec::parse("buy-and-hold", []).unwrap()).unwrap();
    let results = c
        .run_simulation(
            &session.session_id,
            strategy.as_mut(),
            RunOptions::default(),
        )
        .await
        .unwrap();
    assert!(!results.equity_curve.is_empty());
    let info = c.get_session(&session.session_id).await.unwrap();
    assert_eq!(info.state, SessionState::Completed);
    // Every socket of the flood was closed by the daemon.
    for tcp in &mut flood {
        read_to_close(tcp).await;
    }
}
