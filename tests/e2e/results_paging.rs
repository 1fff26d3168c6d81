//! Results of a finished run in pages, and on disk: over the real daemon the pages of
//! `get_results` (`offset` / `limit`) join to exactly the unpaged results, in rows and in
//! columns; bad pages answer `VALIDATION_FAILED` naming the field; and a finished session's
//! results survive a restart of the daemon binary and go with the session when it is deleted.

use serde_json::{Value, json};
use shared_models::Timeframe;
use shared_models::messages::results::{ResultsFormat, ResultsReply};
use shared_models::results::SimulationResults;
use simutrador_client::strategies::SmaCross;
use simutrador_client::{Client, RunOptions, SessionRequestBuilder};
use simutrador_e2e::{DaemonProcess, TestDaemon, add_key};

use crate::support::{Raw, error_code, login, request_as};

/// A daemon and alice's SDK client on it.
async fn alice() -> (TestDaemon, Client) {
    let daemon = TestDaemon::start().await.unwrap();
    let key = daemon.add_key("alice").unwrap();
    let c = Client::connect_with_api_key(&daemon.url(), &key)
        .await
        .unwrap();
    (daemon, c)
}

/// A finished `sma-cross` run over one day of BITDEMO minutes; its id and results.
async fn finished_run(c: &Client) -> (String, SimulationResults) {
    let request = SessionRequestBuilder::new(["BITDEMO"], "2024-12-02", "2024-12-02")
        .timeframe(Timeframe::M1)
        .build();
    let session = c.create_session(request).await.unwrap();
    let mut strategy = SmaCross::new(3, 8, true).unwrap();
    let results = c
        .run_simulation(&session.session_id, &mut strategy, RunOptions::default())
        .await
        .unwrap();
    assert!(results.metrics.num_trades > 20, "enough trades to page");
    assert_eq!(results.equity_curve.len() as u64, session.bar_count);
    (session.session_id, results)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_join_to_exactly_the_unpaged_results() {
    let (daemon, c) = alice().await;
    let (id, results) = finished_run(&c).await;
    let whole = c.get_results(&id).await.unwrap();
    assert_eq!(whole, results);
    for format in [None, Some(ResultsFormat::Columns)] {
        for limit in [1, 7, 100, 1439, 1440, 100_000] {
            let paged = c.get_results_in_pages(&id, format, limit).await.unwrap();
            assert_eq!(paged, whole, "format {format:?}, limit {limit}");
        }
    }

    // One page by hand: its place in the whole and the totals.
    let token = login(&daemon, "alice").await;
    let mut raw = Raw::connect(&daemon, &token).await;
    let page = request_as(
        &mut raw,
        "get_results",
        "p1",
        json!({"session_id": id, "offset": 10, "limit": 5}),
    )
    .await;
    assert_eq!(page["type"], "results", "{page}");
    let p = &page["data"]["page"];
    assert_eq!(p["offset"], 10);
    assert_eq!(p["limit"], 5);
    assert_eq!(p["trades_total"], whole.trades.len());
    assert_eq!(p["equity_total"], whole.equity_curve.len());
    assert_eq!(p["next_offset"], 15);
    let part = serde_json::from_value::<ResultsReply>(page["data"].clone())
        .unwrap()
        .into_results()
        .unwrap();
    assert_eq!(part.equity_curve, whole.equity_curve[10..15]);
    assert_eq!(part.trades, whole.trades[10..15]);
    // The last page says so; past the trades, a page holds equity points only.
    let last = whole.equity_curve.len() - 3;
    let tail = request_as(
        &mut raw,
        "get_results",
        "p2",
        json!({"session_id": id, "offset": last, "limit": 5, "format": "columns"}),
    )
    .await;
    assert!(tail["data"]["page"]["next_offset"].is_null(), "{tail}");
    assert_eq!(tail["data"]["trade_columns"]["symbol"], json!([]));
    assert_eq!(
        tail["data"]["equity_columns"]["equity"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    // An unpaged request that fits answers as before: no page.
    let unpaged = request_as(&mut raw, "get_results", "p3", json!({"session_id": id})).await;
    assert!(unpaged["data"]["page"].is_null());
    assert_eq!(
        serde_json::from_value::<ResultsReply>(unpaged["data"].clone())
            .unwrap()
            .into_results()
            .unwrap(),
        whole
    );
    daemon.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_pages_answer_validation_failed_naming_the_field() {
    let (daemon, c) = alice().await;
    let (id, results) = finished_run(&c).await;
    let end = results.equity_curve.len().max(results.trades.len());
    let token = login(&daemon, "alice").await;
    let mut raw = Raw::connect(&daemon, &token).await;
    let cases: [(Value, &str); 5] = [
        (json!({"session_id": id, "limit": 0}), "limit"),
        (
            json!({"session_id": id, "offset": 0, "limit": 100_001}),
            "limit",
        ),
        (json!({"session_id": id, "offset": end + 1}), "offset"),
        (
            json!({"session_id": id, "offset": 0, "format": "summary"}),
            "offset",
        ),
        (
            json!({"session_id": id, "limit": 10, "format": "summary"}),
            "limit",
        ),
    ];
    for (n, (data, field)) in cases.into_iter().enumerate() {
        let reply = request_as(&mut raw, "get_results", &format!("b{n}"), data.clone()).await;
        assert_eq!(error_code(&reply), "VALIDATION_FAILED", "{data}: {reply}");
        assert_eq!(reply["data"]["details"]["field"], field, "{reply}");
        assert_eq!(reply["data"]["details"]["max_limit"], 100_000);
        assert_eq!(
            reply["data"]["details"]["equity_total"],
            results.equity_curve.len()
        );
    }
    let negative = request_as(
        &mut raw,
        "get_results",
        "b9",
        json!({"session_id": id, "offset": -1}),
    )
    .await;
    assert_eq!(error_code(&negative), "INVALID_MESSAGE", "{negative}");
    // The offset just past the end is an empty last page, not an error.
    let empty = request_as(
        &mut raw,
        "get_results",
        "b10",
        json!({"session_id": id, "offset": end}),
    )
    .await;
    assert_eq!(empty["data"]["equity_curve"], json!([]), "{empty}");
    assert!(empty["data"]["page"]["next_offset"].is_null());
    raw.assert_alive().await;
    daemon.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finished_results_survive_a_restart_and_go_with_the_session() {
    let home = tempfile::tempdir().unwrap();
    let state = home.path().join("state");
    let key = add_key(&state, "alice").unwrap();
    let mut first = DaemonProcess::start(&state, &[]).unwrap();
    let c = Client::connect_with_api_key(&first.url(), &key)
        .await
        .unwrap();
    let (id, results) = finished_run(&c).await;
    drop(c);
    first.kill().unwrap();
    let journal = state.join("sessions").join(format!("{id}.jsonl"));
    assert!(journal.exists(), "the results are on disk");

    let second = DaemonProcess::start(&state, &[]).unwrap();
    let c = Client::connect_with_api_key(&second.url(), &key)
        .await
        .unwrap();
    assert_eq!(
        c.get_results(&id).await.unwrap(),
        results,
        "after the restart"
    );
    let paged = c
        .get_results_in_pages(&id, Some(ResultsFormat::Columns), 250)
        .await
        .unwrap();
    assert_eq!(paged, results);
    c.delete_session(&id).await.unwrap();
    assert!(
        !journal.exists(),
        "deleting the session deletes its results"
    );
    second.terminate().unwrap();
}
