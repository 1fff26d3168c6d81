//! `rsi-reversion`: Wilder's RSI of the first symbol's close ([`Rsi`]). When the RSI crosses
//! up through `lower` (previous value < `lower` ≤ current) and the strategy is flat, buy with
//! `percent_of_equity = 1`; when it crosses up through `upper` (previous < `upper` ≤ current)
//! and it is long, close the long. Never short. Warm-up bars prime the RSI.

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use super::{ParamInfo, Params, StrategyInfo};
use crate::strategy::{StartContext, Strategy, StrategyContext, TickView};
use simutrador_engine::indicators::Rsi;

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

/// Mean reversion on the RSI.
#[derive(Debug, Clone)]
pub struct RsiReversion {
    rsi: Rsi,
    lower: f64,
    upper: f64,
    prev: Option<f64>,
}

impl RsiReversion {
    /// `period` ≥ 1 and 0 ≤ `lower` < `upper` ≤ 100.
    pub fn new(period: usize, lower: f64, upper: f64) -> Result<Self, String> {
        if period == 0 {
            return Err("rsi-reversion: period must be at least 1".into());
        }
        if !(0.0..=100.0).contains(&lower) || !(0.0..=100.0).contains(&upper) || lower >= upper {
            return Err(format!(
                "rsi-reversion: need 0 <= lower < upper <= 100 (got lower={lower}, upper={upper})"
            ));
        }
        Ok(RsiReversion {
            rsi: Rsi::new(period),
            lower,
            upper,
            prev: None,
        })
    }

    /// From `period`, `lower`, `upper`.
    pub fn from_params(p: &Params<'_>) -> Result<Self, String> {
        RsiReversion::new(p.get("period")?, p.get("lower")?, p.get("upper")?)
    }

    fn update(&mut self, close: Decimal) -> Option<f64> {
        self.rsi.update(close.to_f64()?)
    }
}

impl Strategy for RsiReversion {
    fn on_start(&mut self, ctx: &StartContext<'_>) {
        for bar in ctx.history.iter(0) {
            self.prev = self.update(bar.candle.close);
        }
    }

    fn on_tick(&mut self, tick: &TickView<'_>, ctx: &mut StrategyContext) {
        let Some(close) = tick.close(0) else { return };
        let now = self.update(close);
        let prev = std::mem::replace(&mut self.prev, now);
        let (Some(prev), Some(now)) = (prev, now) else {
            return;
        };
        let held = ctx.account().quantity(0);
        let buy = prev < self.lower && now >= self.lower && held.is_zero();
        let exit = prev < self.upper && now >= self.upper && held > Decimal::ZERO;
        // The symbol is looked up (and copied) only when trading.
        let Some(symbol) = ctx.symbols().first().filter(|_| buy || exit).cloned() else {
            return;
        };
        if buy {
            ctx.buy_percent(&symbol, Decimal::ONE);
        } else {
            ctx.close_position(&symbol);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::harness::{drive, summary};
    use super::*;
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
