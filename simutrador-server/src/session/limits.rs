//! A session's limits: the time limit (`max_duration`), the loss limit (`loss_limit_amount` or
//! `loss_limit_pct`) and the optional volatility halt, checked against the `[limits]` policy
//! of the config. [`RiskLimits`] is what the daemon keeps (serializable, so a store can journal
//! it); [`RiskLimits::wire`] is what users see.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::json;
use shared_models::ErrorCode;
use shared_models::lifecycle::{SessionLimits, format_duration, parse_duration};
use simutrador_engine::{HaltRule, RiskRules};

use crate::config::LimitsSection;
use crate::error::{ApiResult, api_error};

/// The limits a session requested (raw fields of `create_session` / `update_session`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LimitRequest {
    /// `max_duration`.
    pub max_duration: Option<String>,
    /// `loss_limit_amount`.
    pub loss_limit_amount: Option<Decimal>,
    /// `loss_limit_pct`.
    pub loss_limit_pct: Option<Decimal>,
    /// `halt_threshold_pct`.
    pub halt_threshold_pct: Option<Decimal>,
    /// `halt_bars`.
    pub halt_bars: Option<u32>,
}

/// The validated limits of one session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RiskLimits {
    /// Time limit, seconds from creation.
    pub max_duration_seconds: u64,
    /// Loss limit in money.
    pub loss_limit: Option<Decimal>,
    /// The loss limit as a percentage of the capital.
    pub loss_limit_pct: Option<Decimal>,
    /// Warning threshold, percent.
    pub warning_pct: Decimal,
    /// Volatility halt.
    pub halt: Option<HaltRule>,
}

impl RiskLimits {
    /// No time limit, no loss limit, no halt.
    pub fn none() -> Self {
        RiskLimits {
            max_duration_seconds: 0,
            loss_limit: None,
            loss_limit_pct: None,
            warning_pct: Decimal::from(80),
            halt: None,
        }
    }

    /// True when any limit is set.
    pub fn is_set(&self) -> bool {
        self.max_duration_seconds > 0 || self.loss_limit.is_some() || self.halt.is_some()
    }

    /// Check `req` against the policy for a session with `capital`.
    pub fn validate(
        req: &LimitRequest,
        capital: Decimal,
        policy: &LimitsSection,
    ) -> ApiResult<Self> {
        let (min, max) = (policy.min_session_duration, policy.max_session_duration);
        let seconds = match &req.max_duration {
            None => policy.default_session_duration.0,
            Some(text) => parse_duration(text).map_err(|why| duration_error(why, policy))?,
        };
        if seconds < min.0 || seconds > max.0 {
            return Err(duration_error(
                format!(
                    "max_duration {} is outside the allowed range {min} to {max}; pick a duration in it",
                    format_duration(seconds)
                ),
                policy,
            ));
        }
        let max_pct = policy.max_loss_limit_pct;
        let max_amount = (capital * max_pct / Decimal::ONE_HUNDRED).normalize();
        let (loss_limit, loss_limit_pct) = match (req.loss_limit_amount, req.loss_limit_pct) {
            (Some(_), Some(_)) => {
                return Err(api_error(
                    ErrorCode::ValidationFailed,
                    "give loss_limit_amount or loss_limit_pct, not both",
                    json!({ "field": "loss_limit_amount" }),
                ));
            }
            // 0 = no loss limit (also over a policy default; `update_session` removes one).
            (Some(v), None) | (None, Some(v)) if v.is_zero() => (None, None),
            (Some(v), None) | (None, Some(v)) if v.is_sign_negative() => {
                let field = if req.loss_limit_pct.is_some() {
                    "loss_limit_pct"
                } else {
                    "loss_limit_amount"
                };
                return Err(api_error(
                    ErrorCode::ValidationFailed,
                    format!("{field} must be 0 (no loss limit) or above, not {v}"),
                    json!({ "field": field }),
                ));
            }
            (Some(amount), None) => (Some(amount), Some(amount / capital * Decimal::ONE_HUNDRED)),
            (None, Some(pct)) => (Some(capital * pct / Decimal::ONE_HUNDRED), Some(pct)),
            (None, None) if policy.default_loss_limit_pct > Decimal::ZERO => {
                let pct = policy.default_loss_limit_pct;
                (Some(capital * pct / Decimal::ONE_HUNDRED), Some(pct))
            }
            (None, None) => (None, None),
        };
        if let (Some(amount), Some(pct)) = (loss_limit, loss_limit_pct)
            && (amount <= Decimal::ZERO || pct > max_pct)
        {
            return Err(api_error(
                ErrorCode::LossLimitTooHigh,
                format!(
                    "the loss limit must be at most {max_pct}% of the capital ({max_amount}); lower it (0 = no loss limit)"
                ),
                json!({
                    "loss_limit_amount": amount.normalize(),
                    "loss_limit_pct": pct.round_dp(4).normalize(),
                    "min_amount": "0",
                    "max_amount": max_amount,
                    "max_pct": max_pct,
                }),
            ));
        }
        let halt = match (req.halt_threshold_pct, req.halt_bars) {
            (None, None) => None,
            (None, Some(_)) => {
                return Err(api_error(
                    ErrorCode::ValidationFailed,
                    "halt_bars needs halt_threshold_pct; give both or neither",
                    json!({ "field": "halt_bars" }),
                ));
            }
            (Some(t), bars) => {
                let bars = bars.unwrap_or(1);
                if t <= Decimal::ZERO || !(1..=10_000).contains(&bars) {
                    return Err(api_error(
                        ErrorCode::ValidationFailed,
                        "halt_threshold_pct must be above 0 and halt_bars 1 to 10000",
                        json!({ "field": "halt_threshold_pct", "halt_threshold_pct": t, "halt_bars": bars }),
                    ));
                }
                Some(HaltRule {
                    threshold_pct: t.normalize(),
                    bars,
                })
            }
        };
        Ok(RiskLimits {
            max_duration_seconds: seconds,
            loss_limit: loss_limit.map(|a| a.round_dp(8).normalize()),
            loss_limit_pct: loss_limit_pct.map(|p| p.round_dp(4).normalize()),
            warning_pct: policy.warning_threshold_pct,
            halt,
        })
    }

    /// The request that reproduces these limits (base for `update_session`).
    pub fn as_request(&self) -> LimitRequest {
        LimitRequest {
            max_duration: Some(format_duration(self.max_duration_seconds)),
            loss_limit_amount: self.loss_limit,
            loss_limit_pct: None,
            halt_threshold_pct: self.halt.map(|h| h.threshold_pct),
            halt_bars: self.halt.map(|h| h.bars),
        }
    }

    /// What the engine enforces.
    pub fn engine_rules(&self) -> RiskRules {
        RiskRules {
            loss_limit: self.loss_limit,
            halt: self.halt,
        }
    }

    /// Equity at or below which the loss warning fires.
    pub fn loss_warning_equity(&self, capital: Decimal) -> Option<Decimal> {
        self.loss_limit
            .map(|l| capital - l * self.warning_pct / Decimal::ONE_HUNDRED)
    }

    /// The time limit as a `std` duration.
    pub fn max_duration(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.max_duration_seconds)
    }

    /// The wire view; `created_at` = `None` in a preview.
    pub fn wire(&self, created_at: Option<DateTime<Utc>>) -> SessionLimits {
        let secs = i64::try_from(self.max_duration_seconds).unwrap_or(i64::MAX);
        SessionLimits {
            max_duration: format_duration(self.max_duration_seconds),
            max_duration_seconds: self.max_duration_seconds,
            expires_at: created_at
                .and_then(|c| c.checked_add_signed(chrono::Duration::seconds(secs))),
            max_loss_amount: self.loss_limit,
            max_loss_pct: self.loss_limit_pct,
            warning_threshold_pct: self.warning_pct,
            halt_threshold_pct: self.halt.map(|h| h.threshold_pct),
            halt_bars: self.halt.map(|h| h.bars),
        }
    }
}

fn duration_error(why: String, policy: &LimitsSection) -> crate::error::ApiError {
    api_error(
        ErrorCode::InvalidDuration,
        why,
        json!({
            "min": policy.min_session_duration.to_string(),
            "max": policy.max_session_duration.to_string(),
            "min_seconds": policy.min_session_duration.0,
            "max_seconds": policy.max_session_duration.0,
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ServerConfig;
    use rust_decimal_macros::dec;

    fn policy() -> LimitsSection {
        ServerConfig::default().limits
    }

    fn req(d: Option<&str>, amount: Option<Decimal>, pct: Option<Decimal>) -> LimitRequest {
        LimitRequest {
            max_duration: d.map(str::to_string),
            loss_limit_amount: amount,
            loss_limit_pct: pct,
            ..LimitRequest::default()
        }
    }

    #[test]
    fn durations_must_be_within_policy() {
        let p = policy();
        let l = RiskLimits::validate(&req(None, None, None), dec!(1000), &p).unwrap();
        assert_eq!(l.max_duration_seconds, 86_400);
        assert_eq!(l.loss_limit, None);
        let l = RiskLimits::validate(&req(Some("4h"), None, None), dec!(1000), &p).unwrap();
        assert_eq!(l.max_duration_seconds, 4 * 3600);
        for bad in ["30m", "8d", "soon"] {
            let e = RiskLimits::validate(&req(Some(bad), None, None), dec!(1000), &p).unwrap_err();
            assert_eq!(e.error_code, ErrorCode::InvalidDuration, "{bad}");
            assert_eq!(e.details["min"], "1h");
            assert_eq!(e.details["max"], "7d");
        }
    }

    #[test]
    fn loss_limits_are_bounded_by_the_policy_percentage() {
        let p = policy();
        let l = RiskLimits::validate(&req(None, None, Some(dec!(20))), dec!(50000), &p).unwrap();
        assert_eq!(l.loss_limit, Some(dec!(10000)));
        assert_eq!(l.loss_limit_pct, Some(dec!(20)));
        assert_eq!(l.loss_warning_equity(dec!(50000)), Some(dec!(42000)));
        let l = RiskLimits::validate(&req(None, Some(dec!(2500)), None), dec!(50000), &p).unwrap();
        assert_eq!(l.loss_limit_pct, Some(dec!(5)));
        let e =
            RiskLimits::validate(&req(None, None, Some(dec!(31))), dec!(50000), &p).unwrap_err();
        assert_eq!(e.error_code, ErrorCode::LossLimitTooHigh);
        assert_eq!(e.details["max_pct"], "30");
        assert_eq!(e.details["max_amount"], "15000");
        // 0 removes the limit, even over a policy default; below 0 names the field.
        let mut with_default = policy();
        with_default.default_loss_limit_pct = dec!(10);
        for zero in [
            req(None, Some(dec!(0)), None),
            req(None, None, Some(dec!(0))),
        ] {
            let l = RiskLimits::validate(&zero, dec!(50000), &with_default).unwrap();
            assert_eq!((l.loss_limit, l.loss_limit_pct), (None, None));
        }
        let e =
            RiskLimits::validate(&req(None, Some(dec!(-1)), None), dec!(50000), &p).unwrap_err();
        assert_eq!(e.error_code, ErrorCode::ValidationFailed);
        assert_eq!(e.details["field"], "loss_limit_amount");
        let e =
            RiskLimits::validate(&req(None, None, Some(dec!(-5))), dec!(50000), &p).unwrap_err();
        assert_eq!(e.details["field"], "loss_limit_pct");
        let e = RiskLimits::validate(&req(None, Some(dec!(1)), Some(dec!(1))), dec!(50000), &p)
            .unwrap_err();
        assert_eq!(e.error_code, ErrorCode::ValidationFailed);
    }

    #[test]
    fn the_wire_view_computes_the_end_time() {
        let l = RiskLimits::validate(
            &req(Some("2h"), None, Some(dec!(10))),
            dec!(1000),
            &policy(),
        )
        .unwrap();
        let t = DateTime::parse_from_rfc3339("2026-01-01T10:00:00Z")
            .unwrap()
            .to_utc();
        let w = l.wire(Some(t));
        assert_eq!(
            w.expires_at.unwrap().to_rfc3339(),
            "2026-01-01T12:00:00+00:00"
        );
        assert_eq!(w.max_loss_amount, Some(dec!(100)));
        assert_eq!(l.as_request().max_duration.as_deref(), Some("2h"));
    }
}
