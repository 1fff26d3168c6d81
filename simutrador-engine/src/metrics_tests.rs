//! The metrics of a tiny run, computed by hand (see docs/metrics.md for the formulas).
//!
//! Six daily closes, Monday 2024-01-01 to Monday 2024-01-08 (no weekend bars → 252 periods):
//! equity 100, 110, 99, 105, 120, 114; two trades: +10% (pnl 10, 1 day) and −5% (pnl −5,
//! 2 days).

use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use shared_models::trading::{Trade, TradeSide};

use super::clock::utc;
use super::metrics::{MetricsInput, compute, equity_f64, geometric_mean};
use super::test_util::{DAY, MONTH_STARTS_2021, T0};

fn trade(pnl: Decimal, ret: f64, days: i64, bars: (u64, u64), commission: Decimal) -> Trade {
    Trade {
        symbol: "AAA".into(),
        side: TradeSide::Long,
        quantity: dec!(1),
        entry_time: utc(T0),
        entry_price: dec!(100),
        exit_time: utc(T0 + days * DAY),
        exit_price: dec!(100),
        pnl,
        return_pct: ret,
        commission,
        duration: days * DAY,
        entry_bar: Some(bars.0),
        exit_bar: Some(bars.1),
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

#[test]
fn six_daily_points_and_two_trades() {
    let times = [
        T0,
        T0 + DAY,
        T0 + 2 * DAY,
        T0 + 3 * DAY,
        T0 + 4 * DAY,
        T0 + 7 * DAY,
    ];
    let equity = [
        dec!(100),
        dec!(110),
        dec!(99),
        dec!(105),
        dec!(120),
        dec!(114),
    ];
    // Bars 1–2 and 2–3: three bars of six exposed (the shared bar counts once).
    let trades = [
        trade(dec!(10), 10.0, 1, (1, 2), dec!(1)),
        trade(dec!(-5), -5.0, 2, (2, 3), dec!(0.5)),
    ];
    let closes = [50.0, 55.0, 52.0, 53.0, 58.0, 60.0];
    let (values, equity_final, equity_peak) = equity_f64(&equity);
    let m = compute(&MetricsInput {
        times: &times,
        equity: &values,
        equity_final,
        equity_peak,
        initial_capital: dec!(100),
        trades: &trades,
        closes: &closes,
        indicator_warmup: 0,
    });
    assert_eq!(
        (m.duration, m.equity_final, m.equity_peak),
        (7 * DAY, dec!(114), dec!(120))
    );
    assert!(close(m.exposure_time_pct, 50.0));
    assert!(close(m.return_pct, 14.0));
    assert!(close(m.buy_and_hold_return_pct, 20.0));
    // Daily returns r = .1, −.1, 6/99, 15/105, −.05 (the first day has none and is dropped,
    // as in backtesting.py 0.6.6), so g = (114/100)^(1/5) − 1 and Return (Ann.) =
    // 1.14^(252/5) − 1.
    let g = 1.14f64.powf(1.0 / 5.0) - 1.0;
    let ann = 1.14f64.powf(252.0 / 5.0) - 1.0;
    assert!(close(m.return_ann_pct.unwrap_or(0.0), ann * 100.0));
    let r = [0.1, -0.1, 6.0 / 99.0, 15.0 / 105.0, -0.05];
    let mean = r.iter().sum::<f64>() / 5.0;
    let var = r.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / 4.0;
    let vol = ((var + (1.0 + g).powi(2)).powi(252) - (1.0 + g).powi(504)).sqrt();
    assert!(close(m.volatility_ann_pct.unwrap_or(0.0), vol * 100.0));
    assert!(close(m.sharpe_ratio.unwrap_or(0.0), ann / vol));
    // Downside: sqrt(((−.1)² + (−.05)²) / 5) × sqrt(252).
    let down = (0.0125f64 / 5.0).sqrt() * 252f64.sqrt();
    assert!(close(m.sortino_ratio.unwrap_or(0.0), ann / down));
    // 7 calendar days = 7 / 365.25 years: CAGR = 1.14^(365.25/7) − 1.
    assert!(close(
        m.cagr_pct.unwrap_or(0.0),
        (1.14f64.powf(365.25 / 7.0) - 1.0) * 100.0
    ));
    // Drawdown 99 from 110 = 10%; one closed period (Jan 2 → Jan 5, 3 days). The 1-bar dip
    // at the end (114 from 120) is not a period in backtesting.py's rule.
    assert!(close(m.max_drawdown_pct, -10.0));
    assert!(close(m.avg_drawdown_pct, -10.0));
    assert!(close(m.calmar_ratio.unwrap_or(0.0), ann / 0.1));
    assert_eq!(m.max_drawdown_duration, Some(3 * DAY));
    assert_eq!(m.avg_drawdown_duration, Some(3 * DAY));
    assert_eq!(m.num_trades, 2);
    assert!(close(m.win_rate_pct.unwrap_or(0.0), 50.0));
    assert!(close(m.best_trade_pct.unwrap_or(0.0), 10.0));
    assert!(close(m.worst_trade_pct.unwrap_or(0.0), -5.0));
    // sqrt(1.1 × 0.95) − 1 = 2.2252…%
    assert!(close(
        m.avg_trade_pct.unwrap_or(0.0),
        ((1.1f64 * 0.95).sqrt() - 1.0) * 100.0
    ));
    assert_eq!(m.max_trade_duration, Some(2 * DAY));
    assert_eq!(m.avg_trade_duration, Some(2 * DAY)); // 1.5 days rounded up to whole days
    assert!(close(m.profit_factor.unwrap_or(0.0), 2.0));
    assert!(close(m.expectancy_pct.unwrap_or(0.0), 2.5));
    // sqrt(2) × 2.5 / std(10, −5) = sqrt(2) × 2.5 / (15 / sqrt(2)) = 1/3.
    assert!(close(m.sqn.unwrap_or(0.0), 1.0 / 3.0));
    assert_eq!(m.commissions, dec!(1.5));
}

#[test]
fn undefined_values_are_none() {
    let times = [T0];
    let equity = [dec!(100)];
    let (values, equity_final, equity_peak) = equity_f64(&equity);
    let m = compute(&MetricsInput {
        times: &times,
        equity: &values,
        equity_final,
        equity_peak,
        initial_capital: dec!(100),
        trades: &[],
        closes: &[],
        indicator_warmup: 0,
    });
    assert_eq!(m.num_trades, 0);
    assert_eq!(
        (m.win_rate_pct, m.sqn, m.profit_factor, m.avg_trade_pct),
        (None, None, None, None)
    );
    assert_eq!(
        (m.sharpe_ratio, m.volatility_ann_pct, m.cagr_pct),
        (None, None, None)
    );
    assert_eq!(m.max_drawdown_duration, None);
    assert_eq!(m.max_drawdown_pct, 0.0);
    let empty = compute(&MetricsInput {
        times: &[],
        equity: &[],
        equity_final: None,
        equity_peak: None,
        ..MetricsInput {
            times: &times,
            equity: &values,
            equity_final,
            equity_peak,
            initial_capital: dec!(100),
            trades: &[],
            closes: &[],
            indicator_warmup: 0,
        }
    });
    assert_eq!(empty.equity_final, dec!(100));
}

#[test]
fn weekend_bars_mean_365_periods() {
    // Seven consecutive days (2 of 7 on a weekend > 2/7 × 0.6), equity +1% a day.
    let times: Vec<i64> = (0..7).map(|d| T0 + d * DAY).collect();
    let mut e = dec!(100);
    let equity: Vec<Decimal> = (0..7)
        .map(|_| {
            let v = e;
            e *= dec!(1.01);
            v
        })
        .collect();
    let (values, equity_final, equity_peak) = equity_f64(&equity);
    let m = compute(&MetricsInput {
        times: &times,
        equity: &values,
        equity_final,
        equity_peak,
        initial_capital: dec!(100),
        trades: &[],
        closes: &[],
        indicator_warmup: 0,
    });
    // Six daily changes of +1%: g = 1%.
    assert!(close(
        m.return_ann_pct.unwrap_or(0.0),
        (1.01f64.powf(365.0) - 1.0) * 100.0
    ));
    assert!(geometric_mean(&[0.0, -1.0]) == 0.0);
}

/// Metrics of an equity curve with no trades.
fn curve_metrics(times: &[i64], equity: &[Decimal]) -> shared_models::results::Metrics {
    let (values, equity_final, equity_peak) = equity_f64(equity);
    compute(&MetricsInput {
        times,
        equity: &values,
        equity_final,
        equity_peak,
        initial_capital: equity[0],
        trades: &[],
        closes: &[],
        indicator_warmup: 0,
    })
}

#[test]
fn weekly_bars_are_annualized_with_52_periods() {
    // Twenty Monday bars, equity +1% a week: one return per calendar week.
    let times: Vec<i64> = (0..20).map(|w| T0 + w * 7 * DAY).collect();
    let mut e = dec!(1000);
    let equity: Vec<Decimal> = (0..20)
        .map(|_| {
            let v = e;
            e *= dec!(1.01);
            v
        })
        .collect();
    let m = curve_metrics(&times, &equity);
    assert!(close(
        m.return_ann_pct.unwrap_or(0.0),
        (1.01f64.powf(52.0) - 1.0) * 100.0
    ));
    // CAGR over 19 weeks of calendar time.
    let years = 19.0 * 7.0 / 365.25;
    let total = 1.01f64.powi(19);
    assert!(close(
        m.cagr_pct.unwrap_or(0.0),
        (total.powf(1.0 / years) - 1.0) * 100.0
    ));
}

#[test]
fn monthly_bars_are_resampled_to_calendar_months_with_12_periods() {
    // Month-start bars Jan..Aug (spacings 31 28 31 30 31 30 31: median 31 days), equity
    // doubling every month: g = 100 %. (Jan..Jul would have a median of 30.5 days, which
    // backtesting.py floors to 30 and treats as daily data.)
    let firsts = &MONTH_STARTS_2021[..8];
    let equity: Vec<Decimal> = (0..8).map(|i| Decimal::from(1u64 << i)).collect();
    let m = curve_metrics(firsts, &equity);
    assert!(close(
        m.return_ann_pct.unwrap_or(0.0),
        (2f64.powf(12.0) - 1.0) * 100.0
    ));
    // The same curve read as daily bars would claim 2^252.
    assert!(m.return_ann_pct.unwrap_or(0.0) < 1e6);
}

#[test]
fn one_bucket_has_no_return() {
    // Hourly bars within one day: one daily point, no return, nothing annualized.
    let times: Vec<i64> = (0..5).map(|h| T0 + h * 3_600).collect();
    let equity = [dec!(100), dec!(101), dec!(99), dec!(102), dec!(103)];
    let m = curve_metrics(&times, &equity);
    assert_eq!((m.return_ann_pct, m.volatility_ann_pct), (None, None));
}

/// A deliberate difference (docs/metrics.md, "Differences from backtesting.py"): with no
/// losing period the Sortino ratio's downside deviation is 0 and backtesting.py 0.6.6 says
/// `inf` (`compute_stats` divides under `np.errstate(divide='ignore')`); JSON has no
/// infinity, so it is `null` here. Check with
/// `/work/main/target/fidelity-venv/bin/python`:
///
/// ```python
/// import numpy as np
/// r = np.array([.01, .02, .01]); g = np.exp(np.log1p(r).mean()) - 1
/// with np.errstate(divide='ignore'):
///     print(((1 + g) ** 252 - 1) / (np.sqrt(np.mean(r.clip(-np.inf, 0) ** 2)) * np.sqrt(252)))  # inf
/// ```
#[test]
fn sortino_without_a_losing_period_is_null_where_backtesting_py_says_inf() {
    let times: Vec<i64> = (0..4).map(|d| T0 + d * DAY).collect();
    let equity = [dec!(100), dec!(101), dec!(103.02), dec!(104.0502)];
    let m = curve_metrics(&times, &equity);
    assert!(m.return_ann_pct.is_some_and(|r| r > 0.0));
    assert_eq!(m.sortino_ratio, None);
    // Kelly without a losing trade: NaN in backtesting.py too, null here.
    assert_eq!(m.kelly_criterion, None);
}

/// Annualization on three bar spacings against backtesting.py 0.6.6's `compute_stats` (Return
/// (Ann.), Volatility (Ann.), CAGR, Sortino). Re-run with
/// `/work/main/target/fidelity-venv/bin/python`:
///
/// ```python
/// import numpy as np, pandas as pd
/// from backtesting._stats import compute_stats
/// def run(idx, e):
///     s = compute_stats([], np.array(e, float), pd.DataFrame({"Close": e}, index=idx), None)
///     print([repr(float(s[k])) for k in ["Return (Ann.) [%]", "Volatility (Ann.) [%]",
///                                        "CAGR [%]", "Sortino Ratio"]])
/// e = [1000 * (1 + 0.003 * np.sin(i / 5.0) + 0.0004 * i) for i in range(120)]
/// run(pd.date_range("2024-01-01", periods=120, freq="h"), e)      # 24/7 hourly: days, 365
/// run(pd.date_range("2024-01-01", periods=120, freq="W-MON"), e)  # weekly: weeks, 52
/// run(pd.bdate_range("2024-01-01", periods=120), e)               # weekdays: days, 252
/// ```
#[test]
fn annualization_matches_backtesting_py_on_hourly_weekly_and_weekday_bars() {
    let equity: Vec<f64> = (0..120)
        .map(|i| 1000.0 * (1.0 + 0.003 * (f64::from(i) / 5.0).sin() + 0.0004 * f64::from(i)))
        .collect();
    let weekday = |i: i64| T0 + (i / 5 * 7 + i % 5) * DAY;
    let cases: [(Vec<i64>, [f64; 3], Option<f64>); 3] = [
        (
            (0..120).map(|i| T0 + i * 3_600).collect(),
            [962.7739144038104, 58.35180740786725, 2403.357210171347],
            None, // backtesting.py: inf (no losing day)
        ),
        (
            (0..120).map(|i| T0 + i * 7 * DAY).collect(),
            [1.9285981839165967, 0.30394294103150055, 1.9352847947889495],
            Some(35.81014857242245),
        ),
        (
            (0..120).map(weekday).collect(),
            [9.699321534246819, 0.7201156731811708, 10.160606220184887],
            Some(81.81013839197244),
        ),
    ];
    for (times, [ann, vol, cagr], sortino) in cases {
        let m = compute(&MetricsInput {
            times: &times,
            equity: &equity,
            equity_final: Decimal::from_f64_retain(equity[119]),
            equity_peak: None,
            initial_capital: Decimal::from(1000),
            trades: &[],
            closes: &[],
            indicator_warmup: 0,
        });
        let near = |g: Option<f64>, w: f64| g.is_some_and(|g| (g - w).abs() <= 1e-9 * w.abs());
        assert!(near(m.return_ann_pct, ann), "{:?} {ann}", m.return_ann_pct);
        assert!(
            near(m.volatility_ann_pct, vol),
            "{:?} {vol}",
            m.volatility_ann_pct
        );
        assert!(near(m.cagr_pct, cagr), "{:?} {cagr}", m.cagr_pct);
        match sortino {
            Some(s) => assert!(near(m.sortino_ratio, s), "{:?} {s}", m.sortino_ratio),
            None => assert_eq!(m.sortino_ratio, None),
        }
    }
}
