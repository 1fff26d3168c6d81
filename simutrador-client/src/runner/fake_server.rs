//! A scripted daemon for runner tests: one WebSocket connection on `127.0.0.1:0` that follows
//! "Running a simulation" in `docs/protocol.md` with a toy engine (market orders at the next
//! open, limit buys at min(open, limit), percent orders as whole units of cash × p, no costs).
//!
//! It implements the server's half of the rules: ticks only within the window, bar `t + 1`
//! settled only after the ack of `t`, `bar_settled(s)` exactly when orders were working going
//! into bar `s` or the ack of `s − 1` carried orders or cancels. A `seed` varies block sizes
//! and whether settlement events go before or after the next tick block, so tests can check
//! that interleaving does not matter. It records what it received, and counts rule-4
//! violations (an ack that skips past a bar which needed a `bar_settled`).

use futures_util::{SinkExt, StreamExt};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::Serialize;
use serde_json::{Value, json};
use shared_models::messages::simulation::TickAck;
use shared_models::trading::{OrderRequest, OrderSide};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

use crate::url::ServerUrl;

/// One bar: (time, open, high, low, close) in cents.
pub(crate) type FakeBar = (i64, i64, i64, i64, i64);

/// What the fake saw and did.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct FakeLog {
    /// Every ack received, in order.
    pub acks: Vec<TickAck>,
    /// `bar_settled` messages sent.
    pub settled: u64,
    /// Fills as (bar index, order id, side, quantity, price).
    pub fills: Vec<(u64, String, OrderSide, Decimal, Decimal)>,
    /// Acks that skipped a bar needing `bar_settled`.
    pub violations: u64,
    /// The `results` JSON sent.
    pub results: String,
}

/// `{"type": kind, "data": data}` with `type` first, as the real daemon writes it.
fn frame(kind: &str, request_id: Option<&str>, data: &impl Serialize) -> Message {
    let data = serde_json::to_string(data).unwrap_or_default();
    Message::text(match request_id {
        Some(id) => format!("{{\"type\":\"{kind}\",\"request_id\":\"{id}\",\"data\":{data}}}"),
        None => format!("{{\"type\":\"{kind}\",\"data\":{data}}}"),
    })
}

struct Engine {
    bars: Vec<FakeBar>,
    window: u64,
    block_max: u64,
    rng: u64,
    cash: Decimal,
    qty: Decimal,
    working: Vec<OrderRequest>,
    /// Updates from the last submit, sent with the next settlement.
    submit_events: Vec<Message>,
    curve: Vec<(i64, Decimal)>,
    next_send: u64,
    last_acked: Option<u64>,
    log: FakeLog,
}

fn price(cents: i64) -> Decimal {
    Decimal::new(cents, 2)
}

impl Engine {
    fn roll(&mut self) -> u64 {
        self.rng = self
            .rng
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.rng >> 33
    }

    /// Ticks the window allows, in blocks of random size.
    fn pump(&mut self, out: &mut Vec<Message>) {
        let limit = self
            .last_acked
            .map_or(self.window, |a| a + 1 + self.window)
            .min(self.bars.len() as u64);
        while self.next_send < limit {
            let size = (1 + self.roll() % self.block_max).min(limit - self.next_send);
            let rows = &self.bars[self.next_send as usize..(self.next_send + size) as usize];
            let col = |f: fn(&FakeBar) -> i64| rows.iter().map(f).collect::<Vec<_>>();
            let data = json!({
                "session_id": "s1", "first_sequence_id": self.next_send,
                "times": col(|b| b.0),
                "symbols": {"ACME": {"price_scale": 2, "volume_scale": 0,
                    "open": col(|b| b.1), "high": col(|b| b.2), "low": col(|b| b.3),
                    "close": col(|b| b.4), "volume": col(|_| 1)}}
            });
            out.push(frame("tick_block", None, &data));
            self.next_send += size;
        }
    }

    fn event(kind: &str, mut data: Value) -> Message {
        data["session_id"] = json!("s1");
        frame(kind, None, &data)
    }

    fn submit(&mut self, ack: &TickAck) {
        let at = self.bars[ack.sequence_id as usize].0;
        let time = chrono::DateTime::from_timestamp(at, 0).unwrap_or_default();
        for id in &ack.cancels {
            if let Some(i) = self.working.iter().position(|o| o.order_id == *id) {
                self.working.remove(i);
                self.submit_events.push(Self::event(
                    "order_update",
                    json!({"order_id": id, "status": "cancelled", "sim_time": time}),
                ));
            }
        }
        for o in &ack.orders {
            self.submit_events.push(Self::event(
                "order_update",
                json!({"order_id": o.order_id, "status": "accepted", "sim_time": time}),
            ));
            self.working.push(o.clone());
        }
    }

    /// Settle bar `k`; `carried`: the ack of `k − 1` had orders or cancels.
    fn settle(&mut self, k: u64, carried: bool, out: &mut Vec<Message>) -> bool {
        let (t, open, _high, low, close) = self.bars[k as usize];
        let time = chrono::DateTime::from_timestamp(t, 0).unwrap_or_default();
        let needed = carried || !self.working.is_empty();
        let mut events = std::mem::take(&mut self.submit_events);
        let mut filled = false;
        let mut still = Vec::new();
        for o in std::mem::take(&mut self.working) {
            let px = match o.limit_price {
                Some(limit) if price(low) > limit => {
                    still.push(o);
                    continue;
                }
                Some(limit) => limit.min(price(open)),
                None => price(open),
            };
            let held_value = (self.cash + self.qty * px).max(Decimal::ZERO);
            let units = match (o.quantity, o.percent_of_equity) {
                (Some(q), _) => q,
                (None, Some(p)) => {
                    let base = if o.side == OrderSide::Buy {
                        self.cash
                    } else {
                        held_value
                    };
                    Decimal::from(
                        (base.max(Decimal::ZERO) * p / px)
                            .floor()
                            .to_i64()
                            .unwrap_or(0),
                    )
                }
                _ => Decimal::ZERO,
            };
            if units <= Decimal::ZERO {
                events.push(Self::event("order_update", json!({"order_id": o.order_id,
                    "status": "rejected", "reason": "INSUFFICIENT_BUYING_POWER: nothing", "sim_time": time})));
                continue;
            }
            let signed = if o.side == OrderSide::Buy {
                units
            } else {
                -units
            };
            self.cash -= signed * px;
            self.qty += signed;
            filled = true;
            self.log
                .fills
                .push((k, o.order_id.to_string(), o.side, units, px));
            events.push(Self::event(
                "execution_report",
                json!({
                "execution_id": format!("e{}", self.log.fills.len()), "order_id": o.order_id,
                "symbol": "ACME", "side": o.side, "quantity": units, "price": px,
                "commission": "0", "slippage": "0", "sim_time": time}),
            ));
            events.push(Self::event(
                "order_update",
                json!({"order_id": o.order_id,
                "status": "filled", "sim_time": time}),
            ));
        }
        self.working = still;
        let equity = self.cash + self.qty * price(close);
        self.curve.push((t, equity));
        if filled {
            let ids: Vec<&str> = self.working.iter().map(|o| o.order_id.as_str()).collect();
            let positions = if self.qty.is_zero() {
                json!([])
            } else {
                json!([{"symbol": "ACME", "quantity": self.qty, "avg_price": price(open),
                    "market_value": self.qty * price(close), "unrealized_pnl": "0"}])
            };
            events.push(Self::event(
                "account_snapshot",
                json!({"cash": self.cash, "equity": equity,
                "buying_power": self.cash, "positions": positions, "open_orders": ids}),
            ));
        }
        if needed {
            self.log.settled += 1;
            out.extend(events);
            out.push(Self::event(
                "bar_settled",
                json!({"sequence_id": k, "equity": equity}),
            ));
        } else {
            assert!(events.is_empty(), "bar {k}: events without a bar_settled");
        }
        needed
    }

    /// Handle one ack; returns true when the run is over.
    fn ack(&mut self, ack: TickAck, out: &mut Vec<Message>) -> bool {
        let from = self.last_acked.map_or(0, |a| a + 1);
        let carried = !ack.orders.is_empty() || !ack.cancels.is_empty();
        let pump_first = self.roll().is_multiple_of(2);
        if pump_first {
            self.last_acked = Some(ack.sequence_id);
            self.pump(out);
        }
        let total = self.bars.len() as u64;
        for t in from..=ack.sequence_id {
            if t == ack.sequence_id {
                self.submit(&ack);
            }
            if t + 1 < total {
                let needed = self.settle(t + 1, t == ack.sequence_id && carried, out);
                if needed && t < ack.sequence_id {
                    self.log.violations += 1;
                }
            }
        }
        self.last_acked = Some(ack.sequence_id);
        self.pump(out);
        self.log.acks.push(ack);
        self.last_acked == Some(total - 1)
    }

    fn results(&self) -> Value {
        let first = self.curve.first().map_or(0, |p| p.0);
        let last = self.curve.last().copied().unwrap_or((0, self.cash));
        let ts = |t: i64| chrono::DateTime::from_timestamp(t, 0).unwrap_or_default();
        json!({
            "session_id": "s1",
            "metrics": {"start": ts(first), "end": ts(last.0), "duration": last.0 - first,
                "exposure_time_pct": 0.0, "equity_final": last.1, "equity_peak": last.1,
                "commissions": "0", "return_pct": 0.0, "buy_and_hold_return_pct": 0.0,
                "return_ann_pct": null, "volatility_ann_pct": null, "cagr_pct": null,
                "sharpe_ratio": null, "sortino_ratio": null, "calmar_ratio": null,
                "max_drawdown_pct": 0.0, "avg_drawdown_pct": 0.0, "max_drawdown_duration": null,
                "avg_drawdown_duration": null, "num_trades": self.log.fills.len(),
                "win_rate_pct": null, "best_trade_pct": null, "worst_trade_pct": null,
                "avg_trade_pct": null, "max_trade_duration": null, "avg_trade_duration": null,
                "profit_factor": null, "expectancy_pct": null, "sqn": null},
            "trades": [], "open_positions": [],
            "equity_curve": self.curve.iter().map(|(t, e)| json!({"time": ts(*t), "equity": e})).collect::<Vec<_>>(),
        })
    }
}

/// Start the fake with `bars`, tick blocks of at most `block_max` ticks, and `seed`.
pub(crate) async fn start(
    bars: Vec<FakeBar>,
    block_max: u64,
    seed: u64,
) -> (ServerUrl, JoinHandle<FakeLog>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = ServerUrl::parse(&listener.local_addr().unwrap().to_string()).unwrap();
    let task = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        tcp.set_nodelay(true).unwrap();
        let mut ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
        // A protocol-1 daemon: one message per event, one ack per frame, results as rows.
        let mut ready = crate::connection::test_ready();
        ready.protocol_version = 1;
        let ready = serde_json::to_value(ready).unwrap();
        ws.send(frame("connection_ready", None, &ready))
            .await
            .unwrap();
        let mut engine = Engine {
            bars,
            window: 1,
            block_max: block_max.max(1),
            rng: seed,
            cash: Decimal::from(100_000),
            qty: Decimal::ZERO,
            working: Vec::new(),
            submit_events: Vec::new(),
            curve: Vec::new(),
            next_send: 0,
            last_acked: None,
            log: FakeLog::default(),
        };
        let mut done = false;
        while let Some(Ok(msg)) = ws.next().await {
            let Message::Text(text) = msg else { continue };
            let req: Value = serde_json::from_str(text.as_str()).unwrap();
            let id = req["request_id"].as_str();
            let mut out = Vec::new();
            match req["type"].as_str() {
                Some("start_simulation") => {
                    engine.window = req["data"]["max_pending_ticks"].as_u64().unwrap_or(1);
                    let started = json!({"session_id": "s1", "total_ticks": engine.bars.len(),
                        "symbols": ["ACME"], "timeframe": "1d", "initial_capital": "100000",
                        "max_pending_ticks": engine.window, "account_updates": "every_fill",
                        "tick_encoding": "block", "warmup_bars": 0});
                    out.push(frame("simulation_started", id, &started));
                    engine.settle(0, false, &mut out);
                    engine.pump(&mut out);
                }
                Some("tick_ack") => {
                    let ack: TickAck = serde_json::from_value(req["data"].clone()).unwrap();
                    if engine.ack(ack, &mut out) {
                        done = true;
                        let end = engine.results()["metrics"].clone();
                        out.push(Engine::event(
                            "simulation_end",
                            json!({"reason": "completed", "metrics": end}),
                        ));
                    }
                }
                // Like a daemon older than `format: summary`: it refuses the format.
                Some("get_results") if done && req["data"]["format"] == "summary" => {
                    out.push(frame(
                        "error",
                        id,
                        &json!({"error_code": "INVALID_MESSAGE",
                        "message": "invalid 'get_results' data at 'format': unknown variant `summary`",
                        "details": null}),
                    ))
                }
                Some("get_results") if done => {
                    let results = engine.results();
                    engine.log.results = results.to_string();
                    out.push(frame("results", id, &results));
                }
                _ => out.push(frame(
                    "error",
                    id,
                    &json!({"error_code": "INVALID_STATE",
                    "message": "not now", "details": null}),
                )),
            }
            for m in out {
                ws.send(m).await.unwrap();
            }
            if !engine.log.results.is_empty() {
                break;
            }
        }
        engine.log
    });
    (url, task)
}
