//! [`ClientError`]: every way an SDK call can fail, split into what the server refused
//! ([`ClientError::Server`], [`ClientError::Auth`]) and what went wrong on the way
//! ([`ClientError::Connection`], [`ClientError::Timeout`], [`ClientError::Protocol`]), plus bad
//! local input ([`ClientError::Config`]).

use serde_json::Value;
use shared_models::{ErrorBody, ErrorCode};
use std::time::Duration;

/// Result of an SDK call.
pub type Result<T, E = ClientError> = std::result::Result<T, E>;

/// Why an SDK call failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ClientError {
    /// The server answered the request with an `error` message.
    #[error("{code}: {message}")]
    Server {
        /// The stable wire code; branch on this.
        code: ErrorCode,
        /// The server's sentence for humans.
        message: String,
        /// Machine-readable specifics (`null` when none).
        details: Value,
    },
    /// The server refused the credentials: the WebSocket handshake or `POST /auth/token`.
    #[error("authentication refused ({code}): {message}")]
    Auth {
        /// `AUTH_REQUIRED`, `INVALID_TOKEN`, `TOKEN_EXPIRED` or `INVALID_API_KEY`.
        code: ErrorCode,
        /// The server's sentence for humans.
        message: String,
    },
    /// The daemon could not be reached, or the connection broke.
    #[error("{0}")]
    Connection(String),
    /// No reply arrived in time; the request may or may not have been carried out.
    #[error(
        "no reply to '{request}' within {:.1} s; the daemon may be overloaded — try again or raise the timeout",
        after.as_secs_f64()
    )]
    Timeout {
        /// The request's wire type.
        request: &'static str,
        /// How long the client waited.
        after: Duration,
    },
    /// The server sent something this client does not understand (another version?).
    #[error("protocol error: {0}")]
    Protocol(String),
    /// Bad local input: an unusable URL, an unreadable session file, a TLS URL in a build
    /// without TLS.
    #[error("{0}")]
    Config(String),
}

impl ClientError {
    /// True when retrying the same call later may succeed: connection trouble, timeouts, and
    /// the server's transient codes (`RATE_LIMITED`, `INTERNAL`).
    pub fn is_transient(&self) -> bool {
        match self {
            ClientError::Connection(_) | ClientError::Timeout { .. } => true,
            ClientError::Server { code, .. } => code.is_transient(),
            ClientError::Auth { .. } | ClientError::Protocol(_) | ClientError::Config(_) => false,
        }
    }

    /// The wire error code, for errors that came from the server.
    pub fn error_code(&self) -> Option<ErrorCode> {
        match self {
            ClientError::Server { code, .. } | ClientError::Auth { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// Machine-readable details of a server error (`null` otherwise).
    pub fn details(&self) -> &Value {
        match self {
            ClientError::Server { details, .. } => details,
            _ => &Value::Null,
        }
    }

    /// Map an `ErrorBody` the server sent: credential codes become [`ClientError::Auth`],
    /// everything else [`ClientError::Server`].
    pub fn from_body(body: ErrorBody) -> Self {
        if is_auth_code(body.error_code) {
            ClientError::Auth {
                code: body.error_code,
                message: body.message,
            }
        } else {
            ClientError::Server {
                code: body.error_code,
                message: body.message,
                details: body.details,
            }
        }
    }
}

impl From<ErrorBody> for ClientError {
    fn from(body: ErrorBody) -> Self {
        ClientError::from_body(body)
    }
}

/// True for the codes that mean "your credentials were not accepted".
pub fn is_auth_code(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::AuthRequired
            | ErrorCode::InvalidToken
            | ErrorCode::TokenExpired
            | ErrorCode::InvalidApiKey
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn error_bodies_map_to_server_or_auth_errors() {
        let body = ErrorBody::new(ErrorCode::InvalidSymbol, "no such symbol 'XYZ'")
            .with_details(json!({"invalid_symbols": ["XYZ"]}));
        let err = ClientError::from(body);
        assert_eq!(err.error_code(), Some(ErrorCode::InvalidSymbol));
        assert_eq!(err.details()["invalid_symbols"][0], "XYZ");
        assert!(!err.is_transient());
        assert_eq!(err.to_string(), "INVALID_SYMBOL: no such symbol 'XYZ'");

        let err = ClientError::from(ErrorBody::new(ErrorCode::TokenExpired, "log in again"));
        assert!(matches!(
            err,
            ClientError::Auth {
                code: ErrorCode::TokenExpired,
                ..
            }
        ));
    }

    #[test]
    fn transient_errors_are_classified() {
        let limited = ClientError::from(ErrorBody::new(ErrorCode::RateLimited, "slow down"));
        assert!(limited.is_transient());
        assert!(ClientError::Connection("reset".into()).is_transient());
        assert!(
            ClientError::Timeout {
                request: "ping",
                after: Duration::from_secs(1)
            }
            .is_transient()
        );
        assert!(!ClientError::Protocol("?".into()).is_transient());
        assert_eq!(ClientError::Config("x".into()).error_code(), None);
    }
}
