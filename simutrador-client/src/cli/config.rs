//! The CLI's settings, merged once at start-up: flags > environment (`SIMUTRADOR_URL`,
//! `SIMUTRADOR_API_KEY`, `SIMUTRADOR_TOKEN`) > `<config dir>/client.toml` > defaults.
//!
//! The config dir is `$SIMUTRADOR_CONFIG_DIR`, else `<dirs::config_dir()>/simutrador`
//! (`~/.config/simutrador` on Linux). It also holds `credentials.toml` (see
//! [`super::credentials`]).

use serde::Deserialize;
use simutrador_client::{ClientError, DEFAULT_REQUEST_TIMEOUT, ServerUrl};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// `client.toml`. Unknown keys are errors.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Daemon address.
    pub url: Option<String>,
    /// API key used to log in when no valid token is stored.
    pub api_key: Option<String>,
    /// Seconds to wait for each reply.
    pub timeout_seconds: Option<u64>,
}

impl FileConfig {
    /// Read `path`; a missing file is an empty config.
    pub fn load(path: &Path) -> Result<Self, ClientError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(FileConfig::default()),
            Err(e) => {
                return Err(ClientError::Config(format!(
                    "cannot read {}: {e}",
                    path.display()
                )));
            }
        };
        toml::from_str(&text).map_err(|e| {
            ClientError::Config(format!(
                "{}: {}; the keys are url, api_key and timeout_seconds (see configs/client.toml)",
                path.display(),
                e.to_string().trim_end()
            ))
        })
    }
}

/// The `SIMUTRADOR_*` variables the CLI reads (empty values count as unset).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Env {
    /// `SIMUTRADOR_URL`.
    pub url: Option<String>,
    /// `SIMUTRADOR_API_KEY`.
    pub api_key: Option<String>,
    /// `SIMUTRADOR_TOKEN`.
    pub token: Option<String>,
    /// `SIMUTRADOR_CONFIG_DIR`.
    pub config_dir: Option<PathBuf>,
    /// `SIMUTRADOR_STATE_DIR` (where the daemon keeps `local.key`).
    pub state_dir: Option<PathBuf>,
}

impl Env {
    /// Read through `lookup` (the real environment, or a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        Env {
            url: get("SIMUTRADOR_URL"),
            api_key: get("SIMUTRADOR_API_KEY"),
            token: get("SIMUTRADOR_TOKEN"),
            config_dir: get("SIMUTRADOR_CONFIG_DIR").map(PathBuf::from),
            state_dir: get("SIMUTRADOR_STATE_DIR").map(PathBuf::from),
        }
    }

    /// The process environment.
    pub fn from_process() -> Self {
        Env::from_lookup(|name| std::env::var(name).ok())
    }
}

/// Where a value came from, for messages ("the API key from SIMUTRADOR_API_KEY was refused").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A command-line flag.
    Flag,
    /// An environment variable.
    Env,
    /// `client.toml`.
    File,
    /// Typed at a prompt.
    Prompt,
    /// The daemon's `local.key`.
    LocalKey,
}

/// An API key and where it came from. Never printed.
#[derive(Clone, PartialEq)]
pub struct ApiKey {
    /// The key.
    pub value: String,
    /// Its origin.
    pub source: Source,
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ApiKey(<redacted>, {:?})", self.source)
    }
}

impl ApiKey {
    /// Where the key came from, in words.
    pub fn origin(&self) -> &'static str {
        match self.source {
            Source::Flag => "--api-key",
            Source::Env => "SIMUTRADOR_API_KEY",
            Source::File => "client.toml",
            Source::LocalKey => "the daemon's local key file",
            Source::Prompt => "the prompt",
        }
    }
}

/// Flags that feed the settings.
#[derive(Debug, Clone, Default)]
pub struct Flags {
    /// `--url`.
    pub url: Option<String>,
    /// `--api-key` (only `auth login` has it).
    pub api_key: Option<String>,
}

/// Everything a command needs to know, validated.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The daemon.
    pub url: ServerUrl,
    /// A key to log in with, from flag, env or file (the local key is found later).
    pub api_key: Option<ApiKey>,
    /// `SIMUTRADOR_TOKEN`, used as is.
    pub token: Option<String>,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Where `client.toml` and `credentials.toml` live.
    pub config_dir: PathBuf,
    /// Where the daemon's `local.key` is looked for.
    pub local_key_path: Option<PathBuf>,
}

impl Settings {
    /// Merge flags > env > file > defaults.
    pub fn merge(
        flags: Flags,
        env: Env,
        file: FileConfig,
        config_dir: PathBuf,
    ) -> Result<Self, ClientError> {
        let url = match flags.url.or(env.url).or(file.url) {
            Some(text) => ServerUrl::parse(&text)?,
            None => ServerUrl::default(),
        };
        let api_key = [
            (flags.api_key, Source::Flag),
            (env.api_key, Source::Env),
            (file.api_key, Source::File),
        ]
        .into_iter()
        .find_map(|(value, source)| {
            value
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .map(|value| ApiKey { value, source })
        });
        let timeout = match file.timeout_seconds {
            Some(0) => {
                return Err(ClientError::Config(
                    "timeout_seconds must be at least 1 (client.toml)".into(),
                ));
            }
            Some(s) => Duration::from_secs(s),
            None => DEFAULT_REQUEST_TIMEOUT,
        };
        let local_key_path = env
            .state_dir
            .or_else(default_state_dir)
            .map(|dir| dir.join("local.key"));
        Ok(Settings {
            url,
            api_key,
            token: env.token,
            timeout,
            config_dir,
            local_key_path,
        })
    }

    /// Read the real environment and config file.
    pub fn load(flags: Flags) -> Result<Self, ClientError> {
        let env = Env::from_process();
        let config_dir = match env.config_dir.clone() {
            Some(dir) => dir,
            None => dirs::config_dir()
                .map(|d| d.join("simutrador"))
                .ok_or_else(|| {
                    ClientError::Config(
                        "cannot find a config directory for this user; set SIMUTRADOR_CONFIG_DIR"
                            .into(),
                    )
                })?,
        };
        let file = FileConfig::load(&config_dir.join("client.toml"))?;
        Settings::merge(flags, env, file, config_dir)
    }

    /// `<config dir>/credentials.toml`.
    pub fn credentials_path(&self) -> PathBuf {
        self.config_dir.join("credentials.toml")
    }
}

/// The daemon's default state dir: `<dirs::state_dir()>/simutrador`, or
/// `~/.local/state/simutrador` where the platform has no state dir (as the daemon does).
fn default_state_dir() -> Option<PathBuf> {
    dirs::state_dir()
        .or_else(|| dirs::home_dir().map(|h| h.join(".local/state")))
        .map(|d| d.join("simutrador"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> Env {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Env::from_lookup(|k| map.get(k).cloned())
    }

    fn file(url: Option<&str>, key: Option<&str>) -> FileConfig {
        FileConfig {
            url: url.map(Into::into),
            api_key: key.map(Into::into),
            timeout_seconds: Some(7),
        }
    }

    fn merge(flags: Flags, env: Env, file: FileConfig) -> Settings {
        Settings::merge(flags, env, file, PathBuf::from("/cfg")).unwrap()
    }

    #[test]
    fn flags_beat_env_beat_file_beat_defaults() {
        let e = env(&[
            ("SIMUTRADOR_URL", "envhost:1"),
            ("SIMUTRADOR_API_KEY", "env-key"),
        ]);
        let f = file(Some("filehost:2"), Some("file-key"));
        let flags = Flags {
            url: Some("flaghost:3".into()),
            api_key: Some("flag-key".into()),
        };

        let s = merge(flags, e.clone(), f.clone());
        assert_eq!(
            (s.url.host(), s.api_key.unwrap().value.as_str()),
            ("flaghost", "flag-key")
        );
        let s = merge(Flags::default(), e, f.clone());
        assert_eq!(s.url.host(), "envhost");
        assert_eq!(s.api_key.unwrap().source, Source::Env);
        let s = merge(Flags::default(), Env::default(), f);
        assert_eq!(s.url.host(), "filehost");
        assert_eq!(s.api_key.unwrap().source, Source::File);
        assert_eq!(s.timeout, Duration::from_secs(7));
        let s = merge(Flags::default(), Env::default(), FileConfig::default());
        assert_eq!(s.url, ServerUrl::default());
        assert!(s.api_key.is_none());
        assert_eq!(s.timeout, DEFAULT_REQUEST_TIMEOUT);
    }

    #[test]
    fn empty_variables_count_as_unset_and_state_dir_locates_the_local_key() {
        let e = env(&[
            ("SIMUTRADOR_API_KEY", "  "),
            ("SIMUTRADOR_STATE_DIR", "/state"),
            ("SIMUTRADOR_TOKEN", "t"),
        ]);
        let s = merge(Flags::default(), e, file(None, Some("file-key")));
        assert_eq!(s.api_key.unwrap().source, Source::File);
        assert_eq!(s.local_key_path, Some(PathBuf::from("/state/local.key")));
        assert_eq!(s.token.as_deref(), Some("t"));
    }

    #[test]
    fn bad_values_are_refused() {
        let e = env(&[("SIMUTRADOR_URL", "ftp://x")]);
        assert!(Settings::merge(Flags::default(), e, FileConfig::default(), "/c".into()).is_err());
        let f = FileConfig {
            timeout_seconds: Some(0),
            ..FileConfig::default()
        };
        assert!(Settings::merge(Flags::default(), Env::default(), f, "/c".into()).is_err());
    }

    #[test]
    fn the_example_config_file_parses() {
        let text = include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../configs/client.toml"
        ));
        let file: FileConfig = toml::from_str(text).unwrap();
        assert_eq!(file.url.as_deref(), Some(simutrador_client::DEFAULT_URL));
    }

    #[test]
    fn the_config_file_rejects_unknown_keys_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("client.toml");
        assert_eq!(FileConfig::load(&path).unwrap(), FileConfig::default());
        std::fs::write(&path, "url = \"ws://h:1\"\napi-key = \"k\"\n").unwrap();
        let err = FileConfig::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("api-key") && err.contains("client.toml"),
            "{err}"
        );
        std::fs::write(&path, "url = \"ws://h:1\"\ntimeout_seconds = 5\n").unwrap();
        assert_eq!(FileConfig::load(&path).unwrap().timeout_seconds, Some(5));
    }
}
