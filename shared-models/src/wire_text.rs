//! Hand-written JSON for the frames a run sends most: fills (`event_block`s of executions),
//! acknowledgements carrying orders (`tick_ack`, `tick_acks`) and the orders themselves.
//!
//! Byte for byte what serde_json writes for the same values (the unit tests compare both on
//! random values, awkward strings included), only cheaper: serde's derived `Serialize` on an
//! `Envelope` goes through `#[serde(flatten)]`, which serializes every field as a map entry,
//! and serde_json escapes every key of every struct one byte at a time. Here keys are
//! constants and a string is copied as it is unless it holds a byte that needs escaping (then
//! serde_json writes it).
//!
//! Each `encode_*` returns `None` for a message outside its fast path (an `event_block` with
//! order updates or an account, say); the caller then serializes with serde as before.

use rust_decimal::Decimal;

use crate::decimal_text;
use crate::messages::simulation::EventBlock;
use crate::messages::{ClientMessage, ServerMessage};
use crate::time_text;
use crate::trading::{ExecutionReport, OrderRequest, OrderSide, OrderType, TimeInForce};

/// Append `s` as a JSON string, escaped exactly as serde_json escapes it.
pub fn push_str(out: &mut String, s: &str) {
    if s.bytes()
        .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
    {
        out.push('"');
        out.push_str(s);
        out.push('"');
    } else {
        match serde_json::to_string(s) {
            Ok(text) => out.push_str(&text),
            // Serializing a `&str` cannot fail; keep the output valid JSON anyway.
            Err(_) => out.push_str("\"\""),
        }
    }
}

/// Append a decimal as its wire text (a JSON string, as `rust_decimal`'s serde writes it).
fn push_decimal(out: &mut String, d: Decimal) {
    out.push('"');
    decimal_text::write(out, d);
    out.push('"');
}

fn push_u64(out: &mut String, n: u64) {
    out.push_str(itoa::Buffer::new().format(n));
}

fn side(s: OrderSide) -> &'static str {
    match s {
        OrderSide::Buy => "\"buy\"",
        OrderSide::Sell => "\"sell\"",
    }
}

fn order_type(t: OrderType) -> &'static str {
    match t {
        OrderType::Market => "\"market\"",
        OrderType::Limit => "\"limit\"",
        OrderType::Stop => "\"stop\"",
        OrderType::StopLimit => "\"stop_limit\"",
    }
}

fn time_in_force(t: TimeInForce) -> &'static str {
    match t {
        TimeInForce::Gtc => "\"gtc\"",
        TimeInForce::Day => "\"day\"",
        TimeInForce::Ioc => "\"ioc\"",
    }
}

/// Append `,"key":"decimal"` when `d` is set (the fields serde skips when `None`).
fn push_opt_decimal(out: &mut String, key: &str, d: Option<Decimal>) {
    if let Some(d) = d {
        out.push_str(key);
        push_decimal(out, d);
    }
}

/// Append an order as serde writes [`OrderRequest`].
pub fn push_order(out: &mut String, o: &OrderRequest) {
    out.push_str("{\"order_id\":");
    push_str(out, &o.order_id);
    out.push_str(",\"symbol\":");
    push_str(out, &o.symbol);
    out.push_str(",\"side\":");
    out.push_str(side(o.side));
    out.push_str(",\"order_type\":");
    out.push_str(order_type(o.order_type));
    push_opt_decimal(out, ",\"quantity\":", o.quantity);
    push_opt_decimal(out, ",\"percent_of_equity\":", o.percent_of_equity);
    push_opt_decimal(out, ",\"limit_price\":", o.limit_price);
    push_opt_decimal(out, ",\"stop_price\":", o.stop_price);
    out.push_str(",\"time_in_force\":");
    out.push_str(time_in_force(o.time_in_force));
    push_opt_decimal(out, ",\"stop_loss\":", o.stop_loss);
    push_opt_decimal(out, ",\"take_profit\":", o.take_profit);
    out.push('}');
}

/// Append `items` as a JSON array, each written by `item`.
fn push_array<T>(out: &mut String, items: &[T], mut item: impl FnMut(&mut String, &T)) {
    out.push('[');
    for (i, x) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        item(out, x);
    }
    out.push(']');
}

/// Append `,"orders":[…]` and `,"cancels":[…]`, each only when not empty (as serde skips them).
pub fn push_orders_and_cancels(out: &mut String, orders: &[OrderRequest], cancels: &[String]) {
    if !orders.is_empty() {
        out.push_str(",\"orders\":");
        push_array(out, orders, push_order);
    }
    if !cancels.is_empty() {
        out.push_str(",\"cancels\":");
        push_array(out, cancels, |out, c| push_str(out, c));
    }
}

/// Append a fill as serde writes [`ExecutionReport`]; false (having written nothing) for a
/// time outside the fast path.
fn push_execution(out: &mut String, e: &ExecutionReport) -> bool {
    let Some(time) = time_text::format_fast(&e.sim_time) else {
        return false;
    };
    let Ok(time) = std::str::from_utf8(&time) else {
        return false;
    };
    out.push_str("{\"execution_id\":");
    push_str(out, &e.execution_id);
    out.push_str(",\"order_id\":");
    push_str(out, &e.order_id);
    out.push_str(",\"symbol\":");
    push_str(out, &e.symbol);
    out.push_str(",\"side\":");
    out.push_str(side(e.side));
    out.push_str(",\"quantity\":");
    push_decimal(out, e.quantity);
    out.push_str(",\"price\":");
    push_decimal(out, e.price);
    out.push_str(",\"commission\":");
    push_decimal(out, e.commission);
    out.push_str(",\"slippage\":");
    push_decimal(out, e.slippage);
    out.push_str(",\"sim_time\":\"");
    out.push_str(time);
    out.push_str("\"}");
    true
}

/// Append `,"request_id":…` when there is one, and close the envelope.
fn close_envelope(out: &mut String, request_id: Option<&str>) {
    out.push('}');
    if let Some(id) = request_id {
        out.push_str(",\"request_id\":");
        push_str(out, id);
    }
    out.push('}');
}

/// The frame of an `event_block` that carries only fills and a settled mark (what a run in
/// `events: fills` or `blocks` mode sends most), as serde writes the envelope; `None` for any
/// other block.
fn encode_event_block(b: &EventBlock, request_id: Option<&str>) -> Option<String> {
    if !b.order_updates.is_empty() || b.account.is_some() {
        return None;
    }
    let mut out = String::with_capacity(96 + 220 * b.executions.len());
    out.push_str("{\"type\":\"event_block\",\"data\":{\"session_id\":");
    push_str(&mut out, &b.session_id);
    if !b.executions.is_empty() {
        out.push_str(",\"executions\":[");
        for (i, e) in b.executions.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            if !push_execution(&mut out, e) {
                return None;
            }
        }
        out.push(']');
    }
    if let Some(mark) = &b.settled {
        out.push_str(",\"settled\":{\"sequence_id\":");
        push_u64(&mut out, mark.sequence_id);
        out.push_str(",\"equity\":");
        push_decimal(&mut out, mark.equity);
        out.push('}');
    }
    close_envelope(&mut out, request_id);
    Some(out)
}

/// The frame of a server message when it is one of the hot ones this module writes by hand;
/// `None` otherwise (serialize with serde).
pub fn encode_server(message: &ServerMessage, request_id: Option<&str>) -> Option<String> {
    match message {
        ServerMessage::EventBlock(b) => encode_event_block(b, request_id),
        _ => None,
    }
}

/// The frame of a client message when it is one of the hot ones this module writes by hand
/// (`tick_ack`, `tick_acks`); `None` otherwise (serialize with serde).
pub fn encode_client(message: &ClientMessage, request_id: Option<&str>) -> Option<String> {
    let mut out = String::with_capacity(128);
    match message {
        ClientMessage::TickAck(a) => {
            out.push_str("{\"type\":\"tick_ack\",\"data\":{\"session_id\":");
            push_str(&mut out, &a.session_id);
            out.push_str(",\"sequence_id\":");
            push_u64(&mut out, a.sequence_id);
            push_orders_and_cancels(&mut out, &a.orders, &a.cancels);
        }
        ClientMessage::TickAcks(a) => {
            out.push_str("{\"type\":\"tick_acks\",\"data\":{\"session_id\":");
            push_str(&mut out, &a.session_id);
            out.push_str(",\"acks\":");
            push_array(&mut out, &a.acks, |out, entry| {
                out.push_str("{\"sequence_id\":");
                push_u64(out, entry.sequence_id);
                push_orders_and_cancels(out, &entry.orders, &entry.cancels);
                out.push('}');
            });
        }
        _ => return None,
    }
    close_envelope(&mut out, request_id);
    Some(out)
}

#[cfg(test)]
#[path = "wire_text_tests.rs"]
mod tests;
