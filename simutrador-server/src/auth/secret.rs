//! CONTRACT STUB: the JWT secret.

use std::path::Path;

/// The configured secret, or the one stored in `<state_dir>/jwt_secret` (created owner-only
/// with 32 random bytes on first use).
pub fn load_or_create(_state_dir: &Path, _configured: Option<&str>) -> anyhow::Result<Vec<u8>> {
    unimplemented!()
}
