//! [`StrategyContext`]: what `on_tick` and `on_fill` may use besides the tick — the history and
//! the account (read-only), and the order helpers. Orders and cancels are queued and go out in
//! the acknowledgement of the tick being decided (decided at its close, fillable from the next
//! bar on), in the order they were submitted; cancels are applied first by the server.

use rust_decimal::Decimal;
use shared_models::trading::{CompactString, OrderRequest, OrderSide, OrderType, TimeInForce};

use super::account::Account;
use super::history::History;

/// The strategy's window onto the run.
#[derive(Debug)]
pub struct StrategyContext {
    history: History,
    account: Account,
    symbols: Vec<String>,
    orders: Vec<OrderRequest>,
    cancels: Vec<String>,
    next_id: u64,
}

impl StrategyContext {
    pub(crate) fn new(symbols: Vec<String>, history: History, account: Account) -> Self {
        StrategyContext {
            history,
            account,
            symbols,
            orders: Vec::new(),
            cancels: Vec::new(),
            next_id: 1,
        }
    }

    /// Bars so far (warm-up bars, then every tick up to and including the current one).
    pub fn history(&self) -> &History {
        &self.history
    }

    /// Cash, equity, positions and working orders after the fills of the current bar.
    pub fn account(&self) -> &Account {
        &self.account
    }

    /// The session's symbols, in index order.
    pub fn symbols(&self) -> &[String] {
        &self.symbols
    }

    /// The index of `symbol`.
    pub fn symbol_index(&self, symbol: &str) -> Option<usize> {
        self.symbols.iter().position(|s| s == symbol)
    }

    /// A fresh order id (`s1`, `s2`, …), unique within the run.
    pub fn new_order_id(&mut self) -> CompactString {
        let id = compact_str::format_compact!("s{}", self.next_id);
        self.next_id += 1;
        id
    }

    /// Queue `order` for this tick's acknowledgement. An empty `order_id` gets a fresh one;
    /// returns the id.
    pub fn submit(&mut self, mut order: OrderRequest) -> CompactString {
        if order.order_id.is_empty() {
            order.order_id = self.new_order_id();
        }
        let id = order.order_id.clone();
        self.orders.push(order);
        id
    }

    /// A market order for `symbol` sized at fill time as `percent` (0 < p ≤ 1) of the cash
    /// available.
    pub fn buy_percent(&mut self, symbol: &str, percent: Decimal) -> CompactString {
        self.percent_order(symbol, OrderSide::Buy, percent)
    }

    /// The selling mirror of [`StrategyContext::buy_percent`] (goes short when flat and the
    /// session allows it).
    pub fn sell_percent(&mut self, symbol: &str, percent: Decimal) -> CompactString {
        self.percent_order(symbol, OrderSide::Sell, percent)
    }

    /// A market order of `quantity` units.
    pub fn market(&mut self, symbol: &str, side: OrderSide, quantity: Decimal) -> CompactString {
        let mut order = market_order(symbol, side);
        order.quantity = Some(quantity);
        self.submit(order)
    }

    /// A market order that flattens the position in `symbol` as known now (after the current
    /// bar's fills); `None` when flat.
    pub fn close_position(&mut self, symbol: &str) -> Option<CompactString> {
        let held = self.account.position_of(symbol).quantity;
        if held.is_zero() {
            return None;
        }
        let side = if held.is_sign_positive() {
            OrderSide::Sell
        } else {
            OrderSide::Buy
        };
        Some(self.market(symbol, side, held.abs()))
    }

    /// Cancel a working order (applied before this tick's new orders).
    pub fn cancel(&mut self, order_id: &str) {
        self.cancels.push(order_id.to_string());
    }

    /// Orders queued for this tick so far.
    pub fn pending_orders(&self) -> &[OrderRequest] {
        &self.orders
    }

    /// Cancels queued for this tick so far.
    pub fn pending_cancels(&self) -> &[String] {
        &self.cancels
    }

    fn percent_order(&mut self, symbol: &str, side: OrderSide, percent: Decimal) -> CompactString {
        let mut order = market_order(symbol, side);
        order.percent_of_equity = Some(percent);
        self.submit(order)
    }

    pub(crate) fn history_mut(&mut self) -> &mut History {
        &mut self.history
    }

    pub(crate) fn account_mut(&mut self) -> &mut Account {
        &mut self.account
    }

    /// True when this tick queued orders or cancels.
    pub(crate) fn has_decisions(&self) -> bool {
        !self.orders.is_empty() || !self.cancels.is_empty()
    }

    /// Move the queued decisions out (into buffers the caller reuses), marking the new
    /// orders as working.
    pub(crate) fn take_decisions(
        &mut self,
        orders: &mut Vec<OrderRequest>,
        cancels: &mut Vec<String>,
    ) {
        for o in &self.orders {
            self.account.add_working(&o.order_id);
        }
        orders.append(&mut self.orders);
        cancels.append(&mut self.cancels);
    }
}

/// A bare market order (no id yet: [`StrategyContext::submit`] gives one).
pub fn market_order(symbol: &str, side: OrderSide) -> OrderRequest {
    OrderRequest {
        order_id: CompactString::default(),
        symbol: symbol.into(),
        side,
        order_type: OrderType::Market,
        quantity: None,
        percent_of_equity: None,
        limit_price: None,
        stop_price: None,
        time_in_force: TimeInForce::Gtc,
        stop_loss: None,
        take_profit: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;
    use shared_models::trading::ExecutionReport;

    #[test]
    fn helpers_queue_orders_with_unique_ids_and_track_them_as_working() {
        let mut ctx = StrategyContext::new(
            vec!["ACME".into()],
            History::new(1, 4),
            Account::new(vec!["ACME".into()], dec!(1000)),
        );
        assert_eq!(ctx.close_position("ACME"), None);
        ctx.account_mut().apply_fill(&ExecutionReport {
            execution_id: "e1".into(),
            order_id: "x".into(),
            symbol: "ACME".into(),
            side: OrderSide::Sell,
            quantity: dec!(3),
            price: dec!(10),
            commission: dec!(0),
            slippage: dec!(0),
            sim_time: chrono::DateTime::UNIX_EPOCH,
        });
        ctx.cancel("old");
        let a = ctx.close_position("ACME").unwrap();
        let b = ctx.buy_percent("ACME", Decimal::ONE);
        assert_eq!((a.as_str(), b.as_str()), ("s1", "s2"));
        let mut custom = market_order("ACME", OrderSide::Sell);
        custom.order_id = "mine".into();
        assert_eq!(ctx.submit(custom), "mine");
        assert!(ctx.has_decisions());
        assert_eq!(ctx.pending_orders()[0].quantity, Some(dec!(3)));
        assert_eq!(ctx.pending_orders()[0].side, OrderSide::Buy);

        let (mut orders, mut cancels) = (Vec::new(), Vec::new());
        ctx.take_decisions(&mut orders, &mut cancels);
        assert_eq!(orders.len(), 3);
        assert_eq!(cancels, ["old"]);
        assert!(!ctx.has_decisions());
        assert!(ctx.account().is_working("s2") && ctx.account().is_working("mine"));
    }
}
