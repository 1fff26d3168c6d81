//! Unit tests of [`super::ApiKeyStore`]: add/verify/revoke, owner-only files, revocation seen
//! through a second instance (another process), no plaintext on disk, corrupt files.

use super::*;

fn store() -> anyhow::Result<(tempfile::TempDir, ApiKeyStore)> {
    let dir = tempfile::tempdir()?;
    let store = ApiKeyStore::open(dir.path())?;
    Ok((dir, store))
}

#[test]
fn add_verify_revoke() -> anyhow::Result<()> {
    let (_dir, store) = store()?;
    assert!(store.is_empty());
    let (rec, key) = store.add("alice", Plan::Pro)?;
    assert!(key.starts_with("stk_") && key.len() == 4 + 43, "{key}");
    assert!(key[4..].chars().all(|c| c.is_ascii_alphanumeric()));
    assert!(rec.key_id.starts_with("k_") && rec.key_id.len() == 10);
    assert_eq!(rec.key_id, key_id_for(&sha256_hex(&key)));
    assert!(!store.is_empty());
    assert_eq!(store.verify(&key), Some(rec.clone()));
    assert!(store.is_active(&rec.key_id));
    assert_eq!(store.verify("stk_wrong"), None);
    assert_eq!(store.verify("not-a-key"), None);

    let (rec2, key2) = store.add("alice", Plan::Free)?;
    let (bob, bob_key) = store.add("bob", Plan::Free)?;
    assert_ne!(key, key2);
    let listed: Vec<String> = store.list().into_iter().map(|r| r.key_id).collect();
    assert_eq!(
        listed,
        [rec.key_id.clone(), rec2.key_id.clone(), bob.key_id.clone()]
    );

    assert_eq!(store.revoke(&rec.key_id)?, 1);
    assert_eq!(store.verify(&key), None);
    assert!(!store.is_active(&rec.key_id));
    assert!(store.verify(&key2).is_some());
    // By user: only the remaining active key of alice; revoking again matches nothing.
    assert_eq!(store.revoke("alice")?, 1);
    assert_eq!(store.revoke("alice")?, 0);
    assert_eq!(store.revoke("nobody")?, 0);
    assert!(store.verify(&bob_key).is_some());
    // Revoked keys stay listed.
    assert_eq!(store.list().iter().filter(|r| !r.is_active()).count(), 2);
    Ok(())
}

#[test]
fn revocation_seen_by_second_instance() -> anyhow::Result<()> {
    let (dir, daemon) = store()?;
    let cli = ApiKeyStore::open(dir.path())?;
    // A key added by "another process" is seen without reopening.
    let (rec, key) = cli.add("carol", Plan::Enterprise)?;
    assert_eq!(
        daemon.verify(&key).map(|r| r.key_id),
        Some(rec.key_id.clone())
    );
    assert!(daemon.is_active(&rec.key_id));
    assert_eq!(cli.revoke(&rec.key_id)?, 1);
    assert!(!daemon.is_active(&rec.key_id));
    assert_eq!(daemon.verify(&key), None);
    Ok(())
}

#[test]
fn plaintext_never_stored() -> anyhow::Result<()> {
    let (_dir, store) = store()?;
    let (_, key) = store.add("dave", Plan::Free)?;
    let text = std::fs::read_to_string(store.path())?;
    assert!(!text.contains(&key));
    assert!(!text.contains(&key[4..]));
    assert!(text.contains(&sha256_hex(&key)));
    Ok(())
}

#[cfg(unix)]
#[test]
fn file_is_owner_only() -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir()?;
    let state = tmp.path().join("new-state");
    let store = ApiKeyStore::open(&state)?;
    store.add("erin", Plan::Free)?;
    let mode = |p: &Path| std::fs::metadata(p).map(|m| m.permissions().mode() & 0o777);
    assert_eq!(mode(store.path())?, 0o600);
    assert_eq!(mode(&state)?, 0o700);
    // Still 0600 after a rewrite.
    store.revoke("erin")?;
    assert_eq!(mode(store.path())?, 0o600);
    Ok(())
}

#[test]
fn corrupt_file_is_named() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    std::fs::write(dir.path().join(KEYS_FILE), "{ not json")?;
    let err = ApiKeyStore::open(dir.path())
        .err()
        .map(|e| format!("{e:#}"));
    let err = err.unwrap_or_default();
    assert!(err.contains(KEYS_FILE) && err.contains("corrupt"), "{err}");
    Ok(())
}

#[test]
fn corrupt_file_at_runtime_keeps_last_good_copy() -> anyhow::Result<()> {
    let (_dir, store) = store()?;
    let (rec, _) = store.add("frank", Plan::Free)?;
    std::fs::write(
        store.path(),
        "garbage that is longer than before, surely not JSON",
    )?;
    assert!(store.is_active(&rec.key_id));
    // But changes are refused with a clear error.
    let err = store
        .add("frank", Plan::Free)
        .err()
        .map(|e| format!("{e:#}"));
    assert!(err.unwrap_or_default().contains("corrupt"));
    Ok(())
}

#[test]
fn constant_time_compare() {
    assert!(constant_time_eq(b"abc", b"abc"));
    assert!(!constant_time_eq(b"abc", b"abd"));
    assert!(!constant_time_eq(b"abc", b"ab"));
}
