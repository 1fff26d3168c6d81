//! The statistics measured against the market, as backtesting.py 0.6.6's `compute_stats`
//! does (`backtesting/_stats.py`), with the first symbol's closes as the market:
//!
//! - **Buy & Hold Return [%]**: `(c[n−1] − c[w]) / c[w] × 100`, `w` the indicator warm-up
//!   (`_indicator_warmup_nbars`: the first bar at which every indicator is defined);
//! - **Beta**: `cov(x, y) / var(y)` (sample covariance, `np.cov`) of the equity's and the
//!   closes' bar-to-bar log returns, `x_i = ln(E_i / E_{i−1})`, `y_i = ln(c_i / c_{i−1})`,
//!   over every bar (warm-up included); NaN with fewer than two returns;
//! - **Alpha [%]**: `Return [%] − Beta × Buy & Hold Return [%]` (risk-free rate 0).

/// Buy & Hold return in percent from bar `warmup` (clamped to the last bar; the first bar
/// with a close at or after it when the symbol has no bar there) to the last close.
pub(crate) fn buy_and_hold_pct(closes: &[f64], warmup: usize) -> f64 {
    let Some(&last) = closes.last() else {
        return f64::NAN;
    };
    let from = warmup.min(closes.len() - 1);
    match closes[from..].iter().copied().find(|c| !c.is_nan()) {
        Some(first) => (last - first) / first * 100.0,
        None => f64::NAN,
    }
}

/// Beta of the equity against the closes (NaN when undefined).
pub(crate) fn beta(equity: &[f64], closes: &[f64]) -> f64 {
    let n = equity.len().min(closes.len());
    if n < 3 {
        return f64::NAN;
    }
    let logs = |v: &[f64]| -> Vec<f64> { v[..n].windows(2).map(|w| (w[1] / w[0]).ln()).collect() };
    let (x, y) = (logs(equity), logs(closes));
    let m = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / m, y.iter().sum::<f64>() / m);
    let cov: f64 = x.iter().zip(&y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let var: f64 = y.iter().map(|b| (b - my) * (b - my)).sum();
    // Both sums would be divided by m − 1; the ratio does without.
    cov / var
}

#[cfg(test)]
mod tests {
    use super::*;

    /// backtesting.py 0.6.6's formulas on a small series; re-run with
    /// `/work/main/target/fidelity-venv/bin/python`:
    ///
    /// ```python
    /// import numpy as np
    /// e = np.array([100, 110, 99, 105, 120, 114.]); c = np.array([10, 10.5, 10.2, 11, 12.5, 12.])
    /// cov = np.cov(np.log(e[1:] / e[:-1]), np.log(c[1:] / c[:-1])); beta = cov[0, 1] / cov[1, 1]
    /// bh = (c[-1] - c[2]) / c[2] * 100      # warm-up 2
    /// print(repr(beta), repr(bh), repr(14 - beta * bh))
    /// # 1.308224619021889 17.64705882352942 -9.086316806268638
    /// ```
    #[test]
    fn beta_alpha_and_buy_and_hold_match_backtesting_py() {
        let e = [100.0, 110.0, 99.0, 105.0, 120.0, 114.0];
        let c = [10.0, 10.5, 10.2, 11.0, 12.5, 12.0];
        let b = beta(&e, &c);
        let bh = buy_and_hold_pct(&c, 2);
        let close = |a: f64, w: f64| (a - w).abs() <= 1e-12 * w.abs();
        assert!(close(b, 1.308224619021889), "{b}");
        assert!(close(bh, 17.64705882352942), "{bh}");
        assert!(close(14.0 - b * bh, -9.086316806268638));
        // Warm-up past the end: from the last bar; none at all: NaN.
        assert_eq!(buy_and_hold_pct(&c, 99), 0.0);
        assert!(buy_and_hold_pct(&[], 0).is_nan());
        // A symbol without a bar at the warm-up bar starts at its next close.
        assert_eq!(buy_and_hold_pct(&[f64::NAN, f64::NAN, 4.0, 5.0], 1), 25.0);
        assert!(beta(&e[..2], &c[..2]).is_nan());
    }
}
