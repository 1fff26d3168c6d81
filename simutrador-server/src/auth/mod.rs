//! Authentication: API keys exchanged for HS256 JWTs.
//!
//! - [`api_keys`] — `ApiKeyStore`, keys stored hashed in an owner-only file in the state dir.
//! - [`jwt`] — `JwtKeys`, issue and verify tokens (`sub`, `plan`, `kid`, `iat`, `exp`).
//! - [`secret`] — the JWT secret from config, or generated once and kept in the state dir.
//! - [`private_file`] — owner-only directories and atomic owner-only file writes.
//! - [`access`] — `AccessLease`: a connection's access, ending when its key is revoked or its
//!   token expires.
//!
//! [`Authenticator`] ties them together for the server: `POST /auth/token` calls
//! [`Authenticator::exchange_api_key`], the WebSocket handshake calls
//! [`Authenticator::authenticate_token`] and then [`Authenticator::lease`] for the connection,
//! and [`Authenticator::watch_revocations`] (a background task of the server) ends the leases
//! of keys revoked meanwhile. Nothing here logs a key or a token; log lines carry only
//! `key_id` and `user_id`.
//!
//! This module is a leaf: it takes its settings as an [`AuthSettings`] (which the server
//! builds from the configuration) and never imports the `config` module, so `config` may use
//! [`secret::check_configured`] to validate `[auth] jwt_secret` without a cycle.

pub mod access;
pub mod api_keys;
pub mod jwt;
pub mod private_file;
pub mod secret;

pub use access::{AccessEnd, AccessLease, AccessRegistry};
pub use api_keys::{ApiKeyStore, KeyRecord};
pub use jwt::{Claims, IssuedToken, JwtKeys};

use shared_models::{ErrorBody, ErrorCode, Plan};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

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
    /// How often open connections' keys are checked against the key store (which re-reads
    /// the key file when it changed), in milliseconds.
    pub key_check_interval_ms: u64,
}

/// The key check interval of [`Authenticator::new`].
pub const DEFAULT_KEY_CHECK_INTERVAL: Duration = Duration::from_millis(1000);

/// The key store and the token keys, as the server uses them.
#[derive(Debug)]
pub struct Authenticator {
    keys: ApiKeyStore,
    jwt: JwtKeys,
    access: Arc<AccessRegistry>,
    key_check_interval: Duration,
}

impl Authenticator {
    /// From an opened key store and token keys; keys are checked every
    /// [`DEFAULT_KEY_CHECK_INTERVAL`].
    pub fn new(keys: ApiKeyStore, jwt: JwtKeys) -> Self {
        Authenticator {
            keys,
            jwt,
            access: Arc::default(),
            key_check_interval: DEFAULT_KEY_CHECK_INTERVAL,
        }
    }

    /// The same, checking open connections' keys every `every`.
    pub fn with_key_check_interval(mut self, every: Duration) -> Self {
        self.key_check_interval = every;
        self
    }

    /// Open the key store in the settings' state dir and load (or create) the JWT secret.
    pub fn open(settings: &AuthSettings) -> anyhow::Result<Self> {
        let state_dir = &settings.state_dir;
        let keys = ApiKeyStore::open(state_dir)?;
        let secret = secret::load_or_create(state_dir, settings.jwt_secret.as_deref())?;
        let jwt = JwtKeys::new(&secret, settings.token_ttl_seconds);
        Ok(Authenticator::new(keys, jwt)
            .with_key_check_interval(Duration::from_millis(settings.key_check_interval_ms)))
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

    /// The access of a connection authenticated with `claims`: it ends when the key `kid`
    /// is revoked or at `exp` plus the handshake's clock-skew leeway (when the same token
    /// would be refused).
    pub fn lease(&self, claims: &Claims) -> AccessLease {
        let ends_ms = claims
            .exp
            .saturating_add(jwt::EXPIRY_LEEWAY_SECONDS as i64)
            .saturating_mul(1000);
        let left_ms = ends_ms.saturating_sub(chrono::Utc::now().timestamp_millis());
        let valid_for = Duration::from_millis(u64::try_from(left_ms).unwrap_or(0));
        self.access.lease(&claims.kid, valid_for)
    }

    /// The open connections' leases.
    pub fn access(&self) -> &Arc<AccessRegistry> {
        &self.access
    }

    /// End the leases of every key that is no longer active (revoked, or gone from the key
    /// file); returns how many leases ended. The store re-reads its file when it changed.
    pub fn check_revocations(&self) -> usize {
        let open = self.access.key_ids();
        if open.is_empty() {
            return 0;
        }
        let active: HashSet<String> = self
            .keys
            .list()
            .into_iter()
            .filter(KeyRecord::is_active)
            .map(|r| r.key_id)
            .collect();
        let mut ended = 0;
        for key_id in open.iter().filter(|k| !active.contains(*k)) {
            let n = self.access.revoke(key_id);
            if n > 0 {
                tracing::info!(%key_id, connections = n, "api key revoked; closing its connections");
            }
            ended += n;
        }
        ended
    }

    /// Every key check interval, [`Authenticator::check_revocations`]; ends at `shutdown`.
    pub async fn watch_revocations(&self, shutdown: CancellationToken) {
        let mut tick = tokio::time::interval(self.key_check_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                _ = tick.tick() => {
                    self.check_revocations();
                }
            }
        }
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

    #[tokio::test]
    async fn a_revocation_by_another_process_ends_the_keys_leases() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let auth = authenticator(dir.path())?;
        let (_, k1) = auth.keys().add("alice", Plan::Pro)?;
        let (_, k2) = auth.keys().add("alice", Plan::Pro)?;
        let (r1, t1) = auth.exchange_api_key(&k1)?;
        let (_, t2) = auth.exchange_api_key(&k2)?;
        let lease1 = auth.lease(&auth.authenticate_token(&t1.token)?);
        let lease2 = auth.lease(&auth.authenticate_token(&t2.token)?);
        assert_eq!(auth.check_revocations(), 0);
        // Another process (the `keys revoke` command) edits the file.
        ApiKeyStore::open(dir.path())?.revoke(&r1.key_id)?;
        assert_eq!(auth.check_revocations(), 1);
        assert_eq!(lease1.ended().await, AccessEnd::KeyRevoked);
        assert_eq!(auth.access().key_ids(), [lease2.key_id().to_string()]);
        Ok(())
    }

    #[tokio::test(start_paused = true)]
    async fn a_lease_lasts_until_the_token_would_be_refused() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let auth = authenticator(dir.path())?; // tokens live 60 s
        let (_, key) = auth.keys().add("alice", Plan::Pro)?;
        let (_, issued) = auth.exchange_api_key(&key)?;
        let claims = auth.authenticate_token(&issued.token)?;
        let lease = auth.lease(&claims);
        assert_eq!(auth.access().len(), 1);
        let start = tokio::time::Instant::now();
        assert_eq!(lease.ended().await, AccessEnd::TokenExpired);
        // `exp` is in whole seconds: 60 s + the 5 s leeway, less the part of a second
        // already gone when the token was issued.
        let waited = start.elapsed();
        let leeway = jwt::EXPIRY_LEEWAY_SECONDS;
        assert!(
            waited > Duration::from_secs(59 + leeway) && waited <= Duration::from_secs(60 + leeway),
            "{waited:?}"
        );
        drop(lease);
        assert!(auth.access().is_empty());
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
