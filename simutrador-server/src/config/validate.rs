//! Checks on the merged configuration. Every problem is reported (not just the first), each
//! naming the key as `[section] key` with its environment variable and saying what to fix.

use anyhow::bail;
use rust_decimal::Decimal;

use super::ServerConfig;
use crate::auth::secret;

/// Smallest `max_message_bytes` that still fits an ordinary request.
pub const MIN_MESSAGE_BYTES: usize = 1024;

/// Accepted `[auth] key_check_interval_ms`: often enough to matter, not a busy loop.
pub const KEY_CHECK_INTERVAL_MS: std::ops::RangeInclusive<u64> = 10..=60_000;

/// Largest accepted `[server] data_poll_secs` (0 turns polling off).
pub const MAX_DATA_POLL_SECS: u64 = 3600;

/// Check value ranges and relations between keys.
pub fn validate(c: &ServerConfig) -> anyhow::Result<()> {
    let mut problems: Vec<String> = Vec::new();
    let mut at_least_one = |section: &str, key: &str, value: u64| {
        if value == 0 {
            problems.push(format!("{} must be at least 1", name(section, key)));
        }
    };
    let l = &c.limits;
    let r = &c.rate_limits;
    at_least_one("auth", "token_ttl_seconds", c.auth.token_ttl_seconds);
    at_least_one(
        "limits",
        "max_sessions_per_user",
        l.max_sessions_per_user.into(),
    );
    at_least_one(
        "limits",
        "max_symbols_per_session",
        l.max_symbols_per_session.into(),
    );
    at_least_one(
        "limits",
        "session_timeout_minutes",
        l.session_timeout_minutes,
    );
    at_least_one("limits", "max_metadata_bytes", l.max_metadata_bytes as u64);
    at_least_one(
        "limits",
        "cleanup_interval_seconds",
        l.cleanup_interval_seconds,
    );
    at_least_one(
        "rate_limits",
        "session_creates_per_minute",
        r.session_creates_per_minute.into(),
    );
    at_least_one(
        "rate_limits",
        "messages_per_second",
        r.messages_per_second.into(),
    );
    at_least_one("rate_limits", "message_burst", r.message_burst.into());
    at_least_one(
        "rate_limits",
        "connections_per_user",
        r.connections_per_user.into(),
    );

    let every = c.auth.key_check_interval_ms;
    if !KEY_CHECK_INTERVAL_MS.contains(&every) {
        problems.push(format!(
            "{} is {every} but must be between {} and {} milliseconds",
            name("auth", "key_check_interval_ms"),
            KEY_CHECK_INTERVAL_MS.start(),
            KEY_CHECK_INTERVAL_MS.end()
        ));
    }
    if c.server.data_poll_secs > MAX_DATA_POLL_SECS {
        problems.push(format!(
            "{} is {} but must be at most {MAX_DATA_POLL_SECS} seconds (0 turns polling off)",
            name("server", "data_poll_secs"),
            c.server.data_poll_secs
        ));
    }
    if c.server.max_message_bytes < MIN_MESSAGE_BYTES {
        problems.push(format!(
            "{} is {} but must be at least {MIN_MESSAGE_BYTES}",
            name("server", "max_message_bytes"),
            c.server.max_message_bytes
        ));
    }
    if l.max_metadata_bytes > c.server.max_message_bytes {
        problems.push(format!(
            "{} ({}) is larger than {} ({}); metadata must fit in a message",
            name("limits", "max_metadata_bytes"),
            l.max_metadata_bytes,
            name("server", "max_message_bytes"),
            c.server.max_message_bytes
        ));
    }
    if l.min_initial_capital <= Decimal::ZERO {
        problems.push(format!(
            "{} must be greater than 0",
            name("limits", "min_initial_capital")
        ));
    }
    if l.min_initial_capital > l.max_initial_capital {
        problems.push(format!(
            "{} ({}) is greater than {} ({}); lower the minimum or raise the maximum",
            name("limits", "min_initial_capital"),
            l.min_initial_capital,
            name("limits", "max_initial_capital"),
            l.max_initial_capital
        ));
    }
    let (min_d, max_d, def_d) = (
        l.min_session_duration,
        l.max_session_duration,
        l.default_session_duration,
    );
    if min_d.0 == 0 || min_d > max_d || def_d < min_d || def_d > max_d {
        problems.push(format!(
            "{} ({min_d}), {} ({def_d}) and {} ({max_d}) must satisfy 0 < min <= default <= max",
            name("limits", "min_session_duration"),
            name("limits", "default_session_duration"),
            name("limits", "max_session_duration"),
        ));
    }
    let hundred = Decimal::ONE_HUNDRED;
    if l.max_loss_limit_pct <= Decimal::ZERO || l.max_loss_limit_pct > hundred {
        problems.push(format!(
            "{} must be above 0 and at most 100",
            name("limits", "max_loss_limit_pct")
        ));
    }
    if l.default_loss_limit_pct < Decimal::ZERO || l.default_loss_limit_pct > l.max_loss_limit_pct {
        problems.push(format!(
            "{} must be 0 (no limit) or at most {} ({})",
            name("limits", "default_loss_limit_pct"),
            name("limits", "max_loss_limit_pct"),
            l.max_loss_limit_pct
        ));
    }
    if l.warning_threshold_pct <= Decimal::ZERO || l.warning_threshold_pct >= hundred {
        problems.push(format!(
            "{} must be above 0 and below 100",
            name("limits", "warning_threshold_pct")
        ));
    }
    at_least_one_u(
        &mut problems,
        "max_active_sessions_per_user",
        l.max_active_sessions_per_user.into(),
    );
    at_least_one_u(&mut problems, "stats_interval_ms", l.stats_interval_ms);
    if let Err(e) = check_log_filter(&c.server.log_level) {
        problems.push(format!("{} {e}", name("server", "log_level")));
    }
    if c.server.state_dir.as_os_str().is_empty() {
        problems.push(format!("{} must not be empty", name("server", "state_dir")));
    }
    if let Some(secret) = &c.auth.jwt_secret
        && let Err(e) = secret::check_configured(secret)
    {
        problems.push(format!("{}: {e}", name("auth", "jwt_secret")));
    }

    connections(c, &mut problems);
    store(c, &mut problems);

    match problems.as_slice() {
        [] => Ok(()),
        [one] => bail!("invalid configuration: {one}"),
        many => bail!("invalid configuration:\n  - {}", many.join("\n  - ")),
    }
}

/// Accepted `[store] pool_size`.
pub const STORE_POOL_SIZE: std::ops::RangeInclusive<u32> = 1..=256;

/// Accepted `[store] lease_seconds`.
pub const STORE_LEASE_SECONDS: std::ops::RangeInclusive<u64> = 1..=3600;

/// Longest `[store] daemon_id`.
pub const MAX_DAEMON_ID_CHARS: usize = 200;

/// `[store]`: a `postgres://` (or `postgresql://`) URL that parses, a pool of 1 to 256
/// connections, a connect timeout of at least 1 s, a lease of 1 to 3600 s, a daemon id of 1
/// to 200 printable characters. The URL's password never appears.
fn store(c: &ServerConfig, problems: &mut Vec<String>) {
    let s = &c.store;
    if let Some(url) = &s.url {
        let shown = super::hide_password(url);
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            problems.push(format!(
                "{} is {shown:?}; the only shared store is PostgreSQL: give a URL like \
                 postgres://user:password@host:5432/simutrador, or leave it unset for the embedded store",
                name("store", "url")
            ));
        } else if let Err(e) = url.parse::<tokio_postgres::Config>() {
            problems.push(format!(
                "{} ({shown:?}) is not a valid PostgreSQL URL: {e}",
                name("store", "url")
            ));
        }
    }
    if !STORE_POOL_SIZE.contains(&s.pool_size) {
        problems.push(format!(
            "{} is {} but must be between {} and {}",
            name("store", "pool_size"),
            s.pool_size,
            STORE_POOL_SIZE.start(),
            STORE_POOL_SIZE.end()
        ));
    }
    if s.connect_timeout_seconds == 0 {
        problems.push(format!(
            "{} must be at least 1",
            name("store", "connect_timeout_seconds")
        ));
    }
    if !STORE_LEASE_SECONDS.contains(&s.lease_seconds) {
        problems.push(format!(
            "{} is {} but must be between {} and {}",
            name("store", "lease_seconds"),
            s.lease_seconds,
            STORE_LEASE_SECONDS.start(),
            STORE_LEASE_SECONDS.end()
        ));
    }
    if let Some(id) = &s.daemon_id {
        let count = id.chars().count();
        if id.trim().is_empty() || count > MAX_DAEMON_ID_CHARS || id.chars().any(char::is_control) {
            problems.push(format!(
                "{} must be 1 to {MAX_DAEMON_ID_CHARS} printable characters (it names this daemon to the others sharing the store)",
                name("store", "daemon_id")
            ));
        }
    }
}

/// Smallest `[connections] outbound_queue_bytes`.
pub const MIN_OUTBOUND_QUEUE_BYTES: u64 = 64 * 1024;

/// `[connections]`: caps at least 1 and per IP ≤ global, timeouts at least 1 s with the
/// unauthenticated timeout ≥ the header-read timeout, queue bounds in range.
fn connections(c: &ServerConfig, problems: &mut Vec<String>) {
    let k = &c.connections;
    let ones = [
        ("max_connections", u64::from(k.max_connections)),
        ("max_connections_per_ip", k.max_connections_per_ip.into()),
        ("header_read_timeout_seconds", k.header_read_timeout_seconds),
        (
            "unauthenticated_timeout_seconds",
            k.unauthenticated_timeout_seconds,
        ),
        (
            "slow_consumer_timeout_seconds",
            k.slow_consumer_timeout_seconds,
        ),
    ];
    for (key, value) in ones {
        if value == 0 {
            problems.push(format!("{} must be at least 1", name("connections", key)));
        }
    }
    if k.max_connections_per_ip > k.max_connections {
        problems.push(format!(
            "{} ({}) is larger than {} ({}); lower the per-IP cap or raise the global one",
            name("connections", "max_connections_per_ip"),
            k.max_connections_per_ip,
            name("connections", "max_connections"),
            k.max_connections
        ));
    }
    if k.unauthenticated_timeout_seconds < k.header_read_timeout_seconds {
        problems.push(format!(
            "{} ({}) is shorter than {} ({}); a client needs time to send its headers first",
            name("connections", "unauthenticated_timeout_seconds"),
            k.unauthenticated_timeout_seconds,
            name("connections", "header_read_timeout_seconds"),
            k.header_read_timeout_seconds
        ));
    }
    if k.outbound_queue_frames < 4 {
        problems.push(format!(
            "{} must be at least 4",
            name("connections", "outbound_queue_frames")
        ));
    }
    let bytes = k.outbound_queue_bytes;
    if !(MIN_OUTBOUND_QUEUE_BYTES..=u64::from(u32::MAX)).contains(&bytes) {
        problems.push(format!(
            "{} is {bytes} but must be between {MIN_OUTBOUND_QUEUE_BYTES} and {} (4 GiB - 1)",
            name("connections", "outbound_queue_bytes"),
            u32::MAX
        ));
    }
}

/// The levels a log filter names.
pub const LOG_LEVELS: [&str; 6] = ["trace", "debug", "info", "warn", "error", "off"];

/// Check a log filter (`--log-level`, `log_level`): a level, or comma-separated directives
/// `TARGET=LEVEL` (and the `tracing` span forms with `[`). A bare word that is not a level
/// (a typo such as `infoo`, which `tracing` would take as a target) is refused with the list
/// of levels.
pub fn check_log_filter(text: &str) -> Result<String, String> {
    let levels = LOG_LEVELS.join(", ");
    let is_level = |l: &str| LOG_LEVELS.contains(&l.trim().to_ascii_lowercase().as_str());
    for directive in text.split(',').map(str::trim).filter(|d| !d.is_empty()) {
        if directive.contains('[') {
            continue; // span filters: left to tracing's own parser below
        }
        let level = directive
            .rsplit_once('=')
            .map_or(directive, |(_, level)| level);
        if !is_level(level) {
            return Err(format!(
                "{text:?}: '{level}' is not a log level; use one of {levels}, or TARGET=LEVEL such as simutrador_server=debug"
            ));
        }
    }
    tracing_subscriber::EnvFilter::try_new(text).map_err(|e| {
        format!("{text:?} is not a valid filter ({e}); use one of {levels}, or TARGET=LEVEL such as simutrador_server=debug")
    })?;
    Ok(text.trim().to_string())
}

fn at_least_one_u(problems: &mut Vec<String>, key: &str, value: u64) {
    if value == 0 {
        problems.push(format!("{} must be at least 1", name("limits", key)));
    }
}

/// `[section] key (SIMUTRADOR_SECTION_KEY)`.
fn name(section: &str, key: &str) -> String {
    let var = format!("SIMUTRADOR_{section}_{key}").to_ascii_uppercase();
    format!("[{section}] {key} ({var})")
}
