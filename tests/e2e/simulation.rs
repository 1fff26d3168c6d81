//! Running simulations over the raw protocol: a scripted strategy following the flow-control
//! rules of docs/protocol.md, run with different windows and encodings, gives byte-identical
//! results; illegal requests are refused.

use crate::support::{Raw, error_code, login};
use serde_json::{Value, json};
use shared_models::messages::results::ResultsReply;
use simutrador_e2e::TestDaemon;
use std::collections::{BTreeMap, HashSet};

/// Minimal client side of the protocol: buffers ticks, tracks working orders, waits for
/// `bar_settled` exactly when the rules say one is coming, acks lazily.
struct Driver {
    raw: Raw,
    session: String,
    window: u64,
    ticks: BTreeMap<u64, Value>,
    settled: HashSet<u64>,
    working: HashSet<String>,
    end: Option<Value>,
    acked: Option<u64>,
    /// Send acknowledgements as `tick_acks` (with the previous tick's ack in the same frame).
    batched: bool,
}

impl Driver {
    async fn read_one(&mut self) {
        let msg = self.raw.recv().await;
        let data = &msg["data"];
        match msg["type"].as_str().unwrap() {
            "tick" => {
                self.ticks.insert(
                    data["sequence_id"].as_u64().unwrap(),
                    data["candles"]["ACME"]["close"].clone(),
                );
            }
            "tick_block" => {
                let first = data["first_sequence_id"].as_u64().unwrap();
                let cols = &data["symbols"]["ACME"];
                let scale = cols["price_scale"].as_u64().unwrap() as u32;
                for (i, c) in cols["close"].as_array().unwrap().iter().enumerate() {
                    let d = rust_decimal::Decimal::new(c.as_i64().unwrap(), scale);
                    self.ticks.insert(first + i as u64, json!(d.to_string()));
                }
            }
            "order_update" => self.order_update(data),
            "event_block" => {
                for u in data["order_updates"].as_array().into_iter().flatten() {
                    self.order_update(u);
                }
                if let Some(s) = data["settled"]["sequence_id"].as_u64() {
                    self.settled.insert(s);
                }
            }
            "execution_report" | "account_snapshot" => {}
            "bar_settled" => {
                self.settled.insert(data["sequence_id"].as_u64().unwrap());
            }
            "simulation_end" => self.end = Some(data.clone()),
            other => panic!("unexpected {other}: {msg}"),
        }
    }

    fn order_update(&mut self, data: &Value) {
        let id = data["order_id"].as_str().unwrap().to_string();
        if data["status"] == "accepted" {
            self.working.insert(id);
        } else {
            self.working.remove(&id);
        }
    }

    async fn ack(&mut self, seq: u64, orders: Vec<Value>) {
        let mut entry = json!({"sequence_id": seq});
        if !orders.is_empty() {
            entry["orders"] = json!(orders);
        }
        let frame = if self.batched {
            let mut acks = vec![];
            if seq > 0 && self.acked != Some(seq - 1) {
                acks.push(json!({"sequence_id": seq - 1}));
            }
            acks.push(entry);
            json!({"type": "tick_acks", "data": {"session_id": self.session, "acks": acks}})
        } else {
            entry["session_id"] = json!(self.session);
            json!({"type": "tick_ack", "data": entry})
        };
        self.raw.send_text(&frame.to_string()).await;
        self.acked = Some(seq);
    }

    /// Run the scripted strategy; returns the `results` data.
    async fn run(mut self, total: u64) -> Value {
        let mut sent_orders_at_prev = false;
        for t in 0..total {
            let must_wait = !self.working.is_empty() || sent_orders_at_prev;
            while !self.ticks.contains_key(&t) || (must_wait && !self.settled.contains(&t)) {
                if t > 0 && self.acked != Some(t - 1) {
                    self.ack(t - 1, vec![]).await; // rule 5: ack before waiting
                }
                self.read_one().await;
            }
            let close = self.ticks[&t].clone();
            let orders = script(t, &close);
            sent_orders_at_prev = !orders.is_empty();
            if sent_orders_at_prev
                || t + 1 == total
                || t - self.acked.map_or(0, |a| a + 1) + 1 >= self.window.div_ceil(2)
            {
                for o in &orders {
                    self.working
                        .insert(o["order_id"].as_str().unwrap().to_string());
                }
                self.ack(t, orders).await;
            }
        }
        while self.end.is_none() {
            self.read_one().await;
        }
        let results = self
            .raw
            .request("get_results", json!({"session_id": self.session}))
            .await;
        assert_eq!(results["type"], "results", "{results}");
        // The columnar layout carries exactly the same results.
        let columns = self
            .raw
            .request(
                "get_results",
                json!({"session_id": self.session, "format": "columns"}),
            )
            .await;
        assert!(columns["data"]["equity_curve"].is_null(), "{columns}");
        // The summary carries the same metrics and open positions, and nothing else.
        let summary = self
            .raw
            .request(
                "get_results",
                json!({"session_id": self.session, "format": "summary"}),
            )
            .await;
        assert_eq!(summary["type"], "results", "{summary}");
        for absent in ["trades", "trade_columns", "equity_curve", "equity_columns"] {
            assert!(summary["data"][absent].is_null(), "{absent}: {summary}");
        }
        assert_eq!(summary["data"]["metrics"], results["data"]["metrics"]);
        assert_eq!(
            summary["data"]["open_positions"],
            results["data"]["open_positions"]
        );
        let typed = |v: &Value| {
            serde_json::from_value::<ResultsReply>(v["data"].clone())
                .unwrap()
                .into_results()
                .unwrap()
        };
        let rows = typed(&results);
        assert_eq!(typed(&columns), rows);
        assert_eq!(
            serde_json::to_value(&rows).unwrap()["trades"],
            results["data"]["trades"]
        );
        results["data"].clone()
    }
}

/// Decisions that depend only on what the strategy may know at tick `t`.
fn script(t: u64, close: &Value) -> Vec<Value> {
    let id = |s: &str| format!("{s}-{t}");
    match t {
        3 => {
            vec![json!({"order_id": id("buy"), "symbol": "ACME", "side": "buy", "quantity": "10"})]
        }
        10 => vec![
            json!({"order_id": id("sell"), "symbol": "ACME", "side": "sell", "quantity": "10"}),
        ],
        20 => {
            let limit = rust_decimal::Decimal::from_str_exact(close.as_str().unwrap()).unwrap()
                * rust_decimal::Decimal::new(99, 2);
            vec![
                json!({"order_id": id("limit"), "symbol": "ACME", "side": "buy", "order_type": "limit",
                "percent_of_equity": "0.5", "limit_price": limit.round_dp(2).to_string(), "stop_loss": "1", "take_profit": "100000"}),
            ]
        }
        60 => vec![
            json!({"order_id": id("flat"), "symbol": "ACME", "side": "sell", "percent_of_equity": "1"}),
        ],
        _ => vec![],
    }
}

/// How a run's client talks: tick encoding, event mode, batched acknowledgements.
#[derive(Debug, Clone, Copy)]
struct Mode {
    window: u64,
    encoding: &'static str,
    events: &'static str,
    batched: bool,
}

async fn run_once(d: &TestDaemon, mode: Mode) -> Value {
    let Mode {
        window, encoding, ..
    } = mode;
    let mut raw = Raw::connect(d, &login(d, "alice").await).await;
    let created = raw
        .request(
            "create_session",
            json!({"symbols": ["ACME"], "start_date": "2021-01-01", "end_date": "2021-06-30",
            "initial_capital": 100000, "commission_rate": "0.001", "slippage_bps": 3}),
        )
        .await;
    let session = created["data"]["session_id"].as_str().unwrap().to_string();
    let total = created["data"]["bar_count"].as_u64().unwrap();
    let started = raw
        .request("start_simulation", json!({"session_id": session, "max_pending_ticks": window, "tick_encoding": encoding, "warmup_bars": 5, "events": mode.events}))
        .await;
    assert_eq!(started["type"], "simulation_started", "{started}");
    assert_eq!(started["data"]["total_ticks"], total);
    assert_eq!(started["data"]["events"], mode.events);
    let history = raw.recv().await;
    assert_eq!(history["type"], "history_snapshot");
    assert_eq!(history["data"]["bars"]["ACME"].as_array().unwrap().len(), 5);
    let driver = Driver {
        raw,
        session,
        window,
        ticks: BTreeMap::new(),
        settled: HashSet::new(),
        working: HashSet::new(),
        end: None,
        acked: None,
        batched: mode.batched,
    };
    driver.run(total).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_are_identical_whatever_the_window_and_encoding() {
    let d = TestDaemon::start_with(|c| c.limits.max_sessions_per_user = 50)
        .await
        .unwrap();
    let mode = |window, encoding, events, batched| Mode {
        window,
        encoding,
        events,
        batched,
    };
    let reference = run_once(&d, mode(1, "tick", "messages", false)).await;
    let trades = reference["trades"].as_array().unwrap();
    assert!(trades.len() >= 2, "{reference}");
    assert_eq!(trades[0]["side"], "long");
    assert_eq!(trades[0]["quantity"], "10");
    assert!(reference["equity_curve"].as_array().unwrap().len() > 100);
    for m in [
        mode(1, "block", "messages", false),
        mode(7, "tick", "messages", false),
        mode(1024, "block", "messages", false),
        mode(1024, "tick", "messages", false),
        mode(1, "block", "blocks", false),
        mode(7, "block", "blocks", true),
        mode(1024, "tick", "messages", true),
        mode(1024, "block", "blocks", true),
    ] {
        let (window, encoding) = (m.window, (m.encoding, m.events, m.batched));
        let other = run_once(&d, m).await;
        assert_eq!(
            serde_json::to_string(&other["metrics"]).unwrap(),
            serde_json::to_string(&reference["metrics"]).unwrap(),
            "window {window} {encoding:?}"
        );
        let strip = |v: &Value| {
            let mut v = v.clone();
            v.as_object_mut().unwrap().remove("session_id");
            serde_json::to_string(&v).unwrap()
        };
        assert_eq!(
            strip(&other),
            strip(&reference),
            "window {window} {encoding:?}"
        );
    }
    d.stop().await.unwrap();
}

#[tokio::test]
async fn simulation_requests_check_state_and_ownership() {
    let d = TestDaemon::start().await.unwrap();
    let mut alice = Raw::connect(&d, &login(&d, "alice").await).await;
    let mut bob = Raw::connect(&d, &login(&d, "bob").await).await;
    let created = alice
        .request(
            "create_session",
            json!({"symbols": ["ACME"], "start_date": "2021-01-01", "end_date": "2021-01-31"}),
        )
        .await;
    let id = created["data"]["session_id"].as_str().unwrap();
    assert_eq!(
        error_code(
            &alice
                .request("get_results", json!({"session_id": id}))
                .await
        ),
        "INVALID_STATE"
    );
    assert_eq!(
        error_code(
            &alice
                .request("pause_simulation", json!({"session_id": id}))
                .await
        ),
        "INVALID_STATE"
    );
    assert_eq!(
        error_code(
            &bob.request("start_simulation", json!({"session_id": id}))
                .await
        ),
        "SESSION_NOT_FOUND"
    );
    let r = alice
        .request(
            "start_simulation",
            json!({"session_id": id, "max_pending_ticks": 0}),
        )
        .await;
    assert_eq!(error_code(&r), "VALIDATION_FAILED");
    let r = alice
        .request(
            "start_simulation",
            json!({"session_id": id, "max_pending_ticks": 4, "tick_encoding": "block"}),
        )
        .await;
    assert_eq!(r["type"], "simulation_started");
    let block = alice.recv().await;
    assert_eq!(block["type"], "tick_block");
    assert_eq!(
        block["data"]["times"].as_array().unwrap().len(),
        4,
        "the window holds the stream"
    );
    let again = alice
        .request("start_simulation", json!({"session_id": id}))
        .await;
    assert_eq!(error_code(&again), "INVALID_STATE");
    let r = alice
        .request("tick_ack", json!({"session_id": id, "sequence_id": 99}))
        .await;
    assert_eq!(error_code(&r), "VALIDATION_FAILED", "acking an unsent tick");
    let paused = alice
        .request("pause_simulation", json!({"session_id": id}))
        .await;
    assert_eq!(paused["type"], "simulation_paused");
    let s = alice
        .request("get_session", json!({"session_id": id}))
        .await;
    assert_eq!(s["data"]["state"], "paused");
    let account = alice
        .request("get_account", json!({"session_id": id}))
        .await;
    assert_eq!(account["type"], "account_snapshot");
    assert_eq!(account["data"]["cash"], "100000");
    let resumed = alice
        .request("resume_simulation", json!({"session_id": id}))
        .await;
    assert_eq!(resumed["type"], "simulation_resumed");
    d.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fills_mode_sends_only_fills_and_tick_acks_apply_in_order() {
    let d = TestDaemon::start().await.unwrap();
    let mut raw = Raw::connect(&d, &login(&d, "alice").await).await;
    let created = raw
        .request(
            "create_session",
            json!({"symbols": ["ACME"], "start_date": "2021-01-01", "end_date": "2021-03-31",
            "commission_rate": "0.001"}),
        )
        .await;
    let session = created["data"]["session_id"].as_str().unwrap().to_string();
    let total = created["data"]["bar_count"].as_u64().unwrap();
    let started = raw
        .request(
            "start_simulation",
            json!({"session_id": session, "max_pending_ticks": 65536, "tick_encoding": "block",
            "events": "fills", "compact_times": true}),
        )
        .await;
    assert_eq!(started["data"]["events"], "fills", "{started}");
    assert_eq!(started["data"]["compact_times"], true);
    let mut have = 0;
    while have < total {
        let block = raw.recv().await;
        assert_eq!(block["type"], "tick_block", "{block}");
        let data = &block["data"];
        let n = match data["time_range"]["count"].as_u64() {
            Some(n) => n,
            None => data["times"].as_array().unwrap().len() as u64,
        };
        assert_eq!(data["first_sequence_id"], have);
        have += n;
    }
    // A refused entry answers an error, like a refused tick_ack; the others still apply.
    let order = |id: &str, side: &str| json!({"order_id": id, "symbol": "ACME", "side": side, "quantity": "10"});
    let frame = |acks: Value| {
        json!({"type": "tick_acks", "data": {"session_id": session, "acks": acks}}).to_string()
    };
    raw.send_text(&frame(
        json!([{"sequence_id": total + 5}, {"sequence_id": 1}]),
    ))
    .await;
    assert_eq!(error_code(&raw.recv().await), "VALIDATION_FAILED");
    // Tick 1 was acknowledged: orders decided at tick 0 come too late now.
    raw.send_text(&frame(
        json!([{"sequence_id": 0, "orders": [order("x", "buy")]}]),
    ))
    .await;
    let late = raw.recv().await;
    assert_eq!(error_code(&late), "VALIDATION_FAILED");
    assert!(
        late["data"]["message"]
            .as_str()
            .unwrap()
            .contains("already acknowledged"),
        "{late}"
    );
    let acks = json!([
        {"sequence_id": 3, "orders": [order("b", "buy")]},
        {"sequence_id": 10, "orders": [order("s", "sell")]},
        {"sequence_id": total - 1},
    ]);
    raw.send_text(
        &json!({"type": "tick_acks", "data": {"session_id": session, "acks": acks}}).to_string(),
    )
    .await;
    let mut fills = Vec::new();
    loop {
        let msg = raw.recv().await;
        match msg["type"].as_str().unwrap() {
            "event_block" => {
                let data = msg["data"].as_object().unwrap();
                let keys: Vec<&str> = data.keys().map(String::as_str).collect();
                assert_eq!(keys, ["executions", "session_id"], "only fills: {msg}");
                fills.extend(data["executions"].as_array().unwrap().iter().cloned());
            }
            "simulation_end" => break,
            other => panic!("fills mode sent '{other}': {msg}"),
        }
    }
    let ids: Vec<&str> = fills
        .iter()
        .map(|f| f["order_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["b", "s"]);
    let results = raw
        .request(
            "get_results",
            json!({"session_id": session, "format": "columns"}),
        )
        .await;
    let cols = &results["data"]["trade_columns"];
    assert_eq!(cols["side"], json!(["long"]), "{results}");
    assert_eq!(cols["entry_price"][0], fills[0]["price"]);
    assert_eq!(cols["exit_price"][0], fills[1]["price"]);
    let equity = &results["data"]["equity_columns"];
    assert_eq!(equity["equity"].as_array().unwrap().len() as u64, total);
    d.stop().await.unwrap();
}

/// A `tick_acks` frame whose every entry is refused, or a repeated ack, settles nothing:
/// orders decided at the next acknowledged tick still fill at the very next bar's open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_or_repeated_acks_settle_no_bar() {
    let d = TestDaemon::start().await.unwrap();
    let mut raw = Raw::connect(&d, &login(&d, "alice").await).await;
    let created = raw
        .request(
            "create_session",
            json!({"symbols": ["ACME"], "start_date": "2021-01-01", "end_date": "2021-03-31"}),
        )
        .await;
    let session = created["data"]["session_id"].as_str().unwrap().to_string();
    let total = created["data"]["bar_count"].as_u64().unwrap();
    raw.request(
        "start_simulation",
        json!({"session_id": session, "max_pending_ticks": 65536, "tick_encoding": "block",
        "events": "fills"}),
    )
    .await;
    let mut times = Vec::new();
    while (times.len() as u64) < total {
        let block = raw.recv().await;
        assert_eq!(block["type"], "tick_block", "{block}");
        times.extend(block["data"]["times"].as_array().unwrap().iter().cloned());
    }
    let send = |kind: &str, data: Value| json!({"type": kind, "data": data}).to_string();
    raw.send_text(&send(
        "tick_ack",
        json!({"session_id": session, "sequence_id": 0}),
    ))
    .await;
    raw.send_text(&send(
        "tick_acks",
        json!({"session_id": session, "acks": [{"sequence_id": total + 5}]}),
    ))
    .await;
    assert_eq!(error_code(&raw.recv().await), "VALIDATION_FAILED");
    // A repeated cumulative ack is no news either.
    raw.send_text(&send(
        "tick_ack",
        json!({"session_id": session, "sequence_id": 0}),
    ))
    .await;
    let buy = json!({"order_id": "b", "symbol": "ACME", "side": "buy", "quantity": "10"});
    raw.send_text(&send(
        "tick_ack",
        json!({"session_id": session, "sequence_id": 1, "orders": [buy]}),
    ))
    .await;
    raw.send_text(&send(
        "tick_ack",
        json!({"session_id": session, "sequence_id": total - 1}),
    ))
    .await;
    let mut fills = Vec::new();
    loop {
        let msg = raw.recv().await;
        match msg["type"].as_str().unwrap() {
            "event_block" => fills.extend(msg["data"]["executions"].as_array().unwrap().clone()),
            "simulation_end" => break,
            other => panic!("unexpected '{other}': {msg}"),
        }
    }
    assert_eq!(fills.len(), 1, "{fills:?}");
    let filled_at = chrono::DateTime::parse_from_rfc3339(fills[0]["sim_time"].as_str().unwrap())
        .unwrap()
        .timestamp();
    assert_eq!(
        json!(filled_at),
        times[2],
        "decided at tick 1, filled at bar 2"
    );
    d.stop().await.unwrap();
}
