//! Client-side throughput of `Client::run_simulation`: 1,000,000 generated one-minute bars
//! (the series of `simutrador-server/benches/engine.rs`) streamed over loopback by a minimal
//! in-bench daemon, with `buy-and-hold` (one order: no round trips after it) and `sma-cross`
//! 10/20 (a round trip per cross). The daemon pre-encodes its tick blocks and fills market
//! orders at the next open, so the figures are mostly the SDK's cost: frame decode, the
//! runner's loop, history, the strategy, acks.
//!
//! Run: `cargo bench -p simutrador-client --bench runner`. Not a test: nothing asserts a speed.

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use simutrador_client::{Client, RunOptions, StrategySpec, build_strategy};
use std::time::Instant;
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;

const BARS: usize = 1_000_000;
const BLOCK: usize = 512;
const START: i64 = 1_704_067_200;

/// xorshift64*, the same walk as the engine bench: (open, high, low, close) in cents.
fn series() -> Vec<[i64; 4]> {
    let mut s = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        s.wrapping_mul(0x2545_F491_4F6C_DD1D)
    };
    let mut step = move |k: i64| (next() % (2 * k as u64 + 1)) as i64 - k;
    let mut last = 100_000i64;
    (0..BARS)
        .map(|_| {
            let open = (last + step(3)).max(1_000);
            let close = (open + step(40)).max(1_000);
            let high = open.max(close) + step(10).abs();
            let low = (open.min(close) - step(10).abs()).max(500);
            let _volume = step(500);
            last = close;
            [open, high, low, close]
        })
        .collect()
}

fn frame(kind: &str, id: Option<&str>, data: &Value) -> Message {
    Message::text(match id {
        Some(id) => format!("{{\"type\":\"{kind}\",\"request_id\":\"{id}\",\"data\":{data}}}"),
        None => format!("{{\"type\":\"{kind}\",\"data\":{data}}}"),
    })
}

/// Serve one run: ticks within the window, market orders filled at the next open with a
/// `bar_settled`, `simulation_end` after the last ack, then `results`.
async fn daemon(listener: TcpListener, bars: std::sync::Arc<Vec<[i64; 4]>>) {
    let Ok((tcp, _)) = listener.accept().await else {
        return;
    };
    let _ = tcp.set_nodelay(true);
    let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else {
        return;
    };
    let blocks: Vec<Message> = bars
        .chunks(BLOCK)
        .enumerate()
        .map(|(i, rows)| {
            let col = |k: usize| rows.iter().map(|b| b[k]).collect::<Vec<_>>();
            let first = i * BLOCK;
            let times: Vec<i64> = (0..rows.len())
                .map(|j| START + (first + j) as i64 * 60)
                .collect();
            let data = json!({"session_id": "b", "first_sequence_id": first, "times": times,
                "symbols": {"BENCH": {"price_scale": 2, "volume_scale": 0, "open": col(0),
                "high": col(1), "low": col(2), "close": col(3), "volume": col(0)}}});
            frame("tick_block", None, &data)
        })
        .collect();
    let ready = json!({"user_id": "b", "plan": "pro", "server_time": "2024-01-01T00:00:00Z",
        "server_version": "0", "protocol_version": 1, "limits": {"max_sessions_per_user": 5,
        "max_symbols_per_session": 50, "min_initial_capital": "1", "max_initial_capital": "1000000000",
        "session_timeout_minutes": 60, "max_message_bytes": 0, "messages_per_second": 0,
        "session_creates_per_minute": 10}});
    let _ = ws.send(frame("connection_ready", None, &ready)).await;
    let (mut window, mut sent, mut acked, mut fills) = (1usize, 0usize, 0usize, 0u64);
    let (mut cash, mut pos) = (10_000_000_i64, 0i64);
    while let Some(Ok(Message::Text(text))) = ws.next().await {
        let req: Value = serde_json::from_str(text.as_str()).unwrap_or_default();
        let id = req["request_id"].as_str();
        match req["type"].as_str() {
            Some("start_simulation") => {
                window = req["data"]["max_pending_ticks"].as_u64().unwrap_or(1) as usize;
                let started = json!({"session_id": "b", "total_ticks": BARS, "symbols": ["BENCH"],
                    "timeframe": "1m", "initial_capital": "100000", "max_pending_ticks": window,
                    "account_updates": "on_demand", "tick_encoding": "block", "warmup_bars": 0});
                let _ = ws.feed(frame("simulation_started", id, &started)).await;
            }
            Some("tick_ack") => {
                let seq = req["data"]["sequence_id"].as_u64().unwrap_or(0) as usize;
                acked = seq + 1;
                let orders = req["data"]["orders"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                if !orders.is_empty() && seq + 1 < BARS {
                    let open = bars[seq + 1][0];
                    for o in &orders {
                        let buy = o["side"] == "buy";
                        let qty = match o["quantity"].as_str() {
                            Some(q) => q.parse().unwrap_or(0),
                            None => (cash + pos * open).max(0) / open,
                        };
                        let signed = if buy { qty } else { -qty };
                        cash -= signed * open;
                        pos += signed;
                        fills += 1;
                        let oid = &o["order_id"];
                        let report = json!({"session_id": "b", "execution_id": format!("e{fills}"),
                            "order_id": oid, "symbol": "BENCH", "side": o["side"], "quantity": qty.to_string(),
                            "price": format!("{}.{:02}", open / 100, open % 100), "commission": "0",
                            "slippage": "0", "sim_time": "2024-01-01T00:00:00Z"});
                        let _ = ws.feed(frame("execution_report", None, &report)).await;
                        let update = json!({"session_id": "b", "order_id": oid, "status": "filled",
                            "sim_time": "2024-01-01T00:00:00Z"});
                        let _ = ws.feed(frame("order_update", None, &update)).await;
                    }
                    let settled = json!({"session_id": "b", "sequence_id": seq + 1, "equity": "0"});
                    let _ = ws.feed(frame("bar_settled", None, &settled)).await;
                }
                if acked == BARS {
                    let _ = ws
                        .feed(frame(
                            "simulation_end",
                            None,
                            &json!({"session_id": "b",
                        "reason": "completed", "metrics": metrics()}),
                        ))
                        .await;
                }
            }
            Some("get_results") => {
                let results = json!({"session_id": "b", "metrics": metrics(), "trades": [],
                    "open_positions": [], "equity_curve": []});
                let _ = ws.send(frame("results", id, &results)).await;
                return;
            }
            _ => {}
        }
        while sent < blocks.len() && (sent + 1) * BLOCK <= acked + window {
            let _ = ws.feed(blocks[sent].clone()).await;
            sent += 1;
        }
        let _ = ws.flush().await;
    }
}

fn metrics() -> Value {
    json!({"start": "2024-01-01T00:00:00Z", "end": "2024-01-01T00:00:00Z", "duration": 0,
        "exposure_time_pct": 0.0, "equity_final": "0", "equity_peak": "0", "commissions": "0",
        "return_pct": 0.0, "buy_and_hold_return_pct": 0.0, "return_ann_pct": null,
        "volatility_ann_pct": null, "cagr_pct": null, "sharpe_ratio": null, "sortino_ratio": null,
        "calmar_ratio": null, "max_drawdown_pct": 0.0, "avg_drawdown_pct": 0.0,
        "max_drawdown_duration": null, "avg_drawdown_duration": null, "num_trades": 0,
        "win_rate_pct": null, "best_trade_pct": null, "worst_trade_pct": null,
        "avg_trade_pct": null, "max_trade_duration": null, "avg_trade_duration": null,
        "profit_factor": null, "expectancy_pct": null, "sqn": null})
}

async fn bench(name: &str, spec: StrategySpec, window: u32, bars: std::sync::Arc<Vec<[i64; 4]>>) {
    let listener = match TcpListener::bind("127.0.0.1:0").await {
        Ok(l) => l,
        Err(e) => return eprintln!("bind: {e}"),
    };
    let addr = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let server = tokio::spawn(daemon(listener, bars));
    let client = match Client::connect(&addr, "t").await {
        Ok(c) => c,
        Err(e) => return eprintln!("connect: {e}"),
    };
    let Ok(mut strategy) = build_strategy(&spec) else {
        return;
    };
    let started = Instant::now();
    let run = client
        .run_simulation("b", &mut strategy, RunOptions::default().window(window))
        .await;
    let elapsed = started.elapsed();
    let _ = server.await;
    match run {
        Ok(_) => println!(
            "{name:<28} window {window:>5}: {BARS} bars in {:>6.3} s = {:>10.0} bars/s",
            elapsed.as_secs_f64(),
            BARS as f64 / elapsed.as_secs_f64()
        ),
        Err(e) => println!("{name}: failed: {e}"),
    }
}

fn main() {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return eprintln!("runtime: {e}"),
    };
    let bars = std::sync::Arc::new(series());
    runtime.block_on(async {
        for window in [1024, 8192] {
            bench(
                "buy-and-hold",
                StrategySpec::new("buy-and-hold"),
                window,
                bars.clone(),
            )
            .await;
            bench(
                "sma-cross 10/20",
                StrategySpec::new("sma-cross"),
                window,
                bars.clone(),
            )
            .await;
        }
    });
}
