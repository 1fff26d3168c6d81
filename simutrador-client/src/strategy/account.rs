//! [`Account`]: the SDK's read-only view of the simulated account, kept from what the server
//! reports — `execution_report`s move cash and positions, `order_update`s maintain the set of
//! working orders, and an `account_snapshot` (when the server sends one) replaces both with
//! the server's exact books. Equity is marked at the latest close of every symbol.
//!
//! The working-order set is also what the runner uses to decide whether a `bar_settled` is
//! coming (rule 4 of the protocol): an order is working from the moment it is sent until it is
//! `filled`, `cancelled`, `expired` or `rejected`; bracket children (`ID:sl`, `ID:tp`) join it
//! with their `accepted` update.

use rust_decimal::Decimal;
use shared_models::trading::OrderUpdate;
use shared_models::trading::{AccountSnapshot, ExecutionReport, OrderSide, OrderStatus};
use std::collections::BTreeSet;

/// A net position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Position {
    /// Signed units (negative = short).
    pub quantity: Decimal,
    /// Average entry price (0 when flat).
    pub avg_price: Decimal,
}

/// Cash, positions and working orders, as of the last settled bar the strategy has seen.
#[derive(Debug, Clone)]
pub struct Account {
    symbols: Vec<String>,
    cash: Decimal,
    positions: Vec<Position>,
    last_close: Vec<Option<Decimal>>,
    working: BTreeSet<String>,
}

impl Account {
    /// A fresh account with `cash` and no position.
    pub(crate) fn new(symbols: Vec<String>, cash: Decimal) -> Self {
        let n = symbols.len();
        Account {
            symbols,
            cash,
            positions: vec![Position::default(); n],
            last_close: vec![None; n],
            working: BTreeSet::new(),
        }
    }

    /// Cash.
    pub fn cash(&self) -> Decimal {
        self.cash
    }

    /// Cash plus every position at its symbol's latest close.
    pub fn equity(&self) -> Decimal {
        let mut equity = self.cash;
        for (p, close) in self.positions.iter().zip(&self.last_close) {
            if let (false, Some(c)) = (p.quantity.is_zero(), close) {
                equity = equity.saturating_add(p.quantity.saturating_mul(*c));
            }
        }
        equity
    }

    /// The position in symbol `index` (flat when unknown).
    pub fn position(&self, index: usize) -> Position {
        self.positions.get(index).copied().unwrap_or_default()
    }

    /// Signed units held of symbol `index`.
    pub fn quantity(&self, index: usize) -> Decimal {
        self.position(index).quantity
    }

    /// The position in `symbol` by name.
    pub fn position_of(&self, symbol: &str) -> Position {
        self.index_of(symbol)
            .map(|i| self.position(i))
            .unwrap_or_default()
    }

    /// The latest close of symbol `index` seen so far.
    pub fn last_close(&self, index: usize) -> Option<Decimal> {
        self.last_close.get(index).copied().flatten()
    }

    /// Ids of the orders still working (sent and not yet filled, cancelled, expired or
    /// rejected), in id order.
    pub fn working_orders(&self) -> impl Iterator<Item = &str> + '_ {
        self.working.iter().map(String::as_str)
    }

    /// True when some order is working.
    pub fn has_working_orders(&self) -> bool {
        !self.working.is_empty()
    }

    /// True when order `id` is working.
    pub fn is_working(&self, id: &str) -> bool {
        self.working.contains(id)
    }

    pub(crate) fn index_of(&self, symbol: &str) -> Option<usize> {
        self.symbols.iter().position(|s| s == symbol)
    }

    pub(crate) fn mark(&mut self, index: usize, close: Decimal) {
        if let Some(slot) = self.last_close.get_mut(index) {
            *slot = Some(close);
        }
    }

    pub(crate) fn add_working(&mut self, id: &str) {
        self.working.insert(id.to_string());
    }

    /// Book a fill: cash moves by the traded value and the commission; the position by the
    /// signed quantity (average price kept when reducing, reset when crossing zero).
    pub(crate) fn apply_fill(&mut self, fill: &ExecutionReport) {
        let value = fill.quantity.saturating_mul(fill.price);
        let signed = match fill.side {
            OrderSide::Buy => {
                self.cash = self.cash.saturating_sub(value);
                fill.quantity
            }
            OrderSide::Sell => {
                self.cash = self.cash.saturating_add(value);
                -fill.quantity
            }
        };
        self.cash = self.cash.saturating_sub(fill.commission);
        let Some(i) = self.index_of(&fill.symbol) else {
            return;
        };
        let p = &mut self.positions[i];
        let old = p.quantity;
        let new = old.saturating_add(signed);
        if new.is_zero() {
            p.avg_price = Decimal::ZERO;
        } else if old.is_zero() || old.is_sign_negative() != new.is_sign_negative() {
            p.avg_price = fill.price;
        } else if new.abs() > old.abs() {
            let cost = old.abs().saturating_mul(p.avg_price).saturating_add(value);
            p.avg_price = cost.checked_div(new.abs()).unwrap_or(fill.price);
        }
        p.quantity = new;
    }

    /// Track an order's state.
    pub(crate) fn apply_update(&mut self, update: &OrderUpdate) {
        match update.status {
            OrderStatus::Accepted => {
                self.working.insert(update.order_id.to_string());
            }
            OrderStatus::Filled
            | OrderStatus::Cancelled
            | OrderStatus::Expired
            | OrderStatus::Rejected => {
                self.working.remove(update.order_id.as_str());
            }
        }
    }

    /// Take the server's books as they are.
    pub(crate) fn apply_snapshot(&mut self, snapshot: &AccountSnapshot) {
        self.cash = snapshot.cash;
        for p in &mut self.positions {
            *p = Position::default();
        }
        for view in &snapshot.positions {
            if let Some(i) = self.index_of(&view.symbol) {
                self.positions[i] = Position {
                    quantity: view.quantity,
                    avg_price: view.avg_price,
                };
            }
        }
        self.working = snapshot.open_orders.iter().cloned().collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn fill(side: OrderSide, qty: Decimal, price: Decimal, commission: Decimal) -> ExecutionReport {
        ExecutionReport {
            execution_id: "e".into(),
            order_id: "o".into(),
            symbol: "ACME".into(),
            side,
            quantity: qty,
            price,
            commission,
            slippage: Decimal::ZERO,
            sim_time: chrono::DateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn fills_move_cash_and_positions_like_the_engine() {
        let mut a = Account::new(vec!["ACME".into()], dec!(10000));
        a.apply_fill(&fill(OrderSide::Buy, dec!(10), dec!(100), dec!(1)));
        a.apply_fill(&fill(OrderSide::Buy, dec!(10), dec!(110), dec!(0)));
        assert_eq!(a.cash(), dec!(7899));
        assert_eq!(a.position(0).avg_price, dec!(105));
        a.mark(0, dec!(120));
        assert_eq!(a.equity(), dec!(7899) + dec!(2400));
        // Sell 30: closes 20 and opens a short of 10 at the fill price.
        a.apply_fill(&fill(OrderSide::Sell, dec!(30), dec!(120), dec!(0)));
        assert_eq!(
            a.position_of("ACME"),
            Position {
                quantity: dec!(-10),
                avg_price: dec!(120)
            }
        );
        assert_eq!(a.equity(), dec!(10299));
        a.apply_fill(&fill(OrderSide::Buy, dec!(10), dec!(100), dec!(0)));
        assert_eq!(a.position(0), Position::default());
    }

    #[test]
    fn order_updates_and_snapshots_maintain_the_working_set() {
        let mut a = Account::new(vec!["ACME".into()], dec!(1000));
        a.add_working("o1");
        let update = |id: &str, status| OrderUpdate {
            order_id: id.into(),
            status,
            reason: None,
            sim_time: chrono::DateTime::UNIX_EPOCH,
        };
        a.apply_update(&update("o1:sl", OrderStatus::Accepted));
        a.apply_update(&update("o1", OrderStatus::Filled));
        assert_eq!(a.working_orders().collect::<Vec<_>>(), ["o1:sl"]);
        a.apply_update(&update("o1:sl", OrderStatus::Cancelled));
        assert!(!a.has_working_orders());
        a.apply_snapshot(&AccountSnapshot {
            cash: dec!(5),
            equity: dec!(5),
            buying_power: dec!(5),
            positions: vec![],
            open_orders: vec!["x".into()],
        });
        assert!(a.is_working("x"));
        assert_eq!(a.cash(), dec!(5));
    }
}
