//! [`RsiReversionSignal`]: the rule of `rsi-reversion`.
//!
//! Wilder's RSI of the close ([`Rsi`]). When the RSI crosses up through `lower` (previous value
//! < `lower` ≤ current) and the position is flat, buy with 100 % of equity; when it crosses up
//! through `upper` (previous < `upper` ≤ current) and the position is long, close it. Never
//! short. The RSI is a statistic, not money, so it is an `f64`.

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use shared_models::trading::OrderSide;

use super::Decision;
use crate::indicators::Rsi;

/// The RSI mean-reversion rule.
#[derive(Debug, Clone)]
pub struct RsiReversionSignal {
    rsi: Rsi,
    lower: f64,
    upper: f64,
    prev: Option<f64>,
}

impl RsiReversionSignal {
    /// `period` ≥ 1 and `0 ≤ lower < upper ≤ 100`.
    pub fn new(period: usize, lower: f64, upper: f64) -> Result<Self, String> {
        if period == 0 {
            return Err("rsi-reversion: period must be at least 1".into());
        }
        if !(0.0..=100.0).contains(&lower) || !(0.0..=100.0).contains(&upper) || lower >= upper {
            return Err(format!(
                "rsi-reversion: need 0 <= lower < upper <= 100 (got lower={lower}, upper={upper})"
            ));
        }
        Ok(RsiReversionSignal {
            rsi: Rsi::new(period),
            lower,
            upper,
            prev: None,
        })
    }

    /// Bars before the first bar on which a level can be crossed (the RSI defined on it and on
    /// the bar before): `period + 1`.
    pub fn warmup_bars(&self) -> usize {
        self.rsi.period() + 1
    }

    /// Bars before the RSI is defined: `period` (it needs `period` changes, so `period + 1`
    /// closes), the first index at which a Wilder RSI array in backtesting.py is not NaN,
    /// i.e. its `_indicator_warmup_nbars` for this strategy (Buy & Hold starts there).
    pub fn indicator_warmup_bars(&self) -> usize {
        self.rsi.period()
    }

    /// Feed a warm-up close (before the first tick): the RSI moves, nothing is decided.
    pub fn prime(&mut self, close: Decimal) {
        self.prev = self.update(close);
    }

    /// Feed the next close; what to do holding `held` units.
    pub fn decide(&mut self, close: Decimal, held: Decimal) -> Decision {
        let now = self.update(close);
        let (Some(prev), Some(now)) = (std::mem::replace(&mut self.prev, now), now) else {
            return Decision::NONE;
        };
        if prev < self.lower && now >= self.lower && held.is_zero() {
            Decision {
                close_position: false,
                enter: Some(OrderSide::Buy),
            }
        } else if prev < self.upper && now >= self.upper && held > Decimal::ZERO {
            Decision {
                close_position: true,
                enter: None,
            }
        } else {
            Decision::NONE
        }
    }

    fn update(&mut self, close: Decimal) -> Option<f64> {
        self.rsi.update(close.to_f64()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buys_through_lower_when_flat_and_exits_through_upper_when_long() {
        // period 2, closes 10 9 8 9 11: t2 RSI 0; t3 50 (crosses 30); t4 83.3 (crosses 70).
        let mut s = RsiReversionSignal::new(2, 30.0, 70.0).unwrap();
        let d: Vec<_> = [10, 9, 8]
            .iter()
            .map(|&c| s.decide(Decimal::from(c), Decimal::ZERO))
            .collect();
        assert!(d.iter().all(|d| !d.trades()));
        let buy = s.decide(Decimal::from(9), Decimal::ZERO);
        assert_eq!(buy.enter, Some(OrderSide::Buy));
        let exit = s.decide(Decimal::from(11), Decimal::from(3));
        assert!(exit.close_position && exit.enter.is_none());
    }

    #[test]
    fn no_buy_while_long_and_no_exit_while_flat() {
        let mut s = RsiReversionSignal::new(2, 30.0, 70.0).unwrap();
        for c in [10, 9, 8] {
            s.prime(Decimal::from(c));
        }
        assert_eq!(s.decide(Decimal::from(9), Decimal::ONE), Decision::NONE);
        assert_eq!(s.decide(Decimal::from(11), Decimal::ZERO), Decision::NONE);
        assert_eq!(s.warmup_bars(), 3);
        assert_eq!(s.indicator_warmup_bars(), 2);
    }

    #[test]
    fn levels_are_checked() {
        assert!(RsiReversionSignal::new(14, 70.0, 30.0).is_err());
        assert!(RsiReversionSignal::new(0, 30.0, 70.0).is_err());
        assert!(RsiReversionSignal::new(14, -1.0, 70.0).is_err());
    }
}
