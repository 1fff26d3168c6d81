//! `POST /auth/token` is throttled per key prefix as well as per IP, with exponential
//! back-off: failures with one key prefix lock that prefix out for every address (requests
//! from a second loopback address, 127.0.0.2, show it), another prefix from that address is
//! not affected, each further failure doubles the wait, and every 429 carries `Retry-After`
//! matching `details.retry_after_ms`.

use serde_json::Value;
use simutrador_e2e::TestDaemon;
use simutrador_server::server::token_throttle::FREE_FAILURES;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

/// `POST /auth/token` with `key`, sent from `from`: (status, retry_after_ms of a 429).
async fn attempt(d: &TestDaemon, from: Ipv4Addr, key: &str) -> (u16, Option<u64>) {
    let client = reqwest::Client::builder()
        .local_address(IpAddr::V4(from))
        .build()
        .unwrap();
    let r = client
        .post(format!("http://{}/auth/token", d.addr()))
        .header("X-API-Key", key)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    if status != 429 {
        return (status, None);
    }
    let seconds: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error_code"], "RATE_LIMITED", "{body}");
    let ms = body["details"]["retry_after_ms"].as_u64().unwrap();
    assert_eq!(seconds, ms.div_ceil(1000).max(1), "{body}");
    (status, Some(ms))
}

/// Poll (with the prefix, from `from`) until the lock-out is over: the next attempt is
/// checked again. Locked-out attempts are not counted as failures.
async fn until_unlocked(d: &TestDaemon, from: Ipv4Addr, key: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while let (429, Some(ms)) = attempt(d, from, key).await {
        assert!(Instant::now() < deadline, "still locked out");
        tokio::time::sleep(Duration::from_millis(ms.min(100))).await;
    }
}

#[tokio::test]
async fn guesses_with_one_key_prefix_are_throttled_from_any_address_with_growing_waits() {
    let d = TestDaemon::start().await.unwrap();
    let (first, second) = (Ipv4Addr::LOCALHOST, Ipv4Addr::new(127, 0, 0, 2));
    // Same 12-character prefix, different keys.
    let guess = |i: u32| format!("stk_AAAAAAAA{i:040}");
    for i in 0..=FREE_FAILURES {
        assert_eq!(attempt(&d, first, &guess(i)).await, (401, None), "{i}");
    }
    // The prefix is locked out from the other address too; another prefix is not.
    let (status, first_wait) = attempt(&d, second, &guess(100)).await;
    assert_eq!(status, 429);
    assert_eq!(attempt(&d, second, "stk_BBBBBBBBxyz").await, (401, None));

    // After the lock-out, one more failure with the prefix (from the second address) locks
    // it out for twice as long.
    until_unlocked(&d, second, &guess(101)).await;
    let (status, second_wait) = attempt(&d, second, &guess(102)).await;
    assert_eq!(
        status, 429,
        "the unlocked attempt was the failure that doubled the wait"
    );
    assert!(
        second_wait > first_wait,
        "{second_wait:?} after {first_wait:?}"
    );
    d.stop().await.unwrap();
}
