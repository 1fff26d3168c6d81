//! One engine run against backtesting.py 0.6.6 on the same twelve weekday bars: every
//! statistic of its `stats`, in both of its end-of-data modes (`finalize_trades=False`: the
//! position still open at the end is left out; `True`: it is closed and counted, our
//! `close_at_end`). The last bar's open equals its close, so closing at the last close (ours)
//! and at the last bar's open (backtesting.py's finalize pass) give the same trade; see the
//! "Differences" table of docs/metrics.md for when they do not.
//!
//! The figures come from this script (`/work/main/target/fidelity-venv/bin/python`, or any
//! Python with `backtesting==0.6.6`); the strategy's SMA(3) makes a warm-up of 2 bars:
//!
//! ```python
//! import warnings; warnings.filterwarnings("ignore")
//! import numpy as np, pandas as pd
//! from backtesting import Backtest, Strategy
//! from backtesting.test import SMA
//! idx = pd.bdate_range("2024-01-01", periods=12)           # weekdays: 252 periods a year
//! o = [100, 101, 103, 102, 104, 107, 105, 103, 106, 108, 104, 110]
//! c = [101, 103, 102, 104, 107, 105, 103, 106, 108, 107, 109, 110]
//! df = pd.DataFrame({"Open": o, "High": [max(a, b) + 1 for a, b in zip(o, c)],
//!                    "Low": [min(a, b) - 1 for a, b in zip(o, c)], "Close": c}, index=idx)
//! class S(Strategy):
//!     def init(self): self.sma = self.I(SMA, self.data.Close, 3)   # warm-up: 2 bars
//!     def next(self):
//!         i = len(self.data) - 1
//!         if i == 3: self.buy(size=10)
//!         if i in (6, 9): self.position.close()
//!         if i == 8: self.sell(size=20)
//!         if i == 10: self.buy(size=10)                           # still open at the end
//! for fin in (False, True):
//!     st = Backtest(df, S, cash=10_000, commission=0.01, finalize_trades=fin).run()
//!     print(fin, {k: v for k, v in st.items() if not k.startswith("_")})
//!     print(st._trades[["EntryBar", "ExitBar"]], st._equity_curve)
//! ```

use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use shared_models::results::SimulationResults;
use shared_models::trading::OrderSide::{Buy, Sell};

use super::test_util::{DAY, T0, bar, config, market};
use super::{BarEvents, Engine};

const OPEN: [i64; 12] = [100, 101, 103, 102, 104, 107, 105, 103, 106, 108, 104, 110];
const CLOSE: [i64; 12] = [101, 103, 102, 104, 107, 105, 103, 106, 108, 107, 109, 110];

/// Weekdays from Mon 1 Jan 2024.
fn weekday(i: i64) -> i64 {
    T0 + (i / 5 * 7 + i % 5) * DAY
}

fn run(close_at_end: bool) -> SimulationResults {
    let mut c = config();
    c.commission_rate = dec!(0.01);
    c.allow_short = true;
    c.close_at_end = close_at_end;
    let mut engine = Engine::new(c).unwrap_or_else(|e| panic!("{e}"));
    engine.set_indicator_warmup(2);
    let mut out = BarEvents::default();
    for i in 0..12 {
        let (o, cl) = (Decimal::from(OPEN[i]), Decimal::from(CLOSE[i]));
        let t = weekday(i as i64);
        engine.settle(
            t,
            &[Some(bar(o, o.max(cl) + dec!(1), o.min(cl) - dec!(1), cl))],
            &mut out,
        );
        let orders = match i {
            3 | 10 => vec![market(&format!("b{i}"), Buy, dec!(10))],
            6 => vec![market("c6", Sell, dec!(10))],
            8 => vec![market("s8", Sell, dec!(20))],
            9 => vec![market("c9", Buy, dec!(20))],
            _ => vec![],
        };
        engine.submit(t, orders, &[], &mut out);
    }
    engine.finish(&mut out);
    engine.results()
}

fn near(got: Option<f64>, want: f64) -> bool {
    got.is_some_and(|g| (g - want).abs() <= 1e-9 * want.abs().max(1e-9))
}

#[test]
fn trades_not_finalized_match_backtesting_py() {
    let r = run(false);
    let m = &r.metrics;
    let bars: Vec<_> = r.trades.iter().map(|t| (t.entry_bar, t.exit_bar)).collect();
    assert_eq!(bars, [(Some(4), Some(7)), (Some(9), Some(10))]);
    assert_eq!(r.open_positions.len(), 1);
    assert_eq!(m.equity_final, dec!(9995.9));
    assert_eq!(m.equity_peak, dec!(10019.6));
    assert_eq!(m.commissions, dec!(63.1)); // the open position's 11.0 is not counted
    let want = [
        (Some(m.exposure_time_pct), 50.0),
        (Some(m.return_pct), -0.04099999999998545),
        (Some(m.buy_and_hold_return_pct), 7.8431372549019605),
        (m.return_ann_pct, -0.9350661423512374),
        (m.volatility_ann_pct, 2.705192745738102),
        (m.cagr_pct, -0.9935857132495451),
        (m.sharpe_ratio, -0.3456560142800871),
        (m.sortino_ratio, -0.60919593788312),
        (m.calmar_ratio, -1.805200138709547),
        (m.alpha_pct, -0.4303645966970507),
        (m.beta, 0.049643986078875824),
        (Some(m.max_drawdown_pct), -0.5179847498902101),
        (Some(m.avg_drawdown_pct), -0.5179847498902101),
        (m.win_rate_pct, 50.0),
        (m.best_trade_pct, 1.7407407407407458),
        (m.worst_trade_pct, -2.951923076923074),
        (m.avg_trade_pct, -0.6332891073764335),
        (m.profit_factor, 0.5896971890457255),
        (m.expectancy_pct, -0.605591168091164),
        (m.sqn, 0.10102489019033664),
        (m.kelly_criterion, 0.09175531914893603),
    ];
    for (i, (got, w)) in want.iter().enumerate() {
        assert!(near(*got, *w), "stat {i}: {got:?} != {w}");
    }
    assert_eq!(m.max_drawdown_duration, Some(11 * DAY));
    assert_eq!(m.avg_drawdown_duration, Some(11 * DAY));
    assert_eq!(m.max_trade_duration, Some(5 * DAY));
    assert_eq!(m.avg_trade_duration, Some(4 * DAY));
}

#[test]
fn trades_finalized_match_backtesting_py_with_close_at_end() {
    let r = run(true);
    let m = &r.metrics;
    let bars: Vec<_> = r.trades.iter().map(|t| (t.entry_bar, t.exit_bar)).collect();
    assert_eq!(
        bars,
        [
            (Some(4), Some(7)),
            (Some(9), Some(10)),
            (Some(11), Some(11))
        ]
    );
    assert_eq!(m.equity_final, dec!(9984.9));
    assert_eq!(m.commissions, dec!(85.1));
    let want = [
        (Some(m.exposure_time_pct), 58.333333333333336),
        (Some(m.return_pct), -0.15099999999998545),
        (m.return_ann_pct, -3.402649347498965),
        (m.volatility_ann_pct, 2.78716233424604),
        (m.cagr_pct, -3.6127532448553157),
        (m.sharpe_ratio, -1.2208292662721496),
        (m.sortino_ratio, -1.906185256096165),
        (m.calmar_ratio, -6.56901452836242),
        (m.alpha_pct, -0.5368943624854615),
        (m.beta, 0.049201531216898194),
        (m.win_rate_pct, 33.33333333333333),
        (m.avg_trade_pct, -1.0909641830446737),
        (m.profit_factor, 0.35152822725638383),
        (m.expectancy_pct, -1.070394112060776),
        (m.sqn, -0.2345000396511411),
        (m.kelly_criterion, -0.13386524822695056),
    ];
    for (i, (got, w)) in want.iter().enumerate() {
        assert!(near(*got, *w), "stat {i}: {got:?} != {w}");
    }
    assert_eq!(m.avg_trade_duration, Some(3 * DAY));
}
