//! Working orders: what the engine keeps of an accepted [`OrderRequest`], the checks that turn
//! a request into one (or into a [`Rejection`]), and bracket children.

use rust_decimal::Decimal;
use shared_models::trading::{CompactString, OrderRequest, OrderSide, OrderType, TimeInForce};

use super::config::SymbolSpec;
use super::rejection::{RejectCode, Rejection};

/// Longest accepted `order_id`, in bytes.
pub const MAX_ORDER_ID_LEN: usize = 128;

/// How many units an order trades.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Size {
    /// A fixed quantity (a multiple of the lot step).
    Units(Decimal),
    /// A fraction of buying power, resolved at fill time.
    Percent(Decimal),
}

/// An accepted order that may still fill.
#[derive(Debug, Clone)]
pub(crate) struct WorkingOrder {
    pub id: CompactString,
    pub symbol: usize,
    pub side: OrderSide,
    pub kind: OrderType,
    pub size: Size,
    pub limit: Option<Decimal>,
    pub stop: Option<Decimal>,
    pub tif: TimeInForce,
    pub stop_loss: Option<Decimal>,
    pub take_profit: Option<Decimal>,
    /// Bar time at which it was decided; it may fill only on later bars.
    pub decided_at: i64,
    /// A stop-limit whose stop has been touched (it is now a limit).
    pub triggered: bool,
    /// For `day` orders: the UTC day number of the first bar it could fill on.
    pub day: Option<i64>,
    /// For bracket children: the entry's sequence number, shared by both children (OCO).
    pub oco_group: Option<u64>,
    /// Finished (filled, cancelled, expired, rejected); removed at the end of the call.
    pub done: bool,
}

impl WorkingOrder {
    /// True for a bracket child (reduce-only, one-cancels-other).
    pub fn is_child(&self) -> bool {
        self.oco_group.is_some()
    }

    /// A bracket exit for `quantity` units, opposite to the entry's `side`.
    pub fn child(
        id: CompactString,
        entry: &WorkingOrder,
        kind: OrderType,
        price: Decimal,
        quantity: Decimal,
        time: i64,
        group: u64,
    ) -> WorkingOrder {
        let (limit, stop) = match kind {
            OrderType::Limit => (Some(price), None),
            _ => (None, Some(price)),
        };
        WorkingOrder {
            id,
            symbol: entry.symbol,
            side: opposite(entry.side),
            kind,
            size: Size::Units(quantity),
            limit,
            stop,
            tif: TimeInForce::Gtc,
            stop_loss: None,
            take_profit: None,
            decided_at: time,
            triggered: false,
            day: None,
            oco_group: Some(group),
            done: false,
        }
    }
}

/// The other side.
pub(crate) fn opposite(side: OrderSide) -> OrderSide {
    match side {
        OrderSide::Buy => OrderSide::Sell,
        OrderSide::Sell => OrderSide::Buy,
    }
}

/// Ids of the stop-loss and take-profit children of `order_id`.
pub(crate) fn child_ids(order_id: &str) -> (CompactString, CompactString) {
    let child = |suffix: &str| {
        let mut id = CompactString::with_capacity(order_id.len() + suffix.len());
        id.push_str(order_id);
        id.push_str(suffix);
        id
    };
    (child(":sl"), child(":tp"))
}

fn positive(v: Option<Decimal>) -> bool {
    v.is_some_and(super::numeric::is_pos)
}

/// Checks everything about `req` that does not depend on the market or the books.
/// Duplicate ids are checked by the caller, which owns the id set.
pub(crate) fn validate(
    req: &OrderRequest,
    symbols: &[SymbolSpec],
    allow_short: bool,
    decided_at: i64,
) -> Result<WorkingOrder, Rejection> {
    let invalid = |m: String| Err(Rejection::invalid_order(m));
    if req.order_id.is_empty() || req.order_id.len() > MAX_ORDER_ID_LEN {
        return invalid(format!(
            "order_id must be 1 to {MAX_ORDER_ID_LEN} bytes long"
        ));
    }
    let Some(symbol) = symbols.iter().position(|s| s.symbol == req.symbol) else {
        return invalid(format!(
            "unknown symbol '{}'; use one of the session's symbols",
            req.symbol.chars().take(32).collect::<String>()
        ));
    };
    let size = match (req.quantity, req.percent_of_equity) {
        (Some(q), None) => {
            if !super::numeric::is_pos(q) {
                return invalid(format!("quantity must be positive, got {q}"));
            }
            let step = symbols[symbol].lot_step;
            if !super::numeric::is_multiple(q, step) {
                return invalid(format!(
                    "quantity {q} is not a multiple of the lot step {step}"
                ));
            }
            Size::Units(q)
        }
        (None, Some(p)) => {
            if !super::numeric::is_pos(p) || super::numeric::cmp(p, Decimal::ONE).is_gt() {
                return invalid(format!("percent_of_equity must be in (0, 1], got {p}"));
            }
            Size::Percent(p)
        }
        (Some(_), Some(_)) => {
            return invalid("give quantity or percent_of_equity, not both".into());
        }
        (None, None) => return invalid("give quantity or percent_of_equity".into()),
    };
    let (limit, stop) = (req.limit_price, req.stop_price);
    let prices_ok = match req.order_type {
        OrderType::Market => limit.is_none() && stop.is_none(),
        OrderType::Limit => positive(limit) && stop.is_none(),
        OrderType::Stop => positive(stop) && limit.is_none(),
        OrderType::StopLimit => positive(limit) && positive(stop),
    };
    if !prices_ok {
        return invalid(format!(
            "{:?} orders need {}",
            req.order_type,
            match req.order_type {
                OrderType::Market => "neither limit_price nor stop_price",
                OrderType::Limit => "a positive limit_price and no stop_price",
                OrderType::Stop => "a positive stop_price and no limit_price",
                OrderType::StopLimit => "a positive stop_price and a positive limit_price",
            }
        ));
    }
    for (name, v) in [
        ("stop_loss", req.stop_loss),
        ("take_profit", req.take_profit),
    ] {
        if v.is_some() && !positive(v) {
            return invalid(format!("{name} must be positive"));
        }
    }
    if let (Some(sl), Some(tp)) = (req.stop_loss, req.take_profit) {
        let ordered = match req.side {
            OrderSide::Buy => sl < tp,
            OrderSide::Sell => sl > tp,
        };
        if !ordered {
            return invalid(format!(
                "stop_loss {sl} must be on the losing side of take_profit {tp}"
            ));
        }
    }
    if !allow_short && req.side == OrderSide::Sell && matches!(size, Size::Percent(_)) {
        return Err(Rejection::new(
            RejectCode::ShortNotAllowed,
            "this session does not allow shorts and a percent_of_equity sell opens one; \
             sell a quantity to close a long",
        ));
    }
    Ok(WorkingOrder {
        id: req.order_id.clone(),
        symbol,
        side: req.side,
        kind: req.order_type,
        size,
        limit,
        stop,
        tif: req.time_in_force,
        stop_loss: req.stop_loss,
        take_profit: req.take_profit,
        decided_at,
        triggered: false,
        day: None,
        oco_group: None,
        done: false,
    })
}
