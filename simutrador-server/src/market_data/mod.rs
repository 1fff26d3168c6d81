//! Market data: the bar catalog and the validator.
//!
//! - [`bars`] — `BarSeries` (columnar, compact, shared by `Arc` between all sessions that
//!   replay it; ≤ 64 bytes per bar); a bar read from it is the shared [`Bar`]
//!   (`shared_models::Bar`: a `Candle` with its time).
//! - [`csv`] — reading/writing OHLCV CSV files, rejecting bad rows with `file:line` and reason.
//! - [`catalog`] — `Catalog`, every symbol × timeframe the daemon holds.
//! - [`shared`] — `SharedCatalog`, the catalog the daemon serves now, swapped whole when the
//!   data dir changes; readers take a snapshot per request or run.
//! - [`source`] — `DataSource`, where the catalog is loaded from (at start-up and at every
//!   reload), and the cheap signature of its files that tells the daemon when to reload.
//! - [`fingerprint`] — content hashes of series and a session's `DataFingerprint`.
//! - [`demo`] — deterministic synthetic demo data generated in code.
//! - [`samples`] — real sample series compiled in (`data/GOOG.csv`).
//! - [`import`] — `data import` (validate a file, store it in canonical form).
//! - [`validator`] — `MarketDataValidator`, checks symbols / timeframe / dates of a request.
//! - [`calendar`] — shared timestamp columns and fast distinct-bar counting.
//! - [`metadata`] — `symbols.toml` (asset class, exchange, description per symbol).
//! - [`timefmt`] — bar timestamps as text (parsing CSV forms, RFC 3339 output).

pub mod bars;
pub mod calendar;
pub mod catalog;
pub mod csv;
pub mod demo;
pub mod fingerprint;
pub mod import;
pub mod metadata;
pub mod samples;
pub mod shared;
pub mod source;
pub mod timefmt;
pub mod validator;

#[cfg(test)]
#[path = "fuzz_tests.rs"]
#[allow(clippy::expect_used)]
mod fuzz_tests;

pub use bars::BarSeries;
pub use catalog::{Catalog, SymbolEntry};
pub use fingerprint::DataFingerprint;
pub use shared::{CatalogChanges, SharedCatalog};
pub use shared_models::Bar;
pub use source::DataSource;
pub use validator::{MarketDataValidator, ValidatedRange};

use std::path::PathBuf;

/// Failures while loading or importing market data (files the operator controls).
#[derive(Debug, thiserror::Error)]
pub enum MarketDataError {
    /// A file or directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A row or header is wrong; `line` is 1-based.
    #[error("{path}:{line}: {reason}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong and how to fix it.
        reason: String,
    },
    /// Anything else about the data layout (bad `symbols.toml`, unknown timeframe folder …).
    #[error("{0}")]
    Invalid(String),
    /// `data import` without `--replace` for a symbol and timeframe that already has bars.
    #[error(
        "{symbol} {timeframe} already has {bars} bars in {}; pass --replace to replace them",
        path.display()
    )]
    AlreadyImported {
        /// Upper-case symbol.
        symbol: String,
        /// Bar size.
        timeframe: shared_models::Timeframe,
        /// Bars stored now.
        bars: usize,
        /// The stored file.
        path: PathBuf,
    },
}
