//! A run core over the built-in ACME daily bars of 2020, driven by hand: what the core tests
//! and the replay property test share. No socket, no runtime.

use rust_decimal::Decimal;
use shared_models::messages::simulation::{AccountUpdates, EventMode, TickAck, TickEncoding};
use shared_models::results::SimulationResults;
use shared_models::trading::{ExecutionReport, OrderRequest, OrderUpdate};
use shared_models::{ServerMessage, Timeframe};
use std::sync::Arc;

use super::core::{RunCore, RunOptions, StopFlag};
use super::io::{Effect, Input, Output};
use super::start;
use crate::market_data::{Bar, Catalog};
use crate::session::Session;
use crate::session::limits::RiskLimits;
use crate::session::test_support::params;

/// The options of a test run: `window`, messages, one tick per message.
pub fn options(window: usize, events: EventMode) -> RunOptions {
    RunOptions {
        window,
        account_updates: AccountUpdates::OnDemand,
        encoding: TickEncoding::Tick,
        warmup_bars: 0,
        indicator_warmup_bars: 0,
        events,
        compact_times: false,
    }
}

/// A session of ACME daily 2020 with `limits`.
pub fn session(limits: RiskLimits) -> Session {
    Session::with_limits(Arc::from("s-1"), Arc::from("alice"), params(), 0, limits)
}

/// The built-in catalog, built once per test binary.
pub fn catalog() -> &'static Catalog {
    static CATALOG: std::sync::OnceLock<Catalog> = std::sync::OnceLock::new();
    CATALOG.get_or_init(Catalog::built_in)
}

/// The bars of the run, tick by tick.
pub fn bars() -> Vec<Bar> {
    let catalog = catalog();
    let series = &catalog.get("ACME").expect("ACME").series[&Timeframe::D1];
    let first = series
        .timestamps()
        .iter()
        .position(|&t| t >= 1_577_836_800)
        .expect("2020");
    (first..series.len())
        .map(|i| series.bar(i))
        .take_while(|b| b.time < 1_609_459_200)
        .collect()
}

/// A fresh core of `session` (not started).
pub fn core(session: &Session, options: RunOptions, stop: StopFlag) -> RunCore {
    let (feed, engine) = start::build(session, catalog()).expect("build");
    RunCore::new(start::setup(session), feed, engine, options, stop)
}

/// A core and the outputs of everything fed to it.
pub struct Harness {
    /// The core.
    pub core: RunCore,
    /// Outputs not yet looked at.
    pub out: Vec<Output>,
    /// The stop flag the core checks.
    pub stop: StopFlag,
}

impl Harness {
    /// A started run of `session` with `options`, its window sent.
    pub fn start(session: &Session, options: RunOptions) -> Harness {
        let stop = StopFlag::default();
        let mut h = Harness {
            core: core(session, options, stop.clone()),
            out: Vec::new(),
            stop,
        };
        h.feed(Input::Start { request_id: None });
        h
    }

    /// Feed `input`, then send what the window allows (as the actor does).
    pub fn feed(&mut self, input: Input) {
        self.core.handle(input, &mut self.out);
        while self.core.can_send() {
            self.core.handle(Input::Pump, &mut self.out);
        }
    }

    /// Feed `input` and take what it caused.
    pub fn take(&mut self, input: Input) -> Vec<Output> {
        self.out.clear();
        self.feed(input);
        std::mem::take(&mut self.out)
    }

    /// Acknowledge tick `seq` with `orders`.
    pub fn ack(&mut self, seq: u64, orders: Vec<OrderRequest>) -> Vec<Output> {
        self.take(Input::Ack(ack(seq, orders)))
    }

    /// Acknowledge every tick up to `seq`, one by one, without decisions.
    pub fn ack_through(&mut self, seq: u64) {
        for t in self.core.acked() as u64..=seq {
            self.ack(t, Vec::new());
        }
    }
}

/// A `tick_ack` of `seq` with `orders`.
pub fn ack(seq: u64, orders: Vec<OrderRequest>) -> TickAck {
    TickAck {
        session_id: "s-1".into(),
        sequence_id: seq,
        orders,
        cancels: Vec::new(),
    }
}

/// An order from its JSON fields (symbol ACME).
pub fn order(fields: serde_json::Value) -> OrderRequest {
    let mut v = serde_json::json!({ "symbol": "ACME" });
    if let (Some(o), Some(f)) = (v.as_object_mut(), fields.as_object()) {
        o.extend(f.clone());
    }
    serde_json::from_value(v).expect("order")
}

/// The fills streamed in `out` (`events: messages`).
/// The whole results of a run's [`Effect::Results`] (stored in columns), as the wire has them.
pub fn whole(r: &crate::session::store::record::StoredResults) -> SimulationResults {
    r.clone()
        .into_results()
        .unwrap_or_else(|e| panic!("stored results convert: {e}"))
}

pub fn fills(out: &[Output]) -> Vec<ExecutionReport> {
    out.iter()
        .filter_map(|o| match o {
            Output::Stream(ServerMessage::ExecutionReport(e), _) => Some(e.event.clone()),
            _ => None,
        })
        .collect()
}

/// The order updates streamed in `out` (`events: messages`).
pub fn updates(out: &[Output]) -> Vec<OrderUpdate> {
    out.iter()
        .filter_map(|o| match o {
            Output::Stream(ServerMessage::OrderUpdate(e), _) => Some(e.event.clone()),
            _ => None,
        })
        .collect()
}

/// The replies in `out`.
pub fn replies(out: &[Output]) -> Vec<&ServerMessage> {
    out.iter()
        .filter_map(|o| match o {
            Output::Reply(m) => Some(m),
            _ => None,
        })
        .collect()
}

/// The session changes in `out`.
pub fn effects(out: &[Output]) -> Vec<&Effect> {
    out.iter()
        .filter_map(|o| match o {
            Output::Session(e) => Some(e),
            _ => None,
        })
        .collect()
}

/// Unix seconds of a fill.
pub fn at(fill: &ExecutionReport) -> i64 {
    fill.sim_time.timestamp()
}

/// `x` as a decimal.
pub fn dec(x: i64) -> Decimal {
    Decimal::from(x)
}
