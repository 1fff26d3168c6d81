//! Access that ends when access ends: every authenticated WebSocket connection holds an
//! [`AccessLease`] for the API key its token was issued from (the token's `kid` claim) and
//! until the token's expiry. [`AccessLease::ended`] completes when either runs out:
//!
//! - **key revoked** — [`AccessRegistry::revoke`] cancels every lease of a key id. The
//!   [`super::Authenticator`]'s watcher ([`super::Authenticator::watch_revocations`]) checks
//!   the key ids of the open leases against the key store every `key_check_interval_ms`; the
//!   store re-reads `api_keys.json` when it changed on disk, so `simutrador-server keys revoke`
//!   run from another process is noticed within one interval.
//! - **token expired** — at the token's `exp` plus the clock-skew leeway the handshake allows
//!   ([`super::jwt::EXPIRY_LEEWAY_SECONDS`]): the moment the same token would be refused.
//!
//! The connection then says `connection_closing` with [`AccessEnd::reason`] and closes with
//! [`AccessEnd::close_code`] (4001 revoked, 4003 expired; `docs/protocol.md`). Time is
//! `tokio::time`, so tests drive expiry with `tokio::time::pause`.

use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Close code when the API key behind a connection was revoked.
pub const KEY_REVOKED_CLOSE_CODE: u16 = 4001;
/// Close code when the token a connection was opened with expired.
pub const TOKEN_EXPIRED_CLOSE_CODE: u16 = 4003;

/// Why a connection's access ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessEnd {
    /// The API key the token was issued from was revoked.
    KeyRevoked,
    /// The token expired.
    TokenExpired,
}

impl AccessEnd {
    /// The WebSocket close code.
    pub fn close_code(self) -> u16 {
        match self {
            AccessEnd::KeyRevoked => KEY_REVOKED_CLOSE_CODE,
            AccessEnd::TokenExpired => TOKEN_EXPIRED_CLOSE_CODE,
        }
    }

    /// The `reason` of `connection_closing` (snake case, for programs).
    pub fn reason(self) -> &'static str {
        match self {
            AccessEnd::KeyRevoked => "key_revoked",
            AccessEnd::TokenExpired => "token_expired",
        }
    }

    /// The close frame's reason text.
    pub fn close_text(self) -> &'static str {
        match self {
            AccessEnd::KeyRevoked => "api key revoked",
            AccessEnd::TokenExpired => "token expired",
        }
    }

    /// What the user should do, for `connection_closing.message`.
    pub fn message(self) -> &'static str {
        match self {
            AccessEnd::KeyRevoked => {
                "the API key behind this connection was revoked; running simulations are paused: resume them from a connection authenticated with another valid key"
            }
            AccessEnd::TokenExpired => {
                "the token of this connection expired; running simulations are paused: get a new token (POST /auth/token), reconnect and resume them"
            }
        }
    }
}

/// One open lease.
#[derive(Debug)]
struct Entry {
    id: u64,
    revoked: CancellationToken,
}

/// The open leases, by API key id.
#[derive(Debug, Default)]
pub struct AccessRegistry {
    by_key: Mutex<HashMap<String, Vec<Entry>>>,
    next_id: AtomicU64,
}

impl AccessRegistry {
    /// A lease on `key_id` that expires `valid_for` from now.
    pub fn lease(self: &Arc<Self>, key_id: &str, valid_for: Duration) -> AccessLease {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let revoked = CancellationToken::new();
        self.by_key
            .lock()
            .entry(key_id.to_owned())
            .or_default()
            .push(Entry {
                id,
                revoked: revoked.clone(),
            });
        AccessLease {
            registry: self.clone(),
            key_id: key_id.to_owned(),
            id,
            revoked,
            expires_at: Instant::now() + valid_for,
        }
    }

    /// The key ids with at least one open lease.
    pub fn key_ids(&self) -> Vec<String> {
        self.by_key.lock().keys().cloned().collect()
    }

    /// End every lease of `key_id` (its key was revoked); returns how many there were.
    pub fn revoke(&self, key_id: &str) -> usize {
        let entries = self.by_key.lock().remove(key_id).unwrap_or_default();
        for e in &entries {
            e.revoked.cancel();
        }
        entries.len()
    }

    /// Open leases.
    pub fn len(&self) -> usize {
        self.by_key.lock().values().map(Vec::len).sum()
    }

    /// True when no lease is open.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn release(&self, key_id: &str, id: u64) {
        let mut by_key = self.by_key.lock();
        if let Some(entries) = by_key.get_mut(key_id) {
            entries.retain(|e| e.id != id);
            if entries.is_empty() {
                by_key.remove(key_id);
            }
        }
    }
}

/// A connection's access: ends when its key is revoked or its token expires; released when
/// dropped.
#[derive(Debug)]
pub struct AccessLease {
    registry: Arc<AccessRegistry>,
    key_id: String,
    id: u64,
    revoked: CancellationToken,
    expires_at: Instant,
}

impl AccessLease {
    /// The API key id the lease is for.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// Completes when access ends, saying why (a revocation wins over a simultaneous expiry).
    pub async fn ended(&self) -> AccessEnd {
        tokio::select! {
            biased;
            () = self.revoked.cancelled() => AccessEnd::KeyRevoked,
            () = tokio::time::sleep_until(self.expires_at) => AccessEnd::TokenExpired,
        }
    }
}

impl Drop for AccessLease {
    fn drop(&mut self) {
        self.registry.release(&self.key_id, self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_lease_ends_at_expiry() {
        let registry = Arc::new(AccessRegistry::default());
        let lease = registry.lease("k_1", Duration::from_secs(30));
        let start = Instant::now();
        assert_eq!(lease.ended().await, AccessEnd::TokenExpired);
        assert_eq!(start.elapsed(), Duration::from_secs(30));
    }

    #[tokio::test(start_paused = true)]
    async fn revoking_a_key_ends_its_leases_only() {
        let registry = Arc::new(AccessRegistry::default());
        let (a1, a2) = (
            registry.lease("k_a", Duration::from_secs(3600)),
            registry.lease("k_a", Duration::from_secs(3600)),
        );
        let b = registry.lease("k_b", Duration::from_secs(3600));
        let mut ids = registry.key_ids();
        ids.sort();
        assert_eq!(ids, ["k_a", "k_b"]);
        assert_eq!(registry.revoke("k_a"), 2);
        assert_eq!(a1.ended().await, AccessEnd::KeyRevoked);
        assert_eq!(a2.ended().await, AccessEnd::KeyRevoked);
        assert_eq!(registry.key_ids(), ["k_b"]);
        // b is untouched: it still ends only at its expiry.
        let start = Instant::now();
        assert_eq!(b.ended().await, AccessEnd::TokenExpired);
        assert_eq!(start.elapsed(), Duration::from_secs(3600));
    }

    #[test]
    fn dropped_leases_are_released() {
        let registry = Arc::new(AccessRegistry::default());
        let lease = registry.lease("k_a", Duration::from_secs(1));
        let other = registry.lease("k_a", Duration::from_secs(1));
        assert_eq!(registry.len(), 2);
        drop(lease);
        assert_eq!(registry.len(), 1);
        drop(other);
        assert!(registry.is_empty());
        assert!(registry.key_ids().is_empty());
        assert_eq!(registry.revoke("k_a"), 0);
    }

    #[test]
    fn close_codes_and_reasons() {
        assert_eq!(AccessEnd::KeyRevoked.close_code(), 4001);
        assert_eq!(AccessEnd::TokenExpired.close_code(), 4003);
        assert_eq!(AccessEnd::KeyRevoked.reason(), "key_revoked");
        assert_eq!(AccessEnd::TokenExpired.close_text(), "token expired");
    }
}
