//! Authentication: API keys exchanged for HS256 JWTs.
//!
//! CONTRACT STUB — to be replaced by the real implementation (keep these public names and
//! signatures; adding more is fine).
//!
//! - [`api_keys`]: `ApiKeyStore`, keys stored hashed in an owner-only file in the state dir.
//! - [`jwt`]: `JwtKeys`, issue and verify tokens (`sub`, `plan`, `kid`, `iat`, `exp`).
//! - [`secret`]: the JWT secret from config, or generated once and kept in the state dir.

pub mod api_keys;
pub mod jwt;
pub mod secret;

pub use api_keys::{ApiKeyStore, KeyRecord};
pub use jwt::{Claims, IssuedToken, JwtKeys};

use shared_models::{ErrorBody, ErrorCode};

/// Why a request could not be authenticated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No `Authorization: Bearer` header and no `?token=`.
    #[error(
        "no token: send 'Authorization: Bearer <token>' or '?token=<token>'; get one with POST /auth/token"
    )]
    Missing,
    /// Not three base64url parts, or undecodable claims.
    #[error("the token is malformed ({0}); log in again to get a new one")]
    Malformed(String),
    /// Signature does not match this server's secret.
    #[error("the token's signature is not valid for this server; log in again")]
    BadSignature,
    /// `alg` is not HS256 (for example `none` or `RS256`).
    #[error("the token uses algorithm {0}; this server only accepts HS256 tokens it issued")]
    WrongAlgorithm(String),
    /// `exp` is in the past.
    #[error("the token has expired; log in again (simutrador-client auth login)")]
    Expired,
    /// The API key the token was issued for has been revoked.
    #[error("the API key behind this token was revoked; ask the operator for a new key")]
    KeyRevoked,
    /// Unknown or revoked API key at `POST /auth/token`.
    #[error(
        "the API key is not valid (unknown or revoked); check SIMUTRADOR_API_KEY or ask the operator for a key"
    )]
    InvalidApiKey,
}

impl AuthError {
    /// The wire code for this failure.
    pub fn code(&self) -> ErrorCode {
        match self {
            AuthError::Missing => ErrorCode::AuthRequired,
            AuthError::Expired => ErrorCode::TokenExpired,
            AuthError::InvalidApiKey => ErrorCode::InvalidApiKey,
            _ => ErrorCode::InvalidToken,
        }
    }

    /// The JSON body sent with the HTTP 401.
    pub fn to_body(&self) -> ErrorBody {
        ErrorBody::new(self.code(), self.to_string())
    }
}

/// TEMPORARY STUB (replaced by the auth work): API-key exchange and token checks.
#[derive(Debug)]
pub struct Authenticator {
    /// Key store.
    pub keys: ApiKeyStore,
    /// JWT keys.
    pub jwt: JwtKeys,
}

impl Authenticator {
    /// Combine a key store and JWT keys.
    pub fn new(keys: ApiKeyStore, jwt: JwtKeys) -> Self {
        Authenticator { keys, jwt }
    }
    /// Exchange an API key for a token.
    pub fn exchange_api_key(&self, _api_key: &str) -> Result<(KeyRecord, IssuedToken), AuthError> {
        unimplemented!()
    }
    /// Verify a token and that its key is still active.
    pub fn authenticate_token(&self, _token: &str) -> Result<Claims, AuthError> {
        unimplemented!()
    }
}

/// TEMPORARY STUB: create a key for `local` when there is none.
pub fn ensure_local_key(
    _state_dir: &std::path::Path,
) -> anyhow::Result<Option<std::path::PathBuf>> {
    unimplemented!()
}
