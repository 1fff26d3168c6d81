//! Configuration from the environment: every key as `SIMUTRADOR_<SECTION>_<KEY>` (upper case,
//! e.g. `SIMUTRADOR_LIMITS_MAX_SESSIONS_PER_USER`), plus short aliases for the common ones
//! (`SIMUTRADOR_BIND`, `SIMUTRADOR_DATA_DIR`, …). When both an alias and the full name are
//! set, the full name wins. Empty values count as unset. A value that does not parse is an
//! error naming the variable.
//!
//! The environment is read through a function (`&dyn Fn(&str) -> Option<String>`), so tests
//! never touch the process environment.

use anyhow::bail;
use rust_decimal::Decimal;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use super::layer::Layer;
use super::{HumanDuration, LogFormat, expand_home};

/// One configuration key and how to set it from a string.
pub struct KeySpec {
    /// TOML section, e.g. `limits`.
    pub section: &'static str,
    /// Key inside the section, e.g. `max_sessions_per_user`.
    pub key: &'static str,
    /// Short alias variable, if any.
    pub alias: Option<&'static str>,
    set: fn(&mut Layer, &str) -> Result<(), String>,
}

impl KeySpec {
    /// The full variable name, `SIMUTRADOR_<SECTION>_<KEY>`.
    pub fn var(&self) -> String {
        format!("SIMUTRADOR_{}_{}", self.section, self.key).to_ascii_uppercase()
    }
}

macro_rules! key {
    ($section:ident . $key:ident $(, $alias:literal)?) => {
        KeySpec {
            section: stringify!($section),
            key: stringify!($key),
            alias: key!(@alias $($alias)?),
            set: |layer, raw| {
                layer.$section.$key = Some(FromEnv::from_env(raw)?);
                Ok(())
            },
        }
    };
    (@alias) => { None };
    (@alias $alias:literal) => { Some($alias) };
}

/// Every configuration key, in documentation order.
pub const KEYS: &[KeySpec] = &[
    key!(server.bind, "SIMUTRADOR_BIND"),
    key!(server.data_dir, "SIMUTRADOR_DATA_DIR"),
    key!(server.state_dir, "SIMUTRADOR_STATE_DIR"),
    key!(server.demo_data),
    key!(server.log_format, "SIMUTRADOR_LOG_FORMAT"),
    key!(server.log_level, "SIMUTRADOR_LOG"),
    key!(server.max_message_bytes),
    key!(server.shutdown_grace_seconds),
    key!(server.data_poll_secs, "SIMUTRADOR_DATA_POLL_SECS"),
    key!(auth.jwt_secret, "SIMUTRADOR_JWT_SECRET"),
    key!(auth.token_ttl_seconds),
    key!(auth.create_local_key),
    key!(auth.key_check_interval_ms),
    key!(limits.max_sessions_per_user),
    key!(limits.max_symbols_per_session),
    key!(limits.min_initial_capital),
    key!(limits.max_initial_capital),
    key!(limits.session_timeout_minutes),
    key!(limits.ended_session_retention_minutes),
    key!(limits.max_metadata_bytes),
    key!(limits.cleanup_interval_seconds),
    key!(limits.min_session_duration),
    key!(limits.max_session_duration),
    key!(limits.default_session_duration),
    key!(limits.max_loss_limit_pct),
    key!(limits.default_loss_limit_pct),
    key!(limits.max_active_sessions_per_user),
    key!(limits.warning_threshold_pct),
    key!(limits.stats_interval_ms),
    key!(limits.job_max_retries),
    key!(rate_limits.session_creates_per_minute),
    key!(rate_limits.messages_per_second),
    key!(rate_limits.message_burst),
    key!(rate_limits.connections_per_user),
    key!(connections.max_connections),
    key!(connections.max_connections_per_ip),
    key!(connections.header_read_timeout_seconds),
    key!(connections.unauthenticated_timeout_seconds),
    key!(connections.outbound_queue_frames),
    key!(connections.outbound_queue_bytes),
    key!(connections.slow_consumer_timeout_seconds),
    key!(store.url),
    key!(store.pool_size),
    key!(store.connect_timeout_seconds),
    key!(store.daemon_id),
    key!(store.lease_seconds),
];

/// The variable's value, `None` when unset or empty.
pub fn non_empty(env: &dyn Fn(&str) -> Option<String>, var: &str) -> Option<String> {
    env(var).filter(|v| !v.trim().is_empty())
}

/// Every key set in the environment, as a layer.
pub fn layer_from_env(env: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<Layer> {
    let mut layer = Layer::default();
    for spec in KEYS {
        // Alias first, so the full name wins when both are set.
        let vars = spec
            .alias
            .map(str::to_owned)
            .into_iter()
            .chain([spec.var()]);
        for var in vars {
            if let Some(raw) = non_empty(env, &var)
                && let Err(why) = (spec.set)(&mut layer, &raw)
            {
                bail!(
                    "environment variable {var}={} is not valid: {why}; fix or unset it",
                    shown(spec, &raw)
                );
            }
        }
    }
    Ok(layer)
}

/// The value as it may appear in an error message (never the secret, nor a store URL's
/// password).
fn shown(spec: &KeySpec, raw: &str) -> String {
    if spec.key == "jwt_secret" {
        "<hidden>".into()
    } else if spec.section == "store" && spec.key == "url" {
        format!("{:?}", super::hide_password(raw))
    } else {
        format!("{raw:?}")
    }
}

/// Parsing of one environment value into a setting's type.
trait FromEnv: Sized {
    fn from_env(raw: &str) -> Result<Self, String>;
}

impl FromEnv for String {
    fn from_env(raw: &str) -> Result<Self, String> {
        Ok(raw.trim().to_owned())
    }
}

impl FromEnv for PathBuf {
    fn from_env(raw: &str) -> Result<Self, String> {
        Ok(expand_home(Path::new(raw.trim())))
    }
}

impl FromEnv for bool {
    fn from_env(raw: &str) -> Result<Self, String> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(true),
            "false" | "0" | "no" | "off" => Ok(false),
            _ => Err("expected true or false".into()),
        }
    }
}

impl FromEnv for SocketAddr {
    fn from_env(raw: &str) -> Result<Self, String> {
        raw.trim()
            .parse()
            .map_err(|_| "expected an address like 127.0.0.1:8003 or [::1]:8003".into())
    }
}

impl FromEnv for LogFormat {
    fn from_env(raw: &str) -> Result<Self, String> {
        raw.parse()
    }
}

impl FromEnv for HumanDuration {
    fn from_env(raw: &str) -> Result<Self, String> {
        raw.parse()
    }
}

impl FromEnv for Decimal {
    fn from_env(raw: &str) -> Result<Self, String> {
        Decimal::from_str(raw.trim()).map_err(|_| "expected a number like 1000 or 2500.50".into())
    }
}

macro_rules! whole_number {
    ($($t:ty),*) => {$(
        impl FromEnv for $t {
            fn from_env(raw: &str) -> Result<Self, String> {
                raw.trim().parse().map_err(|_| {
                    format!("expected a whole number from 0 to {}", <$t>::MAX)
                })
            }
        }
    )*};
}
whole_number!(u32, u64, usize);
