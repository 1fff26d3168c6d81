//! HTML reports you open in a browser: [`session_html`] for one session (equity and
//! drawdown, prices with entries and exits, statistics, trades, limits, why it ended) and
//! [`batch_html`] for a batch's output folder (sortable runs table, the chosen metric per
//! run and as a heatmap over two swept parameters). Both are pure functions (data in, one
//! HTML string out) and the page is self-contained: uPlot (vendored, `vendor/README.md`), the
//! styles, the glue script and the data are inlined, so the file works offline.
//!
//! - [`downsample`] — min/max per bucket, so charts of a million bars stay responsive.
//! - `page.rs` — the document shell, tables, escaping; `charts.js` — the glue script.
//! - `stats.rs` — the statistics and key/value tables.
//! - `session.rs` (with `limits.rs`), `batch.rs` — the two reports; [`prices`] — the closes of a session's
//!   bars, read by replaying a fork of the session (the protocol serves no bars otherwise).
//!
//! The page rules, including the downsampling rule, are in `docs/reports.md`.

mod batch;
pub mod downsample;
mod limits;
mod page;
pub mod prices;
mod session;
mod stats;

pub use batch::{BatchReport, TABLE_METRICS, batch_html, swept_keys};
pub use session::{SessionReport, SymbolPrices, session_html};
pub use stats::{TRADE_COLUMNS, duration};

#[cfg(test)]
mod tests;
