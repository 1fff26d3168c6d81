//! The hand-written frames equal serde_json's, byte for byte, on random values.

use super::*;
use crate::envelope::Envelope;
use crate::messages::client::Ping;
use crate::messages::simulation::{AckEntry, SettledMark, TickAck, TickAcks};
use crate::trading::{AccountSnapshot, CompactString};
use chrono::{DateTime, Utc};
use proptest::prelude::*;
use proptest::strategy::Strategy;

/// Ids and symbols: mostly plain, sometimes with quotes, backslashes, control characters and
/// non-ASCII text (the slow path).
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-zA-Z0-9_.:-]{0,12}",
        1 => "[ -~]{0,8}",
        1 => ".{0,6}",
        1 => proptest::collection::vec(0u8..0x20, 0..4)
            .prop_map(|b| b.into_iter().map(char::from).collect::<String>()),
    ]
}

fn decimal() -> impl Strategy<Value = Decimal> {
    prop_oneof![
        (any::<i64>(), 0u32..=28).prop_map(|(m, s)| Decimal::new(m, s)),
        (any::<i128>(), 0u32..=28).prop_map(|(m, s)| {
            Decimal::try_from_i128_with_scale(m % 79_228_162_514_264_337_593_543_950_335, s)
                .unwrap_or(Decimal::MAX)
        }),
        Just(Decimal::ZERO),
        Just(-Decimal::ZERO),
        Just(Decimal::new(-0, 3)),
    ]
}

fn time() -> impl Strategy<Value = DateTime<Utc>> {
    prop_oneof![
        (-62_000_000_000i64..253_000_000_000).prop_map(|s| DateTime::from_timestamp(s, 0)),
        (0i64..2_000_000_000, 1u32..1_000_000_000)
            .prop_map(|(s, n)| DateTime::from_timestamp(s, n)),
    ]
    .prop_map(|t| t.unwrap_or_default())
}

fn side() -> impl Strategy<Value = OrderSide> {
    prop_oneof![Just(OrderSide::Buy), Just(OrderSide::Sell)]
}

fn order() -> impl Strategy<Value = OrderRequest> {
    let kind = prop_oneof![
        Just(OrderType::Market),
        Just(OrderType::Limit),
        Just(OrderType::Stop),
        Just(OrderType::StopLimit)
    ];
    let tif = prop_oneof![
        Just(TimeInForce::Gtc),
        Just(TimeInForce::Day),
        Just(TimeInForce::Ioc)
    ];
    let decimals = proptest::collection::vec(proptest::option::of(decimal()), 6);
    (text(), text(), side(), kind, tif, decimals).prop_map(|(id, symbol, side, kind, tif, d)| {
        OrderRequest {
            order_id: CompactString::from(id),
            symbol: CompactString::from(symbol),
            side,
            order_type: kind,
            quantity: d[0],
            percent_of_equity: d[1],
            limit_price: d[2],
            stop_price: d[3],
            time_in_force: tif,
            stop_loss: d[4],
            take_profit: d[5],
        }
    })
}

fn execution() -> impl Strategy<Value = ExecutionReport> {
    let decimals = proptest::collection::vec(decimal(), 4);
    (text(), text(), text(), side(), decimals, time()).prop_map(|(e, o, s, side, d, t)| {
        ExecutionReport {
            execution_id: e.into(),
            order_id: o.into(),
            symbol: s.into(),
            side,
            quantity: d[0],
            price: d[1],
            commission: d[2],
            slippage: d[3],
            sim_time: t,
        }
    })
}

fn orders() -> impl Strategy<Value = Vec<OrderRequest>> {
    proptest::collection::vec(order(), 0..3)
}

fn cancels() -> impl Strategy<Value = Vec<String>> {
    proptest::collection::vec(text(), 0..3)
}

fn serde_frame<M: serde::Serialize>(message: M, request_id: Option<&str>) -> String {
    serde_json::to_string(&Envelope::new(message, request_id.map(str::to_string)))
        .expect("serializable")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn event_blocks_of_fills_are_written_as_serde_writes_them(
        session_id in text(),
        executions in proptest::collection::vec(execution(), 0..4),
        settled in proptest::option::of((any::<u64>(), decimal())),
        request_id in proptest::option::of(text()),
    ) {
        let block = EventBlock {
            session_id,
            order_updates: Vec::new(),
            executions,
            account: None,
            settled: settled.map(|(sequence_id, equity)| SettledMark { sequence_id, equity }),
        };
        let message = ServerMessage::EventBlock(block);
        let expected = serde_frame(&message, request_id.as_deref());
        match encode_server(&message, request_id.as_deref()) {
            Some(ours) => prop_assert_eq!(ours, expected),
            // Only a time outside the fast path (a fraction of a second) falls back.
            None => match &message {
                ServerMessage::EventBlock(b) => prop_assert!(
                    b.executions.iter().any(|e| e.sim_time.timestamp_subsec_nanos() != 0)
                ),
                _ => unreachable!(),
            },
        }
    }

    #[test]
    fn acks_with_orders_are_written_as_serde_writes_them(
        session_id in text(),
        sequence_id in any::<u64>(),
        orders in orders(),
        cancels in cancels(),
        entries in proptest::collection::vec((any::<u64>(), orders(), cancels()), 0..3),
        request_id in proptest::option::of(text()),
    ) {
        let ack = ClientMessage::TickAck(TickAck {
            session_id: session_id.clone(),
            sequence_id,
            orders,
            cancels,
        });
        prop_assert_eq!(
            encode_client(&ack, request_id.as_deref()),
            Some(serde_frame(&ack, request_id.as_deref()))
        );
        let acks = ClientMessage::TickAcks(TickAcks {
            session_id,
            acks: entries
                .into_iter()
                .map(|(sequence_id, orders, cancels)| AckEntry { sequence_id, orders, cancels })
                .collect(),
        });
        prop_assert_eq!(
            encode_client(&acks, request_id.as_deref()),
            Some(serde_frame(&acks, request_id.as_deref()))
        );
    }

    #[test]
    fn strings_are_escaped_as_serde_escapes_them(s in text()) {
        let mut ours = String::new();
        push_str(&mut ours, &s);
        prop_assert_eq!(ours, serde_json::to_string(&s).expect("a string"));
    }
}

#[test]
fn other_messages_and_blocks_with_more_than_fills_go_to_serde() {
    let block = EventBlock {
        session_id: "s".into(),
        order_updates: Vec::new(),
        executions: Vec::new(),
        account: Some(AccountSnapshot {
            cash: Decimal::ONE,
            equity: Decimal::ONE,
            buying_power: Decimal::ONE,
            positions: Vec::new(),
            open_orders: Vec::new(),
        }),
        settled: None,
    };
    assert_eq!(encode_server(&ServerMessage::EventBlock(block), None), None);
    assert_eq!(encode_client(&ClientMessage::Ping(Ping {}), None), None);
}
