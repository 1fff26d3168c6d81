//! CONTRACT STUB: every symbol × timeframe the daemon holds, loaded once at start-up.

use shared_models::{AssetClass, SymbolInfo, SymbolRange, Timeframe};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use super::{BarSeries, MarketDataError};

/// One symbol and its series.
#[derive(Debug, Clone)]
pub struct SymbolEntry {
    /// Upper-case ticker.
    pub symbol: String,
    /// Market kind.
    pub asset_class: AssetClass,
    /// Exchange, if known.
    pub exchange: Option<String>,
    /// Description, if known.
    pub description: Option<String>,
    /// True for generated demo data.
    pub synthetic: bool,
    /// Bars per timeframe, shared with every session that replays them.
    pub series: BTreeMap<Timeframe, Arc<BarSeries>>,
}

/// The catalog: immutable after loading, shared behind an `Arc`.
#[derive(Debug, Clone, Default)]
pub struct Catalog {}

impl Catalog {
    /// No symbols.
    pub fn empty() -> Self {
        Catalog {}
    }
    /// The built-in synthetic demo data.
    pub fn demo() -> Self {
        unimplemented!()
    }
    /// Load `<dir>/<timeframe>/<SYMBOL>.csv` plus optional `<dir>/symbols.toml`.
    pub fn load_dir(_dir: &Path) -> Result<Self, MarketDataError> {
        unimplemented!()
    }
    /// Add (or replace) every symbol/timeframe of `other`.
    pub fn extend(&mut self, _other: Catalog) {
        unimplemented!()
    }
    /// A symbol by its normalized (upper-case) name.
    pub fn get(&self, _symbol: &str) -> Option<&SymbolEntry> {
        unimplemented!()
    }
    /// The series of a symbol at a timeframe.
    pub fn series(&self, _symbol: &str, _tf: Timeframe) -> Option<&Arc<BarSeries>> {
        unimplemented!()
    }
    /// Symbols matching the filters, sorted by symbol.
    pub fn list(
        &self,
        _asset_class: Option<AssetClass>,
        _tf: Option<Timeframe>,
    ) -> Vec<SymbolInfo> {
        unimplemented!()
    }
    /// First/last bar and count of one symbol at one timeframe.
    pub fn symbol_range(&self, _symbol: &str, _tf: Timeframe) -> Option<SymbolRange> {
        unimplemented!()
    }
    /// Number of symbols.
    pub fn symbol_count(&self) -> usize {
        unimplemented!()
    }
    /// Total bars held across all series.
    pub fn bar_count(&self) -> u64 {
        unimplemented!()
    }
}
