//! A bankrupt run: a short on a rising series ends, live and replayed, with reason
//! `bankrupt` at the bar whose close takes the equity to 0 or below, closed out at that close,
//! with the equity curve at 0 through the session's last bar.

use rust_decimal::Decimal;
use serde_json::json;
use shared_models::lifecycle::Actor;
use shared_models::messages::simulation::EventMode;
use shared_models::results::SimulationResults;
use shared_models::{AssetClass, Bar, Candle, ServerMessage, SessionState, TerminationReason};
use shared_models::{Timeframe, engine_config::EngineConfig, engine_config::SymbolSpec};
use simutrador_engine::{Engine, RiskRules};
use std::sync::Arc;

use super::core::{RunCore, RunSetup, StopFlag};
use super::feed::Feed;
use super::io::{Effect, Input, Output};
use super::test_harness::{ack, dec, effects, fills, options, order, whole};
use crate::market_data::bars::BarSeries;
use crate::session::store::{RunRecord, StoredRun};

/// 2024-01-01, daily bars.
const T0: i64 = 1_704_067_200;
const DAY: i64 = 86_400;
/// Closes of the rising series; a short of 50 at 100 (capital 10 000) is worth
/// 15 000 − 50 × close: −500 at bar 5.
const CLOSES: [i64; 10] = [100, 100, 150, 200, 250, 310, 350, 400, 450, 500];
const BANKRUPT_BAR: usize = 5;

fn parts() -> (RunSetup, Feed, Engine) {
    let bars: Vec<Bar> = CLOSES
        .iter()
        .enumerate()
        .map(|(i, &c)| Bar {
            time: T0 + i as i64 * DAY,
            candle: Candle {
                open: dec(c),
                high: dec(c),
                low: dec(c),
                close: dec(c),
                volume: dec(1000),
            },
        })
        .collect();
    let series = Arc::new(BarSeries::from_bars(&bars).expect("series"));
    let feed = Feed::new(vec!["ACME".into()], vec![series], T0, T0 + 10 * DAY);
    let spec = SymbolSpec {
        symbol: "ACME".into(),
        asset_class: AssetClass::Equity,
        lot_step: Decimal::ONE,
    };
    let mut config = EngineConfig::new(dec(10_000), vec![spec]);
    config.allow_short = true;
    let setup = RunSetup {
        session_id: "s-1".into(),
        timeframe: Timeframe::D1,
        initial_capital: dec(10_000),
        loss_warning_at: None,
        risk: RiskRules::default(),
    };
    (setup, feed, Engine::new(config).expect("engine"))
}

/// Feed `input`, then send what the window allows (as the actor does).
fn drive(core: &mut RunCore, input: Input, out: &mut Vec<Output>) {
    core.handle(input, out);
    while core.can_send() {
        core.handle(Input::Pump, out);
    }
}

/// Runs the short to its end, acking one tick at a time; every output.
fn run_short(core: &mut RunCore) -> Vec<Output> {
    let mut out = Vec::new();
    drive(core, Input::Start { request_id: None }, &mut out);
    let short = order(json!({"order_id": "s", "side": "sell", "quantity": "50"}));
    drive(core, Input::Ack(ack(0, vec![short])), &mut out);
    for t in 1..CLOSES.len() as u64 {
        drive(core, Input::Ack(ack(t, Vec::new())), &mut out);
        drive(core, Input::Checkpoint, &mut out);
    }
    out
}

fn results(out: &[Output]) -> SimulationResults {
    effects(out)
        .into_iter()
        .find_map(|e| match e {
            Effect::Results(r) => Some(whole(r)),
            _ => None,
        })
        .expect("results")
}

fn assert_bankrupt_end(out: &[Output]) {
    let e = effects(out);
    assert!(
        e.iter().any(|e| matches!(
            e,
            Effect::Ended {
                state: SessionState::Stopped,
                reason: TerminationReason::Bankrupt,
                actor: Actor::System,
                requested: false
            }
        )),
        "{e:?}"
    );
    let r = results(out);
    let curve: Vec<Decimal> = r.equity_curve.iter().map(|p| p.equity).collect();
    assert_eq!(curve.len(), CLOSES.len(), "to the session's last bar");
    assert_eq!(curve[BANKRUPT_BAR - 1], dec(2_500));
    assert!(
        curve[BANKRUPT_BAR..].iter().all(|e| e.is_zero()),
        "{curve:?}"
    );
    let trade = r.trades.last().expect("trade");
    assert_eq!(trade.exit_price, dec(CLOSES[BANKRUPT_BAR]));
    assert_eq!(trade.exit_time.timestamp(), T0 + BANKRUPT_BAR as i64 * DAY);
    assert_eq!(r.metrics.equity_final, Decimal::ZERO);
    assert_eq!(r.metrics.return_pct, -100.0);
    assert_eq!(r.metrics.max_drawdown_pct, -100.0);
    assert_eq!(r.metrics.end.timestamp(), T0 + 9 * DAY);
    assert_eq!(
        r.metrics.buy_and_hold_return_pct, 400.0,
        "to the last bar's close"
    );
}

#[test]
fn a_short_on_rising_prices_ends_the_run_bankrupt_at_that_bar() {
    let (setup, feed, engine) = parts();
    let mut core = RunCore::new(
        setup,
        feed,
        engine,
        options(1, EventMode::Messages),
        StopFlag::default(),
    );
    let out = run_short(&mut core);
    assert!(core.is_ended());
    assert_eq!(core.settled(), BANKRUPT_BAR + 1, "no bar settled after it");
    assert_eq!(core.engine().equity(), Decimal::ZERO);
    let closing: Vec<_> = fills(&out)
        .into_iter()
        .filter(|f| f.order_id.starts_with("flatten:"))
        .collect();
    assert_eq!(closing.len(), 1);
    assert_eq!(closing[0].price, dec(CLOSES[BANKRUPT_BAR]));
    let end = out.iter().find_map(|o| match o {
        Output::Stream(ServerMessage::SimulationEnd(end), _) => Some(end),
        _ => None,
    });
    assert_eq!(end.map(|e| e.reason), Some(TerminationReason::Bankrupt));
    // No tick after the bankrupt bar's is sent.
    let ticks = out
        .iter()
        .filter(|o| matches!(o, Output::Stream(ServerMessage::Tick(_), _)))
        .count();
    assert!(ticks <= BANKRUPT_BAR + 1, "{ticks} ticks");
    assert_bankrupt_end(&out);
}

#[test]
fn the_run_rebuilt_from_its_journal_ends_bankrupt_at_the_same_bar() {
    let (setup, feed, engine) = parts();
    let mut live = RunCore::new(
        setup,
        feed,
        engine,
        options(1, EventMode::Messages),
        StopFlag::default(),
    );
    let out = run_short(&mut live);
    let mut records = out.iter().filter_map(|o| match o {
        Output::Journal(r) => Some(r.clone()),
        _ => None,
    });
    let started = records.next();
    assert!(matches!(started, Some(RunRecord::Started { .. })));
    let stored = StoredRun {
        started,
        records: records.collect(),
    };
    let (setup, feed, engine) = parts();
    let (mut replayed, _) =
        RunCore::replay(setup, feed, engine, stored, StopFlag::default()).expect("replay");
    // Rebuilt at the last journaled acknowledgement, the bankrupt bar left for the resume.
    assert!(!replayed.is_ended());
    let mut resumed = Vec::new();
    let resume = Input::Resume {
        stream_closed: false,
    };
    drive(&mut replayed, resume, &mut resumed);
    assert!(replayed.is_ended());
    assert_bankrupt_end(&resumed);
    assert_eq!(results(&resumed), results(&out));
}
