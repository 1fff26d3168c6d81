//! Statistics of a finished run, following backtesting.py 0.6.6's `compute_stats`
//! (`backtesting/_stats.py`); every formula is in docs/metrics.md, the annualization rule in
//! `annual.rs`.
//!
//! A pure function over the equity curve, the closed trades and the first symbol's closes.
//! Money stays `Decimal`
//! (`equity_final`, `equity_peak`, `commissions`); ratios are computed in `f64`. A value that
//! backtesting.py reports as NaN is `None` here.

use rust_decimal::Decimal;
use shared_models::results::Metrics;
use shared_models::trading::Trade;

use super::annual;
use super::benchmark;
use super::clock::utc;
use super::drawdown;
use super::numeric;

pub use super::drawdown::columns as drawdown_columns;

const DAY: i64 = 86_400;

/// What [`compute`] needs.
#[derive(Debug, Clone, Copy)]
pub struct MetricsInput<'a> {
    /// Bar times (unix seconds), increasing.
    pub times: &'a [i64],
    /// Equity at each bar's close, parallel to `times`, as `f64` (see [`equity_f64`]).
    pub equity: &'a [f64],
    /// The last equity value (`None` with no bars: the initial capital is reported).
    pub equity_final: Option<Decimal>,
    /// The largest equity value, the last one of equal maxima (`None` with no bars).
    pub equity_peak: Option<Decimal>,
    /// Starting cash: the base of Return % and CAGR.
    pub initial_capital: Decimal,
    /// Closed trades (with their bar indices: Exposure Time counts the bars from each entry
    /// bar to its exit bar, as backtesting.py does).
    pub trades: &'a [Trade],
    /// The Buy & Hold symbol's close at each bar, parallel to `times` (NaN before its first
    /// bar): Buy & Hold, Alpha and Beta.
    pub closes: &'a [f64],
    /// Bars before the strategy's indicators are all defined: Buy & Hold starts there.
    pub indicator_warmup: usize,
}

fn f(d: Decimal) -> f64 {
    numeric::to_f64(d)
}

/// An equity curve in the form [`MetricsInput`] takes: the values as `f64`, the last value and
/// the peak (the last of equal maxima, as `Iterator::max` picks it).
pub fn equity_f64(equity: &[Decimal]) -> (Vec<f64>, Option<Decimal>, Option<Decimal>) {
    let values = equity.iter().map(|&e| f(e)).collect();
    (values, equity.last().copied(), equity.iter().copied().max())
}

/// `Some(x)` when finite.
fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// backtesting.py's `geometric_mean`: 0 if any 1 + r ≤ 0, else exp(mean ln(1 + r)) − 1.
pub fn geometric_mean(returns: &[f64]) -> f64 {
    if returns.is_empty() {
        return f64::NAN;
    }
    if returns.iter().any(|r| 1.0 + r <= 0.0) {
        return 0.0;
    }
    (returns.iter().map(|r| (1.0 + r).ln()).sum::<f64>() / returns.len() as f64).exp() - 1.0
}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// Sample variance (ddof = 1); NaN below two values.
fn variance(xs: &[f64]) -> f64 {
    if xs.len() < 2 {
        return f64::NAN;
    }
    let m = mean(xs);
    xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (xs.len() - 1) as f64
}

/// Rounds a duration up to the resolution of the data period (the median spacing of the last
/// 100 bars): whole days for daily bars, hours, minutes or seconds otherwise.
fn round_up(seconds: f64, unit: i64) -> i64 {
    ((seconds / unit as f64).ceil() * unit as f64) as i64
}

/// The unit durations are rounded up to, from the doubled median spacing
/// ([`annual::median_spacing_doubled`]).
fn resolution(twice_median: Option<i64>) -> i64 {
    let Some(twice) = twice_median else {
        return 1;
    };
    let median = twice / 2;
    [DAY, 3_600, 60]
        .into_iter()
        .find(|u| median > 0 && median % u == 0)
        .unwrap_or(1)
}

/// Computes every metric (see docs/metrics.md).
pub fn compute(input: &MetricsInput<'_>) -> Metrics {
    let n = input.times.len().min(input.equity.len());
    let times = &input.times[..n];
    let equity = &input.equity[..n];
    let initial = f(input.initial_capital);
    let (start, end) = (
        times.first().copied().unwrap_or(0),
        times.last().copied().unwrap_or(0),
    );
    let final_dec = input.equity_final.unwrap_or(input.initial_capital);
    let final_eq = f(final_dec);
    let twice_median = annual::median_spacing_doubled(times);
    let unit = resolution(twice_median);

    // Returns over calendar buckets (days, or weeks, months, years for data of that period):
    // the last equity of each bucket with bars, then the change between consecutive ones.
    // One pass; the day number, whether it is a weekend day (365 or 252 periods for daily
    // buckets) and the bucket are worked out once per day, since buckets end at midnight: a
    // bar inside [day_start, day_end) is on the day of the bar before it.
    let bucket = annual::Bucket::for_spacing(twice_median);
    let mut points: Vec<f64> = Vec::new();
    let mut last_key = None;
    let (mut day_start, mut day_end, mut day_is_weekend) = (i64::MAX, i64::MIN, false);
    let mut weekend = 0usize;
    for (&t, &e) in times.iter().zip(equity) {
        if t < day_start || t >= day_end {
            let key = bucket.key(t);
            if last_key != Some(key) {
                points.push(e);
                last_key = Some(key);
            }
            let d = t.div_euclid(DAY);
            day_is_weekend = (d + 3).rem_euclid(7) >= 5;
            (day_start, day_end) = d
                .checked_mul(DAY)
                .and_then(|s| Some((s, s.checked_add(DAY)?)))
                .unwrap_or((i64::MAX, i64::MIN));
        }
        if let Some(v) = points.last_mut() {
            *v = e;
        }
        weekend += usize::from(day_is_weekend);
    }
    let periods = bucket.periods_per_year(n, weekend);
    // `pct_change().dropna()`: a change from 0 to 0 (after a bankruptcy) is 0 / 0 and dropped.
    let rets: Vec<f64> = points
        .windows(2)
        .map(|w| w[1] / w[0] - 1.0)
        .filter(|r| !r.is_nan())
        .collect();
    let g = geometric_mean(&rets);
    let ret_ann = (1.0 + g).powf(periods) - 1.0;
    let var = variance(&rets);
    let vol_ann = ((var + (1.0 + g).powi(2)).powf(periods) - (1.0 + g).powf(2.0 * periods)).sqrt();
    let downside = if rets.is_empty() {
        f64::NAN
    } else {
        (rets.iter().map(|r| r.min(0.0).powi(2)).sum::<f64>() / rets.len() as f64).sqrt()
            * periods.sqrt()
    };
    // Calendar years, whatever the bar spacing.
    let years = (end - start) as f64 / DAY as f64 / 365.25;
    let cagr = if years > 0.0 {
        (final_eq / initial).powf(1.0 / years) - 1.0
    } else {
        f64::NAN
    };

    let dd = drawdown::series(equity);
    let max_dd = dd
        .iter()
        .copied()
        .filter(|x| x.is_finite())
        .fold(0.0, f64::max);
    let dd_periods = drawdown::period_stats(times, &dd);
    let dd_durations: Vec<f64> = dd_periods.iter().map(|p| p.0 as f64).collect();
    let dd_depths: Vec<f64> = dd_periods.iter().map(|p| p.1).collect();

    let trades = input.trades;
    let nt = trades.len();
    let returns: Vec<f64> = trades.iter().map(|t| t.return_pct / 100.0).collect();
    let pnl: Vec<f64> = trades.iter().map(|t| f(t.pnl)).collect();
    let durations: Vec<f64> = trades.iter().map(|t| t.duration as f64).collect();
    let wins: f64 = returns.iter().filter(|r| **r > 0.0).sum();
    let losses: f64 = returns.iter().filter(|r| **r < 0.0).sum::<f64>().abs();
    let pnl_std = variance(&pnl).sqrt();
    let some_trades = |x: f64| if nt == 0 { None } else { finite(x) };
    let win_rate = pnl.iter().filter(|p| **p > 0.0).count() as f64 / nt as f64;
    let return_pct = finite((final_eq - initial) / initial * 100.0).unwrap_or(0.0);
    let bh = benchmark::buy_and_hold_pct(input.closes, input.indicator_warmup);
    let beta = benchmark::beta(equity, input.closes);

    Metrics {
        start: utc(start),
        end: utc(end),
        duration: end - start,
        exposure_time_pct: exposure_pct(trades, n),
        equity_final: final_dec,
        equity_peak: input.equity_peak.unwrap_or(input.initial_capital),
        commissions: trades
            .iter()
            .fold(Decimal::ZERO, |sum, t| sum.saturating_add(t.commission)),
        return_pct,
        buy_and_hold_return_pct: finite(bh).unwrap_or(0.0),
        return_ann_pct: finite(ret_ann * 100.0),
        volatility_ann_pct: finite(vol_ann * 100.0),
        cagr_pct: finite(cagr * 100.0),
        sharpe_ratio: (vol_ann != 0.0)
            .then(|| finite(ret_ann / vol_ann))
            .flatten(),
        sortino_ratio: (downside != 0.0)
            .then(|| finite(ret_ann / downside))
            .flatten(),
        calmar_ratio: (max_dd != 0.0).then(|| finite(ret_ann / max_dd)).flatten(),
        alpha_pct: finite(return_pct - beta * bh),
        beta: finite(beta),
        max_drawdown_pct: -max_dd * 100.0,
        avg_drawdown_pct: if dd_depths.is_empty() {
            0.0
        } else {
            -mean(&dd_depths) * 100.0
        },
        max_drawdown_duration: dd_durations
            .iter()
            .copied()
            .reduce(f64::max)
            .map(|d| round_up(d, unit)),
        avg_drawdown_duration: (!dd_durations.is_empty())
            .then(|| round_up(mean(&dd_durations), unit)),
        num_trades: nt as u64,
        win_rate_pct: some_trades(win_rate * 100.0),
        best_trade_pct: some_trades(
            returns.iter().copied().fold(f64::NEG_INFINITY, f64::max) * 100.0,
        ),
        worst_trade_pct: some_trades(returns.iter().copied().fold(f64::INFINITY, f64::min) * 100.0),
        avg_trade_pct: some_trades(geometric_mean(&returns) * 100.0),
        max_trade_duration: (nt > 0)
            .then(|| round_up(durations.iter().copied().fold(0.0, f64::max), unit)),
        avg_trade_duration: (nt > 0).then(|| round_up(mean(&durations), unit)),
        profit_factor: (losses != 0.0).then(|| finite(wins / losses)).flatten(),
        expectancy_pct: some_trades(mean(&returns) * 100.0),
        sqn: (nt > 1 && pnl_std != 0.0)
            .then(|| finite((nt as f64).sqrt() * mean(&pnl) / pnl_std))
            .flatten(),
        kelly_criterion: finite(kelly(win_rate, &pnl)),
    }
}

/// backtesting.py's `Kelly Criterion`: `W − (1 − W) / (mean win / mean loss)`, `W` the win
/// rate, wins and losses the trades' P&L above and below 0; NaN without a win or a loss.
fn kelly(win_rate: f64, pnl: &[f64]) -> f64 {
    let wins: Vec<f64> = pnl.iter().copied().filter(|p| *p > 0.0).collect();
    let losses: Vec<f64> = pnl.iter().copied().filter(|p| *p < 0.0).collect();
    win_rate - (1.0 - win_rate) / (mean(&wins) / -mean(&losses))
}

/// backtesting.py's `Exposure Time [%]`: the share of the `n` bars that lie between a closed
/// trade's entry bar and its exit bar, both included (a position still open at the end is
/// not a closed trade and does not count). Trades without bar indices are skipped.
fn exposure_pct(trades: &[Trade], n: usize) -> f64 {
    if n == 0 {
        return 0.0;
    }
    let mut spans: Vec<(u64, u64)> = trades
        .iter()
        .filter_map(|t| Some((t.entry_bar?, t.exit_bar?)))
        .collect();
    spans.sort_unstable();
    let (mut covered, mut next) = (0u64, 0u64);
    for (a, b) in spans {
        let b = b.min(n as u64 - 1);
        let a = a.max(next);
        if a <= b {
            covered += b - a + 1;
            next = b + 1;
        }
    }
    covered as f64 / n as f64 * 100.0
}
