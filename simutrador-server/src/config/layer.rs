//! One layer of settings — the TOML file, the environment or the flags — with every field
//! optional, and the TOML file parser.
//!
//! The structs mirror the sections of [`ServerConfig`] field for field and deny unknown keys,
//! so a typo in the file is an error naming the file, the key and its line instead of a
//! setting silently ignored.

use anyhow::anyhow;
use rust_decimal::Decimal;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use super::{HumanDuration, LogFormat, Overrides, ServerConfig, expand_home};

/// Settings from one source; `None` = not set here.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layer {
    /// `[server]`.
    #[serde(default)]
    pub server: ServerLayer,
    /// `[auth]`.
    #[serde(default)]
    pub auth: AuthLayer,
    /// `[limits]`.
    #[serde(default)]
    pub limits: LimitsLayer,
    /// `[connections]`.
    #[serde(default)]
    pub connections: ConnectionsLayer,
    /// `[rate_limits]`.
    #[serde(default)]
    pub rate_limits: RateLimitLayer,
    /// `[store]`.
    #[serde(default)]
    pub store: StoreLayer,
}

/// `[server]`, every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct ServerLayer {
    pub bind: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
    pub state_dir: Option<PathBuf>,
    pub demo_data: Option<bool>,
    pub log_format: Option<LogFormat>,
    pub log_level: Option<String>,
    pub max_message_bytes: Option<usize>,
    pub shutdown_grace_seconds: Option<u64>,
    pub data_poll_secs: Option<u64>,
}

/// `[auth]`, every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct AuthLayer {
    pub jwt_secret: Option<String>,
    pub token_ttl_seconds: Option<u64>,
    pub create_local_key: Option<bool>,
    pub key_check_interval_ms: Option<u64>,
}

/// `[limits]`, every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct LimitsLayer {
    pub max_sessions_per_user: Option<u32>,
    pub max_symbols_per_session: Option<u32>,
    pub min_initial_capital: Option<Decimal>,
    pub max_initial_capital: Option<Decimal>,
    pub session_timeout_minutes: Option<u64>,
    pub ended_session_retention_minutes: Option<u64>,
    pub max_metadata_bytes: Option<usize>,
    pub cleanup_interval_seconds: Option<u64>,
    pub min_session_duration: Option<HumanDuration>,
    pub max_session_duration: Option<HumanDuration>,
    pub default_session_duration: Option<HumanDuration>,
    pub max_loss_limit_pct: Option<Decimal>,
    pub default_loss_limit_pct: Option<Decimal>,
    pub max_active_sessions_per_user: Option<u32>,
    pub warning_threshold_pct: Option<Decimal>,
    pub stats_interval_ms: Option<u64>,
    pub job_max_retries: Option<u32>,
}

/// `[rate_limits]`, every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct RateLimitLayer {
    pub session_creates_per_minute: Option<u32>,
    pub messages_per_second: Option<u32>,
    pub message_burst: Option<u32>,
    pub connections_per_user: Option<u32>,
}

/// `[connections]`, every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct ConnectionsLayer {
    pub max_connections: Option<u32>,
    pub max_connections_per_ip: Option<u32>,
    pub header_read_timeout_seconds: Option<u64>,
    pub unauthenticated_timeout_seconds: Option<u64>,
    pub outbound_queue_frames: Option<u32>,
    pub outbound_queue_bytes: Option<u64>,
    pub slow_consumer_timeout_seconds: Option<u64>,
}

/// `[store]`, every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct StoreLayer {
    pub url: Option<String>,
    pub pool_size: Option<u32>,
    pub connect_timeout_seconds: Option<u64>,
    pub daemon_id: Option<String>,
    pub lease_seconds: Option<u64>,
}

/// `dst.field = value` for every field set in the layer section (`opt:` fields are `Option`s
/// in the final config).
macro_rules! merge {
    ($dst:expr, $src:expr; $($field:ident),* $(; opt: $($opt:ident),*)?) => {
        $( if let Some(v) = $src.$field { $dst.$field = v; } )*
        $($( if let Some(v) = $src.$opt { $dst.$opt = Some(v); } )*)?
    };
}

impl Layer {
    /// Parse a config file's text. `path` names the file in errors, and relative
    /// `data_dir` / `state_dir` resolve against its folder.
    pub fn from_toml(text: &str, path: &Path) -> anyhow::Result<Self> {
        let mut layer: Layer = toml::from_str(text).map_err(|e| {
            let message = e
                .message()
                .trim()
                .replacen("unknown field", "unknown key", 1);
            let hide_value = message.starts_with("unknown key");
            let at = e.span().map(|s| line_col(text, s.start));
            let (place, excerpt) = match at {
                Some((l, c)) => {
                    let line = excerpt_line(text, l, hide_value);
                    (format!(":{l}:{c}"), format!("\n    {l} | {line}"))
                }
                None => (String::new(), String::new()),
            };
            anyhow!(
                "{}{place}: {message} (see docs/configuration.md for every key){excerpt}",
                path.display()
            )
        })?;
        let base = path.parent().unwrap_or_else(|| Path::new("."));
        let resolve = |p: PathBuf| base.join(expand_home(&p));
        layer.server.data_dir = layer.server.data_dir.map(resolve);
        layer.server.state_dir = layer.server.state_dir.map(resolve);
        Ok(layer)
    }

    /// The command-line flags as a layer.
    pub fn from_overrides(o: &Overrides) -> Self {
        Layer {
            server: ServerLayer {
                bind: o.bind,
                data_dir: o.data_dir.clone(),
                state_dir: o.state_dir.clone(),
                demo_data: o.demo_data,
                log_format: o.log_format,
                log_level: o.log_level.clone(),
                shutdown_grace_seconds: o.shutdown_grace_seconds,
                ..ServerLayer::default()
            },
            store: StoreLayer {
                url: o.store_url.clone(),
                ..StoreLayer::default()
            },
            ..Layer::default()
        }
    }

    /// Overwrite every value of `config` that this layer sets.
    pub fn merge_into(self, config: &mut ServerConfig) {
        let (s, d) = (self.server, &mut config.server);
        merge!(d, s; bind, state_dir, log_format, log_level, max_message_bytes,
            shutdown_grace_seconds, data_poll_secs; opt: data_dir, demo_data);
        let (s, d) = (self.auth, &mut config.auth);
        merge!(d, s; token_ttl_seconds, create_local_key, key_check_interval_ms; opt: jwt_secret);
        let (s, d) = (self.limits, &mut config.limits);
        merge!(d, s; max_sessions_per_user, max_symbols_per_session, min_initial_capital,
            max_initial_capital, session_timeout_minutes, ended_session_retention_minutes,
            max_metadata_bytes, cleanup_interval_seconds, min_session_duration,
            max_session_duration, default_session_duration, max_loss_limit_pct,
            default_loss_limit_pct, max_active_sessions_per_user, warning_threshold_pct,
            stats_interval_ms, job_max_retries);
        let (s, d) = (self.rate_limits, &mut config.rate_limits);
        merge!(d, s; session_creates_per_minute, messages_per_second, message_burst,
            connections_per_user);
        let (s, d) = (self.connections, &mut config.connections);
        merge!(d, s; max_connections, max_connections_per_ip, header_read_timeout_seconds,
            unauthenticated_timeout_seconds, outbound_queue_frames, outbound_queue_bytes,
            slow_consumer_timeout_seconds);
        let (s, d) = (self.store, &mut config.store);
        merge!(d, s; pool_size, connect_timeout_seconds, lease_seconds; opt: url, daemon_id);
    }
}

/// Line `n` (1-based) for an error message. With `hide_value`, only the part before `=` is
/// shown (an unknown key may be a misspelled secret); a secret's value is never shown.
fn excerpt_line(text: &str, n: usize, hide_value: bool) -> String {
    let line = text
        .lines()
        .nth(n.saturating_sub(1))
        .unwrap_or_default()
        .trim_end();
    match line.split_once('=') {
        Some((key, _)) if hide_value || key.to_ascii_lowercase().contains("secret") => {
            format!("{key}= …")
        }
        _ => line.to_owned(),
    }
}

/// 1-based line and column of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}
