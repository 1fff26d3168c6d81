//! Authentication end to end: the token endpoint and every way a WebSocket handshake is refused.

use crate::support::{Raw, login, token_for_key};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};
use simutrador_e2e::TestDaemon;
use tokio_tungstenite::connect_async;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{Error as WsError, http::HeaderValue};

const SECRET: &str = "e2e-test-secret-that-is-long-enough-0123456789";

async fn daemon() -> TestDaemon {
    TestDaemon::start_with(|c| c.auth.jwt_secret = Some(SECRET.to_string()))
        .await
        .expect("daemon starts")
}

/// Try a handshake; returns the HTTP status and the JSON error body of a refusal.
async fn refused(url: String) -> (u16, Value) {
    match connect_async(url).await {
        Ok(_) => panic!("handshake should have been refused"),
        Err(WsError::Http(resp)) => {
            let status = resp.status().as_u16();
            let body = resp.body().clone().unwrap_or_default();
            (
                status,
                serde_json::from_slice(&body).expect("JSON error body"),
            )
        }
        Err(e) => panic!("unexpected error {e}"),
    }
}

fn claims(user: &str, kid: &str, exp_offset: i64) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({ "sub": user, "plan": "pro", "kid": kid, "iat": now, "exp": now + exp_offset })
}

fn kid_of(daemon: &TestDaemon, user: &str) -> String {
    let store = simutrador_server::auth::ApiKeyStore::open(daemon.state_dir.path()).unwrap();
    store
        .list()
        .into_iter()
        .find(|k| k.user_id == user)
        .unwrap()
        .key_id
}

#[tokio::test]
async fn token_endpoint_exchanges_keys_and_refuses_bad_ones() {
    let d = daemon().await;
    let key = d.add_key("alice").unwrap();
    let ok = token_for_key(&d, &key).await;
    assert_eq!(ok.status(), 200);
    let body: Value = ok.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["user_id"], "alice");
    assert_eq!(body["plan"], "pro");
    assert!(body["expires_in"].as_u64().unwrap() > 0);

    let bad = token_for_key(&d, "stk_not-a-real-key").await;
    assert_eq!(bad.status(), 401);
    let body: Value = bad.json().await.unwrap();
    assert_eq!(body["error_code"], "INVALID_API_KEY");

    let none = reqwest::Client::new()
        .post(format!("http://{}/auth/token", d.addr()))
        .send()
        .await
        .unwrap();
    assert_eq!(none.status(), 401);
    d.stop().await.unwrap();
}

#[tokio::test]
async fn the_websocket_accepts_a_bearer_header_or_a_query_token() {
    let d = daemon().await;
    let token = login(&d, "alice").await;
    let mut raw = Raw::connect(&d, &token).await;
    assert_eq!(raw.ready["user_id"], "alice");
    assert_eq!(raw.ready["plan"], "pro");
    assert!(
        raw.ready["limits"]["max_sessions_per_user"]
            .as_u64()
            .unwrap()
            > 0
    );
    raw.assert_alive().await;

    let mut req = format!("ws://{}/ws/simulate", d.addr())
        .into_client_request()
        .unwrap();
    req.headers_mut().insert(
        "Authorization",
        HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
    );
    let (_ws, resp) = connect_async(req).await.expect("bearer header accepted");
    assert_eq!(resp.status().as_u16(), 101);
    d.stop().await.unwrap();
}

#[tokio::test]
async fn handshakes_without_a_valid_token_are_refused_with_the_reason() {
    let d = daemon().await;
    let addr = d.addr();
    d.add_key("alice").unwrap();
    let kid = kid_of(&d, "alice");

    let (status, body) = refused(format!("ws://{addr}/ws")).await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (401, Some("AUTH_REQUIRED"))
    );

    let (status, body) = refused(format!("ws://{addr}/ws?token=garbage")).await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (401, Some("INVALID_TOKEN"))
    );

    let forged = encode(
        &Header::new(Algorithm::HS256),
        &claims("alice", &kid, 600),
        &EncodingKey::from_secret(b"some-other-secret-some-other-secret!!"),
    )
    .unwrap();
    let (status, body) = refused(format!("ws://{addr}/ws?token={forged}")).await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (401, Some("INVALID_TOKEN"))
    );

    let expired = encode(
        &Header::new(Algorithm::HS256),
        &claims("alice", &kid, -600),
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap();
    let (status, body) = refused(format!("ws://{addr}/ws?token={expired}")).await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (401, Some("TOKEN_EXPIRED"))
    );

    // alg: none — an unsigned token must never be accepted.
    let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
    let header = b64(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = b64(claims("alice", &kid, 600).to_string().as_bytes());
    let unsigned = format!("{header}.{payload}.");
    let (status, body) = refused(format!("ws://{addr}/ws?token={unsigned}")).await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (401, Some("INVALID_TOKEN"))
    );

    // RS256 header over an HMAC signature made with the server's own secret.
    let valid = encode(
        &Header::new(Algorithm::HS256),
        &claims("alice", &kid, 600),
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap();
    let mut parts: Vec<&str> = valid.split('.').collect();
    let rs_header = b64(br#"{"alg":"RS256","typ":"JWT"}"#);
    parts[0] = &rs_header;
    let (status, body) = refused(format!("ws://{addr}/ws?token={}", parts.join("."))).await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (401, Some("INVALID_TOKEN"))
    );
    assert!(
        body["message"].as_str().unwrap().contains("RS256"),
        "{body}"
    );

    // The genuine token works.
    connect_async(format!("ws://{addr}/ws?token={valid}"))
        .await
        .expect("valid token accepted");
    d.stop().await.unwrap();
}

#[tokio::test]
async fn revoking_a_key_stops_its_tokens_and_the_key_itself() {
    let d = daemon().await;
    let key = d.add_key("mallory").unwrap();
    let token: Value = token_for_key(&d, &key).await.json().await.unwrap();
    let token = token["access_token"].as_str().unwrap().to_string();
    Raw::connect(&d, &token).await;

    // Revoke from "another process": a second store instance on the same files.
    let store = simutrador_server::auth::ApiKeyStore::open(d.state_dir.path()).unwrap();
    assert_eq!(store.revoke("mallory").unwrap(), 1);

    let (status, body) = refused(format!("ws://{}/ws?token={token}", d.addr())).await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (401, Some("INVALID_TOKEN"))
    );
    let again = token_for_key(&d, &key).await;
    assert_eq!(again.status(), 401);
    d.stop().await.unwrap();
}
