//! From a `create_session` request to validated, normalized [`SessionParams`].
//!
//! Market data (symbols, timeframe, dates) is checked by the
//! [`MarketDataValidator`](crate::market_data::MarketDataValidator); this file checks the rest
//! against the `[limits]` of the config, fills in defaults, and takes the fingerprint of the
//! bars the session will replay ([`DataFingerprint`]).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::json;
use shared_models::{CreateSessionRequest, ErrorCode, SessionParams};

use crate::config::LimitsSection;
use crate::error::{ApiResult, api_error};
use crate::market_data::{DataFingerprint, MarketDataValidator};
use crate::session::limits::{LimitRequest, RiskLimits};

/// Starting cash when the request gives none.
pub const DEFAULT_INITIAL_CAPITAL: Decimal = Decimal::from_parts(100_000, 0, 0, false, 0);

/// Validated parameters and the number of ticks they will replay.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidatedSession {
    /// Normalized parameters.
    pub params: SessionParams,
    /// Ticks to replay.
    pub bar_count: u64,
    /// Time, loss and halt limits.
    pub limits: RiskLimits,
    /// The bars it will replay, as the catalog holds them now (stored with the session,
    /// checked before its run starts or is rebuilt: `DATA_CHANGED`).
    pub data: DataFingerprint,
}

/// Check every field of `req`; the first failing check decides the error code.
pub fn validate(
    req: &CreateSessionRequest,
    validator: &MarketDataValidator,
    limits: &LimitsSection,
    now: DateTime<Utc>,
) -> ApiResult<ValidatedSession> {
    // One snapshot for the check and the fingerprint: a reload in between is not seen.
    let catalog = validator.catalog();
    let range = validator.validate_on(
        &catalog,
        &req.symbols,
        req.timeframe.as_deref(),
        &req.start_date,
        &req.end_date,
        now,
    )?;

    let initial_capital = req.initial_capital.unwrap_or(DEFAULT_INITIAL_CAPITAL);
    if initial_capital < limits.min_initial_capital {
        return Err(api_error(
            ErrorCode::InsufficientCapital,
            format!(
                "initial_capital {initial_capital} is below the minimum of {}; raise it",
                limits.min_initial_capital
            ),
            json!({ "initial_capital": initial_capital, "min_initial_capital": limits.min_initial_capital }),
        ));
    }
    if initial_capital > limits.max_initial_capital {
        return Err(api_error(
            ErrorCode::CapitalTooHigh,
            format!(
                "initial_capital {initial_capital} is above the maximum of {}; lower it",
                limits.max_initial_capital
            ),
            json!({ "initial_capital": initial_capital, "max_initial_capital": limits.max_initial_capital }),
        ));
    }

    let risk = RiskLimits::validate(&limit_request(req), initial_capital, limits)?;
    let commission_rate = bounded("commission_rate", req.commission_rate, Decimal::ONE)?;
    let commission_per_share = bounded(
        "commission_per_share",
        req.commission_per_share,
        Decimal::MAX,
    )?;
    let commission_min = bounded("commission_min", req.commission_min, Decimal::MAX)?;
    let slippage_bps = bounded("slippage_bps", req.slippage_bps, Decimal::from(10_000))?;

    let metadata = req.metadata.clone().unwrap_or_default();
    let metadata_bytes = serde_json::to_vec(&metadata)
        .map(|v| v.len())
        .unwrap_or(usize::MAX);
    if metadata_bytes > limits.max_metadata_bytes {
        return Err(api_error(
            ErrorCode::ValidationFailed,
            format!(
                "metadata is {metadata_bytes} bytes of JSON; the limit is {} bytes, so shorten it",
                limits.max_metadata_bytes
            ),
            json!({ "field": "metadata", "bytes": metadata_bytes, "max_bytes": limits.max_metadata_bytes }),
        ));
    }

    let data = DataFingerprint::of_catalog(
        &catalog,
        &range.symbols,
        range.timeframe,
        range.first_second(),
        range.last_second(),
    )
    .map_err(|symbol| {
        api_error(
            ErrorCode::InvalidSymbol,
            format!("{symbol} is not in the catalog at {}", range.timeframe),
            json!({ "invalid_symbols": [symbol] }),
        )
    })?;
    Ok(ValidatedSession {
        data,
        limits: risk,
        bar_count: range.bar_count,
        params: SessionParams {
            symbols: range.symbols,
            start_date: range.start.to_string(),
            end_date: range.end.to_string(),
            timeframe: range.timeframe,
            initial_capital,
            commission_rate,
            commission_per_share,
            commission_min,
            slippage_bps,
            allow_short: req.allow_short.unwrap_or(true),
            close_at_end: req.close_at_end.unwrap_or(false),
            metadata,
        },
    })
}

/// The limit fields of a request.
pub fn limit_request(req: &CreateSessionRequest) -> LimitRequest {
    LimitRequest {
        max_duration: req.max_duration.clone(),
        loss_limit_amount: req.loss_limit_amount,
        loss_limit_pct: req.loss_limit_pct,
        halt_threshold_pct: req.halt_threshold_pct,
        halt_bars: req.halt_bars,
    }
}

/// A cost field: default 0, must be `0 <= value < max` (or `<= Decimal::MAX`).
fn bounded(field: &str, value: Option<Decimal>, max: Decimal) -> ApiResult<Decimal> {
    let v = value.unwrap_or(Decimal::ZERO);
    let too_big = if max == Decimal::MAX { false } else { v >= max };
    if v.is_sign_negative() && !v.is_zero() || too_big {
        let range = if max == Decimal::MAX {
            "0 or more".to_string()
        } else {
            format!("at least 0 and below {max}")
        };
        return Err(api_error(
            ErrorCode::ValidationFailed,
            format!("{field} is {v}; it must be {range}"),
            json!({ "field": field, "value": v }),
        ));
    }
    Ok(v.normalize())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn costs_must_be_non_negative_and_bounded() {
        assert_eq!(bounded("x", None, Decimal::ONE).unwrap(), Decimal::ZERO);
        assert_eq!(
            bounded("x", Some(dec!(0.0010)), Decimal::ONE).unwrap(),
            dec!(0.001)
        );
        assert!(bounded("x", Some(dec!(-0.1)), Decimal::ONE).is_err());
        assert!(bounded("x", Some(dec!(1)), Decimal::ONE).is_err());
        assert!(bounded("x", Some(dec!(1e20)), Decimal::MAX).is_ok());
        let e = bounded("slippage_bps", Some(dec!(10000)), dec!(10000)).unwrap_err();
        assert_eq!(e.error_code, ErrorCode::ValidationFailed);
        assert_eq!(e.details["field"], "slippage_bps");
    }
}
