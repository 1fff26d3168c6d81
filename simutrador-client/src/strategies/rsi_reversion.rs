//! `rsi-reversion`: Wilder's RSI of each symbol's close (the rule is the engine's
//! [`RsiReversionSignal`]; this file turns its decisions into orders). When the RSI crosses
//! up through `lower` (previous value < `lower` ≤ current) and the strategy is flat, buy with
//! `percent_of_equity = 1`; when it crosses up through `upper` (previous < `upper` ≤ current)
//! and it is long, close the long. Never short. Warm-up bars prime the RSI.
//! On several symbols each has its own RSI and "1" becomes an equal share (`per_symbol`).

use simutrador_engine::signals::RsiReversionSignal;

use super::per_symbol::PerSymbol;
use super::{ParamInfo, Params, StrategyInfo};
use crate::strategy::{StartContext, Strategy, StrategyContext, TickView};

const PARAMS: &[ParamInfo] = &[
    ParamInfo {
        key: "period",
        default: "14",
        help: "RSI period (≥ 1)",
    },
    ParamInfo {
        key: "lower",
        default: "30",
        help: "buy when the RSI crosses up through this level",
    },
    ParamInfo {
        key: "upper",
        default: "70",
        help: "close the long when the RSI crosses up through this level",
    },
];

/// The `rsi-reversion` entry of the registry.
pub const INFO: StrategyInfo = StrategyInfo {
    name: "rsi-reversion",
    summary: "long when the RSI crosses up through `lower`, flat when it crosses `upper`",
    params: PARAMS,
};

/// Mean reversion on the RSI: the engine's [`RsiReversionSignal`] on every symbol of the session.
#[derive(Debug, Clone)]
pub struct RsiReversion {
    signals: PerSymbol<RsiReversionSignal>,
}

impl RsiReversion {
    /// `period` ≥ 1 and `0 ≤ lower < upper ≤ 100`.
    pub fn new(period: usize, lower: f64, upper: f64) -> Result<Self, String> {
        Ok(RsiReversion {
            signals: PerSymbol::new(RsiReversionSignal::new(period, lower, upper)?),
        })
    }

    /// From `period`, `lower`, `upper`.
    pub fn from_params(p: &Params<'_>) -> Result<Self, String> {
        RsiReversion::new(p.get("period")?, p.get("lower")?, p.get("upper")?)
    }
}

impl Strategy for RsiReversion {
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

    #[test]
    fn buys_on_the_way_up_through_lower_and_exits_through_upper() {
        // period 2, closes 10 9 8 9 11 13:
        // t2: changes −1 −1 → RSI 0; t3: +1 → G 0.5, L 0.5 → 50 (crosses 30: buy);
        // t4: +2 → G 1.25, L 0.25 → 83.3 (crosses 70, but the buy is not filled yet: the
        // harness fills at t4's close, so the position exists at t4 → close);
        let closes = [1000, 900, 800, 900, 1100, 1300];
        let mut s = RsiReversion::new(2, 30.0, 70.0).unwrap();
        let (d, position) = drive(&mut s, &closes);
        assert_eq!(d.iter().map(|d| d.tick).collect::<Vec<_>>(), [3, 4]);
        assert_eq!(summary(&d[0]), [(Buy, None, Some(Decimal::ONE))]);
        assert_eq!(summary(&d[1])[0].0, Sell);
        assert_eq!(position, Decimal::ZERO);
    }

    #[test]
    fn levels_are_checked() {
        assert!(RsiReversion::new(14, 70.0, 30.0).is_err());
        assert!(RsiReversion::new(0, 30.0, 70.0).is_err());
        assert!(RsiReversion::new(14, -1.0, 70.0).is_err());
    }
}
