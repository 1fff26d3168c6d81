//! Real sample series built into the daemon: `data/GOOG.csv` (daily NASDAQ:GOOG bars
//! 2004-08-19 .. 2013-03-01, the reference series of backtesting.py; source in
//! `data/README.md`). Parsed at start-up by the ordinary CSV loader, so they work on a fresh
//! clone with no `data import`.

use shared_models::{AssetClass, Timeframe};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use super::SymbolEntry;
use super::csv::parse_csv;

const GOOG_CSV: &str = include_str!("../../data/GOOG.csv");

/// The sample symbols (a file that does not parse is left out and logged; the tests pin it).
pub fn entries() -> Vec<SymbolEntry> {
    match parse_csv(GOOG_CSV, Path::new("data/GOOG.csv")) {
        Ok(series) => vec![SymbolEntry {
            symbol: "GOOG".into(),
            asset_class: AssetClass::Equity,
            exchange: Some("NASDAQ".into()),
            description: Some(
                "Google daily bars 2004-08-19 .. 2013-03-01 (real sample data, backtesting.py)"
                    .into(),
            ),
            synthetic: false,
            series: BTreeMap::from([(Timeframe::D1, Arc::new(series))]),
        }],
        Err(e) => {
            tracing::error!(error = %e, "the built-in GOOG sample does not parse");
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market_data::Catalog;
    use crate::market_data::timefmt::to_datetime;

    #[test]
    fn goog_is_built_in_with_every_bar() {
        let c = Catalog::built_in();
        let s = c.series("GOOG", Timeframe::D1).expect("GOOG");
        assert_eq!(s.len(), 2148);
        let first = to_datetime(s.first_ts().unwrap()).to_rfc3339();
        let last = to_datetime(s.last_ts().unwrap()).to_rfc3339();
        assert!(first.starts_with("2004-08-19"), "{first}");
        assert!(last.starts_with("2013-03-01"), "{last}");
        assert!(!c.get("GOOG").unwrap().synthetic);
        assert!(c.get("ACME").is_some(), "the demo symbols stay");
        assert!(Catalog::demo().get("GOOG").is_none());
    }
}
