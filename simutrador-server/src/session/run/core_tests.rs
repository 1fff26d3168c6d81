//! The run core driven directly: settlement of every order type, acknowledgement edge
//! cases, pacing, pause and resume, stops, warnings, limits and halts.

use rust_decimal::Decimal;
use serde_json::json;
use shared_models::lifecycle::{Actor, WarningKind};
use shared_models::messages::simulation::EventMode;
use shared_models::trading::OrderStatus;
use shared_models::{ErrorCode, ServerMessage, SessionState, TerminationReason};
use simutrador_engine::HaltRule;

use super::io::{Effect, Input, Output};
use super::test_harness::*;
use crate::session::limits::RiskLimits;

fn plain(window: usize) -> Harness {
    Harness::start(
        &session(RiskLimits::none()),
        options(window, EventMode::Messages),
    )
}

/// The first tick `t >= 1` whose next bar satisfies `pred`.
fn tick_before(pred: impl Fn(&crate::market_data::Bar) -> bool) -> u64 {
    let bars = bars();
    (1..bars.len() - 1)
        .find(|&t| pred(&bars[t + 1]))
        .expect("a bar") as u64
}

fn error_code(m: &ServerMessage) -> ErrorCode {
    match m {
        ServerMessage::Error(e) => e.error_code,
        other => panic!("not an error: {other:?}"),
    }
}

#[test]
fn start_journals_the_options_settles_bar_zero_and_fills_the_window() {
    let h = plain(3);
    assert!(matches!(h.out[0], Output::Journal(_)));
    assert!(matches!(h.out[1], Output::FlushJournal));
    assert!(matches!(
        h.out[2],
        Output::Stream(ServerMessage::SimulationStarted(_), _)
    ));
    assert_eq!((h.core.settled(), h.core.acked(), h.core.sent()), (1, 0, 3));
}

#[test]
fn a_market_order_fills_at_the_open_of_the_next_bar() {
    let bars = bars();
    let mut h = plain(1);
    h.ack_through(2);
    let out = h.ack(
        3,
        vec![order(
            json!({"order_id": "m", "side": "buy", "quantity": "10"}),
        )],
    );
    let f = fills(&out);
    assert_eq!(f.len(), 1, "{out:?}");
    assert_eq!((at(&f[0]), f[0].price), (bars[4].time, bars[4].candle.open));
    // Settled with orders working: its bar_settled follows the events.
    assert!(out.iter().any(
        |o| matches!(o, Output::Stream(ServerMessage::BarSettled(b), _) if b.sequence_id == 4)
    ));
}

#[test]
fn a_limit_order_fills_at_its_price_when_the_bar_reaches_it() {
    let bars = bars();
    let t = tick_before(|b| b.candle.low < b.candle.open);
    let mut h = plain(1);
    h.ack_through(t - 1);
    let limit = bars[t as usize + 1].candle.low;
    let buy = order(json!({"order_id": "l", "side": "buy", "quantity": "5",
        "order_type": "limit", "limit_price": limit}));
    let f = fills(&h.ack(t, vec![buy]));
    assert_eq!(f.len(), 1);
    assert_eq!((at(&f[0]), f[0].price), (bars[t as usize + 1].time, limit));
}

#[test]
fn a_stop_order_fills_at_its_stop_when_the_bar_touches_it() {
    let bars = bars();
    let t = tick_before(|b| b.candle.high > b.candle.open);
    let mut h = plain(1);
    h.ack_through(t - 1);
    let stop = bars[t as usize + 1].candle.high;
    let buy = order(json!({"order_id": "s", "side": "buy", "quantity": "5",
        "order_type": "stop", "stop_price": stop}));
    let f = fills(&h.ack(t, vec![buy]));
    assert_eq!(f.len(), 1);
    assert_eq!((at(&f[0]), f[0].price), (bars[t as usize + 1].time, stop));
}

#[test]
fn a_stop_limit_order_fills_at_the_trigger_when_its_limit_allows() {
    let bars = bars();
    let t = tick_before(|b| b.candle.high > b.candle.open);
    let mut h = plain(1);
    h.ack_through(t - 1);
    let stop = bars[t as usize + 1].candle.high;
    let buy = order(json!({"order_id": "sl", "side": "buy", "quantity": "5",
        "order_type": "stop_limit", "stop_price": stop, "limit_price": stop}));
    let f = fills(&h.ack(t, vec![buy]));
    assert_eq!(f.len(), 1);
    assert_eq!((at(&f[0]), f[0].price), (bars[t as usize + 1].time, stop));
}

#[test]
fn bracket_children_exit_one_cancels_the_other() {
    let bars = bars();
    // Take-profit reached in the entry's own bar: the stop-loss child is cancelled.
    let t = tick_before(|b| b.candle.high > b.candle.open);
    let bar = &bars[t as usize + 1];
    let mut h = plain(1);
    h.ack_through(t - 1);
    let entry = order(json!({"order_id": "b", "side": "buy", "quantity": "10",
        "take_profit": bar.candle.high, "stop_loss": bar.candle.low / Decimal::TWO}));
    let out = h.ack(t, vec![entry]);
    let f = fills(&out);
    assert_eq!(f.len(), 2, "{out:?}");
    assert_eq!((f[0].order_id.as_str(), f[0].price), ("b", bar.candle.open));
    assert_eq!(
        (f[1].order_id.as_str(), f[1].price),
        ("b:tp", bar.candle.high)
    );
    let u = updates(&out);
    assert!(
        u.iter()
            .any(|u| u.order_id == "b:sl" && u.status == OrderStatus::Cancelled),
        "{u:?}"
    );

    // Stop-loss reached in the entry's bar (take-profit far away).
    let t = tick_before(|b| b.candle.low < b.candle.open);
    let bar = &bars[t as usize + 1];
    let mut h = plain(1);
    h.ack_through(t - 1);
    let entry = order(json!({"order_id": "c", "side": "buy", "quantity": "10",
        "take_profit": bar.candle.high * Decimal::TWO, "stop_loss": bar.candle.low}));
    let f = fills(&h.ack(t, vec![entry]));
    assert_eq!(f.len(), 2);
    assert_eq!(
        (f[1].order_id.as_str(), f[1].price),
        ("c:sl", bar.candle.low)
    );
}

#[test]
fn a_repeated_cumulative_ack_does_nothing() {
    let mut h = plain(4);
    h.ack_through(3);
    let (settled, sent) = (h.core.settled(), h.core.sent());
    let out = h.ack(2, Vec::new());
    assert!(out.is_empty(), "{out:?}");
    assert_eq!(
        (h.core.settled(), h.core.acked(), h.core.sent()),
        (settled, 4, sent)
    );
}

#[test]
fn an_ack_for_a_tick_not_sent_is_refused_and_changes_nothing() {
    let mut h = plain(2);
    let out = h.ack(5, Vec::new());
    let r = replies(&out);
    assert_eq!(r.len(), 1);
    assert_eq!(error_code(r[0]), ErrorCode::ValidationFailed);
    assert_eq!((h.core.settled(), h.core.acked(), h.core.sent()), (1, 0, 2));
}

#[test]
fn orders_with_the_ack_of_an_acknowledged_tick_are_refused() {
    let mut h = plain(2);
    h.ack_through(1);
    let buy = order(json!({"order_id": "x", "side": "buy", "quantity": "1"}));
    let out = h.ack(0, vec![buy]);
    assert_eq!(error_code(replies(&out)[0]), ErrorCode::ValidationFailed);
    assert!(!out.iter().any(|o| matches!(o, Output::Journal(_))));
    assert!(h.core.engine().account().open_orders.is_empty());
}

#[test]
fn a_tick_acks_frame_whose_entries_are_all_refused_settles_nothing() {
    let mut h = plain(2);
    h.ack_through(0);
    let (settled, sent) = (h.core.settled(), h.core.sent());
    let buy = order(json!({"order_id": "x", "side": "buy", "quantity": "1"}));
    let out = h.take(Input::Acks(vec![ack(0, vec![buy]), ack(40, Vec::new())]));
    assert_eq!(replies(&out).len(), 2, "{out:?}");
    assert!(fills(&out).is_empty());
    assert_eq!(
        (h.core.settled(), h.core.acked(), h.core.sent()),
        (settled, 1, sent)
    );
}

#[test]
fn never_more_than_window_ticks_are_unacknowledged() {
    for window in [1, 3, 7] {
        let mut h = plain(window);
        assert_eq!(h.core.sent(), window);
        for t in (0..60).step_by(2) {
            h.ack(t, Vec::new());
            assert!(h.core.sent() - h.core.acked() <= window);
            assert_eq!(h.core.sent(), h.core.acked() + window);
            assert_eq!(h.core.settled(), h.core.acked() + 1);
        }
    }
}

#[test]
fn pause_stops_the_stream_and_resume_restarts_it() {
    let mut h = plain(2);
    h.ack_through(0);
    let out = h.take(Input::Pause);
    assert!(matches!(
        replies(&out)[0],
        ServerMessage::SimulationPaused(_)
    ));
    assert!(matches!(
        effects(&out)[0],
        Effect::Transition {
            to: SessionState::Paused,
            actor: Actor::User
        }
    ));
    assert!(!h.core.can_send());
    let sent = h.core.sent();
    h.ack(1, Vec::new());
    assert_eq!(h.core.sent(), sent, "nothing sent while paused");
    let again = h.take(Input::Pause);
    assert_eq!(error_code(replies(&again)[0]), ErrorCode::InvalidState);
    let out = h.take(Input::Resume {
        stream_closed: false,
    });
    assert!(matches!(
        effects(&out)[0],
        Effect::Transition {
            to: SessionState::Running,
            ..
        }
    ));
    assert!(matches!(
        replies(&out)[0],
        ServerMessage::SimulationResumed(_)
    ));
    assert_eq!(h.core.sent(), h.core.acked() + 2);
    let again = h.take(Input::Resume {
        stream_closed: false,
    });
    assert_eq!(error_code(replies(&again)[0]), ErrorCode::InvalidState);
}

#[test]
fn a_detached_run_leaves_the_next_bar_for_the_resume() {
    let mut h = plain(3);
    h.ack_through(0);
    let out = h.take(Input::StreamGone);
    assert!(matches!(
        effects(&out)[0],
        Effect::Transition {
            to: SessionState::Paused,
            actor: Actor::System
        }
    ));
    // An ack from another connection: applied, but its bar waits for a stream.
    let buy = order(json!({"order_id": "b", "side": "buy", "quantity": "1"}));
    let out = h.ack(1, vec![buy]);
    assert!(!out.iter().any(|o| matches!(o, Output::Stream(..))));
    assert_eq!((h.core.settled(), h.core.acked()), (2, 2));
    let out = h.take(Input::Resume {
        stream_closed: true,
    });
    assert!(matches!(
        out.iter().find(|o| !matches!(o, Output::Session(_))),
        Some(Output::Attach)
    ));
    assert_eq!(
        fills(&out).len(),
        1,
        "the open bar settles for the new stream"
    );
    assert_eq!(h.core.settled(), 3);
}

#[test]
fn a_stop_flattens_at_the_last_settled_bar() {
    let bars = bars();
    let mut h = plain(2);
    h.ack(
        0,
        vec![order(
            json!({"order_id": "b", "side": "buy", "quantity": "10"}),
        )],
    );
    h.ack_through(4); // bars 0..=5 settled
    h.stop.raise();
    let out = h.take(Input::Acks(vec![ack(5, Vec::new())]));
    assert!(out.is_empty(), "acks behind a stop settle nothing: {out:?}");
    let out = h.take(Input::Terminate {
        state: SessionState::Stopped,
        reason: TerminationReason::ManualStop,
        actor: Actor::User,
    });
    let results = effects(&out)
        .into_iter()
        .find_map(|e| match e {
            Effect::Results(r) => Some(whole(r)),
            _ => None,
        })
        .expect("results");
    let trade = results.trades.last().expect("a trade");
    assert_eq!(
        (trade.exit_time.timestamp(), trade.exit_price),
        (bars[5].time, bars[5].candle.close)
    );
    assert!(effects(&out).iter().any(|e| matches!(
        e,
        Effect::Ended {
            requested: true,
            ..
        }
    )));
    assert!(matches!(
        out.last(),
        Some(Output::Stream(ServerMessage::SimulationEnd(_), _))
    ));
    assert!(h.core.is_ended());
}

/// Equity after each settled bar of a run long 500 ACME from tick 0.
fn equities() -> Vec<Decimal> {
    let mut h = plain(1);
    h.ack(
        0,
        vec![order(
            json!({"order_id": "b", "side": "buy", "quantity": "500"}),
        )],
    );
    let mut eq = vec![(1, h.core.engine().equity())];
    for t in 1..150 {
        h.ack(t, Vec::new());
        eq.push((t as usize + 1, h.core.engine().equity()));
    }
    let mut by_bar = vec![Decimal::ZERO; 152];
    for (s, e) in eq {
        by_bar[s] = e;
    }
    by_bar
}

/// The first bar after the entry whose equity is below the capital, and the drop.
fn first_drop() -> (usize, Decimal) {
    let capital = Decimal::from(100_000);
    let eq = equities();
    (1..eq.len())
        .find(|&s| eq[s] < capital && eq[s] > Decimal::ZERO)
        .map(|s| (s, capital - eq[s]))
        .expect("a losing bar")
}

fn run_long(limits: RiskLimits, through: u64) -> Vec<Output> {
    let mut h = Harness::start(&session(limits), options(1, EventMode::Messages));
    let mut all = h.ack(
        0,
        vec![order(
            json!({"order_id": "b", "side": "buy", "quantity": "500"}),
        )],
    );
    for t in 1..=through {
        all.extend(h.ack(t, Vec::new()));
    }
    all
}

#[test]
fn the_loss_warning_fires_once_at_80_percent_of_the_limit() {
    let (s, drop) = first_drop();
    let limits = RiskLimits {
        loss_limit: Some(drop * Decimal::from(5) / Decimal::from(4)), // 80 % of it = drop
        warning_pct: Decimal::from(80),
        ..RiskLimits::none()
    };
    if s >= 2 {
        let out = run_long(limits.clone(), s as u64 - 2);
        assert!(
            !effects(&out)
                .iter()
                .any(|e| matches!(e, Effect::Warning(_))),
            "not before bar {s}"
        );
    }
    let mut h = Harness::start(&session(limits), options(1, EventMode::Messages));
    let buy = order(json!({"order_id": "b", "side": "buy", "quantity": "500"}));
    let mut out = h.ack(0, vec![buy]); // settles bar 1
    if s >= 2 {
        h.ack_through(s as u64 - 2);
        out = h.ack(s as u64 - 1, Vec::new()); // settles bar s
    }
    let warnings: Vec<_> = effects(&out)
        .into_iter()
        .filter(|e| matches!(e, Effect::Warning(WarningKind::Loss)))
        .collect();
    assert_eq!(warnings.len(), 1, "{out:?}");
    let later = h.ack(s as u64, Vec::new());
    assert!(
        !effects(&later)
            .iter()
            .any(|e| matches!(e, Effect::Warning(_))),
        "once"
    );
}

#[test]
fn the_loss_limit_ends_the_run_flattened_at_that_bar() {
    let bars = bars();
    let (s, drop) = first_drop();
    let limits = RiskLimits {
        loss_limit: Some(drop),
        warning_pct: Decimal::from(80),
        ..RiskLimits::none()
    };
    let out = run_long(limits, s as u64 - 1);
    let e = effects(&out);
    let ended = e.iter().position(|e| {
        matches!(
            e,
            Effect::Ended {
                state: SessionState::Stopped,
                reason: TerminationReason::LossLimit,
                actor: Actor::System,
                requested: false
            }
        )
    });
    assert!(ended.is_some(), "{e:?}");
    let results = e.iter().find_map(|e| match e {
        Effect::Results(r) => Some(whole(r)),
        _ => None,
    });
    let trade = results
        .expect("results")
        .trades
        .last()
        .cloned()
        .expect("trade");
    assert_eq!(trade.exit_time.timestamp(), bars[s].time);
}

#[test]
fn the_volatility_halt_is_reported_at_the_first_big_move() {
    let bars = bars();
    let threshold = Decimal::new(15, 1); // 1.5 %
    let big = (1..bars.len())
        .find(|&i| {
            let m = (bars[i].candle.close - bars[i - 1].candle.close).abs() * Decimal::ONE_HUNDRED
                / bars[i - 1].candle.close;
            m > threshold
        })
        .expect("a big move");
    let limits = RiskLimits {
        halt: Some(HaltRule {
            threshold_pct: threshold,
            bars: 2,
        }),
        ..RiskLimits::none()
    };
    let mut h = Harness::start(&session(limits), options(1, EventMode::Messages));
    let mut halts = Vec::new();
    for t in 0..big as u64 {
        let out = h.ack(t, Vec::new());
        for e in effects(&out) {
            if let Effect::Halted(ev) = e {
                halts.push(ev.clone());
            }
        }
    }
    assert_eq!(halts.len(), 1, "{halts:?}");
    assert_eq!(
        (halts[0].symbol.as_str(), halts[0].time),
        ("ACME", bars[big].time)
    );
}

#[test]
fn an_order_batch_is_decided_on_the_last_settled_bar_and_answered() {
    let mut h = plain(1);
    h.ack_through(2); // bars 0..=3 settled
    let batch = shared_models::messages::simulation::OrderBatch {
        session_id: "s-1".into(),
        batch_id: "k".into(),
        orders: vec![
            order(json!({"order_id": "ok", "side": "buy", "quantity": "1"})),
            order(json!({"order_id": "bad", "side": "buy", "quantity": "-1"})),
        ],
    };
    let out = h.take(Input::Batch(batch));
    assert!(matches!(
        out[0],
        Output::Journal(crate::session::store::RunRecord::Batch { settled: 4, .. })
    ));
    match replies(&out)[0] {
        ServerMessage::BatchAck(a) => {
            assert_eq!(a.accepted, vec!["ok".to_string()]);
            assert!(a.rejected.contains_key("bad"));
        }
        other => panic!("{other:?}"),
    }
    let f = fills(&h.ack(3, Vec::new()));
    assert_eq!(f.len(), 1, "fills at the next settled bar");
}

#[test]
fn every_acknowledged_tick_completes_the_run_with_results() {
    let mut h = plain(8);
    let last = h.core.len() as u64 - 1;
    let buy = order(json!({"order_id": "b", "side": "buy", "quantity": "1"}));
    h.ack(0, vec![buy]);
    h.ack_through(last - 1);
    let out = h.ack(last, Vec::new());
    let e = effects(&out);
    assert!(e.iter().any(|e| matches!(e, Effect::Results(_))));
    assert!(e.iter().any(|e| matches!(e, Effect::Completed)));
    assert!(matches!(
        out.last(),
        Some(Output::Stream(ServerMessage::SimulationEnd(_), _))
    ));
    assert!(h.core.is_ended());
    assert!(
        h.take(Input::Account).is_empty(),
        "an ended core answers nothing"
    );
}

#[test]
fn checkpoint_journals_progress_once() {
    let mut h = plain(2);
    h.ack_through(3);
    let out = h.take(Input::Checkpoint);
    assert!(matches!(
        out[0],
        Output::Journal(crate::session::store::RunRecord::Progress { acked: 4 })
    ));
    assert!(matches!(out[1], Output::FlushJournal));
    let again = h.take(Input::Checkpoint);
    assert!(matches!(again[..], [Output::FlushJournal]));
}

#[test]
fn an_invalid_quantity_is_rejected_in_the_stream() {
    let mut h = plain(1);
    let out = h.ack(
        0,
        vec![order(
            json!({"order_id": "z", "side": "buy", "quantity": "0"}),
        )],
    );
    let u = updates(&out);
    assert!(
        u.iter()
            .any(|u| u.order_id == "z" && u.status == OrderStatus::Rejected),
        "{out:?}"
    );
    let _ = dec(0);
}
