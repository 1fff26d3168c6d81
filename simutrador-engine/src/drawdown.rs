//! Drawdowns as backtesting.py 0.6.6 computes them (`compute_drawdown_duration_peaks` and the
//! `DrawdownPct` / `DrawdownDuration` columns of `_equity_curve`, `backtesting/_stats.py`):
//!
//! - `dd_i = 1 − E_i / max_{j≤i} E_j` at every bar;
//! - period ends: the bars where `dd = 0`, plus the last bar; two consecutive ends more than
//!   one bar apart make a drawdown period, whose duration (the time between the two ends) is
//!   reported at its second end and whose depth is the largest `dd` between them.

/// `dd_i` at every bar (a fraction; NaN where the running peak is 0 or NaN).
pub(crate) fn series(equity: &[f64]) -> Vec<f64> {
    let mut peak = f64::NEG_INFINITY;
    equity
        .iter()
        .map(|&e| {
            peak = peak.max(e);
            1.0 - e / peak
        })
        .collect()
}

/// The drawdown periods of `dd`, as (first end, second end) bar indices.
pub(crate) fn periods(dd: &[f64]) -> Vec<(usize, usize)> {
    let Some(last) = dd.len().checked_sub(1) else {
        return Vec::new();
    };
    let mut ends: Vec<usize> = (0..dd.len()).filter(|&i| dd[i] == 0.0).collect();
    if ends.last() != Some(&last) {
        ends.push(last);
    }
    ends.windows(2)
        .filter(|w| w[1] > w[0] + 1)
        .map(|w| (w[0], w[1]))
        .collect()
}

/// Per-period (duration in seconds, depth as a fraction).
pub(crate) fn period_stats(times: &[i64], dd: &[f64]) -> Vec<(i64, f64)> {
    periods(dd)
        .into_iter()
        .map(|(a, b)| {
            let depth = dd[a..=b].iter().copied().fold(f64::NEG_INFINITY, f64::max);
            (times[b] - times[a], depth)
        })
        .collect()
}

/// The equity curve's drawdown columns: `DrawdownPct × 100` at every bar, and the period's
/// duration (seconds) at the last bar of each drawdown period (`None` elsewhere).
pub fn columns(times: &[i64], equity: &[f64]) -> (Vec<f64>, Vec<Option<i64>>) {
    let n = times.len().min(equity.len());
    let dd = series(&equity[..n]);
    let mut durations = vec![None; n];
    for (a, b) in periods(&dd) {
        durations[b] = Some(times[b] - times[a]);
    }
    (dd.iter().map(|d| d * 100.0).collect(), durations)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// backtesting.py 0.6.6 on six daily bars; re-run with
    /// `/work/main/target/fidelity-venv/bin/python` (any venv with backtesting==0.6.6):
    ///
    /// ```python
    /// import numpy as np, pandas as pd
    /// from backtesting._stats import compute_drawdown_duration_peaks
    /// e = np.array([100, 110, 99, 105, 120, 114.])
    /// dd = 1 - e / np.maximum.accumulate(e)
    /// idx = pd.date_range("2024-01-01", periods=6, freq="D")
    /// dur, peak = compute_drawdown_duration_peaks(pd.Series(dd, index=idx))
    /// print(list(dd * 100), list(dur))
    /// # [0.0, 0.0, 9.999999999999998, 4.545454545454541, 0.0, 5.000000000000004]
    /// # [NaT, NaT, NaT, NaT, Timedelta('3 days'), NaT]
    /// ```
    ///
    /// One period, bars 1 → 4; the drawdown in the last bar alone is not a period.
    #[test]
    fn columns_match_backtesting_py() {
        let day = 86_400;
        let times: Vec<i64> = (0..6).map(|i| 1_704_067_200 + i * day).collect();
        let (pct, dur) = columns(&times, &[100.0, 110.0, 99.0, 105.0, 120.0, 114.0]);
        let want = [
            0.0,
            0.0,
            9.999999999999998,
            4.545454545454541,
            0.0,
            5.000000000000004,
        ];
        for (g, w) in pct.iter().zip(want) {
            assert!((g - w).abs() < 1e-12, "{pct:?}");
        }
        assert_eq!(dur, [None, None, None, None, Some(3 * day), None]);
    }
}
