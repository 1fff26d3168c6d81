//! The per-bar order work of [`Engine::settle`]: time in force, fills in submission order,
//! bracket children (created on the entry's fill, checked against the rest of the same bar,
//! one-cancels-other, reduce-only) and rejections at fill time.

use rust_decimal::Decimal;
use shared_models::trading::{OrderSide, OrderStatus, OrderType, OrderUpdate, TimeInForce};

use super::config::{BarEvents, Candle};
use super::engine::Engine;
use super::fills::{self, Touch};
use super::numeric::{self, is_neg, is_pos};
use super::orders::{Size, WorkingOrder, child_ids};
use super::rejection::{RejectCode, Rejection};

const SECONDS_PER_DAY: i64 = 86_400;

impl Engine {
    /// Works every order against the bars of `time`, then drops finished orders.
    pub(super) fn work_orders(
        &mut self,
        time: i64,
        candles: &[Option<Candle>],
        out: &mut BarEvents,
    ) {
        let day = time.div_euclid(SECONDS_PER_DAY);
        let mut i = 0;
        // Children pushed during the loop have `decided_at == time`, so the loop skips them.
        while i < self.orders.len() {
            self.work_one(i, time, day, candles, out);
            i += 1;
        }
        self.orders.retain(|o| !o.done);
    }

    fn work_one(
        &mut self,
        i: usize,
        time: i64,
        day: i64,
        candles: &[Option<Candle>],
        out: &mut BarEvents,
    ) {
        let o = &mut self.orders[i];
        if o.done {
            return;
        }
        if o.tif == TimeInForce::Day && o.day.is_some_and(|d| d < day) {
            return self.close_order(
                i,
                OrderStatus::Expired,
                "day order expired at the end of its UTC day",
                time,
                out,
            );
        }
        if time <= o.decided_at {
            return;
        }
        let Some(bar) = candles.get(o.symbol).copied().flatten() else {
            return;
        };
        if o.tif == TimeInForce::Day && o.day.is_none() {
            o.day = Some(day);
        }
        match fills::touch(o, &bar, bar.open) {
            Some(touch) => self.execute(i, touch, &bar, time, out),
            None if o.tif == TimeInForce::Ioc => self.close_order(
                i,
                OrderStatus::Expired,
                "ioc order did not fill on its first bar",
                time,
                out,
            ),
            None => {}
        }
    }

    /// Fills order `i` at `touch` (sizing, checks, books), then handles brackets.
    fn execute(&mut self, i: usize, touch: Touch, bar: &Candle, time: i64, out: &mut BarEvents) {
        let o = &self.orders[i];
        let (sym, side) = (o.symbol, o.side);
        let Some((price, slip)) = self.slippage.slipped(side, touch) else {
            let why = Rejection::invalid_order("the fill price overflows");
            return self.reject(i, &why, time, out);
        };
        let spec = &self.config.symbols[sym];
        let mut units = match o.size {
            Size::Units(q) => q,
            Size::Percent(p) => self.books.size_for(side, p, price, spec.lot_step),
        };
        if o.is_child() {
            let held = self.books.positions[sym].qty;
            let reduces = (side == OrderSide::Buy && is_neg(held))
                || (side == OrderSide::Sell && is_pos(held));
            if !reduces {
                let why = "bracket exit cancelled: the position it protected is closed";
                return self.close_order(i, OrderStatus::Cancelled, why, time, out);
            }
            units = numeric::min(units, held.abs());
        }
        if !is_pos(units) {
            let why = Rejection::new(
                RejectCode::InsufficientBuyingPower,
                format!(
                    "{} available buying power does not buy one lot of {} at {price}",
                    self.books.buying_power(),
                    spec.symbol
                ),
            );
            return self.reject(i, &why, time, out);
        }
        let booked = match self.books.fill(sym, spec, side, units, price, time) {
            Ok(b) => b,
            Err(why) => return self.reject(i, &why, time, out),
        };
        let o = &mut self.orders[i];
        // The id goes into the execution, a `filled` update and (for brackets) the children's
        // ids; an order without children gives its own string to the update.
        let has_children = o.stop_loss.is_some() || o.take_profit.is_some();
        let id = o.id.clone();
        self.report(
            id,
            sym,
            side,
            booked.units,
            price,
            booked.commission,
            slip,
            time,
            out,
        );
        if has_children {
            self.close_order(i, OrderStatus::Filled, "", time, out);
        } else {
            let o = &mut self.orders[i];
            o.done = true;
            let order_id = std::mem::take(&mut o.id);
            let sim_time = self.stamp(time);
            out.order_updates.push(OrderUpdate {
                order_id,
                status: OrderStatus::Filled,
                reason: None,
                sim_time,
            });
        }
        if let Some(group) = self.orders[i].oco_group {
            self.cancel_group(group, i, time, out);
        }
        self.cancel_stale_children(sym, time, out);
        self.spawn_children(i, booked.units, touch.base, bar, time, out);
    }

    /// Creates the stop-loss and take-profit exits of a filled entry and checks them against
    /// the rest of the entry's bar, starting from the entry's (pre-slippage) price.
    fn spawn_children(
        &mut self,
        i: usize,
        units: Decimal,
        from: Decimal,
        bar: &Candle,
        time: i64,
        out: &mut BarEvents,
    ) {
        let entry = &self.orders[i];
        if entry.stop_loss.is_none() && entry.take_profit.is_none() {
            return;
        }
        self.next_group += 1;
        let group = self.next_group;
        let (sl_id, tp_id) = child_ids(&entry.id);
        let mut children = Vec::with_capacity(2);
        if let Some(sl) = entry.stop_loss {
            children.push(WorkingOrder::child(
                sl_id,
                entry,
                OrderType::Stop,
                sl,
                units,
                time,
                group,
            ));
        }
        if let Some(tp) = entry.take_profit {
            children.push(WorkingOrder::child(
                tp_id,
                entry,
                OrderType::Limit,
                tp,
                units,
                time,
                group,
            ));
        }
        let sim_time = self.stamp(time);
        for child in children {
            out.order_updates.push(OrderUpdate {
                order_id: child.id.clone(),
                status: OrderStatus::Accepted,
                reason: Some(format!("bracket exit of {}", self.orders[i].id)),
                sim_time,
            });
            self.orders.push(child);
        }
        // Stop-loss first: if both are touched in this bar, it wins and cancels the other.
        let first = self.orders.len() - children_len(&self.orders, group);
        for c in first..self.orders.len() {
            if self.orders[c].done {
                continue;
            }
            if let Some(touch) = fills::touch(&mut self.orders[c], bar, from) {
                self.execute(c, touch, bar, time, out);
            }
        }
    }

    /// Cancels the other children of an OCO group once one filled.
    fn cancel_group(&mut self, group: u64, filled: usize, time: i64, out: &mut BarEvents) {
        for c in 0..self.orders.len() {
            let o = &self.orders[c];
            if c != filled && !o.done && o.oco_group == Some(group) {
                self.close_order(
                    c,
                    OrderStatus::Cancelled,
                    "one-cancels-other: the other bracket exit filled",
                    time,
                    out,
                );
            }
        }
    }

    /// Cancels bracket children of `sym` that would no longer reduce the position.
    fn cancel_stale_children(&mut self, sym: usize, time: i64, out: &mut BarEvents) {
        let held = self.books.positions[sym].qty;
        for c in 0..self.orders.len() {
            let o = &self.orders[c];
            if o.done || !o.is_child() || o.symbol != sym {
                continue;
            }
            let reduces = (o.side == OrderSide::Buy && is_neg(held))
                || (o.side == OrderSide::Sell && is_pos(held));
            if !reduces {
                let why = "bracket exit cancelled: the position it protected is closed";
                self.close_order(c, OrderStatus::Cancelled, why, time, out);
            }
        }
    }

    /// Finishes order `i` as `rejected`, its reason the wire form of `why`.
    fn reject(&mut self, i: usize, why: &Rejection, time: i64, out: &mut BarEvents) {
        self.close_order(i, OrderStatus::Rejected, &why.to_reason(), time, out);
    }

    /// Marks order `i` finished and emits its final update (`reason` empty = none).
    pub(super) fn close_order(
        &mut self,
        i: usize,
        status: OrderStatus,
        reason: &str,
        time: i64,
        out: &mut BarEvents,
    ) {
        let sim_time = self.stamp(time);
        let o = &mut self.orders[i];
        o.done = true;
        out.order_updates.push(OrderUpdate {
            order_id: o.id.clone(),
            status,
            reason: (!reason.is_empty()).then(|| reason.to_string()),
            sim_time,
        });
    }
}

/// How many orders of `group` sit at the end of `orders` (the children just pushed).
fn children_len(orders: &[WorkingOrder], group: u64) -> usize {
    orders
        .iter()
        .rev()
        .take_while(|o| o.oco_group == Some(group))
        .count()
}
