//! `GET /metrics` counts what the listener refuses, read over HTTP from the real daemon:
//! `simutrador_connections_refused_total{reason=…}` for each cap (`max_connections`,
//! `max_connections_per_ip`) and each timeout (`header_read_timeout`,
//! `unauthenticated_timeout`). (Slow-consumer closes, code 4008, are counted in
//! `slow_consumer.rs`.)

use crate::connection_limits::{connect_from, read_to_close};
use simutrador_e2e::TestDaemon;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// `simutrador_connections_refused_total{reason}` from `GET /metrics`, asked from `source`'s
/// /24 (a fresh connection, from a fresh address of it, each time, retried while the daemon
/// refuses it: an earlier scrape the daemon has not finished closing never makes a later
/// one count against the per-IP cap).
async fn refused(addr: SocketAddr, source: IpAddr, reason: &str) -> u64 {
    static NEXT: AtomicU8 = AtomicU8::new(1);
    let text = loop {
        let IpAddr::V4(v4) = source else {
            unreachable!("IPv4 loopback sources")
        };
        let [a, _, _, d] = v4.octets();
        let fresh = IpAddr::from([a, 1, NEXT.fetch_add(1, Ordering::Relaxed), d]);
        let http = reqwest::Client::builder()
            .local_address(fresh)
            .pool_max_idle_per_host(0)
            .build()
            .unwrap();
        match http.get(format!("http://{addr}/metrics")).send().await {
            Ok(r) if r.status() == 200 => break r.text().await.unwrap(),
            _ => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    };
    let series = format!("simutrador_connections_refused_total{{reason=\"{reason}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(series.as_str()))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no {series} in:\n{text}"))
}

fn ip(last: u8) -> IpAddr {
    IpAddr::from([127, 0, 0, last])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_over_each_cap_are_counted_by_reason() {
    let d = TestDaemon::start_with(|c| {
        c.connections.max_connections = 3;
        c.connections.max_connections_per_ip = 2;
        // Long timeouts: the held sockets stay open until the test drops them.
        c.connections.header_read_timeout_seconds = 3600;
        c.connections.unauthenticated_timeout_seconds = 3600;
    })
    .await
    .unwrap();
    let addr = d.addr();
    assert_eq!(refused(addr, ip(9), "max_connections_per_ip").await, 0);

    // Two from .1 (its cap), the third is refused per IP.
    let mut held = vec![
        connect_from(ip(1), addr).await,
        connect_from(ip(1), addr).await,
    ];
    let got = read_to_close(&mut connect_from(ip(1), addr).await).await;
    assert!(got.starts_with("HTTP/1.1 503"), "{got}");
    // One from .2 fills the daemon: one from .3 is refused by the global cap.
    held.push(connect_from(ip(2), addr).await);
    let got = read_to_close(&mut connect_from(ip(3), addr).await).await;
    assert!(got.starts_with("HTTP/1.1 503"), "{got}");

    // Room for the scrape (from .9; scrapes refused while the daemon frees the place count
    // under the global cap too).
    drop(held.pop());
    assert_eq!(refused(addr, ip(9), "max_connections_per_ip").await, 1);
    assert!(refused(addr, ip(9), "max_connections").await >= 1);
    assert_eq!(refused(addr, ip(9), "header_read_timeout").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_open_socket_is_counted_as_a_header_read_timeout() {
    let d = TestDaemon::start_with(|c| {
        c.connections.header_read_timeout_seconds = 1;
        c.connections.unauthenticated_timeout_seconds = 3600;
    })
    .await
    .unwrap();
    let addr = d.addr();
    let mut partial = connect_from(ip(1), addr).await;
    partial
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    read_to_close(&mut partial).await;
    // The scrape's own connections close as they go (no idle pool), so the count is exact.
    assert_eq!(refused(addr, ip(2), "header_read_timeout").await, 1);
    assert_eq!(refused(addr, ip(2), "unauthenticated_timeout").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_connection_that_never_authenticates_is_counted_as_unauthenticated() {
    let d = TestDaemon::start_with(|c| {
        c.connections.header_read_timeout_seconds = 1;
        c.connections.unauthenticated_timeout_seconds = 1;
    })
    .await
    .unwrap();
    let addr = d.addr();
    // Pipelined requests, never read: the connection always has a whole request head to
    // parse or a reply it cannot write, so the header-read timeout never runs and only the
    // unauthenticated timeout can end it.
    let tcp = connect_from(ip(1), addr).await;
    let (mut rd, mut wr) = tcp.into_split();
    let writer = tokio::spawn(async move {
        let chunk = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".repeat(1000);
        for _ in 0..100 {
            if wr.write_all(&chunk).await.is_err() {
                break;
            }
        }
        wr
    });
    while refused(addr, ip(2), "unauthenticated_timeout").await == 0 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The daemon closes it: reading now ends.
    let mut sink = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(60), rd.read_to_end(&mut sink)).await;
    let _ = writer.await;
    assert_eq!(refused(addr, ip(2), "unauthenticated_timeout").await, 1);
}
