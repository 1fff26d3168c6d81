//! The command line as `clap` derive types: global flags, one enum per command group, and the
//! value parsers that turn dates, timeframes and amounts into checked values at parse time.
//! The `batch` and `data` groups' flags are in [`super::batch_args`] and
//! [`super::data_args`], the history commands' in [`super::history_args`].

use clap::{Args, Parser, Subcommand};
use rust_decimal::Decimal;
use shared_models::dates::DateBound;
use shared_models::lifecycle::{Performance, SessionSort};
use shared_models::{SessionState, Timeframe};
use std::path::PathBuf;
use std::str::FromStr;

pub use super::batch_args::BatchCommand;
pub use super::data_args::DataCommand;

/// Talk to a SimuTrador daemon: log in, create and manage simulation sessions, browse market
/// data.
#[derive(Debug, Parser)]
#[command(name = "simutrador-client", version, propagate_version = true)]
#[command(
    after_help = "Exit codes: 0 success, 1 the server refused the request, 2 usage, \
connection or authentication failure, 130 interrupted (Ctrl-C), 141 stdout/stderr closed.\nDocumentation: docs/client.md"
)]
pub struct Cli {
    /// Flags every command accepts.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Flags usable before or after the subcommand.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Daemon address: ws://HOST:PORT (also with /ws, wss://, http://, https://, or HOST:PORT).
    /// Default: SIMUTRADOR_URL, then `url` in client.toml, then ws://127.0.0.1:8003.
    #[arg(long, global = true, value_name = "URL")]
    pub url: Option<String>,
    /// Print exactly one JSON document on stdout (errors too) instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// Show every column of a table, however wide. Without it a table fits the terminal
    /// (or COLUMNS when set): low-priority columns are dropped first, then cells wrap.
    #[arg(long, global = true)]
    pub wide: bool,
}

/// Command groups.
#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per process
pub enum Command {
    /// Log in with an API key, show or delete the stored token.
    #[command(subcommand)]
    Auth(AuthCommand),
    /// Create, inspect, list and delete simulation sessions.
    #[command(subcommand)]
    Session(SessionCommand),
    /// Browse the daemon's market data.
    #[command(subcommand)]
    Data(DataCommand),
    /// Run many simulations from a TOML file: sweeps, parallel sessions, one summary.
    #[command(subcommand)]
    Batch(BatchCommand),
    /// Check that the daemon is up (no login needed).
    Health,
    /// Print a shell completion script: `simutrador-client completions bash > FILE`.
    Completions {
        /// The shell: bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) of simutrador-client: `simutrador-client man | man -l -`.
    Man,
}

/// `auth …`.
#[derive(Debug, Subcommand)]
pub enum AuthCommand {
    /// Exchange an API key for a token and store it (owner-only) for later commands.
    Login {
        /// The key (default: SIMUTRADOR_API_KEY, `api_key` in client.toml, the daemon's
        /// local key on loopback, else a prompt). Beware: flags end up in shell history.
        #[arg(long, value_name = "KEY")]
        api_key: Option<String>,
    },
    /// Show who is logged in to the daemon and whether the token still works.
    Status,
    /// Delete the stored token for the daemon.
    Logout,
}

/// `session …`.
#[derive(Debug, Subcommand)]
pub enum SessionCommand {
    /// Validate, preview and create a session.
    Create(CreateArgs),
    /// Show one session.
    Status {
        /// The session id.
        id: String,
    },
    /// List your sessions, newest first: filter by state, creation day, profit or loss,
    /// duration and end reason; sort by return, drawdown, trades or duration.
    #[command(visible_alias = "history")]
    List(ListArgs),
    /// Put the statistics of two or more sessions side by side.
    Compare(super::history_args::CompareArgs),
    /// Aggregate figures across your sessions (the filters of `session list`): count, win
    /// rate, mean and median return, best and worst, per strategy.
    Stats(super::history_args::StatsArgs),
    /// Write a finished session's trades, equity curve and metrics as Parquet or CSV files.
    Export(super::history_args::ExportArgs),
    /// Delete a session, or every session matching --state / --older-than (asks first).
    Delete(DeleteArgs),
    /// Run a strategy on a session (state created) and print its metrics.
    Run(RunArgs),
    /// Show the results of a finished run.
    Results(ResultsArgs),
    /// End a session now: cancel its orders, close its positions at the last settled prices.
    Stop {
        /// The session id.
        id: String,
        /// An emergency stop (recorded as EMERGENCY_STOP, reason emergency_stop).
        #[arg(long)]
        emergency: bool,
    },
    /// Show a session's event log, oldest first.
    Events {
        /// The session id.
        id: String,
        /// Page size [server default: 100, at most 1000].
        #[arg(long, value_name = "N")]
        limit: Option<u32>,
        /// Events to skip.
        #[arg(long, value_name = "N")]
        offset: Option<u32>,
    },
    /// Follow a session live: time and loss limits used, progress, countdown, latest events.
    Watch {
        /// The session id.
        id: String,
    },
    /// Change a session's limits or costs before it starts.
    Update(UpdateArgs),
    /// Create a new session with the same parameters and limits on the market data the
    /// daemon holds now (after DATA_CHANGED). It starts from scratch: the original's orders,
    /// fills, events and results are not copied, and the original is left as it is.
    Fork {
        /// The session id.
        id: String,
    },
    /// Run the built-in strategy and parameters a session ran again, on a fresh session with
    /// the same parameters and limits, and say whether the results are identical.
    Rerun(RerunArgs),
    /// Write one self-contained HTML report of a finished run (charts, statistics, trades,
    /// limits, why it ended) that opens offline in any browser (docs/reports.md).
    Report(SessionReportArgs),
}

/// `session rerun`.
#[derive(Debug, Args)]
pub struct RerunArgs {
    /// The session whose run to repeat (it must have results and a recorded built-in
    /// strategy).
    pub id: String,
    /// Ticks the daemon may send ahead of the strategy (1..=65536); results do not depend
    /// on it.
    #[arg(long, value_name = "N", default_value_t = simutrador_client::runner::DEFAULT_WINDOW,
          value_parser = clap::value_parser!(u32).range(1..=65536))]
    pub window: u32,
    /// Only for a session run by an older client, which did not record its warm-up: the
    /// original run's `--warmup` [default: the recorded one, else 0].
    #[arg(long, value_name = "N")]
    pub warmup: Option<u32>,
    /// No progress bar: a plain progress line every 10 %.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// `session report`.
#[derive(Debug, Args)]
pub struct SessionReportArgs {
    /// The session id.
    pub id: String,
    /// The HTML file to write [default: session-ID.html in the current folder].
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// No price charts: skip the replay of a fork of the session that reads its bars' closes
    /// (it needs a free session slot and one replay of the data).
    #[arg(long)]
    pub no_prices: bool,
}

/// Limit flags shared by `session create` and `session update`.
#[derive(Debug, Args, Default)]
pub struct LimitArgs {
    /// Time limit, e.g. 1h, 4h, 24h, 7d or 1h30m [server default: 24h].
    #[arg(long, value_name = "D", value_parser = parse_duration_flag)]
    pub max_duration: Option<String>,
    /// Loss limit in percent of the initial capital (e.g. 10, 20, 30).
    #[arg(long, value_name = "P", value_parser = parse_decimal, conflicts_with = "loss_limit_amount")]
    pub loss_limit_pct: Option<Decimal>,
    /// Loss limit in money.
    #[arg(long, value_name = "A", value_parser = parse_decimal)]
    pub loss_limit_amount: Option<Decimal>,
    /// Volatility halt: halt new orders in a symbol after a bar-to-bar move above P percent.
    #[arg(long, value_name = "P", value_parser = parse_decimal)]
    pub halt_threshold_pct: Option<Decimal>,
    /// How many bars a halt lasts [default 1].
    #[arg(long, value_name = "N", requires = "halt_threshold_pct")]
    pub halt_bars: Option<u32>,
}

/// `session delete`: one id (or a unique prefix), or a filter for a bulk delete.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["id", "state", "older_than"])))]
pub struct DeleteArgs {
    /// The session id (or a unique prefix of it).
    #[arg(conflicts_with_all = ["state", "older_than"])]
    pub id: Option<String>,
    /// Delete every session in this state (created, running, paused, completed, stopped,
    /// expired, failed).
    #[arg(long, value_name = "STATE", value_parser = SessionState::from_str)]
    pub state: Option<SessionState>,
    /// Delete every session created more than this long ago, e.g. 7d, 12h, 1h30m.
    #[arg(long, value_name = "D", value_parser = parse_duration_flag)]
    pub older_than: Option<String>,
    /// Do not ask for confirmation (needed when stdin is not a terminal).
    #[arg(long, short = 'y')]
    pub yes: bool,
}

/// `session update`.
#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// The session id.
    pub id: String,
    /// New limits.
    #[command(flatten)]
    pub limits: LimitArgs,
    /// New starting cash.
    #[arg(long, value_name = "AMOUNT", value_parser = parse_decimal)]
    pub capital: Option<Decimal>,
}

/// `session run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The session id.
    pub id: String,
    /// Built-in strategy: buy-and-hold, sma-cross, rsi-reversion.
    #[arg(long, short = 's', value_name = "NAME")]
    pub strategy: String,
    /// Strategy parameter, repeatable: `-p fast=5 -p slow=30`.
    #[arg(long = "param", short = 'p', value_name = "KEY=VALUE", value_parser = parse_param)]
    pub params: Vec<(String, String)>,
    /// Ticks the daemon may send ahead of the strategy (1..=65536); results do not depend
    /// on it.
    #[arg(long, value_name = "N", default_value_t = simutrador_client::runner::DEFAULT_WINDOW,
          value_parser = clap::value_parser!(u32).range(1..=65536))]
    pub window: u32,
    /// Bars before the start date sent first to warm indicators up.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub warmup: u32,
    /// No progress bar: a plain progress line every 10 %.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// `session results`.
#[derive(Debug, Args)]
pub struct ResultsArgs {
    /// The session id.
    pub id: String,
    /// Also list the closed trades.
    #[arg(long)]
    pub trades: bool,
    /// Also list the equity curve.
    #[arg(long)]
    pub equity: bool,
    /// Write metrics.csv, trades.csv and equity.csv into DIR instead of printing.
    #[arg(long, value_name = "DIR")]
    pub csv: Option<PathBuf>,
}

/// `session create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Symbols to replay, e.g. `ACME GLOBEX` or `ACME,GLOBEX`.
    #[arg(value_delimiter = ',', value_name = "SYMBOL")]
    pub symbols: Vec<String>,
    /// First day replayed (YYYY-MM-DD or RFC 3339), inclusive.
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub start: Option<String>,
    /// Last day replayed, inclusive.
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub end: Option<String>,
    /// Starting cash [server default: 100000].
    #[arg(long, value_name = "AMOUNT", value_parser = parse_decimal)]
    pub capital: Option<Decimal>,
    /// Bar size: 1m 5m 15m 30m 1h 4h 1d 1w 1mo [server default: 1d].
    #[arg(long, value_name = "TF", value_parser = parse_timeframe)]
    pub timeframe: Option<Timeframe>,
    /// Commission as a fraction of traded value (0.001 = 0.1 %).
    #[arg(long, value_name = "RATE", value_parser = parse_decimal)]
    pub commission_rate: Option<Decimal>,
    /// Commission per unit traded.
    #[arg(long, value_name = "AMOUNT", value_parser = parse_decimal)]
    pub commission_per_share: Option<Decimal>,
    /// Minimum commission per fill.
    #[arg(long, value_name = "AMOUNT", value_parser = parse_decimal)]
    pub commission_min: Option<Decimal>,
    /// Slippage against you, in basis points.
    #[arg(long, value_name = "BPS", value_parser = parse_decimal)]
    pub slippage_bps: Option<Decimal>,
    /// Forbid short selling.
    #[arg(long)]
    pub no_short: bool,
    /// Close open positions at the last bar's close when the run ends.
    #[arg(long)]
    pub close_at_end: bool,
    /// Time, loss and halt limits.
    #[command(flatten)]
    pub limits: LimitArgs,
    /// Session file (TOML with the keys of create_session); flags override it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Walk through every field with prompts (needs a terminal).
    #[arg(long, short = 'i')]
    pub interactive: bool,
    /// With --interactive: create without asking for confirmation.
    #[arg(long, short = 'y')]
    pub yes: bool,
}

/// `session list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Which sessions.
    #[command(flatten)]
    pub filter: super::history_args::HistoryFilterArgs,
    /// Page size [server default: 50, at most 500].
    #[arg(long, value_name = "N")]
    pub limit: Option<u32>,
    /// Sessions to skip.
    #[arg(long, value_name = "N")]
    pub offset: Option<u32>,
    /// Order: created_at (newest first), return (best first), drawdown (mildest first),
    /// trades (most first) or duration (longest first).
    #[arg(long, value_name = "ORDER", value_parser = parse_sort)]
    pub sort: Option<SessionSort>,
}

/// `profit` or `loss`.
pub fn parse_performance(text: &str) -> Result<Performance, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "profit" => Ok(Performance::Profit),
        "loss" => Ok(Performance::Loss),
        _ => Err(format!("'{text}' is not a performance; use profit or loss")),
    }
}

/// `created_at`, `return`, `drawdown`, `trades` or `duration`.
pub fn parse_sort(text: &str) -> Result<SessionSort, String> {
    match text.trim().to_ascii_lowercase().replace('-', "_").as_str() {
        "created_at" | "created" => Ok(SessionSort::CreatedAt),
        "return" => Ok(SessionSort::Return),
        "drawdown" => Ok(SessionSort::Drawdown),
        "trades" => Ok(SessionSort::Trades),
        "duration" => Ok(SessionSort::Duration),
        _ => Err(format!(
            "'{text}' is not a sort order; use created_at, return, drawdown, trades or duration"
        )),
    }
}

/// A duration like `4h`, checked here so a typo fails before any connection.
pub fn parse_duration_flag(text: &str) -> Result<String, String> {
    shared_models::lifecycle::parse_duration(text).map(|_| text.trim().to_string())
}

/// `key=value` for `-p`.
pub fn parse_param(text: &str) -> Result<(String, String), String> {
    simutrador_client::strategies::parse_assignment(text)
}

/// A date as `YYYY-MM-DD` or RFC 3339, normalized.
pub fn parse_date(text: &str) -> Result<String, String> {
    DateBound::parse(text)
        .map(|d| d.to_string())
        .map_err(|e| e.to_string())
}

/// A timeframe in any accepted spelling.
pub fn parse_timeframe(text: &str) -> Result<Timeframe, String> {
    text.parse()
        .map_err(|e: shared_models::market::UnknownTimeframe| e.to_string())
}

/// An exact decimal amount; `_` separators and scientific notation are accepted.
pub fn parse_decimal(text: &str) -> Result<Decimal, String> {
    let clean: String = text.trim().chars().filter(|c| *c != '_').collect();
    Decimal::from_str(&clean)
        .or_else(|_| Decimal::from_scientific(&clean))
        .map_err(|_| format!("'{text}' is not a number; write it like 100000 or 0.001"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn global_flags_work_before_and_after_the_subcommand() {
        for argv in [
            vec!["c", "--json", "--url", "h:1", "session", "list"],
            vec!["c", "session", "list", "--url", "h:1", "--json"],
            vec!["c", "session", "--json", "list", "--url=h:1"],
        ] {
            let cli = Cli::try_parse_from(&argv).unwrap();
            assert!(cli.global.json, "{argv:?}");
            assert_eq!(cli.global.url.as_deref(), Some("h:1"));
        }
    }

    #[test]
    fn create_arguments_are_checked_at_parse_time() {
        let cli = Cli::try_parse_from([
            "c",
            "session",
            "create",
            "acme,globex",
            "initech",
            "--start",
            "2020-01-02",
            "--end",
            "2020-12-31T00:00:00+01:00",
            "--capital",
            "1_000_000",
            "--timeframe",
            "daily",
            "--slippage-bps",
            "2.5",
            "--no-short",
        ])
        .unwrap();
        let Command::Session(SessionCommand::Create(args)) = cli.command else {
            panic!()
        };
        assert_eq!(args.symbols, ["acme", "globex", "initech"]);
        assert_eq!(args.end.as_deref(), Some("2020-12-30T23:00:00Z"));
        assert_eq!(args.capital, Some(Decimal::from(1_000_000)));
        assert_eq!(args.timeframe, Some(Timeframe::D1));
        assert!(args.no_short);

        for bad in [
            vec!["c", "session", "create", "A", "--start", "2020-02-30"],
            vec!["c", "session", "create", "A", "--timeframe", "2d"],
            vec!["c", "session", "create", "A", "--capital", "lots"],
            vec!["c", "session", "list", "--state", "sleeping"],
        ] {
            assert!(Cli::try_parse_from(&bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn run_arguments_are_checked_at_parse_time() {
        let cli = Cli::try_parse_from([
            "c",
            "session",
            "run",
            "abc",
            "--strategy",
            "sma-cross",
            "-p",
            "fast=5",
            "-p",
            "slow = 30",
            "--window",
            "1",
        ])
        .unwrap();
        let Command::Session(SessionCommand::Run(args)) = cli.command else {
            panic!()
        };
        assert_eq!(
            args.params,
            [("fast".into(), "5".into()), ("slow".into(), "30".into())]
        );
        assert_eq!((args.window, args.warmup, args.quiet), (1, 0, false));
        for bad in [
            vec!["c", "session", "run", "abc"],
            vec!["c", "session", "run", "abc", "-s", "x", "-p", "fast"],
            vec!["c", "session", "run", "abc", "-s", "x", "--window", "0"],
            vec!["c", "session", "run", "abc", "-s", "x", "--window", "70000"],
        ] {
            assert!(Cli::try_parse_from(&bad).is_err(), "{bad:?}");
        }
        let cli =
            Cli::try_parse_from(["c", "session", "results", "abc", "--trades", "--csv", "out"])
                .unwrap();
        let Command::Session(SessionCommand::Results(r)) = cli.command else {
            panic!()
        };
        assert!(r.trades && !r.equity && r.csv.is_some());
    }

    #[test]
    fn decimals_accept_separators_and_exponents() {
        assert_eq!(parse_decimal("100_000").unwrap(), Decimal::from(100_000));
        assert_eq!(parse_decimal("1e5").unwrap(), Decimal::from(100_000));
        assert_eq!(parse_decimal("0.002").unwrap(), Decimal::new(2, 3));
    }
}
