//! Fill prices of every order type, with and without gaps, with and without slippage
//! (hand-computed; the same numbers appear in docs/execution-model.md).

use rust_decimal_macros::dec;
use shared_models::trading::OrderSide::{Buy, Sell};
use shared_models::trading::{OrderRequest, OrderStatus, OrderType};

use super::test_util::*;

/// Capital 10 000, slippage 10 bps, shorts allowed; one bar at 100 settled.
fn sim() -> Sim {
    let mut c = config();
    c.slippage_bps = dec!(10);
    c.allow_short = true;
    let mut s = Sim::new(c);
    s.bar(flat(dec!(100)));
    s
}

#[test]
fn market_buy_fills_at_next_open_plus_slippage() {
    let mut s = sim();
    s.submit(vec![market("m", Buy, dec!(10))]);
    assert_eq!(s.status("m"), Some(OrderStatus::Accepted));
    s.bar(bar(dec!(100), dec!(103), dec!(99), dec!(102)));
    // 100 × (1 + 10/10000) = 100.1; slippage 0.1 per unit.
    assert_eq!(s.fills("m"), vec![(dec!(10), dec!(100.1))]);
    assert_eq!(s.events.executions[0].slippage, dec!(0.1));
    assert_eq!(s.engine.cash(), dec!(8999)); // 10000 − 1001
    assert_eq!(s.engine.equity(), dec!(10019)); // 8999 + 10 × 102
}

#[test]
fn market_sell_slips_down() {
    let mut s = sim();
    s.submit(vec![market("m", Sell, dec!(10))]);
    s.bar(flat(dec!(100)));
    assert_eq!(s.fills("m"), vec![(dec!(10), dec!(99.9))]);
}

#[test]
fn order_never_fills_on_its_decision_bar() {
    let mut c = config();
    c.allow_short = true;
    let mut s = Sim::new(c);
    s.time = T0;
    // Decided at T0, then T0's bar is settled (a caller bug): no fill there.
    s.submit(vec![market("m", Buy, dec!(1))]);
    s.engine.settle(T0, &[Some(flat(dec!(100)))], &mut s.events);
    assert!(s.fills("m").is_empty());
    s.bar(flat(dec!(101)));
    assert_eq!(s.fills("m"), vec![(dec!(1), dec!(101))]);
}

#[test]
fn limit_buy_fills_at_limit_or_better_open() {
    let mut s = sim();
    s.submit(vec![limit("a", Buy, dec!(1), dec!(95))]);
    s.bar(bar(dec!(100), dec!(101), dec!(96), dec!(97))); // low 96 > 95: nothing
    assert!(s.fills("a").is_empty());
    s.bar(bar(dec!(100), dec!(101), dec!(94), dec!(96))); // touched: at the limit, no slippage
    assert_eq!(s.fills("a"), vec![(dec!(1), dec!(95))]);
    s.submit(vec![limit("b", Buy, dec!(1), dec!(95))]);
    s.bar(bar(dec!(90), dec!(92), dec!(89), dec!(91))); // gap down: at the open
    assert_eq!(s.fills("b"), vec![(dec!(1), dec!(90))]);
}

#[test]
fn limit_sell_fills_at_limit_or_better_open() {
    let mut s = sim();
    s.submit(vec![limit("a", Sell, dec!(1), dec!(105))]);
    s.bar(bar(dec!(100), dec!(106), dec!(99), dec!(104)));
    assert_eq!(s.fills("a"), vec![(dec!(1), dec!(105))]);
    s.submit(vec![limit("b", Sell, dec!(1), dec!(105))]);
    s.bar(bar(dec!(110), dec!(111), dec!(108), dec!(109)));
    assert_eq!(s.fills("b"), vec![(dec!(1), dec!(110))]);
}

#[test]
fn stop_buy_fills_at_stop_or_gap_open_plus_slippage() {
    let mut s = sim();
    s.submit(vec![stop("a", Buy, dec!(1), dec!(105))]);
    s.bar(bar(dec!(100), dec!(104), dec!(99), dec!(103))); // not triggered
    assert!(s.fills("a").is_empty());
    s.bar(bar(dec!(100), dec!(106), dec!(99), dec!(104))); // 105 × 1.001
    assert_eq!(s.fills("a"), vec![(dec!(1), dec!(105.105))]);
    s.submit(vec![stop("b", Buy, dec!(1), dec!(105))]);
    s.bar(bar(dec!(110), dec!(112), dec!(109), dec!(111))); // gap: 110 × 1.001
    assert_eq!(s.fills("b"), vec![(dec!(1), dec!(110.11))]);
}

#[test]
fn stop_sell_fills_at_stop_or_gap_open_minus_slippage() {
    let mut s = sim();
    s.submit(vec![stop("a", Sell, dec!(1), dec!(95))]);
    s.bar(bar(dec!(100), dec!(101), dec!(94), dec!(96))); // 95 × 0.999
    assert_eq!(s.fills("a"), vec![(dec!(1), dec!(94.905))]);
    s.submit(vec![stop("b", Sell, dec!(1), dec!(95))]);
    s.bar(bar(dec!(90), dec!(91), dec!(88), dec!(89))); // gap: 90 × 0.999
    assert_eq!(s.fills("b"), vec![(dec!(1), dec!(89.91))]);
}

fn stop_limit(id: &str, stop: rust_decimal::Decimal, limit: rust_decimal::Decimal) -> OrderRequest {
    OrderRequest {
        order_type: OrderType::StopLimit,
        stop_price: Some(stop),
        limit_price: Some(limit),
        ..market(id, Buy, dec!(1))
    }
}

#[test]
fn stop_limit_fills_in_trigger_bar_only_when_marketable() {
    let mut s = sim();
    // Triggered at 105 ≤ limit 106: fills at 105, no slippage.
    s.submit(vec![stop_limit("a", dec!(105), dec!(106))]);
    s.bar(bar(dec!(100), dec!(107), dec!(99), dec!(104)));
    assert_eq!(s.fills("a"), vec![(dec!(1), dec!(105))]);
    // Gap open 108 > limit 106: triggered, rests as a limit; next bar low 105.5 → min(107, 106).
    s.submit(vec![stop_limit("b", dec!(105), dec!(106))]);
    s.bar(bar(dec!(108), dec!(109), dec!(100), dec!(104)));
    assert!(s.fills("b").is_empty());
    s.bar(bar(dec!(107), dec!(108), dec!(105.5), dec!(107)));
    assert_eq!(s.fills("b"), vec![(dec!(1), dec!(106))]);
}

#[test]
fn no_slippage_when_bps_is_zero() {
    let mut s = Sim::new(config());
    s.bar(flat(dec!(100)));
    s.submit(vec![market("m", Buy, dec!(1))]);
    s.bar(flat(dec!(100)));
    assert_eq!(s.fills("m"), vec![(dec!(1), dec!(100))]);
    assert_eq!(s.events.executions[0].slippage, dec!(0));
}
