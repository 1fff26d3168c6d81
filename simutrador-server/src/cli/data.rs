//! `simutrador-server data …`: import a CSV file into the data directory, list the catalog.
//!
//! ```text
//! simutrador-server data import FILE --symbol SYM --timeframe TF [--asset-class C]
//!                                     [--exchange X] [--description D] [--data-dir DIR]
//!                                     [--replace] [--json]
//! simutrador-server data list [--data-dir DIR] [--demo] [--json]
//! ```
//!
//! The data directory is `--data-dir`, else `SIMUTRADOR_DATA_DIR`, else
//! [`crate::config::default_data_dir`]. A file with a bad row prints `file:line: reason` and
//! exits with 1; nothing is written. A symbol and timeframe that already has bars is
//! replaced only with `--replace` (else exit 1, nothing written), and the output says how
//! many bars were replaced. The text output ends with when a running daemon serving this data
//! dir picks the data up (it polls the dir every `[server] data_poll_secs`; no restart).

use anyhow::Context;
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use serde_json::json;
use shared_models::{AssetClass, SymbolInfo, Timeframe};
use std::path::PathBuf;
use std::process::ExitCode;

use super::output;
use crate::market_data::import::{ImportRequest, import_file};
use crate::market_data::{Catalog, MarketDataError};

/// `data` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum DataCommand {
    /// Check a CSV file of OHLCV bars and store it in the data directory.
    Import(ImportArgs),
    /// List the symbols and timeframes the daemon would serve.
    List(ListArgs),
}

/// `data import`.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The CSV file (`timestamp,open,high,low,close,volume` or pandas `,Open,High,Low,Close,Volume`).
    pub file: PathBuf,
    /// Symbol to store it as, e.g. GOOG (upper-cased).
    #[arg(long)]
    pub symbol: String,
    /// Bar size of the file: 1m 5m 15m 30m 1h 4h 1d 1w 1mo.
    #[arg(long)]
    pub timeframe: Timeframe,
    /// equity, forex or crypto (default: keep the recorded one, or equity).
    #[arg(long)]
    pub asset_class: Option<AssetClass>,
    /// Exchange or venue to record.
    #[arg(long)]
    pub exchange: Option<String>,
    /// Description to record.
    #[arg(long)]
    pub description: Option<String>,
    /// Data directory [env: SIMUTRADOR_DATA_DIR; default: ~/.local/share/simutrador/data].
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Replace the bars already stored for this symbol and timeframe.
    #[arg(long)]
    pub replace: bool,
    /// Print one JSON document instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `data list`.
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Data directory [env: SIMUTRADOR_DATA_DIR; default: ~/.local/share/simutrador/data].
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Include the built-in demo data and samples even with an explicit data dir (without
    /// one they are listed by default, as `serve` serves them).
    #[arg(long, conflicts_with = "no_demo")]
    pub demo: bool,
    /// Leave the built-in demo data and samples out.
    #[arg(long)]
    pub no_demo: bool,
    /// Print one JSON document instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Run a `data` subcommand.
pub fn run(cmd: DataCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        DataCommand::Import(a) => import(a),
        DataCommand::List(a) => list(a),
    }
}

/// `--data-dir`, else `SIMUTRADOR_DATA_DIR`, else the default; and whether it was chosen.
fn data_dir(flag: Option<PathBuf>) -> (PathBuf, bool) {
    if let Some(d) = flag {
        return (d, true);
    }
    match std::env::var_os("SIMUTRADOR_DATA_DIR").filter(|v| !v.is_empty()) {
        Some(d) => (PathBuf::from(d), true),
        None => (crate::config::default_data_dir(), false),
    }
}

fn import(a: ImportArgs) -> anyhow::Result<ExitCode> {
    let (dir, _) = data_dir(a.data_dir);
    let req = ImportRequest {
        file: a.file,
        symbol: a.symbol,
        timeframe: a.timeframe,
        asset_class: a.asset_class,
        exchange: a.exchange,
        description: a.description,
        data_dir: dir,
        replace: a.replace,
    };
    match import_file(&req) {
        Ok(s) => {
            if a.json {
                output::line(&serde_json::to_string_pretty(&s)?)?;
            } else {
                let what = if s.replaced {
                    format!("Replaced {} bars of", s.replaced_bars)
                } else {
                    "Imported".to_string()
                };
                output::line(&format!(
                    "{what} {} {} ({}): {} bars, {} .. {}\nStored in {}\n{}",
                    s.symbol,
                    s.timeframe,
                    s.asset_class,
                    s.bars,
                    s.first,
                    s.last,
                    s.destination.display(),
                    pickup_note(poll_secs())
                ))?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(
            e @ (MarketDataError::Parse { .. }
            | MarketDataError::Invalid(_)
            | MarketDataError::AlreadyImported { .. }),
        ) => {
            if a.json {
                let mut err = json!({"message": e.to_string()});
                if let MarketDataError::Parse { path, line, reason } = &e {
                    err["file"] = json!(path);
                    err["line"] = json!(line);
                    err["reason"] = json!(reason);
                }
                if let MarketDataError::AlreadyImported { bars, path, .. } = &e {
                    err["file"] = json!(path);
                    err["bars"] = json!(bars);
                }
                output::line(&json!({ "error": err }).to_string())?;
            } else {
                output::warn(&e.to_string())?;
                let hint = if matches!(e, MarketDataError::AlreadyImported { .. }) {
                    "Nothing was imported."
                } else {
                    "Nothing was imported; fix the file and run the command again."
                };
                output::warn(hint)?;
            }
            Ok(ExitCode::from(1))
        }
        Err(e) => Err(e).context("data import failed"),
    }
}

/// `[server] data_poll_secs` as a daemon started from here would read it (config file and
/// environment); the default when the configuration cannot be read.
fn poll_secs() -> u64 {
    let config = crate::config::ServerConfig::load(
        None,
        &|k| std::env::var(k).ok(),
        &crate::config::Overrides::default(),
    );
    config.map_or_else(
        |_| crate::config::ServerConfig::default().server.data_poll_secs,
        |c| c.server.data_poll_secs,
    )
}

/// When a running daemon serving the data dir picks an import up.
fn pickup_note(poll_secs: u64) -> String {
    if poll_secs == 0 {
        "A running daemon serving this data dir does not poll it (data_poll_secs = 0): send it SIGHUP (`kill -HUP PID`) to serve the new bars (no restart needed).".to_string()
    } else {
        format!(
            "A running daemon serving this data dir picks it up within about {} s (no restart needed).",
            poll_secs + 1
        )
    }
}

fn list(a: ListArgs) -> anyhow::Result<ExitCode> {
    let (dir, explicit) = data_dir(a.data_dir);
    let mut catalog = Catalog::empty();
    if dir.is_dir() {
        catalog = Catalog::load_dir(&dir)
            .with_context(|| format!("cannot load the market data in {}", dir.display()))?;
    } else if explicit {
        anyhow::bail!(
            "data directory {} does not exist; import a file with `simutrador-server data import FILE --symbol SYM --timeframe 1d --data-dir {}`",
            dir.display(),
            dir.display()
        );
    }
    // As `serve`: the built-ins come with the default data dir, and with an explicit one only
    // when asked for (`--demo` here, `--demo-data` there).
    let demo = a.demo || (!explicit && !a.no_demo);
    if demo {
        let mut all = Catalog::built_in();
        all.extend(catalog);
        catalog = all;
    }
    let symbols = catalog.list(None, None);
    if a.json {
        let doc = json!({"data_dir": dir, "demo": demo, "symbols": symbols});
        output::line(&serde_json::to_string_pretty(&doc)?)?;
    } else if symbols.is_empty() {
        output::line(&format!(
            "No market data in {}.\nImport a file with `simutrador-server data import FILE --symbol SYM --timeframe 1d`, \
             or add --demo to see the built-in demo data.",
            dir.display()
        ))?;
    } else {
        output::line(&table(&symbols).to_string())?;
        let source = if dir.is_dir() {
            format!("data dir {}", dir.display())
        } else {
            "no data dir".to_string()
        };
        let demo = if demo {
            " + built-in demo data and samples"
        } else {
            ""
        };
        output::line(&format!(
            "{} symbols, {} bars ({source}{demo})",
            catalog.symbol_count(),
            catalog.bar_count()
        ))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// One row per symbol × timeframe.
fn table(symbols: &[SymbolInfo]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(["SYMBOL", "CLASS", "TF", "FIRST", "LAST", "BARS", "NOTE"]);
    for s in symbols {
        for r in &s.timeframes {
            let fmt = if r.timeframe.is_daily_or_longer() {
                "%Y-%m-%d"
            } else {
                "%Y-%m-%d %H:%M"
            };
            t.add_row([
                s.symbol.clone(),
                s.asset_class.to_string(),
                r.timeframe.to_string(),
                r.first.format(fmt).to_string(),
                r.last.format(fmt).to_string(),
                r.bars.to_string(),
                if s.synthetic {
                    "synthetic".into()
                } else {
                    String::new()
                },
            ]);
        }
    }
    if let Some(col) = t.column_mut(5) {
        col.set_cell_alignment(comfy_table::CellAlignment::Right);
    }
    t
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(subcommand)]
        cmd: DataCommand,
    }

    #[test]
    fn arguments_parse() {
        let c = Cli::try_parse_from([
            "x",
            "import",
            "g.csv",
            "--symbol",
            "goog",
            "--timeframe",
            "daily",
            "--asset-class",
            "fx",
        ])
        .unwrap();
        match c.cmd {
            DataCommand::Import(a) => {
                assert_eq!(a.timeframe, Timeframe::D1);
                assert_eq!(a.asset_class, Some(AssetClass::Forex));
            }
            other => panic!("{other:?}"),
        }
        assert!(
            Cli::try_parse_from(["x", "import", "g.csv", "--symbol", "G", "--timeframe", "2d"])
                .is_err()
        );
        assert!(Cli::try_parse_from(["x", "list", "--demo", "--json"]).is_ok());
    }

    #[test]
    fn the_pickup_note_says_when_a_running_daemon_serves_the_import() {
        assert!(pickup_note(2).contains("within about 3 s (no restart needed)"));
        assert!(pickup_note(0).contains("SIGHUP"));
    }

    #[test]
    fn import_then_list_through_run() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("x.csv");
        std::fs::write(&src, "date,open,high,low,close\n2020-01-01,1,2,1,2\n").unwrap();
        let data = dir.path().join("data");
        let code = run(DataCommand::Import(ImportArgs {
            file: src.clone(),
            symbol: "x".into(),
            timeframe: Timeframe::D1,
            asset_class: None,
            exchange: None,
            description: None,
            data_dir: Some(data.clone()),
            replace: false,
            json: true,
        }))
        .unwrap();
        assert_eq!(code, ExitCode::SUCCESS);
        assert!(data.join("1d/X.csv").is_file());
        std::fs::write(&src, "date,open,high,low,close\n2020-01-01,1,2,3,2\n").unwrap();
        let bad = ImportArgs {
            file: src,
            symbol: "x".into(),
            timeframe: Timeframe::D1,
            asset_class: None,
            exchange: None,
            description: None,
            data_dir: Some(data.clone()),
            replace: false,
            json: false,
        };
        assert_eq!(run(DataCommand::Import(bad)).unwrap(), ExitCode::from(1));
        let list = ListArgs {
            data_dir: Some(data),
            demo: true,
            no_demo: false,
            json: false,
        };
        assert_eq!(run(DataCommand::List(list)).unwrap(), ExitCode::SUCCESS);
        let missing = ListArgs {
            data_dir: Some(dir.path().join("none")),
            demo: false,
            no_demo: false,
            json: false,
        };
        assert!(run(DataCommand::List(missing)).is_err());
        let rows = table(&Catalog::demo().list(None, None)).row_count();
        assert_eq!(rows, 16);
    }

    #[test]
    #[ignore = "reads /work/shared/data; run by hand with --nocapture"]
    fn real_files_import_and_list() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().to_path_buf();
        for (f, tf, class) in [
            ("GOOG", Timeframe::D1, AssetClass::Equity),
            ("EURUSD", Timeframe::H1, AssetClass::Forex),
            ("BTCUSD", Timeframe::Mo1, AssetClass::Crypto),
        ] {
            let a = ImportArgs {
                file: format!("/work/shared/data/{f}.csv").into(),
                symbol: f.to_lowercase(),
                timeframe: tf,
                asset_class: Some(class),
                exchange: None,
                description: None,
                data_dir: Some(data.clone()),
                replace: false,
                json: false,
            };
            assert_eq!(run(DataCommand::Import(a)).unwrap(), ExitCode::SUCCESS);
        }
        let list = ListArgs {
            data_dir: Some(data.clone()),
            demo: true,
            no_demo: false,
            json: false,
        };
        assert_eq!(run(DataCommand::List(list)).unwrap(), ExitCode::SUCCESS);
        println!(
            "{}",
            std::fs::read_to_string(data.join("symbols.toml")).unwrap()
        );
        let goog = std::fs::read_to_string(data.join("1d/GOOG.csv")).unwrap();
        println!("{}", goog.lines().take(3).collect::<Vec<_>>().join("\n"));
    }
}
