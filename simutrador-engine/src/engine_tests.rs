//! Brackets, time in force, sizing, shorts, commissions and flattening, with hand-computed
//! expectations (the worked examples of docs/execution-model.md).

use rust_decimal_macros::dec;
use shared_models::trading::OrderSide::{Buy, Sell};
use shared_models::trading::{OrderRequest, OrderStatus, TimeInForce, TradeSide};

use super::RejectCode;
use super::test_util::*;

fn bracket(sl: rust_decimal::Decimal, tp: rust_decimal::Decimal) -> OrderRequest {
    OrderRequest {
        stop_loss: Some(sl),
        take_profit: Some(tp),
        ..market("e", Buy, dec!(10))
    }
}

#[test]
fn stop_loss_wins_when_both_exits_touch_the_entry_bar() {
    let mut s = Sim::new(config());
    s.bar(flat(dec!(100)));
    s.submit(vec![bracket(dec!(95), dec!(110))]);
    s.bar(bar(dec!(100), dec!(111), dec!(94), dec!(100)));
    assert_eq!(s.fills("e"), vec![(dec!(10), dec!(100))]);
    assert_eq!(s.fills("e:sl"), vec![(dec!(10), dec!(95))]);
    assert_eq!(s.status("e:tp"), Some(OrderStatus::Cancelled));
    assert_eq!(s.position(), dec!(0));
    let t = &s.engine.trades()[0];
    assert_eq!((t.pnl, t.return_pct), (dec!(-50), -5.0)); // (95 − 100) × 10
    assert!(!s.engine.has_working_orders());
}

#[test]
fn take_profit_can_fill_in_the_entry_bar() {
    let mut s = Sim::new(config());
    s.bar(flat(dec!(100)));
    s.submit(vec![bracket(dec!(95), dec!(110))]);
    s.bar(bar(dec!(100), dec!(111), dec!(99), dec!(105)));
    assert_eq!(s.fills("e:tp"), vec![(dec!(10), dec!(110))]);
    assert_eq!(s.status("e:sl"), Some(OrderStatus::Cancelled));
    assert_eq!(s.engine.cash(), dec!(10100));
}

#[test]
fn stop_loss_gap_fills_at_the_open_on_a_later_bar() {
    let mut s = Sim::new(config());
    s.bar(flat(dec!(100)));
    s.submit(vec![bracket(dec!(95), dec!(110))]);
    s.bar(bar(dec!(100), dec!(102), dec!(98), dec!(101)));
    assert!(s.engine.has_working_orders());
    s.bar(bar(dec!(90), dec!(92), dec!(88), dec!(91)));
    assert_eq!(s.fills("e:sl"), vec![(dec!(10), dec!(90))]);
    assert_eq!(s.engine.trades()[0].pnl, dec!(-100));
}

#[test]
fn bracket_exits_are_cancelled_when_the_position_is_closed_otherwise() {
    let mut s = Sim::new(config());
    s.bar(flat(dec!(100)));
    s.submit(vec![bracket(dec!(90), dec!(120))]);
    s.bar(flat(dec!(100)));
    s.submit(vec![market("x", Sell, dec!(10))]);
    s.bar(flat(dec!(101)));
    assert_eq!(s.status("e:sl"), Some(OrderStatus::Cancelled));
    assert_eq!(s.status("e:tp"), Some(OrderStatus::Cancelled));
    assert!(!s.engine.has_working_orders());
}

#[test]
fn ioc_expires_when_its_first_bar_does_not_fill() {
    let mut s = Sim::new(config());
    s.bar(flat(dec!(100)));
    let ioc = OrderRequest {
        time_in_force: TimeInForce::Ioc,
        ..limit("i", Buy, dec!(1), dec!(90))
    };
    s.submit(vec![ioc]);
    s.bar(bar(dec!(100), dec!(101), dec!(95), dec!(96)));
    assert_eq!(s.status("i"), Some(OrderStatus::Expired));
    assert!(!s.engine.has_working_orders());
}

#[test]
fn ioc_waits_for_a_bar_of_its_own_symbol() {
    let mut s = Sim::new(config());
    s.bar(flat(dec!(100)));
    let ioc = OrderRequest {
        time_in_force: TimeInForce::Ioc,
        ..market("i", Buy, dec!(1))
    };
    s.submit(vec![ioc]);
    s.time += DAY;
    s.engine.settle(s.time, &[None], &mut s.events);
    assert_eq!(s.status("i"), Some(OrderStatus::Accepted));
    s.bar(flat(dec!(102)));
    assert_eq!(s.fills("i"), vec![(dec!(1), dec!(102))]);
}

#[test]
fn day_order_lives_through_the_utc_day_of_intraday_bars() {
    let mut s = Sim::with_step(config(), 3_600); // hourly bars from T0 00:00
    s.bar(flat(dec!(100)));
    let day = OrderRequest {
        time_in_force: TimeInForce::Day,
        ..limit("d", Buy, dec!(1), dec!(90))
    };
    s.submit(vec![day]);
    for _ in 0..23 {
        s.bar(flat(dec!(100))); // 01:00 … 23:00 of day 1: not touched, still working
    }
    assert_eq!(s.status("d"), Some(OrderStatus::Accepted));
    s.bar(flat(dec!(80))); // 00:00 of day 2 would fill, but the order expired first
    assert_eq!(s.status("d"), Some(OrderStatus::Expired));
    assert!(s.fills("d").is_empty());
}

#[test]
fn day_order_on_daily_bars_is_a_one_bar_order() {
    let mut s = Sim::new(config());
    s.bar(flat(dec!(100)));
    let day = OrderRequest {
        time_in_force: TimeInForce::Day,
        ..limit("d", Buy, dec!(1), dec!(90))
    };
    s.submit(vec![day]);
    s.bar(flat(dec!(95))); // its day: not touched
    s.bar(flat(dec!(85))); // next day: expired before it could fill
    assert_eq!(s.status("d"), Some(OrderStatus::Expired));
    assert!(s.fills("d").is_empty());
}

#[test]
fn fractional_crypto_percent_sizing_rounds_down_to_the_lot_step() {
    let mut c = config();
    c.symbols = vec![spec("AAA", dec!(0.0001))];
    c.commission_rate = dec!(0.001);
    let mut s = Sim::new(c);
    s.bar(flat(dec!(30000)));
    s.submit(vec![market_pct("b", Buy, dec!(1))]);
    s.bar(flat(dec!(30000)));
    // 10000 / (30000 × 1.001) = 0.33300… → 0.3330; cost 9990 + commission 9.99.
    assert_eq!(s.fills("b"), vec![(dec!(0.3330), dec!(30000))]);
    assert_eq!(s.engine.cash(), dec!(0.01));
    s.submit(vec![market("bad", Buy, dec!(0.00005))]);
    let why = s.rejection("bad").unwrap();
    assert_eq!(why.code, RejectCode::InvalidOrder);
    assert!(
        why.message
            .starts_with("quantity 0.00005 is not a multiple")
    );
    // On the wire the reason is "CODE: message".
    assert_eq!(s.reason("bad"), format!("INVALID_ORDER: {}", why.message));
}

#[test]
fn one_order_reverses_through_zero() {
    let mut c = config();
    c.allow_short = true;
    let mut s = Sim::new(c);
    s.bar(flat(dec!(100)));
    s.submit(vec![market("l", Buy, dec!(10))]);
    s.bar(flat(dec!(100)));
    s.submit(vec![market("r", Sell, dec!(20))]);
    s.bar(bar(dec!(110), dec!(111), dec!(104), dec!(105)));
    assert_eq!(s.position(), dec!(-10));
    let t = &s.engine.trades()[0];
    assert_eq!(
        (t.side, t.quantity, t.pnl),
        (TradeSide::Long, dec!(10), dec!(100))
    );
    assert_eq!(s.engine.cash(), dec!(11200)); // 10000 − 1000 + 2200
    assert_eq!(s.engine.equity(), dec!(10150)); // 11200 − 10 × 105
}

#[test]
fn close_then_short_with_everything_in_one_submit() {
    let mut c = config();
    c.allow_short = true;
    let mut s = Sim::new(c);
    s.bar(flat(dec!(100)));
    s.submit(vec![market("l", Buy, dec!(10))]);
    s.bar(flat(dec!(100)));
    s.submit(vec![
        market("close", Sell, dec!(10)),
        market_pct("short", Sell, dec!(1)),
    ]);
    s.bar(flat(dec!(110)));
    // After the close cash is 10100; 91 × 110 = 10010 ≤ 10100 < 92 × 110.
    assert_eq!(s.fills("short"), vec![(dec!(91), dec!(110))]);
    assert_eq!(s.position(), dec!(-91));
    assert_eq!(s.engine.equity(), dec!(10100));
    assert_eq!(s.engine.account().buying_power, dec!(90)); // 20110 − 2 × 10010
}

#[test]
fn unaffordable_orders_are_rejected_at_fill_time() {
    let mut c = config();
    c.initial_capital = dec!(1000);
    c.allow_short = true;
    let mut s = Sim::new(c);
    s.bar(flat(dec!(100)));
    s.submit(vec![
        market("big", Buy, dec!(20)),
        market("s6", Sell, dec!(6)),
    ]);
    assert_eq!(s.status("big"), Some(OrderStatus::Accepted));
    s.bar(flat(dec!(100)));
    assert_eq!(s.status("big"), Some(OrderStatus::Rejected));
    assert_eq!(
        s.reject_code("big"),
        Some(RejectCode::InsufficientBuyingPower)
    );
    // A 600 short with 100% margin leaves 1600 − 2 × 600 = 400 of buying power.
    assert_eq!(s.fills("s6"), vec![(dec!(6), dec!(100))]);
    s.submit(vec![
        market("s5", Sell, dec!(5)),
        market("cover", Buy, dec!(6)),
    ]);
    s.bar(flat(dec!(100)));
    assert_eq!(
        s.reject_code("s5"),
        Some(RejectCode::InsufficientBuyingPower)
    );
    assert_eq!(s.fills("cover"), vec![(dec!(6), dec!(100))]); // reducing is always allowed
    assert_eq!(s.engine.cash(), dec!(1000));
}

#[test]
fn shorts_are_refused_when_not_allowed() {
    let mut s = Sim::new(config());
    s.bar(flat(dec!(100)));
    s.submit(vec![
        market("s", Sell, dec!(1)),
        market_pct("p", Sell, dec!(1)),
    ]);
    assert_eq!(s.reject_code("p"), Some(RejectCode::ShortNotAllowed));
    s.bar(flat(dec!(100)));
    assert_eq!(s.reject_code("s"), Some(RejectCode::ShortNotAllowed));
    assert_eq!(s.engine.cash(), dec!(10000));
}

#[test]
fn commission_on_both_legs_with_a_minimum() {
    let mut c = config();
    c.commission_rate = dec!(0.001);
    c.commission_min = dec!(5);
    let mut s = Sim::new(c);
    s.bar(flat(dec!(100)));
    s.submit(vec![market("b", Buy, dec!(10))]);
    s.bar(flat(dec!(100)));
    assert_eq!(s.events.executions[0].commission, dec!(5)); // max(5, 1)
    s.submit(vec![market("s", Sell, dec!(10))]);
    s.bar(flat(dec!(110)));
    assert_eq!(s.events.executions[1].commission, dec!(5)); // max(5, 1.1)
    let t = &s.engine.trades()[0];
    assert_eq!(
        (t.pnl, t.commission, t.return_pct),
        (dec!(90), dec!(10), 9.0)
    );
    assert_eq!(s.engine.cash(), dec!(10090));
}

#[test]
fn partial_close_prorates_the_entry_commission() {
    let mut c = config();
    c.commission_rate = dec!(0.01);
    c.commission_per_share = dec!(0.1);
    let mut s = Sim::new(c);
    s.bar(flat(dec!(100)));
    s.submit(vec![market("b", Buy, dec!(10))]); // commission 10 + 1 = 11
    s.bar(flat(dec!(100)));
    s.submit(vec![market("s", Sell, dec!(4))]); // commission 4.4 + 0.4 = 4.8
    s.bar(flat(dec!(110)));
    let t = &s.engine.trades()[0];
    // 4 × 10 − 11 × 4/10 − 4.8 = 40 − 4.4 − 4.8
    assert_eq!(
        (t.quantity, t.pnl, t.commission),
        (dec!(4), dec!(30.8), dec!(9.2))
    );
    assert_eq!(s.position(), dec!(6));
}

#[test]
fn orders_in_one_submit_are_sized_in_order() {
    let mut s = Sim::new(config());
    s.bar(flat(dec!(100)));
    s.submit(vec![
        market_pct("a", Buy, dec!(0.5)),
        market_pct("b", Buy, dec!(0.5)),
    ]);
    s.bar(flat(dec!(100)));
    assert_eq!(s.fills("a"), vec![(dec!(50), dec!(100))]); // 5000 / 100
    assert_eq!(s.fills("b"), vec![(dec!(25), dec!(100))]); // 2500 / 100
}

#[test]
fn flatten_cancels_orders_and_books_trades_at_the_last_close() {
    let mut s = Sim::new(config());
    s.bar(flat(dec!(100)));
    s.submit(vec![
        market("b", Buy, dec!(10)),
        limit("l", Buy, dec!(1), dec!(50)),
    ]);
    s.bar(bar(dec!(100), dec!(106), dec!(99), dec!(105)));
    s.engine.flatten(s.time, &mut s.events);
    assert_eq!(s.status("l"), Some(OrderStatus::Cancelled));
    assert_eq!(s.fills("flatten:AAA"), vec![(dec!(10), dec!(105))]);
    assert_eq!(s.engine.trades()[0].pnl, dec!(50));
    assert_eq!(s.engine.equity(), dec!(10050));
    let r = s.engine.results();
    assert_eq!(r.equity_curve.last().map(|p| p.equity), Some(dec!(10050)));
    assert!(r.open_positions.is_empty());
}

#[test]
fn open_positions_stay_open_unless_close_at_end() {
    for close_at_end in [false, true] {
        let mut c = config();
        c.close_at_end = close_at_end;
        let mut s = Sim::new(c);
        s.bar(flat(dec!(100)));
        s.submit(vec![market("b", Buy, dec!(10))]);
        s.bar(flat(dec!(100)));
        s.bar(flat(dec!(120)));
        s.engine.finish(&mut s.events);
        let r = s.engine.results();
        assert_eq!(r.metrics.equity_final, dec!(10200));
        assert_eq!(r.metrics.num_trades, u64::from(close_at_end));
        assert_eq!(r.open_positions.len(), usize::from(!close_at_end));
        // As backtesting.py: only closed trades are exposure (bars 1–2 of 3 when the position
        // is closed at the end, none while it stays open; `finalize_trades=False`).
        let exposure = if close_at_end { 200.0 / 3.0 } else { 0.0 };
        assert!((r.metrics.exposure_time_pct - exposure).abs() < 1e-9);
        assert_eq!(r.metrics.buy_and_hold_return_pct, 20.0);
    }
}

#[test]
fn cancels_are_applied_and_unknown_ids_ignored() {
    let mut s = Sim::new(config());
    s.bar(flat(dec!(100)));
    s.submit(vec![limit("l", Buy, dec!(1), dec!(50))]);
    let before = s.events.order_updates.len();
    s.cancel(&["l", "nope"]);
    assert_eq!(s.status("l"), Some(OrderStatus::Cancelled));
    assert_eq!(s.events.order_updates.len(), before + 1);
    assert!(!s.engine.has_working_orders());
}
