//! Authentication: API keys exchanged for HS256 JWTs.
//!
//! - [`api_keys`] — `ApiKeyStore`, keys stored hashed in an owner-only file in the state dir.
//! - [`jwt`] — `JwtKeys`, issue and verify tokens (`sub`, `plan`, `kid`, `iat`, `exp`).
//! - [`secret`] — the JWT secret from config, or generated once and kept in the state dir.
//! - [`private_file`] — owner-only directories and atomic owner-only file writes.
//!
//! [`Authenticator`] ties them together for the server: `POST /auth/token` calls
//! [`Authenticator::exchange_api_key`], the WebSocket handshake calls
//! [`Authenticator::authenticate_token`]. Nothing here logs a key or a token; log lines carry
//! only `key_id` and `user_id`.
//!
//! This module is a leaf: it takes its settings as an [`AuthSettings`] (which the server
//! builds from the configuration) and never imports the `config` module, so `config` may use
//! [`secret::check_configured`] to validate `[auth] jwt_secret` without a cycle.

pub mod api_keys;
pub mod jwt;
pub mod private_file;
pub mod secret;

pub use api_keys::{ApiKeyStore, KeyRecord};
pub use jwt::{Claims, IssuedToken, JwtKeys};

use shared_models::{ErrorBody, ErrorCode, Plan};
use std::path::{Path, PathBuf};

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

/// What the authenticator needs to start: where the keys and the generated secret live, the
/// configured secret (if any) and the token lifetime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthSettings {
    /// The state dir holding `api_keys.json` and `jwt_secret`.
    pub state_dir: PathBuf,
    /// A configured JWT secret; `None` = generated once and kept in the state dir.
    pub jwt_secret: Option<String>,
    /// Lifetime of issued tokens, in seconds.
    pub token_ttl_seconds: u64,
}

/// The key store and the token keys, as the server uses them.
#[derive(Debug)]
pub struct Authenticator {
    keys: ApiKeyStore,
    jwt: JwtKeys,
}

impl Authenticator {
    /// From an opened key store and token keys.
    pub fn new(keys: ApiKeyStore, jwt: JwtKeys) -> Self {
        Authenticator { keys, jwt }
    }

    /// Open the key store in the settings' state dir and load (or create) the JWT secret.
    pub fn open(settings: &AuthSettings) -> anyhow::Result<Self> {
        let state_dir = &settings.state_dir;
        let keys = ApiKeyStore::open(state_dir)?;
        let secret = secret::load_or_create(state_dir, settings.jwt_secret.as_deref())?;
        Ok(Authenticator::new(
            keys,
            JwtKeys::new(&secret, settings.token_ttl_seconds),
        ))
    }

    /// The key store.
    pub fn keys(&self) -> &ApiKeyStore {
        &self.keys
    }

    /// The token keys.
    pub fn jwt(&self) -> &JwtKeys {
        &self.jwt
    }

    /// `POST /auth/token`: an active API key gets a fresh token.
    pub fn exchange_api_key(&self, api_key: &str) -> Result<(KeyRecord, IssuedToken), AuthError> {
        let record = self
            .keys
            .verify(api_key.trim())
            .ok_or(AuthError::InvalidApiKey)?;
        let token = self
            .jwt
            .issue(&record.user_id, record.plan, &record.key_id)?;
        tracing::debug!(key_id = %record.key_id, user_id = %record.user_id, "issued a token");
        Ok((record, token))
    }

    /// A presented token: valid HS256, not expired, and its API key still active.
    pub fn authenticate_token(&self, token: &str) -> Result<Claims, AuthError> {
        let claims = self.jwt.verify(token.trim())?;
        if !self.keys.is_active(&claims.kid) {
            return Err(AuthError::KeyRevoked);
        }
        Ok(claims)
    }
}

/// Name of the file holding the key created for user `local`.
pub const LOCAL_KEY_FILE: &str = "local.key";

/// If the store in `state_dir` holds no key at all, create one for user `local` (plan `pro`),
/// write it to `<state_dir>/local.key` (0600) and return that path; otherwise `None`.
///
/// A store whose keys were all revoked is not empty: no key is created behind the operator's
/// back.
pub fn ensure_local_key(state_dir: &Path) -> anyhow::Result<Option<PathBuf>> {
    let store = ApiKeyStore::open(state_dir)?;
    if !store.is_empty() {
        return Ok(None);
    }
    let (record, key) = store.add("local", Plan::Pro)?;
    let path = state_dir.join(LOCAL_KEY_FILE);
    private_file::write_private(&path, format!("{key}\n").as_bytes())?;
    tracing::info!(key_id = %record.key_id, user_id = %record.user_id, path = %path.display(), "created an API key for user local");
    Ok(Some(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn authenticator(dir: &Path) -> anyhow::Result<Authenticator> {
        let keys = ApiKeyStore::open(dir)?;
        Ok(Authenticator::new(keys, JwtKeys::new(&[7u8; 32], 60)))
    }

    #[test]
    fn exchange_then_authenticate_then_revoke() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let auth = authenticator(dir.path())?;
        let (_, key) = auth.keys().add("alice", Plan::Pro)?;
        let (record, issued) = auth.exchange_api_key(&key)?;
        assert_eq!(record.user_id, "alice");
        let claims = auth.authenticate_token(&issued.token)?;
        assert_eq!(
            (claims.sub.as_str(), claims.kid.as_str()),
            ("alice", record.key_id.as_str())
        );

        assert_eq!(
            auth.exchange_api_key("stk_nope").err(),
            Some(AuthError::InvalidApiKey)
        );
        auth.keys().revoke(&record.key_id)?;
        assert_eq!(
            auth.authenticate_token(&issued.token).err(),
            Some(AuthError::KeyRevoked)
        );
        assert_eq!(
            auth.exchange_api_key(&key).err(),
            Some(AuthError::InvalidApiKey)
        );
        Ok(())
    }

    #[test]
    fn local_key_created_once() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = ensure_local_key(dir.path())?;
        assert_eq!(
            path.as_deref(),
            Some(dir.path().join(LOCAL_KEY_FILE).as_path())
        );
        let key = std::fs::read_to_string(dir.path().join(LOCAL_KEY_FILE))?;
        let record = ApiKeyStore::open(dir.path())?.verify(key.trim());
        assert_eq!(
            record.map(|r| (r.user_id, r.plan)),
            Some(("local".into(), Plan::Pro))
        );
        assert_eq!(ensure_local_key(dir.path())?, None);
        Ok(())
    }

    #[test]
    fn wire_codes() {
        assert_eq!(AuthError::Missing.code(), ErrorCode::AuthRequired);
        assert_eq!(AuthError::Expired.code(), ErrorCode::TokenExpired);
        assert_eq!(AuthError::BadSignature.code(), ErrorCode::InvalidToken);
        assert_eq!(AuthError::KeyRevoked.code(), ErrorCode::InvalidToken);
    }
}
