//! A tiny offline driver for strategy tests: one symbol `ACME`, one tick per close, market
//! orders decided at tick `t` filled at the close of tick `t + 1` (percent orders sized as
//! whole units of the cash available), no costs. It does what the runner does around
//! `on_tick` — push the bar into the history, mark the account, apply fills first — without
//! a server.

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use shared_models::trading::{ExecutionReport, OrderRequest, OrderSide, OrderStatus, OrderUpdate};

use crate::strategy::tick::testing::closes_block;
use crate::strategy::{Account, Bar, History, StartContext, Strategy, StrategyContext};

/// What the strategy decided at one tick.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Decision {
    pub tick: u64,
    pub orders: Vec<OrderRequest>,
}

/// Feed `closes` (in cents) to `strategy`; returns every tick that carried orders, and the
/// final position.
pub(crate) fn drive(strategy: &mut dyn Strategy, closes: &[i64]) -> (Vec<Decision>, Decimal) {
    let symbols = vec!["ACME".to_string()];
    let block = closes_block(0, closes);
    let history = History::new(1, strategy.history_capacity().max(8));
    strategy.on_start(&StartContext {
        session_id: "s",
        symbols: &symbols,
        total_ticks: closes.len() as u64,
        timeframe: shared_models::Timeframe::D1,
        initial_capital: Decimal::from(10_000),
        history: &history,
    });
    let account = Account::new(symbols.clone(), Decimal::from(10_000));
    let mut ctx = StrategyContext::new(symbols, history, account);
    let mut decisions = Vec::new();
    let mut pending: Vec<OrderRequest> = Vec::new();
    for t in 0..closes.len() as u64 {
        let Some(tick) = block.view(t) else { break };
        let Some(close) = tick.close(0) else { break };
        for order in pending.drain(..) {
            fill(&mut ctx, &order, close);
            let fill = ExecutionReport {
                execution_id: format!("e{t}").into(),
                order_id: order.order_id.clone(),
                symbol: order.symbol.clone(),
                side: order.side,
                quantity: Decimal::ZERO,
                price: close,
                commission: Decimal::ZERO,
                slippage: Decimal::ZERO,
                sim_time: tick.time(),
            };
            strategy.on_fill(&fill, &mut ctx);
        }
        if let Some(candle) = tick.candle(0) {
            let time = tick.timestamp();
            ctx.history_mut().push(0, Bar { time, candle });
            ctx.account_mut().mark(0, candle.close);
        }
        strategy.on_tick(&tick, &mut ctx);
        let (mut orders, mut cancels) = (Vec::new(), Vec::new());
        ctx.take_decisions(&mut orders, &mut cancels);
        if !orders.is_empty() {
            decisions.push(Decision {
                tick: t,
                orders: orders.clone(),
            });
        }
        pending = orders;
    }
    (decisions, ctx.account().quantity(0))
}

/// Fill `order` at `price`: a quantity as given, a percentage as whole units of cash × p.
fn fill(ctx: &mut StrategyContext, order: &OrderRequest, price: Decimal) {
    let quantity = match (order.quantity, order.percent_of_equity) {
        (Some(q), _) => q,
        (None, Some(p)) => {
            let cash = ctx.account().cash().max(Decimal::ZERO);
            Decimal::from((cash * p / price).floor().to_i64().unwrap_or(0))
        }
        _ => Decimal::ZERO,
    };
    let report = ExecutionReport {
        execution_id: "e".into(),
        order_id: order.order_id.clone(),
        symbol: order.symbol.clone(),
        side: order.side,
        quantity,
        price,
        commission: Decimal::ZERO,
        slippage: Decimal::ZERO,
        sim_time: chrono::DateTime::UNIX_EPOCH,
    };
    let account = ctx.account_mut();
    account.apply_fill(&report);
    account.apply_update(&OrderUpdate {
        order_id: order.order_id.clone(),
        status: OrderStatus::Filled,
        reason: None,
        sim_time: chrono::DateTime::UNIX_EPOCH,
    });
}

/// The sides and sizes of a decision, for compact assertions: `("sell", Some(q), None)`.
pub(crate) fn summary(d: &Decision) -> Vec<(OrderSide, Option<Decimal>, Option<Decimal>)> {
    d.orders
        .iter()
        .map(|o| (o.side, o.quantity, o.percent_of_equity))
        .collect()
}
