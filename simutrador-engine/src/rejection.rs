//! Why the engine refused an order: a [`Rejection`] is a stable [`RejectCode`] and a sentence
//! that says what to change. Inside the engine every check returns one; it becomes text only
//! at the edge, in the `reason` of the `rejected` [`OrderUpdate`](shared_models::trading::OrderUpdate),
//! as `"CODE: message"` (the protocol's form, unchanged). [`Rejection::parse`] reads that text
//! back, for clients that branch on the code.
//!
//! The codes and when each is given are listed in `docs/execution-model.md` ("Rejections").

use shared_models::ErrorCode;
use std::fmt;

/// The stable code of a rejection: one of the wire's documented [`ErrorCode`]s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RejectCode {
    /// The request is malformed (bad or reused id, unknown symbol, sizing, prices), an
    /// amount overflows the engine's arithmetic, or the session stopped at its loss limit.
    InvalidOrder,
    /// A sell that would open a short in a session without shorting.
    ShortNotAllowed,
    /// The part of the order that adds exposure cannot be paid for at fill time.
    InsufficientBuyingPower,
    /// The symbol is halted by the volatility circuit breaker.
    TradingHalted,
}

impl RejectCode {
    /// Every code.
    pub const ALL: [RejectCode; 4] = [
        RejectCode::InvalidOrder,
        RejectCode::ShortNotAllowed,
        RejectCode::InsufficientBuyingPower,
        RejectCode::TradingHalted,
    ];

    /// The wire error code it is.
    pub fn error_code(self) -> ErrorCode {
        match self {
            RejectCode::InvalidOrder => ErrorCode::InvalidOrder,
            RejectCode::ShortNotAllowed => ErrorCode::ShortNotAllowed,
            RejectCode::InsufficientBuyingPower => ErrorCode::InsufficientBuyingPower,
            RejectCode::TradingHalted => ErrorCode::TradingHalted,
        }
    }

    /// The code as it appears at the start of `OrderUpdate::reason` (`"INVALID_ORDER"` …).
    pub fn as_str(self) -> &'static str {
        self.error_code().as_str()
    }
}

impl From<RejectCode> for ErrorCode {
    fn from(code: RejectCode) -> ErrorCode {
        code.error_code()
    }
}

impl fmt::Display for RejectCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An order the engine refused, and why. `Display` gives the wire's `"CODE: message"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The stable code; branch on this, not on the message.
    pub code: RejectCode,
    /// A sentence for humans: what is wrong and what to do.
    pub message: String,
}

impl Rejection {
    /// A rejection with `code` and `message`.
    pub fn new(code: RejectCode, message: impl Into<String>) -> Rejection {
        Rejection {
            code,
            message: message.into(),
        }
    }

    /// An [`RejectCode::InvalidOrder`] rejection.
    pub fn invalid_order(message: impl Into<String>) -> Rejection {
        Rejection::new(RejectCode::InvalidOrder, message)
    }

    /// The `reason` of the `rejected` order update: `"CODE: message"`.
    pub fn to_reason(&self) -> String {
        self.to_string()
    }

    /// Read a `reason` written by [`Rejection::to_reason`]; `None` when it does not start
    /// with a known code and `": "`.
    pub fn parse(reason: &str) -> Option<Rejection> {
        let (code, message) = reason.split_once(": ")?;
        let code = RejectCode::ALL.into_iter().find(|c| c.as_str() == code)?;
        Some(Rejection::new(code, message))
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for Rejection {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wire_reason_is_code_colon_message_and_reads_back() {
        for code in RejectCode::ALL {
            let r = Rejection::new(code, "a sentence: with a colon");
            let reason = r.to_reason();
            assert_eq!(
                reason,
                format!("{}: a sentence: with a colon", code.as_str())
            );
            assert_eq!(Rejection::parse(&reason), Some(r));
            let wire = serde_json::to_string(&code.error_code()).unwrap();
            assert_eq!(wire, format!("\"{code}\""));
        }
        assert_eq!(
            Rejection::invalid_order("x").to_reason(),
            "INVALID_ORDER: x"
        );
        assert_eq!(RejectCode::TradingHalted.as_str(), "TRADING_HALTED");
        for other in [
            "cancelled by the strategy",
            "NOPE: x",
            "INVALID_ORDER:x",
            "",
        ] {
            assert_eq!(Rejection::parse(other), None, "{other}");
        }
    }
}
