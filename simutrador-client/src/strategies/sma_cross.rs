//! `sma-cross`: simple moving averages of each symbol's close. The rule itself is the
//! engine's [`SmaCrossSignal`]; this file turns its decisions into orders.
//!
//! A cross needs both averages defined on the current and the previous bar. On a bar where
//! fast was strictly below slow on the previous bar and is strictly above it now (golden
//! cross): close any short, then buy with `percent_of_equity = 1`. On the mirror (death
//! cross): close any long, then, with `short=true`, sell short with `percent_of_equity = 1`.
//! Both orders go in the same acknowledgement, in that order; decided at the bar's close,
//! filled at the next open. The averages are compared exactly (`Sma::compare`), and warm-up
//! bars prime them. On several symbols each has its own averages and "1" becomes an equal
//! share (`per_symbol`).

use simutrador_engine::signals::SmaCrossSignal;

use super::per_symbol::PerSymbol;
use super::{ParamInfo, Params, StrategyInfo};
use crate::strategy::{StartContext, Strategy, StrategyContext, TickView};

const PARAMS: &[ParamInfo] = &[
    ParamInfo {
        key: "fast",
        default: "10",
        help: "bars in the fast average (≥ 1, < slow)",
    },
    ParamInfo {
        key: "slow",
        default: "20",
        help: "bars in the slow average",
    },
    ParamInfo {
        key: "short",
        default: "true",
        help: "go short on a death cross (else only close the long)",
    },
];

/// The `sma-cross` entry of the registry.
pub const INFO: StrategyInfo = StrategyInfo {
    name: "sma-cross",
    summary: "long on a golden cross of SMA(fast) over SMA(slow), short (or flat) on a death cross",
    params: PARAMS,
};

/// The moving-average crossover: the engine's [`SmaCrossSignal`] on every symbol of the session.
#[derive(Debug, Clone)]
pub struct SmaCross {
    signals: PerSymbol<SmaCrossSignal>,
}

impl SmaCross {
    /// `fast` < `slow`, both ≥ 1.
    pub fn new(fast: usize, slow: usize, short: bool) -> Result<Self, String> {
        Ok(SmaCross {
            signals: PerSymbol::new(SmaCrossSignal::new(fast, slow, short)?),
        })
    }

    /// From `fast`, `slow`, `short`.
    pub fn from_params(p: &Params<'_>) -> Result<Self, String> {
        SmaCross::new(p.get("fast")?, p.get("slow")?, p.get("short")?)
    }
}

impl Strategy for SmaCross {
    /// The signal's indicator warm-up, less the history bars that prime it.
    fn indicator_warmup_bars(&self, history_bars: u32) -> Option<u32> {
        Some(self.signals.warmup_bars(history_bars))
    }

    fn on_start(&mut self, ctx: &StartContext<'_>) {
        self.signals.start(ctx);
    }

    fn on_tick(&mut self, tick: &TickView<'_>, ctx: &mut StrategyContext) {
        self.signals.on_tick(tick, ctx);
    }
}

#[cfg(test)]
mod tests {
    use super::super::harness::{drive, summary};
    use super::*;
    use rust_decimal::Decimal;
    use shared_models::trading::OrderSide::{Buy, Sell};

    fn cents(units: &[i64]) -> Vec<i64> {
        units.iter().map(|u| u * 100).collect()
    }

    #[test]
    fn crosses_exactly_where_defined() {
        // fast 2 / slow 3. t2: 10 = 10 (equal), t3: 9.5 < 9.67 (no cross: t2 was not
        // strictly above), t4: 8.5 < 9, t5: 10 > 9.67 golden, t6: 12.5 > 11,
        // t7: 10 < 10.67 death, t8, t9 below.
        let closes = cents(&[10, 10, 10, 9, 8, 12, 13, 7, 6, 6]);
        let mut s = SmaCross::new(2, 3, true).unwrap();
        let (d, position) = drive(&mut s, &closes);
        assert_eq!(d.iter().map(|d| d.tick).collect::<Vec<_>>(), [5, 7]);
        assert_eq!(summary(&d[0]), [(Buy, None, Some(Decimal::ONE))]);
        // Bought 769 at 13 (t6); the death cross closes them, then goes short.
        assert_eq!(
            summary(&d[1]),
            [
                (Sell, Some(Decimal::from(769)), None),
                (Sell, None, Some(Decimal::ONE))
            ]
        );
        assert!(position < Decimal::ZERO);

        let mut long_only = SmaCross::new(2, 3, false).unwrap();
        let (d, position) = drive(&mut long_only, &closes);
        assert_eq!(summary(&d[1]), [(Sell, Some(Decimal::from(769)), None)]);
        assert_eq!(position, Decimal::ZERO);
    }

    #[test]
    fn the_first_bar_with_both_averages_is_never_a_cross() {
        // t1: fast defined, slow not; t2: fast 12.5 > slow 11 — but no relation at t1.
        let mut s = SmaCross::new(2, 3, true).unwrap();
        let (d, _) = drive(&mut s, &cents(&[8, 12, 13, 14]));
        assert!(d.is_empty(), "{d:?}");
    }

    #[test]
    fn a_golden_cross_closes_the_short_first() {
        // Death at t3 (from flat: only the short), golden at t5: cover, then buy.
        let mut s = SmaCross::new(2, 3, true).unwrap();
        let (d, _) = drive(&mut s, &cents(&[10, 11, 12, 8, 9, 15, 16]));
        assert_eq!(d.iter().map(|d| d.tick).collect::<Vec<_>>(), [3, 5]);
        assert_eq!(summary(&d[0]), [(Sell, None, Some(Decimal::ONE))]);
        let golden = summary(&d[1]);
        assert_eq!(golden[0].0, Buy);
        assert!(golden[0].1.is_some_and(|q| q > Decimal::ZERO));
        assert_eq!(golden[1], (Buy, None, Some(Decimal::ONE)));
    }

    #[test]
    fn fast_must_be_below_slow() {
        assert!(SmaCross::new(20, 20, true).is_err());
        assert!(SmaCross::new(0, 20, true).is_err());
    }
}
