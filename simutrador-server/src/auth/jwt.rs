//! CONTRACT STUB: HS256 tokens.

use serde::{Deserialize, Serialize};
use shared_models::Plan;

use super::AuthError;

/// Claims in every token this server issues.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// User id.
    pub sub: String,
    /// Plan.
    pub plan: Plan,
    /// Id of the API key the token was issued for (checked against revocation).
    pub kid: String,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Expires at (Unix seconds).
    pub exp: i64,
}

/// A freshly issued token.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    /// The encoded JWT.
    pub token: String,
    /// Seconds until it expires.
    pub expires_in: u64,
}

/// Signing and verification keys derived from the server secret.
#[derive(Clone)]
pub struct JwtKeys {}

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JwtKeys(..)")
    }
}

impl JwtKeys {
    /// Keys from a secret (at least 32 bytes) and a token lifetime in seconds.
    pub fn new(_secret: &[u8], _ttl_seconds: u64) -> Self {
        unimplemented!()
    }
    /// Issue a token for a user.
    pub fn issue(
        &self,
        _user_id: &str,
        _plan: Plan,
        _key_id: &str,
    ) -> Result<IssuedToken, AuthError> {
        unimplemented!()
    }
    /// Verify a token: HS256 only, signature, expiry (no leeway beyond a few seconds).
    pub fn verify(&self, _token: &str) -> Result<Claims, AuthError> {
        unimplemented!()
    }
}
