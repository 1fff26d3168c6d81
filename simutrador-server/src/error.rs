//! The server's user-facing error: the wire [`ErrorBody`] (code, message, details).
//!
//! Every subsystem returns [`ApiError`] for anything a client can cause, so the protocol layer
//! can send it as an `error` message without translation.

use serde_json::Value;
pub use shared_models::{ErrorBody as ApiError, ErrorCode};

/// Result of an operation a client asked for.
pub type ApiResult<T> = Result<T, ApiError>;

/// Shorthand for an error with details.
pub fn api_error(code: ErrorCode, message: impl Into<String>, details: Value) -> ApiError {
    ApiError::new(code, message).with_details(details)
}
