//! The runner's resume after a lost connection, against a scripted two-connection daemon:
//! the first connection closes after the block `[0, 2)`, and the runner only notices when it
//! sends the ack of tick 1 — the last tick of the block it is processing. It must carry on
//! with the block the resumed daemon sends (regression: it used to drop that block as if it
//! were the finished one, then wait for a tick the daemon had already sent).

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use shared_models::ClientMessage;
use shared_models::messages::client::Ping;
use simutrador_engine::MODEL_VERSION;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;

use super::{ReconnectOptions, RunOptions, session};
use crate::connection::{Client, ConnectOptions};
use crate::strategy::{Strategy, StrategyContext, TickView};

const TOTAL: u64 = 8;
const WINDOW: u64 = 4;

fn frame(kind: &str, request_id: Option<&str>, data: Value) -> Message {
    let mut v = json!({"type": kind, "data": data});
    if let Some(id) = request_id {
        v["request_id"] = json!(id);
    }
    Message::text(v.to_string())
}

/// Ticks `from..to` of a flat market at 100.00, one bar a day.
fn block(from: u64, to: u64) -> Message {
    let n = (to - from) as usize;
    let times: Vec<i64> = (from..to)
        .map(|i| 1_577_836_800 + i as i64 * 86_400)
        .collect();
    frame(
        "tick_block",
        None,
        json!({"session_id": "s1", "first_sequence_id": from, "times": times,
            "symbols": {"ACME": {"price_scale": 2, "volume_scale": 0, "open": vec![10_000; n],
            "high": vec![10_000; n], "low": vec![10_000; n], "close": vec![10_000; n],
            "volume": vec![1; n]}}}),
    )
}

fn metrics() -> Value {
    json!({"start": "2020-01-01T00:00:00Z", "end": "2020-01-08T00:00:00Z", "duration": 604800,
        "exposure_time_pct": 0.0, "equity_final": "100000", "equity_peak": "100000",
        "commissions": "0", "return_pct": 0.0, "buy_and_hold_return_pct": 0.0,
        "return_ann_pct": null, "volatility_ann_pct": null, "cagr_pct": null,
        "sharpe_ratio": null, "sortino_ratio": null, "calmar_ratio": null,
        "max_drawdown_pct": 0.0, "avg_drawdown_pct": 0.0, "max_drawdown_duration": null,
        "avg_drawdown_duration": null, "num_trades": 0, "win_rate_pct": null,
        "best_trade_pct": null, "worst_trade_pct": null, "avg_trade_pct": null,
        "max_trade_duration": null, "avg_trade_duration": null, "profit_factor": null,
        "expectancy_pct": null, "sqn": null})
}

fn started(id: Option<&str>) -> Message {
    let engine = json!({"initial_capital": "100000", "commission_rate": "0",
        "commission_per_share": "0", "commission_min": "0", "slippage_bps": "0",
        "allow_short": false, "short_margin": "1", "close_at_end": false,
        "symbols": [{"symbol": "ACME", "asset_class": "equity", "lot_step": "1"}]});
    frame(
        "simulation_started",
        id,
        json!({"session_id": "s1", "total_ticks": TOTAL, "symbols": ["ACME"],
            "timeframe": "1d", "initial_capital": "100000", "max_pending_ticks": WINDOW,
            "account_updates": "on_demand", "tick_encoding": "block", "warmup_bars": 0,
            "execution_model": MODEL_VERSION, "engine": engine}),
    )
}

/// Serve two connections; return the sequence ids acknowledged on the second.
async fn serve(listener: TcpListener) -> Vec<u64> {
    let mut ready = crate::connection::test_ready();
    ready.protocol_version = 1;
    let ready = serde_json::to_value(ready).unwrap();
    let mut acks = Vec::new();
    for conn in 0..2 {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
        ws.send(frame("connection_ready", None, ready.clone()))
            .await
            .unwrap();
        let mut sent = 0;
        while let Some(Ok(msg)) = ws.next().await {
            let Message::Text(text) = msg else { continue };
            let req: Value = serde_json::from_str(text.as_str()).unwrap();
            let id = req["request_id"].as_str();
            let mut out = Vec::new();
            match (conn, req["type"].as_str()) {
                (0, Some("start_simulation")) => {
                    out.push(started(id));
                    out.push(block(0, 2));
                }
                (1, Some("resume_simulation")) => {
                    let data = json!({"session_id": "s1", "ticks_sent": 2, "acknowledged": 0});
                    out.push(frame("simulation_resumed", id, data));
                    out.push(block(0, WINDOW));
                    sent = WINDOW;
                }
                (1, Some("tick_ack")) => {
                    let seq = req["data"]["sequence_id"].as_u64().unwrap();
                    acks.push(seq);
                    let limit = (seq + 1 + WINDOW).min(TOTAL);
                    if sent < limit {
                        out.push(block(sent, limit));
                        sent = limit;
                    }
                    if seq == TOTAL - 1 {
                        let data = json!({"session_id": "s1", "reason": "completed",
                            "metrics": metrics()});
                        out.push(frame("simulation_end", None, data));
                    }
                }
                (1, Some("get_results")) => {
                    let data = json!({"session_id": "s1", "metrics": metrics(), "trades": [],
                        "open_positions": [], "equity_curve": []});
                    ws.send(frame("results", id, data)).await.unwrap();
                    return acks;
                }
                _ => {} // pings the strategy sends into the closing first connection
            }
            for m in out {
                ws.send(m).await.unwrap();
            }
            if conn == 0 && req["type"] == "start_simulation" {
                // The daemon goes away with the first block still being processed.
                let _ = ws.close(None).await;
            }
        }
    }
    acks
}

/// Records its ticks; at tick 1 waits until the first connection is gone for good (sending
/// fails), so the runner's ack of tick 1 is what finds out.
struct Breaker {
    client: Client,
    ticks: Vec<u64>,
}

impl Strategy for Breaker {
    fn on_tick(&mut self, tick: &TickView<'_>, _ctx: &mut StrategyContext) {
        self.ticks.push(tick.sequence_id());
        if tick.sequence_id() == 1 && self.ticks.len() == 2 {
            let client = self.client.clone();
            tokio::task::block_in_place(|| {
                tokio::runtime::Handle::current().block_on(async {
                    client.closed().await;
                    while client.send(ClientMessage::Ping(Ping {})).await.is_ok() {
                        tokio::task::yield_now().await;
                    }
                });
            });
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_lost_in_the_ack_of_a_blocks_last_tick_resumes_in_the_new_block() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = crate::url::ServerUrl::parse(&listener.local_addr().unwrap().to_string()).unwrap();
    let server = tokio::spawn(serve(listener));
    let options = ConnectOptions::default().request_timeout(Duration::from_secs(10));
    let client = Client::connect_with_options(&url, "t", options)
        .await
        .unwrap();
    let mut strategy = Breaker {
        client: client.clone(),
        ticks: Vec::new(),
    };
    let reconnect = ReconnectOptions {
        initial_backoff: Duration::from_millis(1),
        ..ReconnectOptions::default()
    };
    let options = RunOptions::default()
        .window(WINDOW as u32)
        .reconnect(reconnect);
    let (results, stats) = session::run(&client, "s1", &mut strategy, options)
        .await
        .unwrap();
    assert_eq!(
        results.metrics.equity_final,
        rust_decimal::Decimal::from(100_000)
    );
    // Every tick reached the strategy exactly once, in order.
    assert_eq!(strategy.ticks, (0..TOTAL).collect::<Vec<_>>());
    // The resumed connection got the resent ack of tick 1, then the usual ones.
    assert_eq!(server.await.unwrap(), [1, 3, 5, 7]);
    assert_eq!(stats.acks, 4 + 1, "the failed ack of tick 1 counts too");
}
