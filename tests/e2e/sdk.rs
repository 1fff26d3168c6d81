//! The SDK against the real daemon: typed requests, typed errors, many requests in flight.

use serde_json::json;
use shared_models::messages::client::{ListSessions, ListSymbols};
use shared_models::{AssetClass, ErrorCode, ServerMessage, SessionState};
use simutrador_client::{Client, ClientError, ServerUrl, SessionRequestBuilder, login};
use simutrador_e2e::TestDaemon;

async fn client(d: &TestDaemon, user: &str) -> Client {
    let key = d.add_key(user).unwrap();
    Client::connect_with_api_key(&d.url(), &key)
        .await
        .expect("connects")
}

#[tokio::test]
async fn typed_requests_round_trip() {
    let d = TestDaemon::start().await.unwrap();
    let c = client(&d, "alice").await;
    assert_eq!(c.connection_info().user_id, "alice");
    c.ping().await.unwrap();

    let req = SessionRequestBuilder::new(["ACME", "BITDEMO"], "2020-01-01", "2020-03-31")
        .capital(rust_decimal::Decimal::from(20_000))
        .build();
    let preview = c.validate_session(req.clone()).await.unwrap();
    let s = c.create_session(req).await.unwrap();
    assert_eq!(s.state, SessionState::Created);
    assert_eq!(s.bar_count, preview.bar_count);
    assert!(
        s.bar_count >= 90,
        "crypto trades every day: {}",
        s.bar_count
    );
    assert_eq!(
        c.get_session(&s.session_id).await.unwrap().session_id,
        s.session_id
    );
    let list = c.list_sessions(ListSessions::default()).await.unwrap();
    assert_eq!(list.total, 1);
    let symbols = c
        .list_symbols(ListSymbols {
            asset_class: Some(AssetClass::Forex),
            timeframe: None,
        })
        .await
        .unwrap();
    assert!(
        symbols
            .symbols
            .iter()
            .all(|s| s.asset_class == AssetClass::Forex)
    );
    let range = c
        .symbol_range("fxeur", Some(shared_models::Timeframe::M1))
        .await
        .unwrap();
    assert_eq!(range.symbol, "FXEUR");
    c.delete_session(&s.session_id).await.unwrap();
    d.stop().await.unwrap();
}

#[tokio::test]
async fn server_refusals_become_typed_errors_with_details() {
    let d = TestDaemon::start().await.unwrap();
    let c = client(&d, "alice").await;
    let err = c
        .create_session(
            SessionRequestBuilder::new(["ACME", "ZZZZ"], "2020-01-01", "2020-03-31").build(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.error_code(), Some(ErrorCode::InvalidSymbol));
    match &err {
        ClientError::Server { details, .. } => {
            assert_eq!(details["invalid_symbols"], json!(["ZZZZ"]))
        }
        other => panic!("expected a server error, got {other:?}"),
    }
    let err = c.get_session("nope").await.unwrap_err();
    assert_eq!(err.error_code(), Some(ErrorCode::SessionNotFound));
    assert!(!err.is_transient());
    // The connection is still fine.
    c.ping().await.unwrap();

    let url = ServerUrl::parse(&d.url()).unwrap();
    match login(&url, "stk_wrong").await.unwrap_err() {
        ClientError::Auth { code, .. } => assert_eq!(code, ErrorCode::InvalidApiKey),
        other => panic!("expected an auth error, got {other:?}"),
    }
    match Client::connect(&d.url(), "not.a.token")
        .await
        .map(|_| ())
        .unwrap_err()
    {
        ClientError::Auth { code, .. } => assert_eq!(code, ErrorCode::InvalidToken),
        other => panic!("expected an auth error, got {other:?}"),
    }
    d.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_requests_in_flight_on_one_connection_are_matched() {
    let d = TestDaemon::start_with(|c| c.limits.max_sessions_per_user = 500)
        .await
        .unwrap();
    let c = client(&d, "alice").await;
    let mut tasks = Vec::new();
    for i in 0..200 {
        let c = c.clone();
        tasks.push(tokio::spawn(async move {
            let symbol = ["ACME", "GLOBEX", "FXEUR", "BITDEMO"][i % 4];
            let s = c
                .create_session(
                    SessionRequestBuilder::new([symbol], "2019-01-01", "2019-12-31").build(),
                )
                .await
                .unwrap();
            assert_eq!(
                s.params.symbols,
                vec![symbol.to_string()],
                "reply matches its request"
            );
            let got = c.get_session(&s.session_id).await.unwrap();
            assert_eq!(got.session_id, s.session_id);
            s.session_id
        }));
    }
    let mut ids = std::collections::HashSet::new();
    for t in tasks {
        assert!(ids.insert(t.await.unwrap()));
    }
    assert_eq!(
        c.list_sessions(ListSessions {
            limit: Some(500),
            ..Default::default()
        })
        .await
        .unwrap()
        .total,
        200
    );
    d.stop().await.unwrap();
}

#[tokio::test]
async fn a_daemon_shutdown_is_pushed_and_fails_later_requests_cleanly() {
    let d = TestDaemon::start().await.unwrap();
    let c = client(&d, "alice").await;
    let mut pushes = c.subscribe();
    d.stop().await.unwrap();
    match pushes.recv().await {
        Ok(ServerMessage::ConnectionClosing(closing)) => {
            assert_eq!(closing.reason, "server_shutdown")
        }
        other => panic!("expected connection_closing, got {other:?}"),
    }
    let err = c.ping().await.unwrap_err();
    assert!(matches!(err, ClientError::Connection(_)), "{err:?}");
}

#[tokio::test]
async fn session_files_load_and_create() {
    let d = TestDaemon::start().await.unwrap();
    let c = client(&d, "alice").await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.toml");
    std::fs::write(
        &file,
        "symbols = [\"GLOBEX\"]\nstart_date = 2018-01-01\nend_date = \"2018-12-31\"\ninitial_capital = 25000\ncommission_rate = 0.0005\nallow_short = false\n",
    )
    .unwrap();
    let req = simutrador_client::load_session_file(&file).unwrap();
    let s = c.create_session(req).await.unwrap();
    assert!(!s.params.allow_short);
    assert_eq!(s.params.commission_rate.to_string(), "0.0005");
    std::fs::write(&file, "symbols = [\"GLOBEX\"]\nstart = 2018-01-01\n").unwrap();
    let err = simutrador_client::load_session_file(&file).unwrap_err();
    assert!(err.to_string().contains("start"), "{err}");
    d.stop().await.unwrap();
}
