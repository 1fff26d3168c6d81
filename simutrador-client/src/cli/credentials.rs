//! Stored tokens: `<config dir>/credentials.toml`, one `[[server]]` entry per daemon URL
//! (token, user, plan, expiry). The file is written owner-only (0600, in a 0700 directory),
//! replaced atomically, and never printed.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use shared_models::Plan;
use simutrador_client::{ClientError, ServerUrl, TokenResponse};
use std::io::Write;
use std::path::{Path, PathBuf};

/// A token for one daemon.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoredToken {
    /// The daemon, in canonical form (`ws://host:port`).
    pub url: String,
    /// The JWT.
    pub token: String,
    /// Who it belongs to.
    pub user_id: String,
    /// Their plan.
    pub plan: Plan,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for StoredToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredToken")
            .field("url", &self.url)
            .field("token", &"<redacted>")
            .field("user_id", &self.user_id)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

impl StoredToken {
    /// Record a fresh login answer, obtained at `now`.
    pub fn from_login(url: &ServerUrl, login: &TokenResponse, now: DateTime<Utc>) -> Self {
        let lifetime =
            Duration::seconds(i64::try_from(login.expires_in).unwrap_or(i64::MAX / 1000));
        StoredToken {
            url: url.to_string(),
            token: login.access_token.clone(),
            user_id: login.user_id.clone(),
            plan: login.plan,
            expires_at: now
                .checked_add_signed(lifetime)
                .unwrap_or(DateTime::<Utc>::MAX_UTC),
        }
    }

    /// True when the token is expired at `now` or will be within a minute (so a command does
    /// not start with a token about to lapse).
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_at <= now + Duration::seconds(60)
    }
}

#[derive(Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CredentialsFile {
    #[serde(default, rename = "server")]
    servers: Vec<StoredToken>,
}

/// The credentials file.
#[derive(Debug, Clone)]
pub struct CredentialStore {
    path: PathBuf,
}

impl CredentialStore {
    /// The store at `path` (usually `<config dir>/credentials.toml`).
    pub fn new(path: PathBuf) -> Self {
        CredentialStore { path }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn read(&self) -> Result<CredentialsFile, ClientError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(CredentialsFile::default());
            }
            Err(e) => return Err(self.problem(&e)),
        };
        toml::from_str(&text).map_err(|e| self.problem(&e))
    }

    fn problem(&self, err: &dyn std::fmt::Display) -> ClientError {
        ClientError::Config(format!(
            "cannot read the stored credentials {} ({}); delete the file and run `simutrador-client auth login`",
            self.path.display(),
            err.to_string().trim_end()
        ))
    }

    /// The token stored for `url`, if any.
    pub fn get(&self, url: &ServerUrl) -> Result<Option<StoredToken>, ClientError> {
        let key = url.to_string();
        Ok(self.read()?.servers.into_iter().find(|s| s.url == key))
    }

    /// Store `entry`, replacing any token for the same URL.
    pub fn save(&self, entry: StoredToken) -> Result<(), ClientError> {
        let mut file = self.read()?;
        file.servers.retain(|s| s.url != entry.url);
        file.servers.push(entry);
        self.write(&file)
    }

    /// Delete the token for `url`; true if there was one. The file goes when it is empty.
    pub fn remove(&self, url: &ServerUrl) -> Result<bool, ClientError> {
        let key = url.to_string();
        let mut file = self.read()?;
        let before = file.servers.len();
        file.servers.retain(|s| s.url != key);
        if file.servers.len() == before {
            return Ok(false);
        }
        if file.servers.is_empty() {
            std::fs::remove_file(&self.path).map_err(|e| self.write_problem(&e))?;
        } else {
            self.write(&file)?;
        }
        Ok(true)
    }

    fn write(&self, file: &CredentialsFile) -> Result<(), ClientError> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        create_private_dir(dir).map_err(|e| self.write_problem(&e))?;
        let text = format!(
            "# Tokens stored by `simutrador-client auth login`. Keep this file private.\n{}",
            toml::to_string(file).map_err(|e| self.write_problem(&e))?
        );
        let tmp = self
            .path
            .with_extension(format!("toml.tmp{}", std::process::id()));
        let _ = std::fs::remove_file(&tmp);
        let written = create_private_file(&tmp)
            .and_then(|mut f| f.write_all(text.as_bytes()).and_then(|()| f.sync_all()))
            .and_then(|()| std::fs::rename(&tmp, &self.path));
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            return Err(self.write_problem(&e));
        }
        Ok(())
    }

    fn write_problem(&self, err: &dyn std::fmt::Display) -> ClientError {
        ClientError::Config(format!(
            "cannot store credentials in {} ({err}); check the directory's permissions or set SIMUTRADOR_CONFIG_DIR",
            self.path.display()
        ))
    }
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

#[cfg(unix)]
fn create_private_file(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn create_private_file(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn login(token: &str, user: &str) -> TokenResponse {
        TokenResponse {
            access_token: token.into(),
            token_type: "Bearer".into(),
            expires_in: 3600,
            user_id: user.into(),
            plan: Plan::Pro,
        }
    }

    #[test]
    fn tokens_are_stored_owner_only_per_url_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = CredentialStore::new(dir.path().join("cfg/credentials.toml"));
        let a = ServerUrl::parse("127.0.0.1:8003").unwrap();
        let b = ServerUrl::parse("ws://other:9000/ws").unwrap();
        let now = Utc::now();
        assert_eq!(store.get(&a).unwrap(), None);

        store
            .save(StoredToken::from_login(&a, &login("t1", "alice"), now))
            .unwrap();
        store
            .save(StoredToken::from_login(&b, &login("t2", "bob"), now))
            .unwrap();
        store
            .save(StoredToken::from_login(&a, &login("t3", "alice"), now))
            .unwrap();
        let got = store.get(&a).unwrap().unwrap();
        assert_eq!((got.token.as_str(), got.user_id.as_str()), ("t3", "alice"));
        assert_eq!(got.expires_at, now + Duration::seconds(3600));
        assert!(!format!("{got:?}").contains("t3"));

        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(store.path()), 0o600);
            assert_eq!(mode(&dir.path().join("cfg")), 0o700);
        }

        assert!(store.remove(&a).unwrap());
        assert!(!store.remove(&a).unwrap());
        assert_eq!(store.get(&b).unwrap().unwrap().token, "t2");
        assert!(store.remove(&b).unwrap());
        assert!(!store.path().exists());
    }

    #[test]
    fn expiry_has_a_margin_and_a_corrupt_file_says_what_to_do() {
        let url = ServerUrl::default();
        let now = Utc::now();
        let token = StoredToken::from_login(&url, &login("t", "u"), now);
        assert!(!token.is_expired(now));
        assert!(token.is_expired(now + Duration::seconds(3550)));

        let dir = tempfile::tempdir().unwrap();
        let store = CredentialStore::new(dir.path().join("credentials.toml"));
        std::fs::write(store.path(), "garbage = [").unwrap();
        let err = store.get(&url).unwrap_err().to_string();
        assert!(err.contains("delete the file"), "{err}");
    }
}
