//! Batch simulations from a TOML file (`simutrador-client batch run FILE`), and the library
//! types behind it for Rust programs with their own strategies.
//!
//! ```no_run
//! # async fn demo(client: simutrador_client::Client) -> Result<(), Box<dyn std::error::Error>> {
//! use simutrador_client::batch::{BatchConfig, BatchRunner, Silent, StrategyRegistry, expand};
//! use std::sync::Arc;
//!
//! let registry = StrategyRegistry::built_ins();
//! let config = BatchConfig::load("configs/batch-goog-sweep.toml".as_ref(), &registry)?;
//! let plan = expand(&config, &registry)?;
//! let report = BatchRunner::new(vec![client], registry)
//!     .run(&plan.runs, Arc::new(Silent), Default::default())
//!     .await;
//! println!("{} runs, {} failed", report.records.len(), report.failures());
//! # Ok(()) }
//! ```
//!
//! - [`config`] — the file → [`BatchConfig`], every problem with key path and line
//!   ([`BatchFileError`]); `merge.rs` merges defaults, simulations and sweeps; [`values`]
//!   checks single values; [`locate`] finds lines.
//! - [`registry`] — [`StrategyRegistry`]: strategies by name (built-ins and your own).
//! - [`expand`](mod@expand) — sweeps → [`RunSpec`]s and [`SkippedRun`]s.
//! - [`runner`] — [`BatchRunner`]: sessions on the daemon, in parallel, cancellable;
//!   [`pace`] keeps each connection under the daemon's message rate.
//! - [`output`] — `summary.csv/json`, `metrics.csv`, per-run trades and equity, `run.log`;
//!   [`metrics_table`] — the wide metrics table (one row per run, units in the column
//!   names) of every `metrics.csv` and `metrics.parquet`.
//!
//! Progress reaches a [`BatchObserver`] (or [`Silent`]); the CLI's progress bars and plain
//! lines are implementations of it in the binary (`src/cli/batch_progress.rs`), so the SDK
//! draws nothing itself.

pub mod config;
pub mod expand;
pub mod locate;
mod merge;
pub mod metrics_table;
pub mod output;
pub mod pace;
pub mod registry;
pub mod runner;
pub mod values;

pub use config::{BatchConfig, BatchFileError, EntryConfig, OutputConfig, Problem};
pub use expand::{Expansion, RunSpec, SkippedRun, expand};
pub use registry::StrategyRegistry;
pub use runner::{
    BatchObserver, BatchOptions, BatchReport, BatchRunner, RunRecord, RunStatus, Silent,
};
pub use tokio_util::sync::CancellationToken;
