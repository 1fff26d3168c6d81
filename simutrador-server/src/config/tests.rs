//! Unit tests of the configuration: precedence, error messages, path resolution, and that the
//! example `configs/server.toml` and `docs/configuration.md` stay in step with the code.

use super::*;
use std::collections::HashMap;

/// An environment made of the given pairs.
fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k| map.get(k).cloned()
}

fn no_env(_: &str) -> Option<String> {
    None
}

fn err_text<T: std::fmt::Debug>(r: anyhow::Result<T>) -> String {
    match r {
        Ok(v) => format!("<no error: {v:?}>"),
        Err(e) => format!("{e:#}"),
    }
}

const EXAMPLE: &str = include_str!("../../../configs/server.toml");
const DOCS: &str = include_str!("../../../docs/configuration.md");

#[test]
fn defaults_match_the_issue() -> anyhow::Result<()> {
    let c = ServerConfig::default();
    assert_eq!(c.server.bind.to_string(), "127.0.0.1:8003");
    assert_eq!(c.server.state_dir, default_state_dir());
    assert_eq!(c.limits.max_sessions_per_user, 5);
    assert_eq!(c.limits.max_initial_capital, Decimal::from(10_000_000));
    assert_eq!(c.rate_limits.message_burst, 1000);
    validate::validate(&c)
}

#[test]
fn precedence_defaults_file_env_flags() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("server.toml");
    std::fs::write(
        &file,
        "[server]\nbind = \"127.0.0.1:9000\"\nlog_level = \"debug\"\nmax_message_bytes = 5000\n\
         [limits]\nmax_sessions_per_user = 7\nmax_symbols_per_session = 8\n",
    )?;
    let env = env_of(&[
        ("SIMUTRADOR_BIND", "127.0.0.1:9001"),
        ("SIMUTRADOR_LOG", "warn"),
        ("SIMUTRADOR_LIMITS_MAX_SESSIONS_PER_USER", "9"),
    ]);
    let flags = Overrides {
        bind: Some("127.0.0.1:9002".parse()?),
        ..Overrides::default()
    };
    let c = ServerConfig::load(Some(&file), &env, &flags)?;
    assert_eq!(c.server.bind.port(), 9002); // flag > env > file
    assert_eq!(c.server.log_level, "warn"); // env alias > file
    assert_eq!(c.limits.max_sessions_per_user, 9); // env > file
    assert_eq!(c.limits.max_symbols_per_session, 8); // file > default
    assert_eq!(c.server.max_message_bytes, 5000);
    assert_eq!(c.rate_limits.connections_per_user, 20); // default

    // Without the flag the env wins; the full name beats the alias.
    let env = env_of(&[
        ("SIMUTRADOR_BIND", "127.0.0.1:9001"),
        ("SIMUTRADOR_SERVER_BIND", "127.0.0.1:9003"),
    ]);
    let c = ServerConfig::load(Some(&file), &env, &Overrides::default())?;
    assert_eq!(c.server.bind.port(), 9003);
    Ok(())
}

#[test]
fn shutdown_grace_from_file_env_and_flag() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("server.toml");
    std::fs::write(&file, "[server]\nshutdown_grace_seconds = 7\n")?;
    let none = env_of(&[]);
    let c = ServerConfig::load(Some(&file), &none, &Overrides::default())?;
    assert_eq!(c.server.shutdown_grace_seconds, 7);
    let env = env_of(&[("SIMUTRADOR_SERVER_SHUTDOWN_GRACE_SECONDS", "11")]);
    let c = ServerConfig::load(Some(&file), &env, &Overrides::default())?;
    assert_eq!(c.server.shutdown_grace_seconds, 11);
    let flags = Overrides {
        shutdown_grace_seconds: Some(13),
        ..Overrides::default()
    };
    let c = ServerConfig::load(Some(&file), &env, &flags)?;
    assert_eq!(c.server.shutdown_grace_seconds, 13);
    Ok(())
}

#[test]
fn data_poll_secs_from_file_and_env_is_validated() -> anyhow::Result<()> {
    assert_eq!(ServerConfig::default().server.data_poll_secs, 2);
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("server.toml");
    std::fs::write(&file, "[server]\ndata_poll_secs = 0\n")?;
    let c = ServerConfig::load(Some(&file), &env_of(&[]), &Overrides::default())?;
    assert_eq!(c.server.data_poll_secs, 0);
    let env = env_of(&[("SIMUTRADOR_DATA_POLL_SECS", "9")]);
    let c = ServerConfig::load(Some(&file), &env, &Overrides::default())?;
    assert_eq!(c.server.data_poll_secs, 9);
    let env = env_of(&[("SIMUTRADOR_DATA_POLL_SECS", "99999")]);
    let err = err_text(ServerConfig::load(Some(&file), &env, &Overrides::default()));
    assert!(
        err.contains("[server] data_poll_secs (SIMUTRADOR_SERVER_DATA_POLL_SECS) is 99999 but must be at most 3600"),
        "{err}"
    );
    let env = env_of(&[("SIMUTRADOR_DATA_POLL_SECS", "soon")]);
    let err = err_text(ServerConfig::load(Some(&file), &env, &Overrides::default()));
    assert!(err.contains("SIMUTRADOR_DATA_POLL_SECS"), "{err}");
    Ok(())
}

#[test]
fn config_file_from_env_and_missing_file() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("s.toml");
    std::fs::write(&file, "[rate_limits]\nmessage_burst = 3\n")?;
    let path = file.to_string_lossy().into_owned();
    let c = ServerConfig::load(None, &env_of(&[(CONFIG_ENV, &path)]), &Overrides::default())?;
    assert_eq!(c.rate_limits.message_burst, 3);

    let missing = dir.path().join("nope.toml");
    let err = err_text(ServerConfig::load(
        Some(&missing),
        &no_env,
        &Overrides::default(),
    ));
    assert!(
        err.contains("nope.toml") && err.contains("does not exist"),
        "{err}"
    );
    Ok(())
}

#[test]
fn unknown_key_names_file_key_and_line() {
    let text = "[server]\nbind = \"127.0.0.1:1\"\n\n[limits]\nmax_session_per_user = 3\n";
    let err = err_text(ServerConfig::from_toml_str(
        text,
        Path::new("/etc/s/server.toml"),
    ));
    assert!(err.contains("/etc/s/server.toml:5:"), "{err}");
    assert!(err.contains("max_session_per_user"), "{err}");
    assert!(err.contains("unknown key"), "{err}");

    let err = err_text(ServerConfig::from_toml_str(
        "[limit]\nx = 1\n",
        Path::new("a.toml"),
    ));
    assert!(err.contains("a.toml:1:") && err.contains("limit"), "{err}");
}

#[test]
fn secrets_are_not_echoed_from_the_file() {
    let text = "[auth]\njwt_secrt = \"hunter2-hunter2-hunter2-hunter2-hunter2\"\n";
    let err = err_text(ServerConfig::from_toml_str(text, Path::new("s.toml")));
    assert!(
        err.contains("s.toml:2:") && err.contains("jwt_secrt"),
        "{err}"
    );
    assert!(!err.contains("hunter2"), "{err}");
}

#[test]
fn wrong_type_in_file_names_line() {
    let text = "[limits]\n\nmax_sessions_per_user = \"five\"\n";
    let err = err_text(ServerConfig::from_toml_str(text, Path::new("c.toml")));
    assert!(err.contains("c.toml:3:"), "{err}");
}

#[test]
fn bad_env_value_names_the_variable() {
    let env = env_of(&[("SIMUTRADOR_LIMITS_MAX_SESSIONS_PER_USER", "many")]);
    let err = err_text(ServerConfig::load(None, &env, &Overrides::default()));
    assert!(
        err.contains("SIMUTRADOR_LIMITS_MAX_SESSIONS_PER_USER"),
        "{err}"
    );
    assert!(err.contains("whole number"), "{err}");

    let env = env_of(&[("SIMUTRADOR_BIND", "localhost")]);
    let err = err_text(ServerConfig::load(None, &env, &Overrides::default()));
    assert!(err.contains("SIMUTRADOR_BIND"), "{err}");

    // A short secret is refused, and never echoed.
    let env = env_of(&[("SIMUTRADOR_JWT_SECRET", "tiny-secret")]);
    let err = err_text(ServerConfig::load(None, &env, &Overrides::default()));
    assert!(
        err.contains("at least 32") && !err.contains("tiny-secret"),
        "{err}"
    );
}

#[test]
fn relative_paths_resolve_against_the_file() -> anyhow::Result<()> {
    let text = "[server]\ndata_dir = \"data\"\nstate_dir = \"/abs/state\"\n";
    let c = ServerConfig::from_toml_str(text, Path::new("/srv/simutrador/server.toml"))?;
    assert_eq!(
        c.server.data_dir,
        Some(PathBuf::from("/srv/simutrador/data"))
    );
    assert_eq!(c.server.state_dir, PathBuf::from("/abs/state"));
    // From the environment they are taken as given.
    let env = env_of(&[("SIMUTRADOR_DATA_DIR", "rel/data")]);
    let c = ServerConfig::load(None, &env, &Overrides::default())?;
    assert_eq!(c.server.data_dir, Some(PathBuf::from("rel/data")));
    Ok(())
}

#[test]
fn validation_reports_what_to_fix() {
    let text = "[limits]\nmin_initial_capital = 5000\nmax_initial_capital = 100\n\
                max_sessions_per_user = 0\n[server]\nlog_level = \"=[\"\n";
    let err = err_text(ServerConfig::from_toml_str(text, Path::new("v.toml")));
    assert!(
        err.contains("min_initial_capital") && err.contains("lower the minimum"),
        "{err}"
    );
    assert!(
        err.contains("SIMUTRADOR_LIMITS_MAX_SESSIONS_PER_USER"),
        "{err}"
    );
    assert!(err.contains("log_level"), "{err}");
}

#[test]
fn log_level_typos_are_refused_with_the_list_of_levels() {
    use super::validate::check_log_filter;
    for good in [
        "info",
        "WARN",
        "info,simutrador_server=debug",
        "off",
        "a[span]=trace",
    ] {
        assert!(check_log_filter(good).is_ok(), "{good}");
    }
    for typo in ["infoo", "info,simutrador_server=debugg", "verbose"] {
        let err = check_log_filter(typo).unwrap_err();
        assert!(
            err.contains("trace, debug, info, warn, error, off"),
            "{err}"
        );
    }
    let text = "[server]\nlog_level = \"infoo\"\n";
    let err = err_text(ServerConfig::from_toml_str(text, Path::new("v.toml")));
    assert!(err.contains("'infoo' is not a log level"), "{err}");
}

#[test]
fn every_env_var_parses() -> anyhow::Result<()> {
    let values: Vec<(String, &str)> = env::KEYS
        .iter()
        .map(|k| {
            let v = match k.key {
                "bind" => "0.0.0.0:1",
                "data_dir" | "state_dir" => "/tmp/x",
                "demo_data" | "create_local_key" => "false",
                "log_format" => "json",
                "log_level" => "debug",
                "jwt_secret" => "0123456789abcdef0123456789abcdef",
                "max_message_bytes" | "outbound_queue_bytes" => "100000",
                "min_initial_capital" => "10",
                "url" => "postgres://u@db/x",
                "daemon_id" => "d1",
                "min_session_duration" | "max_session_duration" | "default_session_duration" => {
                    "2h"
                }
                _ => "11",
            };
            (k.var(), v)
        })
        .collect();
    let pairs: Vec<(&str, &str)> = values.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    let c = ServerConfig::load(None, &env_of(&pairs), &Overrides::default())?;
    assert_eq!(c.server.log_format, LogFormat::Json);
    assert_eq!(c.server.demo_data, Some(false));
    assert!(!c.auth.create_local_key);
    assert_eq!(c.rate_limits.connections_per_user, 11);
    assert_eq!(c.limits.cleanup_interval_seconds, 11);
    assert_eq!(c.store.url.as_deref(), Some("postgres://u@db/x"));
    assert_eq!(c.store.pool_size, 11);
    assert_eq!(c.store.daemon_id.as_deref(), Some("d1"));
    assert_eq!(c.store.lease_seconds, 11);
    Ok(())
}

#[test]
fn connection_limits_are_validated() {
    let text = "[connections]\nmax_connections = 8\nmax_connections_per_ip = 9\n\
        header_read_timeout_seconds = 0\nunauthenticated_timeout_seconds = 5\n\
        outbound_queue_frames = 2\noutbound_queue_bytes = 1000\nslow_consumer_timeout_seconds = 0\n";
    let err = format!(
        "{:#}",
        ServerConfig::from_toml_str(text, Path::new("s.toml")).unwrap_err()
    );
    for needle in [
        "(9) is larger than [connections] max_connections",
        "[connections] header_read_timeout_seconds (SIMUTRADOR_CONNECTIONS_HEADER_READ_TIMEOUT_SECONDS) must be at least 1",
        "[connections] slow_consumer_timeout_seconds",
        "outbound_queue_frames (SIMUTRADOR_CONNECTIONS_OUTBOUND_QUEUE_FRAMES) must be at least 4",
        "outbound_queue_bytes (SIMUTRADOR_CONNECTIONS_OUTBOUND_QUEUE_BYTES) is 1000 but must be between 65536",
    ] {
        assert!(err.contains(needle), "{needle} not in {err}");
    }
    let text =
        "[connections]\nheader_read_timeout_seconds = 20\nunauthenticated_timeout_seconds = 5\n";
    let err = format!(
        "{:#}",
        ServerConfig::from_toml_str(text, Path::new("s.toml")).unwrap_err()
    );
    assert!(
        err.contains("is shorter than [connections] header_read_timeout_seconds"),
        "{err}"
    );
}

#[test]
fn example_config_is_the_defaults() -> anyhow::Result<()> {
    let c = ServerConfig::from_toml_str(EXAMPLE, Path::new("configs/server.toml"))?;
    assert_eq!(c, ServerConfig::default());
    for spec in env::KEYS {
        assert!(
            EXAMPLE.contains(&format!("{} = ", spec.key)),
            "{} missing",
            spec.key
        );
    }
    Ok(())
}

#[test]
fn docs_list_every_key_and_variable() {
    for spec in env::KEYS {
        assert!(
            DOCS.contains(&format!("`{}`", spec.key)),
            "key {} not documented",
            spec.key
        );
        assert!(DOCS.contains(&spec.var()), "{} not documented", spec.var());
        if let Some(alias) = spec.alias {
            assert!(DOCS.contains(alias), "{alias} not documented");
        }
    }
}

#[test]
fn key_check_interval_is_validated() -> anyhow::Result<()> {
    let c =
        ServerConfig::from_toml_str("[auth]\nkey_check_interval_ms = 50\n", Path::new("k.toml"))?;
    assert_eq!(c.auth.key_check_interval_ms, 50);
    assert_eq!(c.auth_settings().key_check_interval_ms, 50);
    for bad in ["0", "9", "60001"] {
        let text = format!("[auth]\nkey_check_interval_ms = {bad}\n");
        let err = err_text(ServerConfig::from_toml_str(&text, Path::new("k.toml")));
        assert!(
            err.contains("[auth] key_check_interval_ms (SIMUTRADOR_AUTH_KEY_CHECK_INTERVAL_MS)")
                && err.contains("between 10 and 60000"),
            "{err}"
        );
    }
    Ok(())
}

#[test]
fn store_url_from_file_env_and_flag() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("server.toml");
    std::fs::write(
        &file,
        "[store]\nurl = \"postgres://sim@db1/simutrador\"\npool_size = 4\n",
    )?;
    let none = env_of(&[]);
    let c = ServerConfig::load(Some(&file), &none, &Overrides::default())?;
    assert_eq!(
        c.store.url.as_deref(),
        Some("postgres://sim@db1/simutrador")
    );
    assert_eq!((c.store.pool_size, c.store.connect_timeout_seconds), (4, 5));
    let env = env_of(&[("SIMUTRADOR_STORE_URL", "postgresql://sim@db2/simutrador")]);
    let c = ServerConfig::load(Some(&file), &env, &Overrides::default())?;
    assert_eq!(
        c.store.url.as_deref(),
        Some("postgresql://sim@db2/simutrador")
    );
    let flags = Overrides {
        store_url: Some("postgres://sim@db3/simutrador".into()),
        ..Overrides::default()
    };
    let c = ServerConfig::load(Some(&file), &env, &flags)?;
    assert_eq!(
        c.store.url.as_deref(),
        Some("postgres://sim@db3/simutrador")
    );
    // Unset: the embedded store.
    assert_eq!(ServerConfig::default().store.url, None);
    Ok(())
}

#[test]
fn store_settings_are_validated_without_showing_the_password() {
    let text = "[store]\nurl = \"mysql://u:hunter2@db/x\"\npool_size = 0\nconnect_timeout_seconds = 0\n\
         lease_seconds = 0\ndaemon_id = \" \"\n";
    let err = err_text(ServerConfig::from_toml_str(text, Path::new("s.toml")));
    for needle in [
        "[store] url (SIMUTRADOR_STORE_URL) is \"mysql://u:***@db/x\"; the only shared store is PostgreSQL",
        "[store] pool_size (SIMUTRADOR_STORE_POOL_SIZE) is 0 but must be between 1 and 256",
        "[store] connect_timeout_seconds (SIMUTRADOR_STORE_CONNECT_TIMEOUT_SECONDS) must be at least 1",
        "[store] lease_seconds (SIMUTRADOR_STORE_LEASE_SECONDS) is 0 but must be between 1 and 3600",
        "[store] daemon_id (SIMUTRADOR_STORE_DAEMON_ID) must be 1 to 200 printable characters",
    ] {
        assert!(err.contains(needle), "{needle} not in {err}");
    }
    assert!(!err.contains("hunter2"), "{err}");
    let text = "[store]\nurl = \"postgres://u:hunter2@db:notaport/x\"\n";
    let err = err_text(ServerConfig::from_toml_str(text, Path::new("s.toml")));
    assert!(err.contains("is not a valid PostgreSQL URL"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
    let env = env_of(&[("SIMUTRADOR_STORE_POOL_SIZE", "x")]);
    let err = err_text(ServerConfig::load(None, &env, &Overrides::default()));
    assert!(err.contains("SIMUTRADOR_STORE_POOL_SIZE"), "{err}");
    assert_eq!(
        super::hide_password("postgres://u:pw@h/db?password=pw2&x=1"),
        "postgres://u:***@h/db?password=***&x=1"
    );
    assert_eq!(
        super::hide_password("postgres://u@h/db"),
        "postgres://u@h/db"
    );
}
