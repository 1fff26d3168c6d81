//! Fixtures shared by the session, store and restore unit tests.

use rust_decimal::Decimal;
use shared_models::{SessionParams, Timeframe};

/// ACME daily for 2020, 100,000 of capital, no costs, shorts allowed.
pub fn params() -> SessionParams {
    SessionParams {
        symbols: vec!["ACME".into()],
        start_date: "2020-01-01".into(),
        end_date: "2020-12-31".into(),
        timeframe: Timeframe::D1,
        initial_capital: Decimal::from(100_000),
        commission_rate: Decimal::ZERO,
        commission_per_share: Decimal::ZERO,
        commission_min: Decimal::ZERO,
        slippage_bps: Decimal::ZERO,
        allow_short: true,
        close_at_end: false,
        metadata: Default::default(),
    }
}
