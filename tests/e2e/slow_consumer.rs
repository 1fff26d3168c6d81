//! Bounded memory per connection over a real socket: a raw client asks for large results 40
//! times and reads none of the replies. The daemon stops reading its requests once the
//! outbound queue is full, closes it with close code 4008 when it stays full (counted in
//! `simutrador_slow_consumer_closes_total`), and a second, normal client keeps working.

use crate::support::{Raw, login};
use serde_json::{Value, json};
use shared_models::Timeframe;
use simutrador_client::strategies::{StrategySpec, build_strategy};
use simutrador_client::{Client, RunOptions, SessionRequestBuilder};
use simutrador_e2e::TestDaemon;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

/// WebSocket connections the daemon counts (`GET /healthz`).
async fn connections(d: &TestDaemon) -> u64 {
    let body: Value = reqwest::get(format!("http://{}/healthz", d.addr()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["connections"].as_u64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_reads_no_replies_is_closed_with_4008_and_others_keep_working() {
    let d = TestDaemon::start_with(|c| {
        c.connections.outbound_queue_bytes = 65_536;
        c.connections.outbound_queue_frames = 4;
        c.connections.slow_consumer_timeout_seconds = 1;
    })
    .await
    .unwrap();
    let key = d.add_key("alice").unwrap();
    let c = Client::connect_with_api_key(&d.url(), &key).await.unwrap();
    // Ten days of minute bars: each `get_results` reply is over a megabyte.
    let req = SessionRequestBuilder::new(["BITDEMO"], "2024-12-02", "2024-12-12")
        .timeframe(Timeframe::M1)
        .build();
    let session = c.create_session(req).await.unwrap();
    let mut strategy = build_strategy(&StrategySpec::parse("buy-and-hold", []).unwrap()).unwrap();
    let expected = c
        .run_simulation(
            &session.session_id,
            strategy.as_mut(),
            RunOptions::default(),
        )
        .await
        .unwrap();
    let before = connections(&d).await;

    let token = login(&d, "alice").await;
    let mut raw = Raw::connect(&d, &token).await;
    for i in 0..40 {
        let request = json!({
            "type": "get_results",
            "request_id": format!("gr{i}"),
            "data": { "session_id": session.session_id },
        });
        raw.send_text(&request.to_string()).await;
    }
    // The daemon gives up on the connection while the client still reads nothing.
    while connections(&d).await > before {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Reading now: the replies the socket already held, then close code 4008.
    let mut replies = 0;
    let close = loop {
        match raw.next_frame().await {
            Some(Message::Text(_)) => replies += 1,
            Some(Message::Close(frame)) => break frame,
            Some(_) => {}
            None => panic!("the connection ended without a close frame"),
        }
    };
    let close = close.expect("a close code");
    assert_eq!(u16::from(close.code), 4008, "{close:?}");
    assert_eq!(close.reason.as_str(), "slow consumer");
    assert!(
        replies < 40,
        "back-pressure: {replies} of 40 replies were built"
    );

    // Another client of the same user is served normally.
    let c2 = Client::connect_with_api_key(&d.url(), &key).await.unwrap();
    let results = c2.get_results(&session.session_id).await.unwrap();
    assert_eq!(results.metrics, expected.metrics);
    assert_eq!(results.equity_curve.len(), expected.equity_curve.len());

    // `GET /metrics` counts the close.
    let metrics = reqwest::get(format!("http://{}/metrics", d.addr()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics
            .lines()
            .any(|l| l == "simutrador_slow_consumer_closes_total 1"),
        "{metrics}"
    );
}
