//! Rate limits tell the truth: every HTTP 429 carries `Retry-After` (whole seconds, rounded
//! up from `details.retry_after_ms`), every WebSocket `RATE_LIMITED` a `retry_after_ms` that
//! is the limiter's real wait.

use crate::support::{Raw, error_code, login, token_for_key};
use serde_json::{Value, json};
use simutrador_e2e::TestDaemon;

/// `Retry-After` as whole seconds; panics when missing or not a number.
fn retry_after(headers: &reqwest::header::HeaderMap) -> u64 {
    headers
        .get(reqwest::header::RETRY_AFTER)
        .expect("a 429 carries Retry-After")
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn a_refused_websocket_handshake_says_when_to_retry() {
    let d = TestDaemon::start_with(|c| c.rate_limits.connections_per_user = 1)
        .await
        .unwrap();
    let token = login(&d, "alice").await;
    let _open = Raw::connect(&d, &token).await;
    let url = format!("ws://{}/ws?token={token}", d.addr());
    match tokio_tungstenite::connect_async(url).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            assert_eq!(resp.status().as_u16(), 429);
            let body: Value = serde_json::from_slice(&resp.body().clone().unwrap()).unwrap();
            assert_eq!(body["error_code"], "RATE_LIMITED");
            let ms = body["details"]["retry_after_ms"].as_u64().unwrap();
            let seconds = retry_after(resp.headers());
            assert!(seconds >= 1, "{seconds}");
            assert_eq!(seconds, ms.div_ceil(1_000), "{body}");
        }
        other => panic!("expected 429, got {:?}", other.map(|_| ())),
    }
    d.stop().await.unwrap();
}

#[tokio::test]
async fn websocket_rate_limited_errors_carry_the_limiters_wait() {
    let d = TestDaemon::start_with(|c| {
        c.rate_limits.messages_per_second = 1;
        c.rate_limits.message_burst = 1;
    })
    .await
    .unwrap();
    let token = login(&d, "alice").await;
    let mut raw = Raw::connect(&d, &token).await;
    let mut waits = Vec::new();
    for _ in 0..5 {
        let r = raw.request("ping", json!({})).await;
        if r["type"] == "error" {
            assert_eq!(error_code(&r), "RATE_LIMITED");
            let ms = r["data"]["details"]["retry_after_ms"].as_u64().unwrap();
            // One message per second: the next one conforms within a second, never now.
            assert!((1..=1_000).contains(&ms), "{r}");
            assert!(
                r["data"]["message"]
                    .as_str()
                    .unwrap()
                    .contains(&format!("retry after {ms} ms")),
                "{r}"
            );
            waits.push(ms);
        }
    }
    assert!(!waits.is_empty(), "5 pings at 1 per second must be limited");
    d.stop().await.unwrap();
}

#[tokio::test]
async fn guessing_api_keys_is_throttled_with_retry_after() {
    use simutrador_server::server::token_throttle::FREE_FAILURES;
    let d = TestDaemon::start().await.unwrap();
    let good = d.add_key("alice").unwrap();
    for i in 0..FREE_FAILURES {
        let r = token_for_key(&d, &format!("stk_wrong{i}")).await;
        assert_eq!(r.status().as_u16(), 401, "failure {i} is answered normally");
    }
    // One more failure starts the back-off; from then on the IP gets 429 before any check.
    assert_eq!(token_for_key(&d, "stk_wrongX").await.status().as_u16(), 401);
    let r = token_for_key(&d, "stk_wrongY").await;
    assert_eq!(r.status().as_u16(), 429);
    let seconds = retry_after(r.headers());
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error_code"], "RATE_LIMITED");
    let ms = body["details"]["retry_after_ms"].as_u64().unwrap();
    assert!(ms >= 1, "{body}");
    assert_eq!(seconds, ms.div_ceil(1_000), "{body}");
    // Even the right key waits while the IP is locked out: a guesser cannot tell.
    let r = token_for_key(&d, &good).await;
    assert_eq!(r.status().as_u16(), 429);
    d.stop().await.unwrap();
}
