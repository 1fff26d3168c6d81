//! Session risk rules the engine enforces bar by bar, so that a client predicting fills with
//! its own copy of the engine sees exactly what the daemon does:
//!
//! - a **loss limit**: at the close of the first bar where equity has fallen from the initial
//!   capital by the limit or more, every working order is cancelled and every position is
//!   closed at that bar's close (booked as trades, see [`Engine::flatten`]); the engine then
//!   ignores further bars and orders ([`Engine::loss_limit_hit`]);
//! - a **volatility halt**: when a symbol's close moves more than `threshold_pct` from its
//!   previous close, new orders in that symbol decided on that bar and the next `bars − 1`
//!   bars are rejected with `TRADING_HALTED`; working orders are untouched.

use rust_decimal::Decimal;
pub use shared_models::engine_config::{HaltEvent, HaltRule, RiskRules};

use super::config::{BarEvents, Candle};
use super::engine::Engine;
use super::orders::WorkingOrder;
use super::rejection::{RejectCode, Rejection};

/// The engine's risk state.
#[derive(Debug, Clone, Default)]
pub(super) struct RiskState {
    rules: RiskRules,
    prev_close: Vec<Option<Decimal>>,
    /// Per symbol: orders are rejected while `bars settled <= halted_through`.
    halted_through: Vec<u64>,
    halts: Vec<HaltEvent>,
    stopped: bool,
}

impl Engine {
    /// Enforce `rules` from the next bar on (call before the first `settle`).
    pub fn set_risk(&mut self, rules: RiskRules) {
        let n = self.config.symbols.len();
        self.risk = (!rules.is_empty()).then(|| {
            Box::new(RiskState {
                rules,
                prev_close: vec![None; n],
                halted_through: vec![0; n],
                ..RiskState::default()
            })
        });
    }

    /// The rules in force.
    pub fn risk_rules(&self) -> RiskRules {
        self.risk.as_ref().map(|r| r.rules).unwrap_or_default()
    }

    /// True once the loss limit stopped the run (at the bar where it was reached).
    pub fn loss_limit_hit(&self) -> bool {
        self.risk.as_ref().is_some_and(|r| r.stopped)
    }

    /// Halts since the last call, oldest first.
    pub fn take_halts(&mut self) -> Vec<HaltEvent> {
        self.risk
            .as_mut()
            .map(|r| std::mem::take(&mut r.halts))
            .unwrap_or_default()
    }

    /// `Err` when `order`'s symbol is halted now (`TRADING_HALTED`), or the loss limit
    /// stopped the run (`INVALID_ORDER`).
    pub(super) fn risk_check(&self, order: &WorkingOrder) -> Result<(), Rejection> {
        let Some(r) = self.risk.as_ref() else {
            return Ok(());
        };
        if r.stopped {
            return Err(Rejection::invalid_order(
                "the session stopped at its loss limit; no new orders are taken",
            ));
        }
        let through = r.halted_through.get(order.symbol).copied().unwrap_or(0);
        if through > 0 && (self.bars() as u64) <= through {
            let symbol = &self.config.symbols[order.symbol].symbol;
            return Err(Rejection::new(
                RejectCode::TradingHalted,
                format!(
                    "{symbol} is halted by the volatility circuit breaker through bar {through}; retry after it"
                ),
            ));
        }
        Ok(())
    }

    /// After a bar is settled and marked: update halts, then check the loss limit.
    pub(super) fn apply_risk(
        &mut self,
        time: i64,
        candles: &[Option<Candle>],
        out: &mut BarEvents,
    ) {
        let bars = self.bars() as u64;
        let Some(r) = self.risk.as_mut() else { return };
        if let Some(rule) = r.rules.halt {
            for (i, c) in candles.iter().enumerate() {
                let Some(c) = c else { continue };
                let Some(slot) = r.prev_close.get_mut(i) else {
                    continue;
                };
                if let Some(prev) = slot.replace(c.close)
                    && !prev.is_zero()
                {
                    let move_pct = (c.close - prev) / prev * Decimal::ONE_HUNDRED;
                    if move_pct.abs() > rule.threshold_pct {
                        let through = bars - 1 + u64::from(rule.bars.max(1));
                        r.halted_through[i] = through;
                        r.halts.push(HaltEvent {
                            symbol: self.config.symbols[i].symbol.clone(),
                            time,
                            move_pct: move_pct.round_dp(4),
                            halted_through_bar: through,
                        });
                    }
                }
            }
        }
        if let Some(limit) = r.rules.loss_limit
            && !r.stopped
            && self.equity <= self.config.initial_capital - limit
        {
            r.stopped = true;
            self.flatten(time, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::*;
    use rust_decimal_macros::dec;
    use shared_models::trading::{OrderSide, OrderStatus};

    #[test]
    fn the_loss_limit_closes_everything_at_the_close_of_the_bar_that_breaches_it() {
        let mut e = Engine::new(config()).unwrap();
        e.set_risk(RiskRules {
            loss_limit: Some(dec!(1000)),
            halt: None,
        });
        let mut ev = BarEvents::default();
        e.settle(T0, &[Some(flat(dec!(100)))], &mut ev);
        e.submit(
            T0,
            vec![market("b", OrderSide::Buy, dec!(100))],
            &[],
            &mut ev,
        );
        // Bought 100 at 100; close 95: -500, within the limit.
        e.settle(
            T0 + DAY,
            &[Some(bar(dec!(100), dec!(100), dec!(95), dec!(95)))],
            &mut ev,
        );
        assert!(!e.loss_limit_hit());
        ev.clear();
        // Close 89.9: equity 8 990 ≤ 9 000 → flattened at 89.9 on this bar.
        let breach = bar(dec!(95), dec!(95), dec!(89), dec!(89.9));
        e.settle(T0 + 2 * DAY, &[Some(breach)], &mut ev);
        assert!(e.loss_limit_hit());
        assert_eq!(ev.executions.len(), 1);
        assert_eq!(ev.executions[0].order_id, "flatten:AAA");
        assert_eq!(ev.executions[0].price, dec!(89.9));
        assert_eq!(e.trades().len(), 1);
        assert_eq!(e.trades()[0].exit_price, dec!(89.9));
        assert_eq!(e.equity(), dec!(8990));
        assert_eq!(e.position(0), Decimal::ZERO);
        // Later bars and orders are ignored.
        e.settle(T0 + 3 * DAY, &[Some(flat(dec!(200)))], &mut ev);
        assert_eq!(e.bars(), 3);
        ev.clear();
        e.submit(
            T0 + 3 * DAY,
            vec![market("c", OrderSide::Buy, dec!(1))],
            &[],
            &mut ev,
        );
        assert_eq!(ev.order_updates[0].status, OrderStatus::Rejected);
        let reason = ev.order_updates[0].reason.as_deref().unwrap();
        assert_eq!(
            Rejection::parse(reason),
            Some(Rejection::invalid_order(
                "the session stopped at its loss limit; no new orders are taken"
            ))
        );
    }

    #[test]
    fn a_big_move_halts_new_orders_in_that_symbol_for_halt_bars() {
        let mut e = Engine::new(config()).unwrap();
        e.set_risk(RiskRules {
            loss_limit: None,
            halt: Some(HaltRule {
                threshold_pct: dec!(10),
                bars: 2,
            }),
        });
        let mut ev = BarEvents::default();
        e.settle(T0, &[Some(flat(dec!(100)))], &mut ev);
        e.settle(
            T0 + DAY,
            &[Some(bar(dec!(100), dec!(120), dec!(100), dec!(115)))],
            &mut ev,
        );
        let halts = e.take_halts();
        assert_eq!(halts.len(), 1);
        assert_eq!(halts[0].move_pct, dec!(15));
        assert_eq!(halts[0].halted_through_bar, 3);
        for (k, id) in ["a", "b", "c"].into_iter().enumerate() {
            let t = T0 + (k as i64 + 1) * DAY;
            if k > 0 {
                e.settle(t, &[Some(flat(dec!(115)))], &mut ev);
            }
            e.submit(t, vec![market(id, OrderSide::Buy, dec!(1))], &[], &mut ev);
        }
        let status: Vec<_> = ev
            .order_updates
            .iter()
            .filter(|u| u.status != OrderStatus::Filled)
            .map(|u| (u.order_id.as_str(), u.status))
            .collect();
        assert_eq!(
            status,
            vec![
                ("a", OrderStatus::Rejected),
                ("b", OrderStatus::Rejected),
                ("c", OrderStatus::Accepted)
            ]
        );
        let reason = ev.order_updates[0].reason.as_deref().unwrap();
        assert_eq!(
            reason,
            "TRADING_HALTED: AAA is halted by the volatility circuit breaker through bar 3; \
             retry after it"
        );
        let why = Rejection::parse(reason).unwrap();
        assert_eq!(why.code, RejectCode::TradingHalted);
        // A move within the threshold halts nothing.
        e.settle(T0 + 4 * DAY, &[Some(flat(dec!(120)))], &mut ev);
        assert!(e.take_halts().is_empty());
    }
}
