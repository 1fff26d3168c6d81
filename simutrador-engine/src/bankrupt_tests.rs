//! Bankruptcy (`bankrupt.rs`): equity at a bar's close at or below 0 closes everything at
//! that close, sets the cash to 0 and ends the account, as backtesting.py 0.6.6's
//! `_Broker.next` does.

use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use shared_models::trading::{OrderSide, OrderStatus};

use crate::test_util::*;
use crate::{BarEvents, EngineConfig, Rejection, RiskRules};

fn shorting() -> EngineConfig {
    let mut c = config();
    c.allow_short = true;
    c
}

/// Short 50 AAA at 100 (capital 10 000): equity = 15 000 − 50 × close, 0 at a close of 300.
/// A limit buy at 50 stays working. Returns the simulation after the fill bar (2 bars).
fn short_50(config: EngineConfig) -> Sim {
    let mut s = Sim::new(config);
    s.bar(flat(dec!(100)));
    s.submit(vec![market("s", OrderSide::Sell, dec!(50))]);
    s.bar(flat(dec!(100)));
    assert_eq!(s.position(), dec!(-50));
    s.submit(vec![limit("w", OrderSide::Buy, dec!(1), dec!(50))]);
    s
}

#[test]
fn a_short_on_rising_prices_goes_bankrupt_at_the_close_that_takes_equity_below_zero() {
    let mut s = short_50(shorting());
    s.bar(bar(dec!(200), dec!(260), dec!(200), dec!(250)));
    assert_eq!(s.engine.equity(), dec!(2500));
    assert!(!s.engine.bankrupt());
    s.events.clear();
    // Close 400: equity would be −5 000.
    s.bar(bar(dec!(260), dec!(420), dec!(260), dec!(400)));
    assert!(s.engine.bankrupt());
    assert_eq!(s.engine.equity(), Decimal::ZERO);
    assert_eq!(s.engine.cash(), Decimal::ZERO);
    assert_eq!(s.engine.position(0), Decimal::ZERO);
    // The working order is cancelled, the short bought back at this bar's close.
    assert_eq!(s.status("w"), Some(OrderStatus::Cancelled));
    assert_eq!(s.events.executions.len(), 1);
    let fill = &s.events.executions[0];
    assert_eq!(fill.order_id, "flatten:AAA");
    assert_eq!(
        (fill.side, fill.quantity, fill.price),
        (OrderSide::Buy, dec!(50), dec!(400))
    );
    let trades = s.engine.trades();
    assert_eq!(trades.len(), 1);
    assert_eq!(trades[0].exit_price, dec!(400));
    assert_eq!(trades[0].pnl, dec!(-15000));
    let account = s.engine.account();
    assert_eq!(
        (account.cash, account.equity),
        (Decimal::ZERO, Decimal::ZERO)
    );
    assert!(account.positions.is_empty() && account.open_orders.is_empty());

    // Later bars do nothing but extend the curve at 0; later orders are rejected.
    s.events.clear();
    s.bar(flat(dec!(10)));
    s.bar(flat(dec!(5)));
    assert!(s.events.executions.is_empty() && s.events.order_updates.is_empty());
    assert_eq!(s.engine.equity(), Decimal::ZERO);
    s.submit(vec![market("late", OrderSide::Buy, dec!(1))]);
    assert_eq!(s.status("late"), Some(OrderStatus::Rejected));
    assert_eq!(
        s.rejection("late"),
        Some(Rejection::invalid_order(
            "the account is bankrupt (equity reached 0); no new orders are taken"
        ))
    );
    s.bar(flat(dec!(1)));
    assert!(s.events.executions.is_empty());
    assert_eq!(s.engine.trade_count(), 1);

    let r = s.engine.results();
    let curve: Vec<Decimal> = r.equity_curve.iter().map(|p| p.equity).collect();
    assert_eq!(
        curve,
        vec![
            dec!(10000),
            dec!(10000),
            dec!(2500),
            dec!(0),
            dec!(0),
            dec!(0),
            dec!(0)
        ]
    );
    assert_eq!(
        r.metrics.end.timestamp(),
        T0 + 6 * DAY,
        "stats run to the last bar"
    );
    assert_eq!(r.metrics.equity_final, Decimal::ZERO);
    assert_eq!(r.metrics.return_pct, -100.0);
    assert_eq!(r.metrics.max_drawdown_pct, -100.0);
    assert_eq!(r.metrics.cagr_pct, Some(-100.0));
    // The returns after the bankrupt bar are 0 / 0 and dropped, as backtesting.py's
    // `pct_change().dropna()` drops them: the volatility stays a number.
    assert!(r.metrics.volatility_ann_pct.is_some_and(f64::is_finite));
    assert_eq!(r.metrics.return_ann_pct, Some(0.0));
    // Exposed on bars 1..=3 (the fill bar through the bankrupt bar) of 7.
    assert!((r.metrics.exposure_time_pct - 3.0 / 7.0 * 100.0).abs() < 1e-9);
    assert!(r.open_positions.is_empty());
    // Buy & Hold runs from the first close to the last bar's, as if nothing happened.
    assert_eq!(r.metrics.buy_and_hold_return_pct, -99.0);
}

#[test]
fn equity_of_exactly_zero_is_bankrupt_too() {
    let mut s = short_50(shorting());
    s.bar(flat(dec!(300)));
    assert!(s.engine.bankrupt());
    assert_eq!(s.engine.equity(), Decimal::ZERO);
    assert_eq!(s.engine.trade_count(), 1);
}

#[test]
fn a_loss_limit_of_the_whole_capital_gives_way_to_bankruptcy() {
    let mut s = short_50(shorting());
    s.engine.set_risk(RiskRules {
        loss_limit: Some(dec!(10000)),
        halt: None,
    });
    s.bar(flat(dec!(300)));
    assert!(s.engine.bankrupt());
    assert!(!s.engine.loss_limit_hit());
    assert_eq!(s.engine.equity(), Decimal::ZERO);
}

#[test]
fn a_bar_that_crosses_the_loss_limit_and_zero_is_a_bankruptcy() {
    let mut s = short_50(shorting());
    s.engine.set_risk(RiskRules {
        loss_limit: Some(dec!(5000)),
        halt: None,
    });
    s.events.clear();
    s.bar(flat(dec!(400)));
    assert!(s.engine.bankrupt());
    assert!(!s.engine.loss_limit_hit());
    assert_eq!(s.engine.equity(), Decimal::ZERO);
    assert_eq!(s.events.executions.len(), 1, "closed once");
    // A bar that only crosses the loss limit is the loss limit's, as before.
    let mut s = short_50(shorting());
    s.engine.set_risk(RiskRules {
        loss_limit: Some(dec!(5000)),
        halt: None,
    });
    s.bar(flat(dec!(210)));
    assert!(s.engine.loss_limit_hit() && !s.engine.bankrupt());
    assert_eq!(s.engine.equity(), dec!(4500));
}

#[test]
fn a_long_position_never_goes_bankrupt_on_its_own() {
    let mut s = Sim::new(config());
    s.bar(flat(dec!(100)));
    s.submit(vec![market("b", OrderSide::Buy, dec!(100))]);
    s.bar(flat(dec!(100)));
    s.bar(flat(dec!(1)));
    assert!(!s.engine.bankrupt());
    assert_eq!(s.engine.equity(), dec!(100));
}

#[test]
fn finishing_a_bankrupt_engine_changes_nothing() {
    let mut c = shorting();
    c.close_at_end = true;
    let mut s = short_50(c);
    s.bar(flat(dec!(400)));
    s.bar(flat(dec!(500)));
    let mut ev = BarEvents::default();
    s.engine.finish(&mut ev);
    assert!(ev.executions.is_empty() && ev.order_updates.is_empty());
    assert_eq!(s.engine.equity(), Decimal::ZERO);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 200, ..Default::default() })]

    /// A short held on a random rising path: the equity is never below 0; once bankrupt, at
    /// the first close whose marked equity is ≤ 0, the curve is 0 from there to the last bar
    /// and the short was closed at that close.
    #[test]
    fn a_short_on_any_rising_path_never_shows_negative_equity(
        steps in proptest::collection::vec(0i64..900, 2..40),
        pct in 30i64..100,
        loss_limit in proptest::option::of(1000i64..12000),
    ) {
        let mut s = Sim::new(shorting());
        if let Some(l) = loss_limit {
            s.engine.set_risk(RiskRules { loss_limit: Some(Decimal::from(l)), halt: None });
        }
        s.bar(flat(dec!(100)));
        let mut short = market("s", OrderSide::Sell, Decimal::ONE);
        short.quantity = None;
        short.percent_of_equity = Some(Decimal::new(pct, 2));
        s.submit(vec![short]);
        let mut close = dec!(100);
        let mut bankrupt_at = None;
        for (i, step) in steps.iter().enumerate() {
            close += close * Decimal::new(*step, 4); // up to +9 % a bar
            // The equity without the rule: cash + held × close (the short fills on the first
            // of these bars, at a flat open equal to its close, so from the second on).
            let before = s.engine.cash() + s.engine.position(0) * close;
            s.bar(flat(close));
            proptest::prop_assert!(s.engine.equity() >= Decimal::ZERO);
            if bankrupt_at.is_none() && s.engine.bankrupt() {
                proptest::prop_assert!(i > 0 && before <= Decimal::ZERO, "{} at bar {}", before, i);
                bankrupt_at = Some((i + 1, close));
            }
        }
        let r = s.engine.results();
        if let Some((k, at)) = bankrupt_at {
            proptest::prop_assert!(!s.engine.loss_limit_hit());
            proptest::prop_assert!(r.equity_curve[k..].iter().all(|p| p.equity.is_zero()));
            proptest::prop_assert_eq!(r.equity_curve.len(), steps.len() + 1);
            proptest::prop_assert_eq!(r.trades.last().map(|t| t.exit_price), Some(at));
            proptest::prop_assert_eq!(r.metrics.return_pct, -100.0);
        } else {
            proptest::prop_assert!(r.equity_curve.iter().all(|p| p.equity > Decimal::ZERO));
        }
    }
}
