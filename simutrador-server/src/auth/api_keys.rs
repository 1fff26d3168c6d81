//! API keys, stored hashed in `<state_dir>/api_keys.json` (owner-only).
//!
//! A key is `stk_` followed by 43 random base62 characters (≥ 256 bits). Only its SHA-256 is
//! stored — a plain hash is enough for a random key of that size — and compared in constant
//! time. The public `key_id` (`k_` + the first 8 hex digits of the hash) is what logs, tables
//! and tokens carry.
//!
//! The file is the single source of truth. Every read method first `stat`s it and re-reads it
//! when its modification time, size or inode changed, so `simutrador-server keys revoke` run
//! from another process takes effect on a running daemon at its next authentication check
//! (and its open connections are closed at the next check of
//! [`super::Authenticator::watch_revocations`]).
//! Changes re-read the file unconditionally, then replace it atomically.

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use parking_lot::Mutex;
use rand::Rng;
use rand::distr::Alphanumeric;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use shared_models::Plan;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::private_file;

/// Name of the key file inside the state dir.
pub const KEYS_FILE: &str = "api_keys.json";

/// Prefix of every API key.
pub const KEY_PREFIX: &str = "stk_";

/// Random characters after the prefix (base62, 43 × 5.95 bits ≥ 256 bits).
const KEY_RANDOM_CHARS: usize = 43;

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

impl KeyRecord {
    /// True unless revoked.
    pub fn is_active(&self) -> bool {
        self.revoked_at.is_none()
    }
}

/// A record plus the key's hash, as written to the file.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredKey {
    #[serde(flatten)]
    record: KeyRecord,
    /// Lower-case hex SHA-256 of the plaintext key.
    sha256: String,
}

/// The file's layout.
#[derive(Debug, Default, Serialize, Deserialize)]
struct KeyFile {
    /// Layout version, for later migrations.
    version: u32,
    keys: Vec<StoredKey>,
}

/// What identifies one version of the file on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    modified: Option<SystemTime>,
    len: u64,
    inode: u64,
}

/// The in-memory copy and the version of the file it came from.
#[derive(Debug, Default)]
struct Cache {
    keys: Vec<StoredKey>,
    /// `None`: the file did not exist.
    stamp: Option<Stamp>,
}

/// The key store: a file in the state dir, re-read when it changes on disk (so `keys revoke`
/// from another process takes effect on a running daemon).
#[derive(Debug)]
pub struct ApiKeyStore {
    path: PathBuf,
    cache: Mutex<Cache>,
}

impl ApiKeyStore {
    /// Open the store in `state_dir`, creating the directory (0700) if needed; the file
    /// itself is written on the first change. A corrupt file is an error naming it.
    pub fn open(state_dir: &Path) -> anyhow::Result<Self> {
        private_file::create_private_dir(state_dir)?;
        let path = state_dir.join(KEYS_FILE);
        let cache = load(&path)?;
        if cache.stamp.is_some() && private_file::restrict_permissions(&path)? {
            tracing::warn!(path = %path.display(), "the API key file was readable by other users; changed it to 0600");
        }
        Ok(ApiKeyStore {
            path,
            cache: Mutex::new(cache),
        })
    }

    /// The file this store reads and writes.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Create a key; returns its record and the plaintext key (shown once).
    pub fn add(&self, user_id: &str, plan: Plan) -> anyhow::Result<(KeyRecord, String)> {
        self.modify(|keys| {
            let (key, sha256) = loop {
                let key = generate_key();
                let sha256 = sha256_hex(&key);
                // 32-bit ids: regenerate on the (unlikely) collision.
                if !keys.iter().any(|k| k.record.key_id == key_id_for(&sha256)) {
                    break (key, sha256);
                }
            };
            let record = KeyRecord {
                key_id: key_id_for(&sha256),
                user_id: user_id.to_owned(),
                plan,
                created_at: Utc::now(),
                revoked_at: None,
            };
            keys.push(StoredKey {
                record: record.clone(),
                sha256,
            });
            Ok((record, key))
        })
        .inspect(|(r, _)| tracing::info!(key_id = %r.key_id, user_id = %r.user_id, plan = %r.plan, "api key added"))
    }

    /// Every key, oldest first.
    pub fn list(&self) -> Vec<KeyRecord> {
        self.read(|keys| keys.iter().map(|k| k.record.clone()).collect())
    }

    /// Revoke by key id, or every key of a user; returns how many were revoked.
    ///
    /// A key id match takes precedence over a user name; already revoked keys are not counted.
    pub fn revoke(&self, key_id_or_user: &str) -> anyhow::Result<usize> {
        Ok(self.revoke_records(key_id_or_user)?.len())
    }

    /// [`ApiKeyStore::revoke`], returning the records it revoked (for the audit log, which
    /// names each key's user and id).
    pub fn revoke_records(&self, key_id_or_user: &str) -> anyhow::Result<Vec<KeyRecord>> {
        let now = Utc::now();
        self.modify(|keys| {
            let by_id = keys.iter().any(|k| k.record.key_id == key_id_or_user);
            let mut revoked = Vec::new();
            for k in keys.iter_mut().filter(|k| k.record.is_active()) {
                let hit = if by_id {
                    k.record.key_id == key_id_or_user
                } else {
                    k.record.user_id == key_id_or_user
                };
                if hit {
                    k.record.revoked_at = Some(now);
                    tracing::info!(key_id = %k.record.key_id, user_id = %k.record.user_id, "api key revoked");
                    revoked.push(k.record.clone());
                }
            }
            Ok(revoked)
        })
    }

    /// The active record for a plaintext key, if any.
    pub fn verify(&self, api_key: &str) -> Option<KeyRecord> {
        if !api_key.starts_with(KEY_PREFIX) {
            return None;
        }
        let hash = sha256_hex(api_key);
        self.read(|keys| {
            // Compare against every key so the time taken does not depend on which matched.
            let mut found = None;
            for k in keys {
                if constant_time_eq(k.sha256.as_bytes(), hash.as_bytes()) && k.record.is_active() {
                    found = Some(k.record.clone());
                }
            }
            found
        })
    }

    /// True if the key id exists and is not revoked.
    pub fn is_active(&self, key_id: &str) -> bool {
        self.read(|keys| {
            keys.iter()
                .any(|k| k.record.key_id == key_id && k.record.is_active())
        })
    }

    /// True when the store holds no key at all.
    pub fn is_empty(&self) -> bool {
        self.read(|keys| keys.is_empty())
    }

    /// Run `f` on the current keys, re-reading the file first if it changed. A file that
    /// became unreadable or corrupt is reported once and the last good copy is kept.
    fn read<T>(&self, f: impl FnOnce(&[StoredKey]) -> T) -> T {
        let mut cache = self.cache.lock();
        let current = stamp(&self.path);
        if current != cache.stamp {
            match load(&self.path) {
                Ok(fresh) => *cache = fresh,
                Err(e) => {
                    tracing::error!(error = %format!("{e:#}"), "keeping the API keys loaded before");
                    cache.stamp = current;
                }
            }
        }
        f(&cache.keys)
    }

    /// Re-read the file, apply `f`, write the result atomically.
    fn modify<T>(
        &self,
        f: impl FnOnce(&mut Vec<StoredKey>) -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        let mut cache = self.cache.lock();
        let mut fresh = load(&self.path)?;
        let out = f(&mut fresh.keys)?;
        let file = KeyFile {
            version: 1,
            keys: fresh.keys,
        };
        let mut json = serde_json::to_vec_pretty(&file).context("could not encode the API keys")?;
        json.push(b'\n');
        private_file::write_private(&self.path, &json)?;
        *cache = Cache {
            keys: file.keys,
            stamp: stamp(&self.path),
        };
        Ok(out)
    }
}

/// Identity of the file on disk, `None` if it does not exist.
fn stamp(path: &Path) -> Option<Stamp> {
    let meta = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&meta);
    #[cfg(not(unix))]
    let inode = 0;
    Some(Stamp {
        modified: meta.modified().ok(),
        len: meta.len(),
        inode,
    })
}

/// Read and parse the file; a missing file is an empty store.
fn load(path: &Path) -> anyhow::Result<Cache> {
    let stamp = stamp(path);
    if stamp.is_none() {
        return Ok(Cache::default());
    }
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("could not read the API key file {}", path.display()))?;
    let file: KeyFile = serde_json::from_str(&text).map_err(|e| {
        anyhow::anyhow!(
            "the API key file {} is corrupt ({e}); fix it or move it away and add keys again",
            path.display()
        )
    })?;
    if file.version != 1 {
        bail!(
            "the API key file {} has version {}, which this server does not understand; use a newer simutrador-server",
            path.display(),
            file.version
        );
    }
    Ok(Cache {
        keys: file.keys,
        stamp,
    })
}

/// A new random key: `stk_` + 43 base62 characters.
fn generate_key() -> String {
    let random: String = rand::rng()
        .sample_iter(Alphanumeric)
        .take(KEY_RANDOM_CHARS)
        .map(char::from)
        .collect();
    format!("{KEY_PREFIX}{random}")
}

/// Lower-case hex SHA-256 of a key.
fn sha256_hex(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// `k_` + the first 8 hex digits of the key's hash.
fn key_id_for(sha256: &str) -> String {
    format!("k_{}", sha256.get(..8).unwrap_or(sha256))
}

/// Equality whose time depends only on the lengths.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
#[path = "api_keys_tests.rs"]
mod tests;
