//! Helpers shared by the simulation tests: configs, candles, orders and a tiny driver.

use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use shared_models::AssetClass;
use shared_models::trading::{
    OrderRequest, OrderSide, OrderStatus, OrderType, OrderUpdate, TimeInForce,
};

use super::{BarEvents, Candle, Engine, EngineConfig, RejectCode, Rejection, SymbolSpec};

/// 2024-01-01 00:00:00 UTC, a Monday.
pub const T0: i64 = 1_704_067_200;

/// 00:00 UTC on the first day of each month of 2021 (month spacings 31 28 31 30 31 30 31 31
/// 30 31 30 days).
pub const MONTH_STARTS_2021: [i64; 12] = [
    1_609_459_200,
    1_612_137_600,
    1_614_556_800,
    1_617_235_200,
    1_619_827_200,
    1_622_505_600,
    1_625_097_600,
    1_627_776_000,
    1_630_454_400,
    1_633_046_400,
    1_635_724_800,
    1_638_316_800,
];
/// One day in seconds.
pub const DAY: i64 = 86_400;

/// One equity symbol "AAA" (lot 1), capital 10 000, no costs.
pub fn config() -> EngineConfig {
    EngineConfig::new(dec!(10000), vec![spec("AAA", dec!(1))])
}

/// A symbol spec.
pub fn spec(symbol: &str, lot: Decimal) -> SymbolSpec {
    let asset_class = if lot == Decimal::ONE {
        AssetClass::Equity
    } else {
        AssetClass::Crypto
    };
    SymbolSpec {
        symbol: symbol.into(),
        asset_class,
        lot_step: lot,
    }
}

/// A candle.
pub fn bar(open: Decimal, high: Decimal, low: Decimal, close: Decimal) -> Candle {
    Candle {
        open,
        high,
        low,
        close,
        volume: dec!(1000),
    }
}

/// A flat candle at `p`.
pub fn flat(p: Decimal) -> Candle {
    bar(p, p, p, p)
}

/// A market order for `qty` units.
pub fn market(id: &str, side: OrderSide, qty: Decimal) -> OrderRequest {
    OrderRequest {
        order_id: id.into(),
        symbol: "AAA".into(),
        side,
        order_type: OrderType::Market,
        quantity: Some(qty),
        percent_of_equity: None,
        limit_price: None,
        stop_price: None,
        time_in_force: TimeInForce::Gtc,
        stop_loss: None,
        take_profit: None,
    }
}

/// A market order for a fraction of buying power.
pub fn market_pct(id: &str, side: OrderSide, p: Decimal) -> OrderRequest {
    OrderRequest {
        quantity: None,
        percent_of_equity: Some(p),
        ..market(id, side, dec!(1))
    }
}

/// A limit order.
pub fn limit(id: &str, side: OrderSide, qty: Decimal, price: Decimal) -> OrderRequest {
    OrderRequest {
        order_type: OrderType::Limit,
        limit_price: Some(price),
        ..market(id, side, qty)
    }
}

/// A stop order.
pub fn stop(id: &str, side: OrderSide, qty: Decimal, price: Decimal) -> OrderRequest {
    OrderRequest {
        order_type: OrderType::Stop,
        stop_price: Some(price),
        ..market(id, side, qty)
    }
}

/// An engine plus an event buffer and a clock of one bar a day from [`T0`].
pub struct Sim {
    pub engine: Engine,
    pub events: BarEvents,
    pub time: i64,
    pub step: i64,
}

impl Sim {
    /// A simulation with daily bars.
    pub fn new(config: EngineConfig) -> Self {
        Sim::with_step(config, DAY)
    }

    /// A simulation with bars `step` seconds apart.
    pub fn with_step(config: EngineConfig, step: i64) -> Self {
        let engine = Engine::new(config).unwrap_or_else(|e| panic!("config: {e}"));
        Sim {
            engine,
            events: BarEvents::default(),
            time: T0 - step,
            step,
        }
    }

    /// Settles the next bar of the single symbol.
    pub fn bar(&mut self, candle: Candle) {
        self.time += self.step;
        self.engine
            .settle(self.time, &[Some(candle)], &mut self.events);
    }

    /// Submits orders decided at the last settled bar.
    pub fn submit(&mut self, orders: Vec<OrderRequest>) {
        self.engine.submit(self.time, orders, &[], &mut self.events);
    }

    /// Cancels, decided at the last settled bar.
    pub fn cancel(&mut self, ids: &[&str]) {
        let ids: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
        self.engine
            .submit(self.time, Vec::new(), &ids, &mut self.events);
    }

    /// The last update of `id`.
    pub fn update(&self, id: &str) -> Option<&OrderUpdate> {
        self.events
            .order_updates
            .iter()
            .rev()
            .find(|u| u.order_id == id)
    }

    /// The last status of `id`.
    pub fn status(&self, id: &str) -> Option<OrderStatus> {
        self.update(id).map(|u| u.status)
    }

    /// The reason of the last update of `id` ("" when none).
    pub fn reason(&self, id: &str) -> String {
        self.update(id)
            .and_then(|u| u.reason.clone())
            .unwrap_or_default()
    }

    /// The rejection of `id`, read back from the reason of its last update (`None` unless
    /// that update is a rejection in the `"CODE: message"` form).
    pub fn rejection(&self, id: &str) -> Option<Rejection> {
        self.update(id)
            .filter(|u| u.status == OrderStatus::Rejected)
            .and_then(|u| Rejection::parse(u.reason.as_deref()?))
    }

    /// The code of the rejection of `id`.
    pub fn reject_code(&self, id: &str) -> Option<RejectCode> {
        self.rejection(id).map(|r| r.code)
    }

    /// Fill prices of `id`, in order.
    pub fn fills(&self, id: &str) -> Vec<(Decimal, Decimal)> {
        self.events
            .executions
            .iter()
            .filter(|e| e.order_id == id)
            .map(|e| (e.quantity, e.price))
            .collect()
    }

    /// Net position in the (first) symbol.
    pub fn position(&self) -> Decimal {
        self.engine
            .account()
            .positions
            .first()
            .map_or(Decimal::ZERO, |p| p.quantity)
    }
}
