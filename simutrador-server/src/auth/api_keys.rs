//! CONTRACT STUB: API keys, stored hashed.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use shared_models::Plan;
use std::path::Path;

/// One key as stored (never the key itself, only its hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRecord {
    /// Short public id, e.g. `k_3f9a1c2b`; safe to log and show.
    pub key_id: String,
    /// Owner.
    pub user_id: String,
    /// Plan granted.
    pub plan: Plan,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// The key store: a file in the state dir, re-read when it changes on disk (so `keys revoke`
/// from another process takes effect on a running daemon).
#[derive(Debug)]
pub struct ApiKeyStore {}

impl ApiKeyStore {
    /// Open (or create, empty) the store in `state_dir`.
    pub fn open(_state_dir: &Path) -> anyhow::Result<Self> {
        unimplemented!()
    }
    /// Create a key; returns its record and the plaintext key (shown once).
    pub fn add(&self, _user_id: &str, _plan: Plan) -> anyhow::Result<(KeyRecord, String)> {
        unimplemented!()
    }
    /// Every key, oldest first.
    pub fn list(&self) -> Vec<KeyRecord> {
        unimplemented!()
    }
    /// Revoke by key id, or every key of a user; returns how many were revoked.
    pub fn revoke(&self, _key_id_or_user: &str) -> anyhow::Result<usize> {
        unimplemented!()
    }
    /// The active record for a plaintext key, if any.
    pub fn verify(&self, _api_key: &str) -> Option<KeyRecord> {
        unimplemented!()
    }
    /// True if the key id exists and is not revoked.
    pub fn is_active(&self, _key_id: &str) -> bool {
        unimplemented!()
    }
    /// True when the store holds no key at all.
    pub fn is_empty(&self) -> bool {
        unimplemented!()
    }
}
