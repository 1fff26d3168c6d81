//! Wire error codes and the body of an `error` message.
//!
//! Every failure a user can cause maps to exactly one [`ErrorCode`]; the message says what to do
//! next and `details` carries machine-readable specifics (for example `invalid_symbols`).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

/// A documented, stable error code. Serialized in `SCREAMING_SNAKE_CASE`.
///
/// Codes are split by who must act: *invalid request* codes mean "change the request",
/// *transient* codes ([`ErrorCode::RateLimited`], [`ErrorCode::Internal`],
/// [`ErrorCode::StoreUnavailable`]) mean "try again".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    /// The frame is not valid JSON, not a JSON object, or a field has the wrong type.
    InvalidMessage,
    /// The `type` of the message is not one the server knows.
    UnknownType,
    /// The frame is larger than the server's `max_message_bytes`.
    MessageTooLarge,
    /// One or more symbols are malformed or not in the catalog (`details.invalid_symbols`).
    InvalidSymbol,
    /// Dates cannot be parsed, are reversed, in the future, or outside the available data.
    InvalidDateRange,
    /// The timeframe is unknown or the data has no bars at that timeframe.
    InvalidTimeframe,
    /// `initial_capital` is below the server's minimum.
    InsufficientCapital,
    /// `initial_capital` is above the server's maximum.
    CapitalTooHigh,
    /// More symbols than `max_symbols_per_session`.
    TooManySymbols,
    /// The user already holds `max_sessions_per_user` sessions.
    SessionLimitExceeded,
    /// No session with that id belongs to this user.
    SessionNotFound,
    /// The session's state does not allow this request (`details.state`, `details.allowed_from`).
    InvalidState,
    /// An order is malformed (both or neither of quantity and percent, missing prices …).
    InvalidOrder,
    /// An order could not be afforded when it came to fill.
    InsufficientBuyingPower,
    /// A short sale in a session that does not allow shorting.
    ShortNotAllowed,
    /// A field has a value the server does not accept (negative costs, oversized metadata …).
    ValidationFailed,
    /// Too many requests; retry after `details.retry_after_ms`.
    RateLimited,
    /// No credentials were presented.
    AuthRequired,
    /// The token is malformed, badly signed, uses another algorithm, or its key was revoked.
    InvalidToken,
    /// The token has expired; log in again.
    TokenExpired,
    /// The API key is unknown or revoked.
    InvalidApiKey,
    /// The server failed; the request may be retried.
    Internal,
    /// The user already has `max_active_sessions_per_user` running or paused sessions.
    ActiveSessionExists,
    /// `max_duration` is not a duration or is outside the allowed range (`details.min`,
    /// `details.max`).
    InvalidDuration,
    /// The loss limit is above `max_loss_limit_pct` of the capital, or not positive
    /// (`details.max_pct`, `details.max_amount`).
    LossLimitTooHigh,
    /// The session has started; its parameters and limits can no longer change.
    SessionLocked,
    /// New orders in the symbol are halted by the volatility circuit breaker.
    TradingHalted,
    /// The market data the session was created on has changed since (re-imported or edited
    /// files; `details.changes`); its run cannot start or continue on other bars. Fork it onto
    /// the current data with `fork_session`, or restore the original data.
    DataChanged,
    /// The daemon cannot write its session store (disk full, read-only, I/O error), so it
    /// accepts no new session until a write succeeds again (`details.reason`); transient.
    StoreUnavailable,
    /// The session's run is owned by another daemon sharing the store (its lease is live,
    /// `details.owner` names that daemon), or this daemon lost the session's lease to another
    /// one while running it; nothing more is written by this daemon. Resume it where its
    /// owner is, or once the owner's lease lapsed (`details.lease_seconds`).
    SessionMoved,
}

impl ErrorCode {
    /// Every code, in documentation order.
    pub const ALL: &'static [ErrorCode] = &[
        ErrorCode::InvalidMessage,
        ErrorCode::UnknownType,
        ErrorCode::MessageTooLarge,
        ErrorCode::InvalidSymbol,
        ErrorCode::InvalidDateRange,
        ErrorCode::InvalidTimeframe,
        ErrorCode::InsufficientCapital,
        ErrorCode::CapitalTooHigh,
        ErrorCode::TooManySymbols,
        ErrorCode::SessionLimitExceeded,
        ErrorCode::SessionNotFound,
        ErrorCode::InvalidState,
        ErrorCode::InvalidOrder,
        ErrorCode::InsufficientBuyingPower,
        ErrorCode::ShortNotAllowed,
        ErrorCode::ValidationFailed,
        ErrorCode::RateLimited,
        ErrorCode::AuthRequired,
        ErrorCode::InvalidToken,
        ErrorCode::TokenExpired,
        ErrorCode::InvalidApiKey,
        ErrorCode::Internal,
        ErrorCode::ActiveSessionExists,
        ErrorCode::InvalidDuration,
        ErrorCode::LossLimitTooHigh,
        ErrorCode::SessionLocked,
        ErrorCode::TradingHalted,
        ErrorCode::DataChanged,
        ErrorCode::StoreUnavailable,
        ErrorCode::SessionMoved,
    ];

    /// The code as it appears on the wire, e.g. `"SESSION_NOT_FOUND"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidMessage => "INVALID_MESSAGE",
            ErrorCode::UnknownType => "UNKNOWN_TYPE",
            ErrorCode::MessageTooLarge => "MESSAGE_TOO_LARGE",
            ErrorCode::InvalidSymbol => "INVALID_SYMBOL",
            ErrorCode::InvalidDateRange => "INVALID_DATE_RANGE",
            ErrorCode::InvalidTimeframe => "INVALID_TIMEFRAME",
            ErrorCode::InsufficientCapital => "INSUFFICIENT_CAPITAL",
            ErrorCode::CapitalTooHigh => "CAPITAL_TOO_HIGH",
            ErrorCode::TooManySymbols => "TOO_MANY_SYMBOLS",
            ErrorCode::SessionLimitExceeded => "SESSION_LIMIT_EXCEEDED",
            ErrorCode::SessionNotFound => "SESSION_NOT_FOUND",
            ErrorCode::InvalidState => "INVALID_STATE",
            ErrorCode::InvalidOrder => "INVALID_ORDER",
            ErrorCode::InsufficientBuyingPower => "INSUFFICIENT_BUYING_POWER",
            ErrorCode::ShortNotAllowed => "SHORT_NOT_ALLOWED",
            ErrorCode::ValidationFailed => "VALIDATION_FAILED",
            ErrorCode::RateLimited => "RATE_LIMITED",
            ErrorCode::AuthRequired => "AUTH_REQUIRED",
            ErrorCode::InvalidToken => "INVALID_TOKEN",
            ErrorCode::TokenExpired => "TOKEN_EXPIRED",
            ErrorCode::InvalidApiKey => "INVALID_API_KEY",
            ErrorCode::Internal => "INTERNAL",
            ErrorCode::ActiveSessionExists => "ACTIVE_SESSION_EXISTS",
            ErrorCode::InvalidDuration => "INVALID_DURATION",
            ErrorCode::LossLimitTooHigh => "LOSS_LIMIT_TOO_HIGH",
            ErrorCode::SessionLocked => "SESSION_LOCKED",
            ErrorCode::TradingHalted => "TRADING_HALTED",
            ErrorCode::DataChanged => "DATA_CHANGED",
            ErrorCode::StoreUnavailable => "STORE_UNAVAILABLE",
            ErrorCode::SessionMoved => "SESSION_MOVED",
        }
    }

    /// True for failures that may succeed when retried unchanged.
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            ErrorCode::RateLimited | ErrorCode::Internal | ErrorCode::StoreUnavailable
        )
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Payload of the `error` message, and of the JSON body of refused HTTP requests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorBody {
    /// The stable code; branch on this, not on the message.
    pub error_code: ErrorCode,
    /// A sentence for humans that says what went wrong and what to do.
    pub message: String,
    /// Machine-readable specifics; `null` when there are none.
    #[serde(default)]
    pub details: Value,
}

impl ErrorBody {
    /// An error with no details.
    pub fn new(error_code: ErrorCode, message: impl Into<String>) -> Self {
        ErrorBody {
            error_code,
            message: message.into(),
            details: Value::Null,
        }
    }

    /// Attach machine-readable details.
    pub fn with_details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }
}

impl fmt::Display for ErrorBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error_code, self.message)
    }
}

impl std::error::Error for ErrorBody {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_through_their_wire_names() {
        for code in ErrorCode::ALL {
            let json = serde_json::to_string(code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            let back: ErrorCode = serde_json::from_str(&json).unwrap();
            assert_eq!(back, *code);
        }
    }
}
