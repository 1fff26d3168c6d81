//! Final results as columns ([`ResultColumns`], the wire's `format: columns`), built straight
//! from the engine's compact equity curve.
//!
//! [`Engine::results`] gives one `EquityPoint` per bar (a `DateTime` and a `Decimal`, 28 bytes:
//! 28 MB for a million bars), which the daemon then turned into columns (8 MB of times on the
//! way, 16 MB of values kept). Building the columns here skips the points and, while the bars
//! are evenly spaced, the times: the end of a million-bar run allocates the 16 MB of values and
//! what the metrics need, and a finished run leaves less heap behind. The columns are those of
//! [`Engine::results`] bit for bit: `EquityColumns::from_points(&r.equity_curve)` and
//! `TradeColumns::from_trades(&r.trades)` (tested below and in `proptests.rs`).

use chrono::DateTime;
use shared_models::columns::{EquityColumns, TradeColumns};
use shared_models::results::Metrics;
use shared_models::trading::PositionView;

use super::curve::EquityCurve;
use super::engine::Engine;
use super::numeric;

/// [`Engine::results`] with the trades and the equity curve as columns.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultColumns {
    /// Summary statistics.
    pub metrics: Metrics,
    /// Closed trades.
    pub trades: TradeColumns,
    /// Positions still open at the end.
    pub open_positions: Vec<PositionView>,
    /// Equity at every settled bar's close.
    pub equity: EquityColumns,
}

impl Engine {
    /// Final results, as [`Engine::results`] gives them, in columns.
    pub fn results_columns(&self) -> ResultColumns {
        let trades = self.trades();
        let (metrics, drawdown_pct, drawdown_duration) = self.final_metrics(&trades);
        let columns = TradeColumns::from_trades(&trades);
        drop(trades);
        let mut equity = equity_columns(&self.curve);
        equity.drawdown_pct = Some(drawdown_pct);
        equity.drawdown_duration = Some(drawdown_duration);
        ResultColumns {
            metrics,
            trades: columns,
            open_positions: self.books.position_views(&self.config.symbols),
            equity,
        }
    }
}

/// The drawdown columns of `equity`, as [`Engine::results_columns`] gives them for the same
/// curve, bit for bit: each equity as `Decimal::to_f64`, times as the columns carry them.
///
/// The daemon journals a run's results without these two columns (two million values that
/// follow from the equity column) and computes them again here when it reads results back.
/// A curve whose times are not dates chrono can represent carries the epoch instead (see
/// [`equity_columns`]); such a curve's durations would differ, and no market data has one.
pub fn drawdown_of(equity: &EquityColumns) -> (Vec<f64>, Vec<Option<i64>>) {
    let n = equity.equity.len();
    let times: Vec<i64> = match (&equity.time_step, &equity.time_deltas) {
        (Some(step), _) => {
            let mut t = equity.time_start;
            (0..n)
                .map(|_| {
                    let now = t;
                    t = t.saturating_add(*step);
                    now
                })
                .collect()
        }
        (None, Some(deltas)) => deltas
            .iter()
            .scan(equity.time_start, |t, d| {
                *t = t.saturating_add(*d);
                Some(*t)
            })
            .collect(),
        (None, None) => vec![equity.time_start; n],
    };
    let values: Vec<f64> = equity.equity.iter().map(|&d| numeric::to_f64(d)).collect();
    crate::metrics::drawdown_columns(&times, &values)
}

/// The columns of `curve`: `EquityColumns::from_points(&curve.to_points())` without the points.
pub(crate) fn equity_columns(curve: &EquityCurve) -> EquityColumns {
    let equity = curve.values().into_owned();
    let n = curve.len();
    if let Some((first, step)) = curve.spacing() {
        // The points' times: exact while no time wraps and every one is a date chrono can
        // represent (they lie between the first and the last, and that range is contiguous).
        let last = (n as i64)
            .checked_sub(1)
            .and_then(|i| step.checked_mul(i.max(0)))
            .and_then(|d| first.checked_add(d));
        match last {
            _ if n == 0 => return EquityColumns::from_times(&[], equity),
            Some(last) if representable(first) && representable(last) => {
                return EquityColumns {
                    time_start: first,
                    time_step: Some(if n >= 2 { step } else { 0 }),
                    time_deltas: None,
                    equity,
                    drawdown_pct: None,
                    drawdown_duration: None,
                };
            }
            _ => {}
        }
    }
    // Listed (or odd) times: as the points carry them (the epoch where chrono cannot).
    let times: Vec<i64> = curve
        .times()
        .iter()
        .map(|&t| if representable(t) { t } else { 0 })
        .collect();
    EquityColumns::from_times(&times, equity)
}

/// Whether an equity point carries `t` itself (else the epoch: see `clock::utc`).
fn representable(t: i64) -> bool {
    DateTime::from_timestamp(t, 0).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;

    /// Equal bit for bit: the same JSON (decimals keep their scale in their text).
    fn same(curve: &EquityCurve) {
        let mut want = EquityColumns::from_points(&curve.to_points());
        // The drawdown columns come from the metrics (`results_columns` adds them).
        want.drawdown_pct = None;
        want.drawdown_duration = None;
        let got = equity_columns(curve);
        assert_eq!(
            serde_json::to_string(&got).unwrap(),
            serde_json::to_string(&want).unwrap()
        );
        assert_eq!(got, want);
    }

    fn curve(points: &[(i64, Decimal)]) -> EquityCurve {
        let mut c = EquityCurve::default();
        for &(t, v) in points {
            c.push(t, v);
        }
        c
    }

    #[test]
    fn columns_equal_those_of_the_points() {
        let d = |m: i64, s: u32| Decimal::new(m, s);
        same(&EquityCurve::default());
        same(&curve(&[(1_600_000_000, d(100_000, 0))]));
        same(&curve(&[(0, d(1, 0)), (60, d(15, 1)), (120, d(150, 2))]));
        // Irregular, unpackable, negative zero.
        same(&curve(&[
            (60, d(1, 0)),
            (120, Decimal::MAX),
            (200, -d(0, 2)),
            (260, d(7, 3)),
        ]));
        // Evenly spaced, then a gap.
        let mut c = curve(&(0..50).map(|i| (i * 60, d(i, 2))).collect::<Vec<_>>());
        c.push(50 * 60 + 1, d(9, 1));
        same(&c);
        // Times chrono cannot represent (the points carry the epoch), and wrapping steps.
        same(&curve(&[(i64::MAX - 10, d(1, 0)), (i64::MAX, d(2, 0))]));
        same(&curve(&[
            (0, d(1, 0)),
            (i64::MAX / 2, d(2, 0)),
            (i64::MAX - 1, d(3, 0)),
        ]));
        same(&curve(&[(i64::MIN, d(1, 0))]));
        same(&curve(&[(-120, d(1, 0)), (-60, d(1, 0)), (0, d(1, 0))]));
    }
}
