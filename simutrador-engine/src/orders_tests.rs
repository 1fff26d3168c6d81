//! Validation at submit time: every malformed request gets an immediate `rejected` update with
//! an `INVALID_ORDER` rejection, and no request (huge numbers, zero prices) makes the engine
//! panic.

use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use shared_models::trading::OrderSide::{Buy, Sell};
use shared_models::trading::{OrderRequest, OrderStatus, OrderType};

use super::test_util::*;
use super::{RejectCode, Rejection};

fn rejected(req: OrderRequest) -> Rejection {
    let mut s = Sim::new(config());
    s.bar(flat(dec!(100)));
    let id = req.order_id.clone();
    s.submit(vec![req]);
    assert_eq!(
        s.status(&id),
        Some(OrderStatus::Rejected),
        "{id} should be rejected"
    );
    s.rejection(&id)
        .unwrap_or_else(|| panic!("{id}: no CODE: message reason"))
}

#[test]
fn malformed_orders_are_rejected_with_invalid_order() {
    let base = market("x", Buy, dec!(1));
    let cases = vec![
        OrderRequest {
            symbol: "ZZZ".into(),
            ..base.clone()
        },
        OrderRequest {
            order_id: Default::default(),
            ..base.clone()
        },
        OrderRequest {
            order_id: "x".repeat(200).into(),
            ..base.clone()
        },
        OrderRequest {
            quantity: None,
            ..base.clone()
        },
        OrderRequest {
            percent_of_equity: Some(dec!(0.5)),
            ..base.clone()
        },
        OrderRequest {
            quantity: Some(dec!(0)),
            ..base.clone()
        },
        OrderRequest {
            quantity: Some(dec!(-3)),
            ..base.clone()
        },
        OrderRequest {
            quantity: Some(dec!(1.5)),
            ..base.clone()
        },
        market_pct("x", Buy, dec!(0)),
        market_pct("x", Buy, dec!(1.01)),
        OrderRequest {
            limit_price: Some(dec!(5)),
            ..base.clone()
        },
        OrderRequest {
            order_type: OrderType::Limit,
            ..base.clone()
        },
        limit("x", Buy, dec!(1), dec!(0)),
        OrderRequest {
            order_type: OrderType::Stop,
            ..base.clone()
        },
        OrderRequest {
            order_type: OrderType::StopLimit,
            stop_price: Some(dec!(1)),
            ..base.clone()
        },
        OrderRequest {
            stop_loss: Some(dec!(-1)),
            ..base.clone()
        },
        OrderRequest {
            stop_loss: Some(dec!(110)),
            take_profit: Some(dec!(90)),
            ..base.clone()
        },
        OrderRequest {
            stop_loss: Some(dec!(90)),
            take_profit: Some(dec!(110)),
            ..market("x", Sell, dec!(1))
        },
    ];
    for req in cases {
        let why = rejected(req.clone());
        assert_eq!(why.code, RejectCode::InvalidOrder, "{req:?} → {why}");
    }
}

#[test]
fn duplicate_ids_are_rejected_including_bracket_ids() {
    let mut s = Sim::new(config());
    s.bar(flat(dec!(100)));
    let entry = OrderRequest {
        stop_loss: Some(dec!(90)),
        ..market("e", Buy, dec!(1))
    };
    s.submit(vec![entry, market("e", Buy, dec!(1))]);
    assert_eq!(s.reject_code("e"), Some(RejectCode::InvalidOrder));
    assert!(s.reason("e").contains("already used"));
    s.submit(vec![market("e:sl", Buy, dec!(1))]);
    assert_eq!(s.reject_code("e:sl"), Some(RejectCode::InvalidOrder));
}

#[test]
fn a_rejected_order_leaves_its_id_free() {
    let mut s = Sim::new(config());
    s.bar(flat(dec!(100)));
    s.submit(vec![market("r", Buy, dec!(0))]);
    assert_eq!(s.status("r"), Some(OrderStatus::Rejected));
    // A bracket whose child id is taken is rejected too, and frees its own id.
    s.submit(vec![market("x:sl", Buy, dec!(1))]);
    let bracket = OrderRequest {
        stop_loss: Some(dec!(90)),
        ..market("x", Buy, dec!(1))
    };
    s.submit(vec![bracket]);
    assert!(s.reason("x").contains("already used"));
    s.submit(vec![market("r", Buy, dec!(1)), market("x", Buy, dec!(1))]);
    assert_eq!(s.status("r"), Some(OrderStatus::Accepted));
    assert_eq!(s.status("x"), Some(OrderStatus::Accepted));
}

#[test]
fn extreme_numbers_never_panic() {
    let mut c = config();
    c.allow_short = true;
    c.commission_rate = dec!(0.001);
    c.slippage_bps = dec!(5);
    let mut s = Sim::new(c);
    s.bar(flat(dec!(100)));
    let huge = Decimal::MAX;
    let tiny = Decimal::new(1, 28);
    s.submit(vec![
        market("q", Buy, huge),
        market("qs", Sell, huge),
        limit("l", Buy, dec!(1), huge),
        limit("t", Sell, dec!(1), tiny),
        OrderRequest {
            stop_loss: Some(tiny),
            take_profit: Some(huge),
            ..market("b", Buy, dec!(1))
        },
        market_pct("p", Buy, tiny),
    ]);
    s.bar(bar(huge, huge, tiny, huge));
    s.bar(bar(tiny, huge, tiny, tiny));
    s.bar(flat(huge));
    s.engine.flatten(s.time, &mut s.events);
    let _ = s.engine.results();
    assert_eq!(s.status("q"), Some(OrderStatus::Rejected));
}
