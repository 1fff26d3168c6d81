//! The daemon's configuration: defaults < TOML file < environment (`SIMUTRADOR_*`) < flags,
//! merged into one validated [`ServerConfig`] at start-up.
//!
//! CONTRACT STUB — to be replaced by the real implementation (keep these public names and
//! fields; adding more is fine).

use rust_decimal::Decimal;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

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

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Human,
    /// One JSON object per line.
    Json,
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
    /// Seconds to let connections finish on shutdown; default 5.
    pub shutdown_grace_seconds: u64,
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
}

/// `[rate_limits]`.
#[derive(Debug, Clone, PartialEq)]
pub struct RateLimitSection {
    /// Per user; default 30.
    pub session_creates_per_minute: u32,
    /// Per connection, sustained; default 500.
    pub messages_per_second: u32,
    /// Per connection, burst; default 1000.
    pub message_burst: u32,
    /// Open WebSocket connections per user; default 20.
    pub connections_per_user: u32,
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
}

impl Default for ServerConfig {
    fn default() -> Self {
        unimplemented!()
    }
}

impl ServerConfig {
    /// Merge defaults < `file` (or `SIMUTRADOR_CONFIG`, or `~/.config/simutrador/server.toml`
    /// when it exists) < environment (read through `env`) < `overrides`, then validate.
    pub fn load(
        _file: Option<&Path>,
        _env: &dyn Fn(&str) -> Option<String>,
        _overrides: &Overrides,
    ) -> anyhow::Result<Self> {
        unimplemented!()
    }
}
