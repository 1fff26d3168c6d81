//! `buy-and-hold`: buy every symbol at the first tick where it has a bar (filled at the next
//! open), then hold to the end. One symbol gets 100 % of the cash; several get an equal share
//! each (`per_symbol`).

use shared_models::trading::OrderSide;
use simutrador_engine::signals::Decision;

use super::per_symbol::act;
use super::{ParamInfo, StrategyInfo};
use crate::strategy::{Strategy, StrategyContext, TickView};

/// The `buy-and-hold` entry of the registry.
pub const INFO: StrategyInfo = StrategyInfo {
    name: "buy-and-hold",
    summary: "buy with 100% of equity at the first opportunity, hold to the end",
    params: &[] as &[ParamInfo],
};

/// Buys each symbol once, never sells.
#[derive(Debug, Clone, Default)]
pub struct BuyAndHold {
    /// `bought[i]`: symbol `i` has been bought.
    bought: Vec<bool>,
    decisions: Vec<Decision>,
    done: bool,
}

impl Strategy for BuyAndHold {
    fn on_tick(&mut self, tick: &TickView<'_>, ctx: &mut StrategyContext) {
        if self.done {
            return;
        }
        let n = ctx.symbols().len();
        if self.bought.len() != n {
            self.bought = vec![false; n];
            self.decisions = vec![Decision::NONE; n];
        }
        let mut trades = false;
        for (i, (bought, decision)) in self
            .bought
            .iter_mut()
            .zip(self.decisions.iter_mut())
            .enumerate()
        {
            let buy = !*bought && tick.has_bar(i);
            *bought |= buy;
            trades |= buy;
            *decision = Decision {
                close_position: false,
                enter: buy.then_some(OrderSide::Buy),
            };
        }
        if trades {
            act(&self.decisions, ctx);
        }
        self.done = self.bought.iter().all(|b| *b);
    }
}

#[cfg(test)]
mod tests {
    use super::super::harness::{drive, summary};
    use super::*;
    use rust_decimal::Decimal;

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
