//! `buy-and-hold`: buy with 100 % of the cash at the first tick where the first symbol has a
//! bar (filled at the next open), then hold to the end.

use rust_decimal::Decimal;

use super::{ParamInfo, StrategyInfo};
use crate::strategy::{Strategy, StrategyContext, TickView};

/// The `buy-and-hold` entry of the registry.
pub const INFO: StrategyInfo = StrategyInfo {
    name: "buy-and-hold",
    summary: "buy with 100% of equity at the first opportunity, hold to the end",
    params: &[] as &[ParamInfo],
};

/// Buys once, never sells.
#[derive(Debug, Clone, Default)]
pub struct BuyAndHold {
    bought: bool,
}

impl Strategy for BuyAndHold {
    fn on_tick(&mut self, tick: &TickView<'_>, ctx: &mut StrategyContext) {
        if self.bought || !tick.has_bar(0) {
            return;
        }
        let Some(symbol) = ctx.symbols().first().cloned() else {
            return;
        };
        ctx.buy_percent(&symbol, Decimal::ONE);
        self.bought = true;
    }
}

#[cfg(test)]
mod tests {
    use super::super::harness::{drive, summary};
    use super::*;
    use shared_models::trading::OrderSide;

    #[test]
    fn buys_once_at_the_first_tick() {
        let mut s = BuyAndHold::default();
        let (decisions, position) = drive(&mut s, &[10_000, 9_000, 12_000, 11_000]);
        assert_eq!(decisions.len(), 1);
        assert_eq!(decisions[0].tick, 0);
        assert_eq!(
            summary(&decisions[0]),
            [(OrderSide::Buy, None, Some(Decimal::ONE))]
        );
        // 10 000 cash at the fill price 90 → 111 units.
        assert_eq!(position, Decimal::from(111));
    }
}
