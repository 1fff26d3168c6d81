//! Owner-only files and directories for secrets: the state dir (0700), `api_keys.json`,
//! `jwt_secret` and `local.key` (0600).
//!
//! Every write goes to a fresh temporary file in the same directory, created with mode 0600,
//! flushed to disk and then renamed over the target, so a reader (another process, or the
//! daemon re-reading the key store) never sees a half-written file and the secret is never
//! readable by anyone else, not even for an instant. On non-Unix systems the modes are not
//! applied; the files still end up in the user's own state directory.

use anyhow::Context;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::Path;

/// Create `dir` (and its parents) if missing; a directory this function creates gets mode
/// 0700. An existing directory is left as it is.
pub fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .with_context(|| format!("could not create the state directory {}", dir.display()))
}

/// Atomically replace `path` with `contents`, owner-only (0600).
pub fn write_private(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty());
    let dir = dir.unwrap_or_else(|| Path::new("."));
    create_private_dir(dir)?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let tmp = dir.join(format!(
        ".{}.tmp-{}-{:08x}",
        name.unwrap_or_else(|| "file".into()),
        std::process::id(),
        rand::random::<u32>()
    ));
    let result = write_new_private(&tmp, contents).and_then(|()| {
        fs::rename(&tmp, path).with_context(|| format!("could not replace {}", path.display()))
    });
    if result.is_err() {
        // Best effort: do not leave a temporary file behind.
        let _ = fs::remove_file(&tmp);
    }
    sync_dir(dir);
    result
}

/// Create a new file (failing if it exists) with mode 0600 and write `contents` durably.
fn write_new_private(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file: File = options
        .open(path)
        .with_context(|| format!("could not create {}", path.display()))?;
    file.write_all(contents)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("could not write {}", path.display()))
}

/// Flush the directory entry after a rename (Unix only; errors are not fatal).
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// If `path` is readable or writable by group or others, tighten it to 0600 and return true
/// (so the caller can warn). Always false on non-Unix systems.
pub fn restrict_permissions(path: &Path) -> anyhow::Result<bool> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta =
            fs::metadata(path).with_context(|| format!("could not read {}", path.display()))?;
        if meta.permissions().mode() & 0o077 != 0 {
            fs::set_permissions(path, fs::Permissions::from_mode(0o600)).with_context(|| {
                format!(
                    "{} is readable by other users and could not be changed to 0600; run `chmod 600 {}`",
                    path.display(),
                    path.display()
                )
            })?;
            return Ok(true);
        }
        Ok(false)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        Ok(false)
    }
}

/// Check the state directory at start: `dir` and every directory under it must be 0700 and
/// every file 0600. Anything more open is tightened and its path returned, so the caller can
/// warn (paths only, never contents). Symlinks are left alone. Nothing to do on non-Unix.
pub fn secure_state_dir(dir: &Path) -> anyhow::Result<Vec<std::path::PathBuf>> {
    let mut fixed = Vec::new();
    #[cfg(unix)]
    secure_tree(dir, &mut fixed)?;
    Ok(fixed)
}

#[cfg(unix)]
fn secure_tree(path: &Path, fixed: &mut Vec<std::path::PathBuf>) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let meta =
        fs::symlink_metadata(path).with_context(|| format!("could not read {}", path.display()))?;
    let wanted = if meta.is_dir() {
        0o700
    } else if meta.is_file() {
        0o600
    } else {
        return Ok(());
    };
    if meta.permissions().mode() & 0o777 != wanted {
        fs::set_permissions(path, fs::Permissions::from_mode(wanted)).with_context(|| {
            format!(
                "{} is open to other users and could not be changed to {wanted:o}; run `chmod {wanted:o} {}`",
                path.display(),
                path.display()
            )
        })?;
        fixed.push(path.to_path_buf());
    }
    if meta.is_dir() {
        let entries =
            fs::read_dir(path).with_context(|| format!("could not list {}", path.display()))?;
        for entry in entries {
            let entry = entry.with_context(|| format!("could not list {}", path.display()))?;
            secure_tree(&entry.path(), fixed)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        fs::metadata(path)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or(0)
    }

    #[test]
    fn writes_owner_only_and_replaces() -> anyhow::Result<()> {
        let tmp = tempfile::tempdir()?;
        let dir = tmp.path().join("state/nested");
        let file = dir.join("secret");
        write_private(&file, b"one")?;
        write_private(&file, b"two")?;
        assert_eq!(fs::read(&file)?, b"two");
        // Only the target remains: no temporary files.
        assert_eq!(fs::read_dir(&dir)?.count(), 1);
        #[cfg(unix)]
        {
            assert_eq!(mode(&file), 0o600);
            assert_eq!(mode(&dir), 0o700);
        }
        Ok(())
    }

    #[cfg(unix)]
    #[test]
    fn loose_permissions_are_fixed() -> anyhow::Result<()> {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir()?;
        let file = tmp.path().join("f");
        fs::write(&file, b"x")?;
        fs::set_permissions(&file, fs::Permissions::from_mode(0o644))?;
        assert!(restrict_permissions(&file)?);
        assert_eq!(mode(&file), 0o600);
        assert!(!restrict_permissions(&file)?);
        Ok(())
    }
}
