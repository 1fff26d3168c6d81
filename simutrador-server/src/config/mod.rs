//! The daemon's configuration: defaults < TOML file < environment (`SIMUTRADOR_*`) < flags,
//! merged into one validated [`ServerConfig`] at start-up.
//!
//! - this file: the typed configuration, its defaults and [`ServerConfig::load`];
//! - [`layer`] — one partial layer of settings (every field optional) and the TOML file parser,
//!   which rejects unknown keys with the file, key and line;
//! - [`env`] — the environment variables, one per key plus a few short aliases;
//! - [`validate`] — the checks run on the merged result.
//!
//! `config` is a leaf the layers use; it imports `auth` only for the JWT secret's length
//! check and to hand `auth` its own [`crate::auth::AuthSettings`] (`auth` never imports
//! `config`).
//!
//! Adding a key means: a field in the section struct below and its default, the same field in
//! [`layer`], one entry in the table in [`env`], and a line in `configs/server.toml` and
//! `docs/configuration.md` (tests check that the last two stay in step).

pub mod env;
pub mod layer;
pub mod validate;

#[cfg(test)]
mod tests;

use anyhow::{Context, bail};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use layer::Layer;

/// Where the daemon keeps keys, the JWT secret and (later) session state, unless configured:
/// `$XDG_STATE_HOME/simutrador` (usually `~/.local/state/simutrador`).
pub fn default_state_dir() -> PathBuf {
    dirs::state_dir()
        .or_else(|| dirs::home_dir().map(|h| h.join(".local/state")))
        .unwrap_or_else(|| PathBuf::from("."))
        .join("simutrador")
}

/// Where `data import` stores files unless told otherwise, and where `serve` looks for them:
/// `$XDG_DATA_HOME/simutrador/data` (usually `~/.local/share/simutrador/data`).
pub fn default_data_dir() -> PathBuf {
    dirs::data_dir()
        .or_else(|| dirs::home_dir().map(|h| h.join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."))
        .join("simutrador")
        .join("data")
}

/// The config file used when none is named and `SIMUTRADOR_CONFIG` is unset:
/// `~/.config/simutrador/server.toml` (read only if it exists).
pub fn default_config_file() -> Option<PathBuf> {
    dirs::config_dir().map(|d| d.join("simutrador").join("server.toml"))
}

/// Environment variable naming the config file.
pub const CONFIG_ENV: &str = "SIMUTRADOR_CONFIG";

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Human,
    /// One JSON object per line.
    Json,
}

impl FromStr for LogFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "human" | "text" | "pretty" => Ok(LogFormat::Human),
            "json" => Ok(LogFormat::Json),
            _ => Err(format!("unknown log format '{s}'; use human or json")),
        }
    }
}

/// `[server]`.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerSection {
    /// Listen address; default `127.0.0.1:8003`.
    pub bind: SocketAddr,
    /// Market-data directory; `None` = built-in demo data (+ the default data dir if present).
    pub data_dir: Option<PathBuf>,
    /// State directory (keys, secret).
    pub state_dir: PathBuf,
    /// Include the built-in demo data; `None` = only when no data dir is configured.
    pub demo_data: Option<bool>,
    /// Log format.
    pub log_format: LogFormat,
    /// `tracing` filter, e.g. `info` or `simutrador_server=debug`.
    pub log_level: String,
    /// Largest accepted WebSocket message, bytes; default 262144.
    pub max_message_bytes: usize,
    /// On SIGINT/SIGTERM, how long connections, runs (checkpointing their journals) and
    /// background tasks get to finish before the daemon exits anyway; seconds, default 5.
    pub shutdown_grace_seconds: u64,
    /// How often the data dir is looked at for changes (new, replaced or removed CSV files,
    /// `symbols.toml`), which are then loaded without a restart; seconds, default 2, 0 = never
    /// (SIGHUP still reloads).
    pub data_poll_secs: u64,
}

/// `[auth]`.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthSection {
    /// JWT secret; `None` = generated and kept in the state dir.
    pub jwt_secret: Option<String>,
    /// Token lifetime; default 3600.
    pub token_ttl_seconds: u64,
    /// Create a key for user `local` on first start when there are none; default true.
    pub create_local_key: bool,
    /// How often the keys of open connections are checked against the key file (a revoked
    /// key's connections are closed); milliseconds, default 1000.
    pub key_check_interval_ms: u64,
}

/// `[limits]`.
#[derive(Debug, Clone, PartialEq)]
pub struct LimitsSection {
    /// Default 5.
    pub max_sessions_per_user: u32,
    /// Default 50.
    pub max_symbols_per_session: u32,
    /// Default 1000.
    pub min_initial_capital: Decimal,
    /// Default 10000000.
    pub max_initial_capital: Decimal,
    /// Idle timeout; default 60.
    pub session_timeout_minutes: u64,
    /// How long ended sessions are kept; default 1440.
    pub ended_session_retention_minutes: u64,
    /// Largest `metadata` object, bytes of JSON; default 4096.
    pub max_metadata_bytes: usize,
    /// How often the cleanup task runs; default 30.
    pub cleanup_interval_seconds: u64,
    /// Shortest accepted `max_duration`; default 1h.
    pub min_session_duration: HumanDuration,
    /// Longest accepted `max_duration`; default 7d.
    pub max_session_duration: HumanDuration,
    /// `max_duration` when a request gives none; default 24h.
    pub default_session_duration: HumanDuration,
    /// Largest loss limit, in percent of the initial capital; default 30.
    pub max_loss_limit_pct: Decimal,
    /// Loss limit (percent) when a request gives none; default 0 = no loss limit.
    pub default_loss_limit_pct: Decimal,
    /// Running or paused sessions per user (`ACTIVE_SESSION_EXISTS`); default 5.
    pub max_active_sessions_per_user: u32,
    /// Warn at this percentage of the time and loss limits; default 80.
    pub warning_threshold_pct: Decimal,
    /// Interval of `session_stats_update` for subscribers, in milliseconds; default 1000.
    pub stats_interval_ms: u64,
    /// Retries of a failed background job (with exponential backoff); default 3.
    pub job_max_retries: u32,
}

/// A duration written like `4h`, `90m` or `7d` (see
/// [`shared_models::lifecycle::parse_duration`]), held in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct HumanDuration(pub u64);

impl HumanDuration {
    /// The duration.
    pub fn as_duration(self) -> std::time::Duration {
        std::time::Duration::from_secs(self.0)
    }
}

impl std::fmt::Display for HumanDuration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&shared_models::lifecycle::format_duration(self.0))
    }
}

impl FromStr for HumanDuration {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        shared_models::lifecycle::parse_duration(s).map(HumanDuration)
    }
}

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// `[rate_limits]`.
#[derive(Debug, Clone, PartialEq)]
pub struct RateLimitSection {
    /// Per user; default 6000 (100 a second, and a whole minute's worth at once: a batch
    /// sweep of a thousand runs never waits).
    pub session_creates_per_minute: u32,
    /// Per connection, sustained; default 500.
    pub messages_per_second: u32,
    /// Per connection, burst; default 1000.
    pub message_burst: u32,
    /// Open WebSocket connections per user; default 20.
    pub connections_per_user: u32,
}

/// `[connections]`: what one TCP connection may hold of the daemon (see
/// `docs/configuration.md`, "Connection limits").
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectionsSection {
    /// Open TCP connections in all (HTTP and WebSocket); default 512.
    pub max_connections: u32,
    /// Open TCP connections from one IP address; default 128.
    pub max_connections_per_ip: u32,
    /// Time a client has to send a request's headers (also the idle time allowed between
    /// keep-alive requests); seconds, default 10.
    pub header_read_timeout_seconds: u64,
    /// Time from accept until the connection is an authenticated WebSocket; a plain HTTP
    /// connection is closed after it once its request is answered; seconds, default 30.
    pub unauthenticated_timeout_seconds: u64,
    /// Frames queued for one connection's writer; default 64.
    pub outbound_queue_frames: u32,
    /// Bytes queued for one connection's writer; default 16777216 (16 MiB).
    pub outbound_queue_bytes: u64,
    /// How long a full outbound queue may go undrained before the connection is closed with
    /// close code 4008; seconds, default 30.
    pub slow_consumer_timeout_seconds: u64,
}

/// `[store]`: where sessions are kept.
#[derive(Clone, PartialEq)]
pub struct StoreSection {
    /// `postgres://…`: sessions in PostgreSQL; `None` = the embedded journal store in the
    /// state dir (`sessions/`).
    pub url: Option<String>,
    /// Connections in the PostgreSQL pool; default 8.
    pub pool_size: u32,
    /// Time to open a connection, and to wait for a free one in the pool; seconds, default 5.
    pub connect_timeout_seconds: u64,
    /// This daemon's id among the daemons sharing the database (the owner named by
    /// `SESSION_MOVED`); default: a random id kept in `<state_dir>/daemon_id`, so a restart
    /// on the same state dir is the same daemon.
    pub daemon_id: Option<String>,
    /// Length of a session's ownership lease; seconds, default 30 (renewed every third).
    pub lease_seconds: u64,
}

impl StoreSection {
    /// The URL as it may be shown (its password replaced by `***`), when there is one.
    pub fn shown_url(&self) -> Option<String> {
        self.url.as_deref().map(hide_password)
    }
}

impl std::fmt::Debug for StoreSection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreSection")
            .field("url", &self.shown_url())
            .field("pool_size", &self.pool_size)
            .field("connect_timeout_seconds", &self.connect_timeout_seconds)
            .field("daemon_id", &self.daemon_id)
            .field("lease_seconds", &self.lease_seconds)
            .finish()
    }
}

/// `url` with the password of its `user:password@` part (if any) replaced by `***`, and a
/// `password=` parameter hidden too: for messages and logs.
pub fn hide_password(url: &str) -> String {
    let mut shown = url.to_string();
    if let Some(scheme_end) = shown.find("://") {
        let rest = &shown[scheme_end + 3..];
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        if let Some(at) = rest[..authority_end].rfind('@')
            && let Some(colon) = rest[..at].find(':')
        {
            let (start, end) = (scheme_end + 3 + colon + 1, scheme_end + 3 + at);
            shown.replace_range(start..end, "***");
        }
    }
    if let Some(i) = shown.find("password=") {
        let start = i + "password=".len();
        let end = shown[start..].find('&').map_or(shown.len(), |e| start + e);
        shown.replace_range(start..end, "***");
    }
    shown
}

/// The whole, validated configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerConfig {
    /// `[server]`.
    pub server: ServerSection,
    /// `[auth]`.
    pub auth: AuthSection,
    /// `[limits]`.
    pub limits: LimitsSection,
    /// `[rate_limits]`.
    pub rate_limits: RateLimitSection,
    /// `[connections]`.
    pub connections: ConnectionsSection,
    /// `[store]`.
    pub store: StoreSection,
}

/// Values given as command-line flags (highest precedence).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--bind`.
    pub bind: Option<SocketAddr>,
    /// `--data-dir`.
    pub data_dir: Option<PathBuf>,
    /// `--state-dir`.
    pub state_dir: Option<PathBuf>,
    /// `--demo-data`.
    pub demo_data: Option<bool>,
    /// `--log-format`.
    pub log_format: Option<LogFormat>,
    /// `--log-level`.
    pub log_level: Option<String>,
    /// `--shutdown-grace-seconds`.
    pub shutdown_grace_seconds: Option<u64>,
    /// `--store`.
    pub store_url: Option<String>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            server: ServerSection {
                bind: SocketAddr::from((Ipv4Addr::LOCALHOST, 8003)),
                data_dir: None,
                state_dir: default_state_dir(),
                demo_data: None,
                log_format: LogFormat::Human,
                log_level: "info".into(),
                max_message_bytes: 262_144,
                shutdown_grace_seconds: 5,
                data_poll_secs: 2,
            },
            auth: AuthSection {
                jwt_secret: None,
                token_ttl_seconds: 3600,
                create_local_key: true,
                key_check_interval_ms: 1000,
            },
            limits: LimitsSection {
                max_sessions_per_user: 5,
                max_symbols_per_session: 50,
                min_initial_capital: Decimal::from(1_000),
                max_initial_capital: Decimal::from(10_000_000),
                session_timeout_minutes: 60,
                ended_session_retention_minutes: 1440,
                max_metadata_bytes: 4096,
                cleanup_interval_seconds: 30,
                min_session_duration: HumanDuration(3600),
                max_session_duration: HumanDuration(7 * 86_400),
                default_session_duration: HumanDuration(86_400),
                max_loss_limit_pct: Decimal::from(30),
                default_loss_limit_pct: Decimal::ZERO,
                max_active_sessions_per_user: 5,
                warning_threshold_pct: Decimal::from(80),
                stats_interval_ms: 1000,
                job_max_retries: 3,
            },
            rate_limits: RateLimitSection {
                session_creates_per_minute: 6000,
                messages_per_second: 500,
                message_burst: 1000,
                connections_per_user: 20,
            },
            connections: ConnectionsSection {
                max_connections: 512,
                max_connections_per_ip: 128,
                header_read_timeout_seconds: 10,
                unauthenticated_timeout_seconds: 30,
                outbound_queue_frames: 64,
                outbound_queue_bytes: 16 << 20,
                slow_consumer_timeout_seconds: 30,
            },
            store: StoreSection {
                url: None,
                pool_size: 8,
                connect_timeout_seconds: 5,
                daemon_id: None,
                lease_seconds: 30,
            },
        }
    }
}

impl ServerConfig {
    /// Merge defaults < `file` (or `SIMUTRADOR_CONFIG`, or `~/.config/simutrador/server.toml`
    /// when it exists) < environment (read through `env`) < `overrides`, then validate.
    pub fn load(
        file: Option<&Path>,
        env: &dyn Fn(&str) -> Option<String>,
        overrides: &Overrides,
    ) -> anyhow::Result<Self> {
        let mut config = ServerConfig::default();
        if let Some(path) = resolve_config_file(file, env)? {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("could not read the config file {}", path.display()))?;
            config.apply(Layer::from_toml(&text, &path)?);
        }
        config.apply(env::layer_from_env(env)?);
        config.apply(Layer::from_overrides(overrides));
        validate::validate(&config)?;
        Ok(config)
    }

    /// Defaults < the TOML `text` (as if read from `origin`, which relative paths resolve
    /// against), validated. No environment, no flags.
    pub fn from_toml_str(text: &str, origin: &Path) -> anyhow::Result<Self> {
        let mut config = ServerConfig::default();
        config.apply(Layer::from_toml(text, origin)?);
        validate::validate(&config)?;
        Ok(config)
    }

    /// What [`crate::auth::Authenticator::open`] needs from this configuration (`auth`
    /// never reads the configuration itself, so the two modules do not import each other).
    pub fn auth_settings(&self) -> crate::auth::AuthSettings {
        crate::auth::AuthSettings {
            state_dir: self.server.state_dir.clone(),
            jwt_secret: self.auth.jwt_secret.clone(),
            token_ttl_seconds: self.auth.token_ttl_seconds,
            key_check_interval_ms: self.auth.key_check_interval_ms,
        }
    }

    /// Apply every value set in `layer` on top of this configuration.
    fn apply(&mut self, layer: Layer) {
        layer.merge_into(self);
    }
}

/// The config file [`ServerConfig::load`] reads: `file`, else `SIMUTRADOR_CONFIG`, else the
/// default file if it exists. A named file that does not exist is an error.
pub fn resolve_config_file(
    file: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
) -> anyhow::Result<Option<PathBuf>> {
    let named = match file {
        Some(f) => Some((f.to_path_buf(), "--config")),
        None => env::non_empty(env, CONFIG_ENV).map(|v| (expand_home(Path::new(&v)), CONFIG_ENV)),
    };
    if let Some((path, origin)) = named {
        if !path.is_file() {
            bail!(
                "the config file {} (from {origin}) does not exist; fix the path or create it from configs/server.toml",
                path.display()
            );
        }
        return Ok(Some(path));
    }
    Ok(default_config_file().filter(|p| p.is_file()))
}

/// Replace a leading `~` with the home directory.
pub fn expand_home(path: &Path) -> PathBuf {
    match (path.strip_prefix("~"), dirs::home_dir()) {
        (Ok(rest), Some(home)) => home.join(rest),
        _ => path.to_path_buf(),
    }
}
