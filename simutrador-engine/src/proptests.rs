//! Property tests of the books: for random bar paths and random order streams, equity is
//! always cash + Σ quantity × last close, cash never goes negative without shorts, and a replay
//! of the same inputs gives identical events and results.

use proptest::prelude::*;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use shared_models::results::SimulationResults;
use shared_models::trading::{OrderRequest, OrderSide, OrderType, TimeInForce};

use super::test_util::{DAY, T0, bar, config, spec};
use super::{BarEvents, Candle, Engine, EngineConfig};

/// One random order, in ticks relative to the last close.
#[derive(Debug, Clone)]
struct Op {
    buy: bool,
    kind: u8,
    qty: Option<u32>,
    pct: u8,
    offset: i32,
    tif: u8,
    bracket: bool,
    cancel: bool,
}

fn op() -> impl Strategy<Value = Op> {
    (
        any::<bool>(),
        0u8..4,
        prop::option::of(1u32..40),
        1u8..=100,
        -30i32..30,
        0u8..3,
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(buy, kind, qty, pct, offset, tif, bracket, cancel)| Op {
            buy,
            kind,
            qty,
            pct,
            offset,
            tif,
            bracket,
            cancel,
        })
}

/// Bars as integer ticks of 0.01: (open, high, low, close) from a random walk.
fn path() -> impl Strategy<Value = Vec<(i64, i64, i64, i64)>> {
    prop::collection::vec((-200i64..200, 0i64..150, 0i64..150, -200i64..200), 2..60).prop_map(
        |steps| {
            let mut last = 10_000i64;
            steps
                .into_iter()
                .map(|(gap, up, down, move_)| {
                    let open = (last + gap).max(100);
                    let close = (open + move_).max(100);
                    let high = open.max(close) + up;
                    let low = (open.min(close) - down).max(50);
                    last = close;
                    (open, high, low, close)
                })
                .collect()
        },
    )
}

fn candle((o, h, l, c): (i64, i64, i64, i64)) -> Candle {
    let d = |t: i64| Decimal::new(t, 2);
    bar(d(o), d(h), d(l), d(c))
}

fn request(n: usize, op: &Op, last: Decimal) -> OrderRequest {
    let side = if op.buy {
        OrderSide::Buy
    } else {
        OrderSide::Sell
    };
    let px = (last + Decimal::new(i64::from(op.offset), 0)).max(dec!(1));
    let kind = [
        OrderType::Market,
        OrderType::Limit,
        OrderType::Stop,
        OrderType::StopLimit,
    ][op.kind as usize];
    let tif = [TimeInForce::Gtc, TimeInForce::Day, TimeInForce::Ioc][op.tif as usize];
    let (sl, tp) = match (op.bracket, op.buy) {
        (false, _) => (None, None),
        (true, true) => (Some(last * dec!(0.97)), Some(last * dec!(1.03))),
        (true, false) => (Some(last * dec!(1.03)), Some(last * dec!(0.97))),
    };
    OrderRequest {
        order_id: format!("o{n}").into(),
        symbol: "AAA".into(),
        side,
        order_type: kind,
        quantity: op.qty.map(Decimal::from),
        percent_of_equity: op.qty.is_none().then(|| Decimal::new(i64::from(op.pct), 2)),
        limit_price: matches!(kind, OrderType::Limit | OrderType::StopLimit).then_some(px),
        stop_price: matches!(kind, OrderType::Stop | OrderType::StopLimit).then_some(px),
        time_in_force: tif,
        stop_loss: sl,
        take_profit: tp,
    }
}

/// Runs one simulation, checking the books after every bar; returns everything it produced.
fn run(
    cfg: &EngineConfig,
    bars: &[(i64, i64, i64, i64)],
    ops: &[Vec<Op>],
) -> (BarEvents, SimulationResults) {
    let mut engine = Engine::new(cfg.clone()).unwrap_or_else(|e| panic!("{e}"));
    let mut events = BarEvents::default();
    let mut n = 0;
    for (i, b) in bars.iter().enumerate() {
        let t = T0 + i as i64 * DAY / 4;
        let c = candle(*b);
        engine.settle(t, &[Some(c)], &mut events);
        let acct = engine.account();
        let value: Decimal = acct.positions.iter().map(|p| p.quantity * c.close).sum();
        assert_eq!(acct.equity, acct.cash + value, "equity identity at bar {i}");
        assert_eq!(engine.equity(), acct.equity);
        assert!(acct.equity >= Decimal::ZERO, "equity below 0 at bar {i}");
        if engine.bankrupt() {
            assert!(acct.positions.is_empty() && acct.open_orders.is_empty());
            assert_eq!(acct.cash, Decimal::ZERO);
        }
        if !cfg.allow_short {
            assert!(
                acct.cash >= Decimal::ZERO,
                "negative cash {} at bar {i}",
                acct.cash
            );
        }
        let mut orders = Vec::new();
        let mut cancels = Vec::new();
        for op in ops.get(i).into_iter().flatten() {
            n += 1;
            if op.cancel && n > 1 {
                cancels.push(format!("o{}", n - 1));
            }
            orders.push(request(n, op, c.close));
        }
        engine.submit(t, orders, &cancels, &mut events);
    }
    engine.finish(&mut events);
    let results = engine.results();
    same_columns(&engine.results_columns(), &results);
    (events, results)
}

/// `columns` are `results` in columns, bit for bit (the same JSON: decimals keep their scale).
fn same_columns(columns: &crate::ResultColumns, results: &SimulationResults) {
    use shared_models::columns::{EquityColumns, TradeColumns};
    macro_rules! json {
        ($v:expr) => {
            serde_json::to_string($v).unwrap_or_else(|e| panic!("{e}"))
        };
    }
    assert_eq!(
        json!(&columns.equity),
        json!(&EquityColumns::from_points(&results.equity_curve))
    );
    assert_eq!(
        json!(&columns.trades),
        json!(&TradeColumns::from_trades(&results.trades))
    );
    assert_eq!(json!(&columns.metrics), json!(&results.metrics));
    assert_eq!(columns.open_positions, results.open_positions);
    // The drawdown columns follow from the equity column alone (the daemon journals results
    // without them and recomputes them on load): the same bits.
    let mut bare = columns.equity.clone();
    let (pct, duration) = (bare.drawdown_pct.take(), bare.drawdown_duration.take());
    let (again_pct, again_duration) = crate::drawdown_of(&bare);
    assert_eq!(
        pct.map(|v| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>()),
        Some(again_pct.iter().map(|x| x.to_bits()).collect())
    );
    assert_eq!(duration, Some(again_duration));
}

fn cfg_for(short: bool, rate: u8, bps: u8, close_at_end: bool) -> EngineConfig {
    let mut c = config();
    c.symbols = vec![spec("AAA", dec!(1))];
    c.allow_short = short;
    c.commission_rate = Decimal::new(i64::from(rate), 4);
    c.commission_min = if rate.is_multiple_of(2) {
        dec!(1)
    } else {
        dec!(0)
    };
    c.slippage_bps = Decimal::from(bps);
    c.close_at_end = close_at_end;
    c
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn books_balance_and_replays_are_identical(
        bars in path(),
        ops in prop::collection::vec(prop::collection::vec(op(), 0..3), 0..60),
        short in any::<bool>(),
        rate in 0u8..30,
        bps in 0u8..20,
        close_at_end in any::<bool>(),
    ) {
        let cfg = cfg_for(short, rate, bps, close_at_end);
        let first = run(&cfg, &bars, &ops);
        let second = run(&cfg, &bars, &ops);
        prop_assert_eq!(&first, &second);
        let (_, results) = first;
        if close_at_end {
            prop_assert!(results.open_positions.is_empty());
        }
        let last = results.equity_curve.last().map(|p| p.equity);
        prop_assert_eq!(last, Some(results.metrics.equity_final));
        prop_assert!(results.equity_curve.iter().all(|p| p.equity >= Decimal::ZERO));
    }
}

/// A positive decimal from a mantissa and a scale.
fn dec_of(m: u64, scale: u32) -> Decimal {
    Decimal::from_i128_with_scale(i128::from(m.max(1)), scale)
}

/// What `floor_div` replaces: two `Decimal` divisions and a floor.
fn floor_div_slow(a: Decimal, b: Decimal, lot: Decimal) -> Option<Decimal> {
    a.checked_div(b)?.checked_div(lot).map(|n| n.floor())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4000, ..ProptestConfig::default() })]

    #[test]
    fn floor_div_matches_decimal_division(
        (ma, sa) in (any::<u64>(), 0u32..16),
        (mb, sb) in (1u64..u64::MAX, 0u32..16),
        (ml, sl) in (1u64..100_000, 0u32..10),
        q in 0u64..2_000_000_000_000,
        eps in (0u64..1000, 0u32..28),
        near in any::<bool>(),
    ) {
        let (b, lot) = (dec_of(mb, sb), dec_of(ml, sl));
        // Either a random numerator or one just below / at / above an integer quotient.
        let a = if near {
            let exact = Decimal::from(q).checked_mul(b).and_then(|x| x.checked_mul(lot));
            let shift = Decimal::from_i128_with_scale(i128::from(eps.0), eps.1);
            match exact.and_then(|x| x.checked_sub(shift)) {
                Some(x) if x > Decimal::ZERO => x,
                _ => dec_of(ma, sa),
            }
        } else {
            dec_of(ma, sa)
        };
        if let Some(fast) = super::numeric::floor_div(a, b, lot) {
            let slow = floor_div_slow(a, b, lot);
            prop_assert_eq!(Some(fast), slow);
            // Bit for bit, not just equal in value.
            prop_assert_eq!(slow.map(|d| (d.mantissa(), d.scale(), d.is_sign_negative())),
                Some((fast.mantissa(), fast.scale(), fast.is_sign_negative())));
        }
    }
}
