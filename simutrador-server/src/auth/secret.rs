//! The JWT signing secret: the configured one (`[auth] jwt_secret` / `SIMUTRADOR_JWT_SECRET`),
//! or one generated on first start and kept in `<state_dir>/jwt_secret` (owner-only), so tokens
//! stay valid across restarts without any setup.
//!
//! The secret is used as text: the file holds 64 hex characters (32 random bytes), and a
//! configured secret is taken byte for byte. Either way it must be at least
//! [`MIN_SECRET_BYTES`] long.

use anyhow::{Context, bail};
use std::path::{Path, PathBuf};

use super::private_file;

/// Shortest accepted secret, in bytes (HS256 wants at least as many as the hash output).
pub const MIN_SECRET_BYTES: usize = 32;

/// Name of the generated secret's file inside the state dir.
pub const SECRET_FILE: &str = "jwt_secret";

/// Where the generated secret lives for `state_dir`.
pub fn secret_path(state_dir: &Path) -> PathBuf {
    state_dir.join(SECRET_FILE)
}

/// Check a configured secret's length; the error says how to fix it.
pub fn check_configured(secret: &str) -> anyhow::Result<()> {
    if secret.len() < MIN_SECRET_BYTES {
        bail!(
            "the JWT secret is {} bytes long but must be at least {MIN_SECRET_BYTES}; \
             use a longer one (for example the output of `openssl rand -hex 32`) or remove \
             jwt_secret / SIMUTRADOR_JWT_SECRET to let the server generate and keep one",
            secret.len()
        );
    }
    Ok(())
}

/// The configured secret, or the one stored in `<state_dir>/jwt_secret` (created owner-only
/// with 32 random bytes on first use).
pub fn load_or_create(state_dir: &Path, configured: Option<&str>) -> anyhow::Result<Vec<u8>> {
    if let Some(secret) = configured {
        check_configured(secret)?;
        return Ok(secret.as_bytes().to_vec());
    }
    let path = secret_path(state_dir);
    if path.exists() {
        return read_existing(&path);
    }
    let secret = hex::encode(rand::random::<[u8; 32]>());
    private_file::write_private(&path, secret.as_bytes())?;
    tracing::info!(path = %path.display(), "generated a new JWT secret");
    Ok(secret.into_bytes())
}

/// Read a stored secret, tightening its permissions if needed.
fn read_existing(path: &Path) -> anyhow::Result<Vec<u8>> {
    if private_file::restrict_permissions(path)? {
        tracing::warn!(
            path = %path.display(),
            "the JWT secret file was readable by other users; changed it to 0600 \
             (tokens issued so far may have been exposed: delete the file and restart to rotate)"
        );
    }
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("could not read the JWT secret {}", path.display()))?;
    let secret = text.trim();
    if secret.len() < MIN_SECRET_BYTES {
        bail!(
            "the JWT secret in {} is {} bytes long but must be at least {MIN_SECRET_BYTES}; \
             delete the file to let the server generate a new one (existing tokens become invalid)",
            path.display(),
            secret.len()
        );
    }
    Ok(secret.as_bytes().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configured_secret_must_be_long_enough() {
        let dir = Path::new("/nonexistent");
        let err = err_text(load_or_create(dir, Some("short")));
        assert!(err.contains("at least 32"), "{err}");
        let long = "x".repeat(32);
        assert_eq!(
            load_or_create(dir, Some(&long)).ok(),
            Some(long.into_bytes())
        );
    }

    #[test]
    fn generated_once_then_reused() -> anyhow::Result<()> {
        let tmp = tempfile::tempdir()?;
        let state = tmp.path().join("state");
        let first = load_or_create(&state, None)?;
        assert_eq!(first.len(), 64);
        let second = load_or_create(&state, None)?;
        assert_eq!(first, second);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(secret_path(&state))?.permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        Ok(())
    }

    #[cfg(unix)]
    #[test]
    fn loose_permissions_fixed_and_short_file_rejected() -> anyhow::Result<()> {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir()?;
        let path = secret_path(tmp.path());
        std::fs::write(&path, "y".repeat(40))?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644))?;
        assert_eq!(
            load_or_create(tmp.path(), None)?,
            "y".repeat(40).into_bytes()
        );
        assert_eq!(
            std::fs::metadata(&path)?.permissions().mode() & 0o777,
            0o600
        );

        std::fs::write(&path, "short\n")?;
        let err = err_text(load_or_create(tmp.path(), None));
        assert!(
            err.contains("jwt_secret") && err.contains("at least 32"),
            "{err}"
        );
        Ok(())
    }

    /// The error's text, or a marker when there was none.
    fn err_text<T>(result: anyhow::Result<T>) -> String {
        result
            .err()
            .map(|e| format!("{e:#}"))
            .unwrap_or_else(|| "<no error>".into())
    }
}
