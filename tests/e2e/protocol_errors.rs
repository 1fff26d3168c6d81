//! Bad input over a real socket: every documented error code, and garbage frames after which
//! the same connection keeps working.

use crate::support::{Raw, create_data, error_code, login};
use serde_json::json;
use shared_models::AssetClass;
use simutrador_e2e::{TestDaemon, demo_symbol};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};

async fn connected(
    tweak: impl FnOnce(&mut simutrador_server::config::ServerConfig),
) -> (TestDaemon, Raw) {
    let d = TestDaemon::start_with(tweak).await.expect("daemon starts");
    let token = login(&d, "alice").await;
    let raw = Raw::connect(&d, &token).await;
    (d, raw)
}

#[tokio::test]
async fn garbage_frames_get_errors_and_the_connection_keeps_working() {
    let (d, mut raw) = connected(|_| {}).await;

    raw.send_text("this is not json").await;
    assert_eq!(error_code(&raw.recv().await), "INVALID_MESSAGE");
    raw.assert_alive().await;

    raw.send_text("[1, 2, 3]").await;
    assert_eq!(error_code(&raw.recv().await), "INVALID_MESSAGE");

    let deep = format!(
        r#"{{"type":"ping","data":{}{}}}"#,
        "[".repeat(50_000),
        "]".repeat(50_000)
    );
    raw.send_text(&deep).await;
    assert_eq!(error_code(&raw.recv().await), "INVALID_MESSAGE");
    raw.assert_alive().await;

    raw.send(Message::binary(vec![0xff, 0xfe, 0x00, 0x80]))
        .await;
    assert_eq!(error_code(&raw.recv().await), "INVALID_MESSAGE");
    raw.assert_alive().await;

    let reply = raw.request("launch_rockets", json!({})).await;
    assert_eq!(error_code(&reply), "UNKNOWN_TYPE");
    assert!(
        reply["data"]["details"]["known_types"]
            .as_array()
            .unwrap()
            .len()
            > 5
    );

    let reply = raw
        .request(
            "create_session",
            json!({"symbols": "ACME", "start_date": "2020-01-01", "end_date": "2020-02-01"}),
        )
        .await;
    assert_eq!(error_code(&reply), "INVALID_MESSAGE");
    assert_eq!(reply["data"]["details"]["path"], "symbols");

    let reply = raw.request("get_session", json!({"session_id": 42})).await;
    assert_eq!(error_code(&reply), "INVALID_MESSAGE");

    let big = format!(
        r#"{{"type":"ping","data":{{}},"pad":"{}"}}"#,
        "x".repeat(300 * 1024)
    );
    raw.send_text(&big).await;
    let reply = raw.recv().await;
    assert_eq!(error_code(&reply), "MESSAGE_TOO_LARGE");
    assert_eq!(reply["data"]["details"]["max_bytes"], 262_144);
    raw.assert_alive().await;
    d.stop().await.unwrap();
}

#[tokio::test]
async fn a_text_frame_with_invalid_utf8_is_explained_then_closed_with_1007() {
    let (d, mut raw) = connected(|_| {}).await;
    // What a broken client could put on the wire: a *text* frame that is not UTF-8. RFC 6455
    // requires failing the connection; the client is still told why.
    let frame = Frame::message(vec![b'{', 0xc3, 0x28, b'}'], OpCode::Data(Data::Text), true);
    raw.send(Message::Frame(frame)).await;
    let mut saw_error = false;
    let mut close_code = None;
    while let Some(frame) = raw.next_frame().await {
        match frame {
            Message::Text(t) => saw_error |= t.contains("INVALID_MESSAGE"),
            Message::Close(Some(c)) => close_code = Some(u16::from(c.code)),
            _ => {}
        }
    }
    assert!(saw_error);
    assert_eq!(close_code, Some(1007));
    let token = login(&d, "bob").await;
    Raw::connect(&d, &token).await.assert_alive().await;
    d.stop().await.unwrap();
}

#[tokio::test]
async fn a_frame_beyond_the_transport_cap_closes_the_connection_with_1009() {
    let (d, mut raw) = connected(|_| {}).await;
    // The daemon may hang up before the whole frame is written; that is part of the answer.
    raw.try_send(Message::text("x".repeat(5 * 1024 * 1024)))
        .await;
    let mut saw_error = false;
    let mut close_code = None;
    while let Some(frame) = raw.next_frame().await {
        match frame {
            Message::Text(t) => saw_error |= t.contains("MESSAGE_TOO_LARGE"),
            Message::Close(Some(c)) => close_code = Some(u16::from(c.code)),
            _ => {}
        }
    }
    assert!(saw_error, "the client is told why");
    // The close frame races with the rest of our 5 MiB still being written (the daemon stops
    // reading), so the TCP connection may be reset before it arrives; when it does, it is 1009.
    assert!(close_code.is_none_or(|c| c == 1009), "{close_code:?}");
    // The daemon itself is fine.
    let token = login(&d, "bob").await;
    Raw::connect(&d, &token).await.assert_alive().await;
    d.stop().await.unwrap();
}

#[tokio::test]
async fn every_session_error_code_is_reachable() {
    let (d, mut raw) = connected(|c| {
        c.limits.max_sessions_per_user = 2;
        c.limits.max_symbols_per_session = 3;
    })
    .await;
    let acme = demo_symbol(AssetClass::Equity);
    let code = |v: &serde_json::Value| error_code(v).to_string();

    let r = raw.request("create_session", json!({"symbols": ["NOPE", "bad symbol!"], "start_date": "2020-01-01", "end_date": "2020-02-01"})).await;
    assert_eq!(code(&r), "INVALID_SYMBOL");
    let invalid = r["data"]["details"]["invalid_symbols"].as_array().unwrap();
    assert_eq!(invalid.len(), 2, "{r}");

    let r = raw.request("create_session", json!({"symbols": ["A", "B", "C", "D"], "start_date": "2020-01-01", "end_date": "2020-02-01"})).await;
    assert_eq!(code(&r), "TOO_MANY_SYMBOLS");

    for (start, end) in [
        ("2020-02-30", "2020-03-01"),
        ("2020-06-01", "2020-01-01"),
        ("2020-01-01", "2999-01-01"),
        ("1950-01-01", "1950-12-31"),
        ("next tuesday", "2020-01-01"),
    ] {
        let r = raw
            .request(
                "create_session",
                json!({"symbols": [acme], "start_date": start, "end_date": end}),
            )
            .await;
        assert_eq!(code(&r), "INVALID_DATE_RANGE", "{start}..{end}: {r}");
    }
    let r = raw
        .request(
            "create_session",
            json!({"symbols": [acme], "start_date": "1950-01-01", "end_date": "1950-12-31"}),
        )
        .await;
    assert!(
        r["data"]["details"]["available"][&acme]["first"].is_string(),
        "the available range is in details: {r}"
    );

    let r = raw.request("create_session", json!({"symbols": [acme], "start_date": "2020-01-01", "end_date": "2020-02-01", "timeframe": "7m"})).await;
    assert_eq!(code(&r), "INVALID_TIMEFRAME");

    let mut data = create_data(&acme);
    data["initial_capital"] = json!(10);
    assert_eq!(
        code(&raw.request("create_session", data.clone()).await),
        "INSUFFICIENT_CAPITAL"
    );
    data["initial_capital"] = json!("100000000000");
    assert_eq!(
        code(&raw.request("create_session", data.clone()).await),
        "CAPITAL_TOO_HIGH"
    );
    data["initial_capital"] = json!(50000);
    data["commission_rate"] = json!(-0.01);
    let r = raw.request("create_session", data.clone()).await;
    assert_eq!(code(&r), "VALIDATION_FAILED");
    assert_eq!(r["data"]["details"]["field"], "commission_rate");
    data["commission_rate"] = json!(0.001);
    data["metadata"] = json!({"blob": "x".repeat(10_000)});
    assert_eq!(
        code(&raw.request("create_session", data.clone()).await),
        "VALIDATION_FAILED"
    );

    let r = raw
        .request("get_session", json!({"session_id": "does-not-exist"}))
        .await;
    assert_eq!(code(&r), "SESSION_NOT_FOUND");
    let r = raw
        .request("delete_session", json!({"session_id": "does-not-exist"}))
        .await;
    assert_eq!(code(&r), "SESSION_NOT_FOUND");

    for _ in 0..2 {
        let r = raw.request("create_session", create_data(&acme)).await;
        assert_eq!(r["type"], "session_created", "{r}");
    }
    let r = raw.request("create_session", create_data(&acme)).await;
    assert_eq!(code(&r), "SESSION_LIMIT_EXCEEDED");
    raw.assert_alive().await;
    d.stop().await.unwrap();
}

#[tokio::test]
async fn rate_limits_answer_with_retry_after() {
    let (d, mut raw) = connected(|c| c.rate_limits.session_creates_per_minute = 2).await;
    let acme = demo_symbol(AssetClass::Equity);
    for _ in 0..2 {
        assert_eq!(
            raw.request("create_session", create_data(&acme)).await["type"],
            "session_created"
        );
    }
    let r = raw.request("create_session", create_data(&acme)).await;
    assert_eq!(error_code(&r), "RATE_LIMITED");
    assert!(r["data"]["details"]["retry_after_ms"].as_u64().unwrap() > 0);
    d.stop().await.unwrap();

    let (d, mut raw) = connected(|c| {
        c.rate_limits.messages_per_second = 5;
        c.rate_limits.message_burst = 5;
    })
    .await;
    let mut limited = 0;
    for _ in 0..30 {
        let r = raw.request("ping", json!({})).await;
        if r["type"] == "error" {
            assert_eq!(error_code(&r), "RATE_LIMITED");
            limited += 1;
        }
    }
    assert!(limited > 0, "30 pings in a burst of 5 must be limited");
    d.stop().await.unwrap();
}

#[tokio::test]
async fn too_many_connections_for_one_user_are_refused_with_429() {
    let d = TestDaemon::start_with(|c| c.rate_limits.connections_per_user = 2)
        .await
        .unwrap();
    let token = login(&d, "alice").await;
    let _a = Raw::connect(&d, &token).await;
    let _b = Raw::connect(&d, &token).await;
    let url = format!("ws://{}/ws?token={token}", d.addr());
    match tokio_tungstenite::connect_async(url).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            assert_eq!(resp.status().as_u16(), 429);
            let body: serde_json::Value =
                serde_json::from_slice(&resp.body().clone().unwrap()).unwrap();
            assert_eq!(body["error_code"], "RATE_LIMITED");
        }
        other => panic!("expected 429, got {:?}", other.map(|_| ())),
    }
    d.stop().await.unwrap();
}
