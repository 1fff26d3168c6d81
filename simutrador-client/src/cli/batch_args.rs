//! The flags of `batch run FILE` and `batch report DIR` (docs/batch.md, docs/reports.md).

use clap::{Args, Subcommand};
use std::path::PathBuf;

/// `batch …`.
#[derive(Debug, Subcommand)]
pub enum BatchCommand {
    /// Run every simulation of a batch file (docs/batch.md). Exit codes: 0 all runs
    /// succeeded, 1 a run failed, 2 bad file or no server, 130 interrupted.
    Run(BatchRunArgs),
    /// Write one self-contained HTML report of a batch's output folder: a sortable table of
    /// the runs and a heatmap of a metric over two swept parameters (docs/reports.md).
    Report(BatchReportArgs),
}

/// `batch report DIR …`.
#[derive(Debug, Args)]
pub struct BatchReportArgs {
    /// The batch's output folder (the one holding summary.json).
    pub dir: PathBuf,
    /// The metric of the heatmap and the chart: a key of docs/metrics.md such as
    /// return_pct, sharpe_ratio, max_drawdown_pct, num_trades ("return" means return_pct).
    #[arg(long, value_name = "METRIC", default_value = "return_pct")]
    pub metric: String,
    /// The heatmap's columns: a swept parameter [default: the first one].
    #[arg(long, value_name = "PARAM")]
    pub x: Option<String>,
    /// The heatmap's rows: a swept parameter [default: the second one].
    #[arg(long, value_name = "PARAM")]
    pub y: Option<String>,
    /// The HTML file to write [default: DIR/report.html].
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// `batch run FILE …`.
#[derive(Debug, Args)]
pub struct BatchRunArgs {
    /// The batch file (TOML).
    pub file: PathBuf,
    /// Sessions at once [default: what the daemon allows you, max_sessions_per_user].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=256))]
    pub parallel: Option<u32>,
    /// Output folder (overrides `[output] dir`).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Order of the final table: a metric key such as return_pct, sharpe_ratio,
    /// max_drawdown_pct, num_trades, win_rate_pct (best first) [default: run order].
    #[arg(long, value_name = "METRIC")]
    pub sort: Option<String>,
    /// Stop every run at the first failure.
    #[arg(long)]
    pub fail_fast: bool,
    /// Print the expanded run list (and skipped combinations) and exit.
    #[arg(long)]
    pub dry_run: bool,
    /// No progress bars: one plain line per finished run.
    #[arg(long)]
    pub quiet: bool,
    /// `max_pending_ticks` of every run.
    #[arg(long, value_name = "N", default_value_t = simutrador_client::runner::DEFAULT_WINDOW,
          value_parser = clap::value_parser!(u32).range(1..=65536))]
    pub window: u32,
    /// Keep the sessions on the daemon after their results are read (default: delete them).
    #[arg(long)]
    pub keep_sessions: bool,
}
