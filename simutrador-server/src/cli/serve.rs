//! `simutrador-server serve`: load the config and the market data, start the daemon, wait for
//! SIGINT/SIGTERM, shut down gracefully (see [`crate::server::shutdown`]) and exit 0. A second
//! signal during the grace period stops waiting.

use anyhow::Context;
use clap::Args;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::config::{LogFormat, Overrides, ServerConfig, ServerSection};
use crate::market_data::Catalog;

/// Flags of `serve` (highest precedence over env and file).
#[derive(Debug, Clone, Default, Args)]
pub struct ServeArgs {
    /// Config file (TOML); default `$SIMUTRADOR_CONFIG` or `~/.config/simutrador/server.toml`.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Listen address, e.g. `127.0.0.1:8003` (port 0 picks a free port).
    #[arg(long, value_name = "ADDR")]
    pub bind: Option<SocketAddr>,
    /// Market data folder (`<dir>/<timeframe>/<SYMBOL>.csv`); without it the built-in demo data is served.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// State folder (API keys, JWT secret).
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Also serve the built-in demo data when a data dir is given.
    #[arg(long)]
    pub demo_data: bool,
    /// Log format: `human` or `json`.
    #[arg(long, value_name = "FORMAT", value_parser = parse_log_format)]
    pub log_format: Option<LogFormat>,
    /// Log filter: trace, debug, info, warn, error or off, or TARGET=LEVEL directives such as
    /// `info,simutrador_server=debug` (checked here: a typo is refused with the levels).
    #[arg(long, value_name = "FILTER", value_parser = crate::config::validate::check_log_filter)]
    pub log_level: Option<String>,
    /// On SIGINT/SIGTERM, seconds to let connections, runs and background tasks finish.
    #[arg(long, value_name = "SECONDS")]
    pub shutdown_grace_seconds: Option<u64>,
    /// Session store: `postgres://user:password@host:5432/db` keeps sessions in PostgreSQL
    /// (schema created or upgraded at start); unset = the embedded store in the state dir.
    #[arg(long = "store", value_name = "URL")]
    pub store: Option<String>,
}

fn parse_log_format(s: &str) -> Result<LogFormat, String> {
    match s.to_ascii_lowercase().as_str() {
        "human" | "text" => Ok(LogFormat::Human),
        "json" => Ok(LogFormat::Json),
        _ => Err(format!("unknown log format '{s}'; use human or json")),
    }
}

/// Run the daemon until a signal.
pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    // First, while this is the only thread: the allocator setting that keeps memory freed by
    // finished runs from staying resident (re-executes this binary once; `cli::allocator`).
    let allocator_warning = super::allocator::reexec_with_tunables();
    let overrides = Overrides {
        bind: args.bind,
        data_dir: args.data_dir.clone(),
        state_dir: args.state_dir.clone(),
        demo_data: args.demo_data.then_some(true),
        log_format: args.log_format,
        log_level: args.log_level.clone(),
        shutdown_grace_seconds: args.shutdown_grace_seconds,
        store_url: args.store.clone(),
    };
    let config = ServerConfig::load(
        args.config.as_deref(),
        &|k| std::env::var(k).ok(),
        &overrides,
    )?;
    init_logging(&config);
    if let Some(warning) = allocator_warning {
        tracing::warn!("{warning}");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let result = runtime.block_on(serve(config));
    // Anything still running after the grace period is dropped here, without waiting.
    runtime.shutdown_background();
    result?;
    Ok(ExitCode::SUCCESS)
}

async fn serve(config: ServerConfig) -> anyhow::Result<()> {
    let (catalog, sources) = load_catalog(&config.server)?;
    tracing::info!(symbols = catalog.symbol_count(), bars = catalog.bar_count(), sources = %sources.join(", "), "market data loaded");

    // Owner-only (0700); `server::start` checks the modes of everything in it.
    crate::auth::private_file::create_private_dir(&config.server.state_dir).with_context(|| {
        format!(
            "cannot create the state dir {}",
            config.server.state_dir.display()
        )
    })?;
    let local_key = if config.auth.create_local_key {
        crate::auth::ensure_local_key(&config.server.state_dir)?
    } else {
        None
    };

    let server = crate::server::start(config, catalog).await?;
    let addr = server.addr();
    // Plain lines on stdout; the "listening on" line comes last, so a script that waits for it
    // knows the daemon is ready and has everything else already.
    let mut out = std::io::stdout().lock();
    writeln!(out, "market data: {}", sources.join(", "))?;
    if let Some(path) = local_key {
        writeln!(
            out,
            "created an API key for user 'local' in {} (owner-only); `simutrador-client` finds it on loopback",
            path.display()
        )?;
    }
    writeln!(
        out,
        "simutrador-server {} listening on http://{addr} (WebSocket ws://{addr}/ws)",
        crate::VERSION
    )?;
    out.flush()?;
    drop(out);

    crate::server::shutdown::signal().await;
    tokio::select! {
        result = server.shutdown() => result?,
        () = crate::server::shutdown::signal() => {
            tracing::warn!("second signal; stopping without waiting for the grace period");
        }
    }
    tracing::info!("stopped");
    Ok(())
}

/// The catalog the daemon serves: the configured data dir (plus demo data with
/// `--demo-data`), or — with no data dir configured — the built-in demo data plus the default
/// data dir when it exists (so `data import` without `--data-dir` just works). The same
/// [`crate::market_data::DataSource::load`] reloads it while the daemon runs
/// ([`crate::server::data_reload`]).
pub fn load_catalog(server: &ServerSection) -> anyhow::Result<(Catalog, Vec<String>)> {
    let source = crate::server::data_reload::data_source(server);
    source
        .load()
        .with_context(|| format!("cannot load market data from {}", source.dir.display()))
}

fn init_logging(config: &ServerConfig) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&config.server.log_level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let _ = match config.server.log_format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Human => builder.try_init(),
    };
}
