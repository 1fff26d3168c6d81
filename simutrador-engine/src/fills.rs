//! When a working order touches a bar, and at what price (docs/execution-model.md).
//!
//! [`touch`] answers with the *base* price (before slippage) or `None`; [`slipped`] moves a
//! base price against the trader for market and stop fills. Limit fills never slip.

use rust_decimal::Decimal;
use shared_models::trading::{OrderSide, OrderType};

use super::config::Candle;
use super::orders::WorkingOrder;

/// Where an order touched a bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Touch {
    /// Price before slippage.
    pub base: Decimal,
    /// Whether slippage applies (market and stop fills).
    pub slips: bool,
}

/// Whether `order` fills on `bar`, where `open` is the first price the order can see (the bar's
/// open, or the entry price for a bracket child born inside this bar). May mark a stop-limit as
/// triggered.
pub(crate) fn touch(order: &mut WorkingOrder, bar: &Candle, open: Decimal) -> Option<Touch> {
    let buy = order.side == OrderSide::Buy;
    match order.kind {
        OrderType::Market => Some(Touch {
            base: open,
            slips: true,
        }),
        OrderType::Limit => limit_touch(buy, order.limit?, bar, open),
        OrderType::Stop => {
            stop_touch(buy, order.stop?, bar, open).map(|base| Touch { base, slips: true })
        }
        OrderType::StopLimit => {
            let limit = order.limit?;
            if order.triggered {
                return limit_touch(buy, limit, bar, open);
            }
            let at = stop_touch(buy, order.stop?, bar, open)?;
            order.triggered = true;
            // Marketable at the trigger price: fill there. Otherwise the limit rests and works
            // from the next bar (the bar's range before the trigger cannot be used).
            let marketable = if buy { at <= limit } else { at >= limit };
            marketable.then_some(Touch {
                base: at,
                slips: false,
            })
        }
    }
}

/// Limit buy: low ≤ limit → min(open, limit); limit sell: high ≥ limit → max(open, limit).
fn limit_touch(buy: bool, limit: Decimal, bar: &Candle, open: Decimal) -> Option<Touch> {
    let base = if buy {
        (bar.low <= limit).then(|| open.min(limit))?
    } else {
        (bar.high >= limit).then(|| open.max(limit))?
    };
    Some(Touch { base, slips: false })
}

/// Stop buy: high ≥ stop → max(open, stop); stop sell: low ≤ stop → min(open, stop).
fn stop_touch(buy: bool, stop: Decimal, bar: &Candle, open: Decimal) -> Option<Decimal> {
    if buy {
        (bar.high >= stop).then(|| open.max(stop))
    } else {
        (bar.low <= stop).then(|| open.min(stop))
    }
}

/// Slippage factors, computed once from `slippage_bps`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Slippage {
    /// 1 + bps/10000 (buys).
    up: Decimal,
    /// 1 − bps/10000 (sells).
    down: Decimal,
    zero: bool,
}

impl Slippage {
    /// From basis points (validated 0 ≤ bps < 10000).
    pub fn new(bps: Decimal) -> Self {
        let f = bps / Decimal::from(10_000);
        Slippage {
            up: Decimal::ONE + f,
            down: Decimal::ONE - f,
            zero: bps.is_zero(),
        }
    }

    /// The fill price and the slippage per unit, or `None` on overflow.
    pub fn slipped(&self, side: OrderSide, touch: Touch) -> Option<(Decimal, Decimal)> {
        if !touch.slips || self.zero {
            return Some((touch.base, Decimal::ZERO));
        }
        let factor = if side == OrderSide::Buy {
            self.up
        } else {
            self.down
        };
        let price = touch.base.checked_mul(factor)?;
        Some((price, (price - touch.base).abs()))
    }
}
