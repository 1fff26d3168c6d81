//! [`SmaCrossSignal`]: the rule of `sma-cross`.
//!
//! A cross needs both averages defined on the current and the previous bar. On a bar where
//! fast was strictly below slow on the previous bar and is strictly above it now (golden
//! cross): close any short, then buy with 100 % of equity. On the mirror (death cross): close
//! any long, then, when shorting is allowed, sell short with 100 % of equity. The averages are
//! compared exactly ([`Sma::compare`]: sums only, no division).

use rust_decimal::Decimal;
use shared_models::trading::OrderSide;
use std::cmp::Ordering;

use super::Decision;
use crate::indicators::Sma;

/// A crossing of the fast average through the slow one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cross {
    /// Fast went from strictly below slow to strictly above.
    Golden,
    /// Fast went from strictly above slow to strictly below.
    Death,
}

/// The moving-average crossover rule.
#[derive(Debug, Clone)]
pub struct SmaCrossSignal {
    fast: Sma,
    slow: Sma,
    short: bool,
    /// fast vs slow on the previous bar, when both were defined.
    prev: Option<Ordering>,
}

impl SmaCrossSignal {
    /// `fast` < `slow`, both ≥ 1; `short`: go short on a death cross (else only close).
    pub fn new(fast: usize, slow: usize, short: bool) -> Result<Self, String> {
        if fast == 0 || fast >= slow {
            return Err(format!(
                "sma-cross: fast must be at least 1 and below slow (got fast={fast}, slow={slow})"
            ));
        }
        Ok(SmaCrossSignal {
            fast: Sma::new(fast),
            slow: Sma::new(slow),
            short,
            prev: None,
        })
    }

    /// Bars before the first bar on which a cross can be seen (both averages defined on it and
    /// on the bar before): `slow`.
    pub fn warmup_bars(&self) -> usize {
        self.slow.period()
    }

    /// Bars before both averages are defined: `slow − 1`, the first index at which
    /// backtesting.py's `SMA(Close, slow)` (a rolling mean) is not NaN, i.e. its
    /// `_indicator_warmup_nbars` for this strategy (Buy & Hold starts there).
    pub fn indicator_warmup_bars(&self) -> usize {
        self.slow.period() - 1
    }

    /// Feed a warm-up close (before the first tick): the averages move, nothing is decided.
    pub fn prime(&mut self, close: Decimal) {
        self.prev = self.relation(close);
    }

    /// Feed the next close; the cross it makes, if any.
    pub fn cross(&mut self, close: Decimal) -> Option<Cross> {
        let now = self.relation(close);
        match (std::mem::replace(&mut self.prev, now)?, now?) {
            (Ordering::Less, Ordering::Greater) => Some(Cross::Golden),
            (Ordering::Greater, Ordering::Less) => Some(Cross::Death),
            _ => None,
        }
    }

    /// Feed the next close; what to do holding `held` units (negative = short).
    pub fn decide(&mut self, close: Decimal, held: Decimal) -> Decision {
        match self.cross(close) {
            Some(Cross::Golden) => Decision {
                close_position: held < Decimal::ZERO,
                enter: Some(OrderSide::Buy),
            },
            Some(Cross::Death) => Decision {
                close_position: held > Decimal::ZERO,
                enter: self.short.then_some(OrderSide::Sell),
            },
            None => Decision::NONE,
        }
    }

    /// Add a close; the relation of fast to slow when both are defined.
    fn relation(&mut self, close: Decimal) -> Option<Ordering> {
        self.fast.push(close);
        self.slow.push(close);
        self.fast.compare(&self.slow)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn closes(units: &[i64]) -> Vec<Decimal> {
        units.iter().map(|&u| Decimal::from(u)).collect()
    }

    #[test]
    fn crosses_only_from_strict_to_strict() {
        // fast 2 / slow 3. t2: 10 = 10 (equal), t3: 9.5 < 9.67 (no cross: t2 was not strictly
        // above), t4: 8.5 < 9, t5: 10 > 9.67 golden, t6: 12.5 > 11, t7: 10 < 10.67 death.
        let mut s = SmaCrossSignal::new(2, 3, true).unwrap();
        let got: Vec<_> = closes(&[10, 10, 10, 9, 8, 12, 13, 7, 6, 6])
            .into_iter()
            .map(|c| s.cross(c))
            .collect();
        let mut want = vec![None; 10];
        want[5] = Some(Cross::Golden);
        want[7] = Some(Cross::Death);
        assert_eq!(got, want);
    }

    #[test]
    fn decisions_close_the_opposite_position_first() {
        let mut s = SmaCrossSignal::new(2, 3, true).unwrap();
        for c in closes(&[10, 10, 10, 9, 8]) {
            assert_eq!(s.decide(c, Decimal::ZERO), Decision::NONE);
        }
        let golden = s.decide(Decimal::from(12), Decimal::from(-5));
        assert_eq!(
            golden,
            Decision {
                close_position: true,
                enter: Some(OrderSide::Buy)
            }
        );
        s.decide(Decimal::from(13), Decimal::from(5));
        let death = s.decide(Decimal::from(7), Decimal::from(5));
        assert_eq!(
            death,
            Decision {
                close_position: true,
                enter: Some(OrderSide::Sell)
            }
        );
    }

    #[test]
    fn long_only_closes_on_a_death_cross_and_never_shorts() {
        let mut s = SmaCrossSignal::new(2, 3, false).unwrap();
        let mut last = Decision::NONE;
        for c in closes(&[10, 10, 10, 9, 8, 12, 13, 7]) {
            last = s.decide(c, Decimal::ONE);
        }
        assert_eq!(
            last,
            Decision {
                close_position: true,
                enter: None
            }
        );
    }

    #[test]
    fn warm_up_primes_without_deciding() {
        let mut primed = SmaCrossSignal::new(2, 3, true).unwrap();
        for c in closes(&[10, 10, 10, 9, 8]) {
            primed.prime(c);
        }
        assert_eq!(primed.cross(Decimal::from(12)), Some(Cross::Golden));
        assert_eq!(primed.warmup_bars(), 3);
    }

    #[test]
    fn fast_must_be_below_slow() {
        assert!(SmaCrossSignal::new(20, 20, true).is_err());
        assert!(SmaCrossSignal::new(0, 20, true).is_err());
    }
}
