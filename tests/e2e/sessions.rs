//! Session management over the raw protocol: create, validate, get, list, delete; market-data
//! queries; isolation between users; graceful shutdown.

use crate::support::{Raw, create_data, error_code, login};
use serde_json::json;
use shared_models::AssetClass;
use simutrador_e2e::{TestDaemon, demo_symbol};

#[tokio::test]
async fn create_status_list_delete() {
    let d = TestDaemon::start().await.unwrap();
    let mut raw = Raw::connect(&d, &login(&d, "alice").await).await;
    let acme = demo_symbol(AssetClass::Equity);

    let mut data = create_data(&format!("  {}  ", acme.to_lowercase()));
    data["initial_capital"] = json!("250000.50");
    data["commission_rate"] = json!(0.001);
    data["metadata"] = json!({"label": "e2e"});
    let preview = raw.request("validate_session", data.clone()).await;
    assert_eq!(preview["type"], "session_validated", "{preview}");
    let created = raw.request("create_session", data).await;
    assert_eq!(created["type"], "session_created", "{created}");
    let s = &created["data"];
    assert_eq!(s["symbols"], json!([acme]));
    assert_eq!(s["state"], "created");
    assert_eq!(s["timeframe"], "1d");
    assert_eq!(s["initial_capital"], "250000.50");
    assert_eq!(s["commission_rate"], "0.001");
    assert_eq!(s["allow_short"], true);
    assert_eq!(s["metadata"]["label"], "e2e");
    let bars = s["bar_count"].as_u64().unwrap();
    assert!(
        (250..=262).contains(&bars),
        "about a year of weekdays: {bars}"
    );
    assert_eq!(preview["data"]["bar_count"], bars);
    let id = s["session_id"].as_str().unwrap().to_string();

    let got = raw.request("get_session", json!({"session_id": id})).await;
    assert_eq!(got["type"], "session");
    assert_eq!(got["data"]["session_id"], id);

    for _ in 0..2 {
        raw.request("create_session", create_data(&acme)).await;
    }
    let page = raw.request("list_sessions", json!({"limit": 2})).await;
    assert_eq!(page["data"]["total"], 3);
    assert_eq!(page["data"]["has_more"], true);
    assert_eq!(page["data"]["sessions"].as_array().unwrap().len(), 2);
    let rest = raw
        .request("list_sessions", json!({"limit": 2, "offset": 2}))
        .await;
    assert_eq!(rest["data"]["sessions"][0]["session_id"], id, "oldest last");
    assert_eq!(rest["data"]["has_more"], false);
    let none = raw
        .request("list_sessions", json!({"state": "running"}))
        .await;
    assert_eq!(none["data"]["total"], 0);

    let deleted = raw
        .request("delete_session", json!({"session_id": id}))
        .await;
    assert_eq!(deleted["type"], "session_deleted");
    assert_eq!(
        error_code(&raw.request("get_session", json!({"session_id": id})).await),
        "SESSION_NOT_FOUND"
    );
    d.stop().await.unwrap();
}

#[tokio::test]
async fn two_users_cannot_see_or_touch_each_others_sessions() {
    let d = TestDaemon::start().await.unwrap();
    let mut alice = Raw::connect(&d, &login(&d, "alice").await).await;
    let mut bob = Raw::connect(&d, &login(&d, "bob").await).await;
    let acme = demo_symbol(AssetClass::Equity);
    let created = alice.request("create_session", create_data(&acme)).await;
    let id = created["data"]["session_id"].as_str().unwrap();

    assert_eq!(
        error_code(&bob.request("get_session", json!({"session_id": id})).await),
        "SESSION_NOT_FOUND"
    );
    assert_eq!(
        error_code(
            &bob.request("delete_session", json!({"session_id": id}))
                .await
        ),
        "SESSION_NOT_FOUND"
    );
    assert_eq!(
        bob.request("list_sessions", json!({})).await["data"]["total"],
        0
    );
    // Still there for its owner.
    assert_eq!(
        alice
            .request("get_session", json!({"session_id": id}))
            .await["type"],
        "session"
    );
    d.stop().await.unwrap();
}

#[tokio::test]
async fn symbols_and_ranges_come_from_the_catalog() {
    let d = TestDaemon::start().await.unwrap();
    let mut raw = Raw::connect(&d, &login(&d, "alice").await).await;
    let all = raw.request("list_symbols", json!({})).await;
    let symbols = all["data"]["symbols"].as_array().unwrap();
    assert!(symbols.len() >= 3);
    for class in ["equity", "forex", "crypto"] {
        assert!(
            symbols.iter().any(|s| s["asset_class"] == class),
            "demo data has {class}"
        );
    }
    // The generated demo symbols are marked synthetic; GOOG is the built-in real sample.
    assert!(
        symbols
            .iter()
            .filter(|s| s["symbol"] != "GOOG")
            .all(|s| s["synthetic"] == true)
    );
    assert!(
        symbols
            .iter()
            .any(|s| s["symbol"] == "GOOG" && s["synthetic"] == false)
    );
    let crypto = raw
        .request("list_symbols", json!({"asset_class": "crypto"}))
        .await;
    assert!(
        crypto["data"]["symbols"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["asset_class"] == "crypto")
    );
    let minute = raw
        .request("list_symbols", json!({"timeframe": "1m"}))
        .await;
    assert!(!minute["data"]["symbols"].as_array().unwrap().is_empty());

    let acme = demo_symbol(AssetClass::Equity);
    let range = raw
        .request("get_symbol_range", json!({"symbol": acme.to_lowercase()}))
        .await;
    assert_eq!(range["type"], "symbol_range", "{range}");
    assert_eq!(range["data"]["symbol"], acme);
    let first = range["data"]["first"].as_str().unwrap();
    let last = range["data"]["last"].as_str().unwrap();
    assert!(
        first < "2010-01-06" && last > "2024-12-01",
        "{first} .. {last}"
    );
    assert!(range["data"]["bars"].as_u64().unwrap() > 2500);

    assert_eq!(
        error_code(
            &raw.request("get_symbol_range", json!({"symbol": "NOPE"}))
                .await
        ),
        "INVALID_SYMBOL"
    );
    assert_eq!(
        error_code(
            &raw.request(
                "get_symbol_range",
                json!({"symbol": acme, "timeframe": "2h"})
            )
            .await
        ),
        "INVALID_TIMEFRAME"
    );
    d.stop().await.unwrap();
}

#[tokio::test]
async fn shutdown_tells_clients_before_closing() {
    let d = TestDaemon::start().await.unwrap();
    let mut raw = Raw::connect(&d, &login(&d, "alice").await).await;
    raw.assert_alive().await;
    let stopping = tokio::spawn(d.stop());
    let msg = raw.recv().await;
    assert_eq!(msg["type"], "connection_closing", "{msg}");
    assert_eq!(msg["data"]["reason"], "server_shutdown");
    stopping.await.unwrap().unwrap();
}
