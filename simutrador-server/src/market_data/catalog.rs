//! Every symbol × timeframe the daemon holds, loaded at start-up and again whenever the data
//! dir changes (see [`super::source`] and [`super::shared`]).
//!
//! A data directory looks like this:
//!
//! ```text
//! <dir>/symbols.toml          optional: asset class, exchange, description per symbol
//! <dir>/1d/GOOG.csv           one file per symbol and timeframe
//! <dir>/1h/EURUSD.csv
//! ```
//!
//! Timeframe folders are `1m 5m 15m 30m 1h 4h 1d 1w 1mo` (`daily` is read as `1d`); any other
//! folder is an error naming it. Symbols are the upper-cased file stems. A catalog is
//! immutable after loading and shared behind an `Arc`; nothing re-reads files per request (a
//! reload builds a new catalog and swaps it in whole).
//! Series of one timeframe whose timestamps are identical share one timestamp column (less
//! memory, and the validator merges each calendar once).

use shared_models::{AssetClass, SymbolInfo, SymbolRange, Timeframe, TimeframeRange};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::calendar::{CalendarIndex, FnvBuild};
use super::csv::read_csv_file;
use super::metadata::{SYMBOLS_FILE, read_symbols_file};
use super::timefmt::to_datetime;
use super::validator::is_valid_symbol;
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

impl SymbolEntry {
    /// The wire description of this symbol (every timeframe it has, shortest first).
    pub fn info(&self) -> SymbolInfo {
        SymbolInfo {
            symbol: self.symbol.clone(),
            asset_class: self.asset_class,
            exchange: self.exchange.clone(),
            description: self.description.clone(),
            synthetic: self.synthetic,
            timeframes: self
                .series
                .iter()
                .filter_map(|(tf, s)| {
                    Some(TimeframeRange {
                        timeframe: *tf,
                        first: to_datetime(s.first_ts()?),
                        last: to_datetime(s.last_ts()?),
                        bars: s.len() as u64,
                    })
                })
                .collect(),
        }
    }

    /// The timeframes this symbol has, shortest first.
    pub fn timeframes(&self) -> impl Iterator<Item = Timeframe> + '_ {
        self.series.keys().copied()
    }
}

/// The catalog: immutable after loading, shared behind an `Arc` (replaced whole on reload).
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    entries: HashMap<String, SymbolEntry, FnvBuild>,
    calendars: CalendarIndex,
}

impl Catalog {
    /// No symbols.
    pub fn empty() -> Self {
        Catalog {
            entries: HashMap::default(),
            calendars: CalendarIndex::default(),
        }
    }
    /// The built-in synthetic demo data.
    pub fn demo() -> Self {
        let mut c = Catalog::empty();
        for e in super::demo::entries() {
            c.insert(e);
        }
        c.share_calendars();
        c
    }
    /// The built-in data: the synthetic demo symbols plus the real samples
    /// ([`super::samples`], GOOG daily).
    pub fn built_in() -> Self {
        let mut c = Self::demo();
        for e in super::samples::entries() {
            c.insert(e);
        }
        c
    }
    /// Load `<dir>/<timeframe>/<SYMBOL>.csv` plus optional `<dir>/symbols.toml`.
    pub fn load_dir(dir: &Path) -> Result<Self, MarketDataError> {
        let meta = read_symbols_file(&dir.join(SYMBOLS_FILE))?;
        let files = find_files(dir)?;
        let loaded = load_parallel(&files)?;
        let mut c = Catalog::empty();
        for ((symbol, tf, _), series) in files.into_iter().zip(loaded) {
            let m = meta.get(&symbol).cloned().unwrap_or_default();
            let entry = c
                .entries
                .entry(symbol.clone())
                .or_insert_with(|| SymbolEntry {
                    asset_class: m.asset_class().unwrap_or(AssetClass::Equity),
                    exchange: m.exchange,
                    description: m.description,
                    symbol,
                    synthetic: false,
                    series: BTreeMap::new(),
                });
            entry.series.insert(tf, Arc::new(series));
        }
        for sym in meta.keys().filter(|s| !c.entries.contains_key(*s)) {
            tracing::warn!(symbol = %sym, "{} lists a symbol that has no data file", SYMBOLS_FILE);
        }
        c.share_calendars();
        Ok(c)
    }
    /// Add (or replace) every symbol/timeframe of `other`.
    pub fn extend(&mut self, other: Catalog) {
        for (sym, e) in other.entries {
            match self.entries.get_mut(&sym) {
                Some(old) => {
                    let mut series = std::mem::take(&mut old.series);
                    series.extend(e.series);
                    *old = SymbolEntry { series, ..e };
                }
                None => {
                    self.entries.insert(sym, e);
                }
            }
        }
        self.share_calendars();
    }
    /// Add (or replace) one symbol with all its series.
    pub fn insert(&mut self, entry: SymbolEntry) {
        self.entries.insert(entry.symbol.clone(), entry);
        self.share_calendars();
    }
    /// A symbol by its normalized (upper-case) name.
    pub fn get(&self, symbol: &str) -> Option<&SymbolEntry> {
        self.entries.get(symbol)
    }
    /// The series of a symbol at a timeframe.
    pub fn series(&self, symbol: &str, tf: Timeframe) -> Option<&Arc<BarSeries>> {
        self.entries.get(symbol)?.series.get(&tf)
    }
    /// Every symbol, in no particular order.
    pub fn entries(&self) -> impl Iterator<Item = &SymbolEntry> {
        self.entries.values()
    }
    /// Symbols matching the filters, sorted by symbol.
    pub fn list(&self, asset_class: Option<AssetClass>, tf: Option<Timeframe>) -> Vec<SymbolInfo> {
        let mut v: Vec<&SymbolEntry> = self
            .entries
            .values()
            .filter(|e| asset_class.is_none_or(|a| e.asset_class == a))
            .filter(|e| tf.is_none_or(|t| e.series.contains_key(&t)))
            .collect();
        v.sort_by(|a, b| a.symbol.cmp(&b.symbol));
        v.into_iter().map(SymbolEntry::info).collect()
    }
    /// First/last bar and count of one symbol at one timeframe.
    pub fn symbol_range(&self, symbol: &str, tf: Timeframe) -> Option<SymbolRange> {
        let e = self.entries.get(symbol)?;
        let s = e.series.get(&tf)?;
        Some(SymbolRange {
            symbol: e.symbol.clone(),
            asset_class: e.asset_class,
            synthetic: e.synthetic,
            timeframe: tf,
            first: to_datetime(s.first_ts()?),
            last: to_datetime(s.last_ts()?),
            bars: s.len() as u64,
        })
    }
    /// Number of symbols.
    pub fn symbol_count(&self) -> usize {
        self.entries.len()
    }
    /// Total bars held across all series.
    pub fn bar_count(&self) -> u64 {
        self.entries
            .values()
            .flat_map(|e| e.series.values())
            .map(|s| s.len() as u64)
            .sum()
    }
    /// Bytes held by all series (shared timestamp columns counted once).
    pub fn memory_bytes(&self) -> usize {
        let mut seen = std::collections::HashSet::new();
        let mut total = 0;
        for s in self.entries.values().flat_map(|e| e.series.values()) {
            total += s.memory_bytes();
            if !seen.insert(s.timestamps().as_ptr()) {
                total -= std::mem::size_of_val(s.timestamps());
            }
        }
        total
    }

    /// Let series of one timeframe with identical timestamps share one column.
    fn share_calendars(&mut self) {
        let mut canon: HashMap<(Timeframe, usize, i64, i64), Vec<Arc<BarSeries>>> = HashMap::new();
        for e in self.entries.values_mut() {
            for (tf, s) in e.series.iter_mut() {
                let (Some(first), Some(last)) = (s.first_ts(), s.last_ts()) else {
                    continue;
                };
                let bucket = canon.entry((*tf, s.len(), first, last)).or_default();
                match bucket.iter().find(|c| c.timestamps() == s.timestamps()) {
                    Some(c) if !c.shares_timestamps_with(s) => {
                        Arc::make_mut(s).share_timestamps(c);
                    }
                    Some(_) => {}
                    None => bucket.push(Arc::clone(s)),
                }
            }
        }
        let mut index = CalendarIndex::default();
        for tf in Timeframe::ALL {
            let cols: Vec<&BarSeries> = canon
                .iter()
                .filter(|(k, _)| k.0 == tf)
                .flat_map(|(_, v)| v.iter().map(|s| s.as_ref()))
                .collect();
            index.add_timeframe(&cols);
        }
        self.calendars = index;
    }

    /// Which calendar (timestamp column) is contained in which; used to count bars fast.
    pub fn calendars(&self) -> &CalendarIndex {
        &self.calendars
    }
}

/// `(symbol, timeframe, path)` of every data file, sorted, duplicates refused.
fn find_files(dir: &Path) -> Result<Vec<(String, Timeframe, PathBuf)>, MarketDataError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| MarketDataError::Io { path, source }
    };
    let mut files = Vec::new();
    for ent in std::fs::read_dir(dir).map_err(io(dir))? {
        let ent = ent.map_err(io(dir))?;
        let name = ent.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || !ent.path().is_dir() {
            continue;
        }
        let tf: Timeframe = name.parse().map_err(|_| {
            MarketDataError::Invalid(format!(
                "{}: unknown timeframe folder '{name}'; data folders are named 1m, 5m, 15m, 30m, 1h, 4h, 1d (or daily), 1w, 1mo",
                dir.display()
            ))
        })?;
        for f in std::fs::read_dir(ent.path()).map_err(io(&ent.path()))? {
            let path = f.map_err(io(&ent.path()))?.path();
            let is_csv = path
                .extension()
                .is_some_and(|x| x.eq_ignore_ascii_case("csv"));
            let stem = path
                .file_stem()
                .map(|s| s.to_string_lossy().to_ascii_uppercase());
            match stem {
                Some(sym) if is_csv && path.is_file() => {
                    if !is_valid_symbol(&sym) {
                        return Err(MarketDataError::Invalid(format!(
                            "{}: '{sym}' is not a valid symbol name; use letters, digits and . _ - ^ = (at most 24)",
                            path.display()
                        )));
                    }
                    files.push((sym, tf, path));
                }
                _ => tracing::debug!(path = %path.display(), "ignoring a file that is not *.csv"),
            }
        }
    }
    files.sort();
    for w in files.windows(2) {
        if w[0].0 == w[1].0 && w[0].1 == w[1].1 {
            return Err(MarketDataError::Invalid(format!(
                "{} and {} hold the same symbol and timeframe; keep one",
                w[0].2.display(),
                w[1].2.display()
            )));
        }
    }
    Ok(files)
}

/// Read the files on a few threads; the first error (in file order) wins.
fn load_parallel(
    files: &[(String, Timeframe, PathBuf)],
) -> Result<Vec<BarSeries>, MarketDataError> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    let chunk = files.len().div_ceil(threads).max(1);
    let results: Vec<Result<Vec<BarSeries>, MarketDataError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = files
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(|f| read_csv_file(&f.2)).collect()))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(MarketDataError::Invalid(
                        "a thread reading data files failed".into(),
                    ))
                })
            })
            .collect()
    });
    let mut out = Vec::with_capacity(files.len());
    for r in results {
        out.extend(r?);
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
#[path = "catalog_tests.rs"]
mod tests;
