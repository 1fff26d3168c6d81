//! The hand-written run records equal serde's text, so journals read the same either way.

use super::*;
use rust_decimal::Decimal;
use shared_models::trading::{OrderRequest, OrderSide, OrderType, TimeInForce};

fn order(id: &str, quantity: Option<Decimal>, limit: Option<Decimal>) -> OrderRequest {
    OrderRequest {
        order_id: id.into(),
        symbol: "BENCH".into(),
        side: OrderSide::Sell,
        order_type: OrderType::StopLimit,
        quantity,
        percent_of_equity: None,
        limit_price: limit,
        stop_price: Some(Decimal::new(-12_345, 3)),
        time_in_force: TimeInForce::Ioc,
        stop_loss: None,
        take_profit: Some(Decimal::new(1, 28)),
    }
}

#[test]
fn acks_and_progress_are_written_as_serde_writes_them() {
    let records = [
        RunRecord::Ack {
            seq: 0,
            orders: Vec::new(),
            cancels: Vec::new(),
        },
        RunRecord::Ack {
            seq: u64::MAX,
            orders: vec![
                order("o-1", Some(Decimal::new(100, 0)), None),
                order("o \"2\"\n\u{e9}", None, Some(Decimal::MAX)),
            ],
            cancels: vec!["c-1".into(), "\\".into()],
        },
        RunRecord::Ack {
            seq: 7,
            orders: Vec::new(),
            cancels: vec!["x".into()],
        },
        RunRecord::Progress { acked: 0 },
        RunRecord::Progress { acked: 1_000_000 },
    ];
    for record in &records {
        let ours = encode(record).expect("encodes");
        let serde = to_json(record).expect("encodes");
        assert_eq!(
            String::from_utf8_lossy(&ours),
            String::from_utf8_lossy(&serde)
        );
        let back: RunRecord = serde_json::from_slice(&ours).expect("reads back");
        assert_eq!(&back, record);
    }
}
