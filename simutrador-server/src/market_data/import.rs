//! `data import`: check a CSV file and store it in the data directory in canonical form.
//!
//! The file is read and checked completely first ([`super::csv`]); only then is
//! `<data-dir>/<tf>/<SYMBOL>.csv` written (temporary file + rename, so a running daemon or a
//! crash never sees half a file) and `<data-dir>/symbols.toml` updated, keeping every other
//! entry. Comments in an existing `symbols.toml` are not preserved.
//!
//! A symbol and timeframe that already has bars is never replaced by accident: without
//! [`ImportRequest::replace`] the import is refused with [`MarketDataError::AlreadyImported`]
//! (nothing written); with it, the summary says how many bars were replaced.

use serde::Serialize;
use shared_models::{AssetClass, Timeframe};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::MarketDataError;
use super::csv::{read_csv_file, write_csv};
use super::metadata::{SYMBOLS_FILE, read_symbols_file, write_symbols_file};
use super::timefmt::format_rfc3339;
use super::validator::{is_valid_symbol, normalize_symbol};

/// What to import and where.
#[derive(Debug, Clone)]
pub struct ImportRequest {
    /// The CSV file to read.
    pub file: PathBuf,
    /// The symbol to store it as (normalized to upper case).
    pub symbol: String,
    /// The bar size of the file.
    pub timeframe: Timeframe,
    /// Asset class; `None` keeps the existing entry's (or equity for a new symbol).
    pub asset_class: Option<AssetClass>,
    /// Exchange; `None` keeps the existing one.
    pub exchange: Option<String>,
    /// Description; `None` keeps the existing one.
    pub description: Option<String>,
    /// The data directory.
    pub data_dir: PathBuf,
    /// Replace the bars already stored for this symbol and timeframe (`--replace`).
    pub replace: bool,
}

/// What was stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportSummary {
    /// Upper-case symbol.
    pub symbol: String,
    /// Bar size.
    pub timeframe: Timeframe,
    /// Asset class recorded in `symbols.toml`.
    pub asset_class: AssetClass,
    /// Number of bars.
    pub bars: usize,
    /// First bar, RFC 3339.
    pub first: String,
    /// Last bar, RFC 3339.
    pub last: String,
    /// The file written.
    pub destination: PathBuf,
    /// True when an earlier file for this symbol and timeframe was replaced.
    pub replaced: bool,
    /// How many bars the replaced file held (0 when nothing was replaced).
    pub replaced_bars: usize,
}

/// Check `req.file` and store it; nothing is written when the file has a bad row.
pub fn import_file(req: &ImportRequest) -> Result<ImportSummary, MarketDataError> {
    let symbol = normalize_symbol(&req.symbol);
    if !is_valid_symbol(&symbol) || symbol.contains('/') {
        return Err(MarketDataError::Invalid(format!(
            "'{}' is not a valid symbol; use 1 to 24 of A-Z 0-9 . _ - ^ =, starting with a letter or digit",
            req.symbol
        )));
    }
    let series = read_csv_file(&req.file)?;
    let symbols_path = req.data_dir.join(SYMBOLS_FILE);
    let mut symbols = read_symbols_file(&symbols_path)?;

    let dir = req.data_dir.join(req.timeframe.as_str());
    std::fs::create_dir_all(&dir).map_err(|source| MarketDataError::Io {
        path: dir.clone(),
        source,
    })?;
    let destination = dir.join(format!("{symbol}.csv"));
    let replaced = destination.exists();
    let replaced_bars = if replaced {
        stored_bars(&destination)?
    } else {
        0
    };
    if replaced_bars > 0 && !req.replace {
        return Err(MarketDataError::AlreadyImported {
            symbol,
            timeframe: req.timeframe,
            bars: replaced_bars,
            path: destination,
        });
    }
    let mut body = Vec::with_capacity(series.len() * 64);
    write_csv(&series, &mut body).map_err(|source| MarketDataError::Io {
        path: destination.clone(),
        source,
    })?;
    write_atomically(&destination, &body)?;

    let entry = symbols.entry(symbol.clone()).or_default();
    if let Some(c) = req.asset_class {
        entry.asset_class = Some(c.as_str().to_string());
    } else if entry.asset_class.is_none() {
        entry.asset_class = Some(AssetClass::Equity.as_str().to_string());
    }
    if req.exchange.is_some() {
        entry.exchange.clone_from(&req.exchange);
    }
    if req.description.is_some() {
        entry.description.clone_from(&req.description);
    }
    let asset_class = entry.asset_class().unwrap_or(AssetClass::Equity);
    write_symbols_file(&symbols_path, &symbols)?;

    Ok(ImportSummary {
        symbol,
        timeframe: req.timeframe,
        asset_class,
        bars: series.len(),
        first: series.first_ts().map(format_rfc3339).unwrap_or_default(),
        last: series.last_ts().map(format_rfc3339).unwrap_or_default(),
        destination,
        replaced,
        replaced_bars,
    })
}

/// Bars in a stored file: its lines that are not the header or blank.
fn stored_bars(path: &Path) -> Result<usize, MarketDataError> {
    let text = std::fs::read_to_string(path).map_err(|source| MarketDataError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(text
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .count())
}

/// Write `bytes` to `path` through a temporary file in the same folder and a rename.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), MarketDataError> {
    let io = |source| MarketDataError::Io {
        path: path.to_path_buf(),
        source,
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(io)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::market_data::Catalog;

    fn req(dir: &Path, file: PathBuf, symbol: &str) -> ImportRequest {
        ImportRequest {
            file,
            symbol: symbol.into(),
            timeframe: Timeframe::D1,
            asset_class: None,
            exchange: None,
            description: None,
            data_dir: dir.join("data"),
            replace: false,
        }
    }

    #[test]
    fn import_writes_canonical_file_and_keeps_other_entries() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir_all(&data).unwrap();
        std::fs::write(
            data.join(SYMBOLS_FILE),
            "[OTHER]\nasset_class = \"crypto\"\n",
        )
        .unwrap();
        let src = dir.path().join("goog.csv");
        std::fs::write(&src, ",Open,High,Low,Close,Volume\n2004-08-19,100,104.06,95.96,100.34,22351900\n2004-08-20,101.01,109.08,100.5,108.31,11428600\n").unwrap();
        let mut r = req(dir.path(), src.clone(), " goog ");
        r.exchange = Some("NASDAQ".into());
        let s = import_file(&r).unwrap();
        assert_eq!((s.symbol.as_str(), s.bars, s.replaced), ("GOOG", 2, false));
        assert_eq!(s.first, "2004-08-19T00:00:00Z");
        assert_eq!(s.destination, data.join("1d/GOOG.csv"));
        let text = std::fs::read_to_string(&s.destination).unwrap();
        assert!(
            text.starts_with("timestamp,open,high,low,close,volume\n2004-08-19T00:00:00Z,100.00,")
        );

        r.asset_class = Some(AssetClass::Equity);
        r.exchange = None;
        let refused = import_file(&r).unwrap_err();
        assert!(
            matches!(refused, MarketDataError::AlreadyImported { bars: 2, .. }),
            "{refused}"
        );
        assert!(refused.to_string().contains("--replace"), "{refused}");
        r.replace = true;
        let s = import_file(&r).unwrap();
        assert!(s.replaced);
        assert_eq!(s.replaced_bars, 2);
        let cat = Catalog::load_dir(&data).unwrap();
        assert_eq!(cat.get("GOOG").unwrap().exchange.as_deref(), Some("NASDAQ"));
        assert_eq!(cat.symbol_count(), 1);
        let meta = read_symbols_file(&data.join(SYMBOLS_FILE)).unwrap();
        assert_eq!(meta["OTHER"].asset_class.as_deref(), Some("crypto"));
        let leftovers = std::fs::read_dir(data.join("1d")).unwrap().count();
        assert_eq!(leftovers, 1, "no temporary files left behind");
    }

    #[test]
    fn bad_files_write_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("bad.csv");
        std::fs::write(
            &src,
            "date,open,high,low,close\n2020-01-01,1,2,1,2\n2020-01-01,1,2,1,2\n",
        )
        .unwrap();
        let e = import_file(&req(dir.path(), src.clone(), "BAD"))
            .unwrap_err()
            .to_string();
        assert!(e.ends_with(&format!("{}:3: time 2020-01-01 is not after the previous row's 2020-01-01T00:00:00Z; sort the file by time and remove duplicate rows", src.display())), "{e}");
        assert!(!dir.path().join("data").exists());
        let e = import_file(&req(dir.path(), src, "BAD/X"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a valid symbol"), "{e}");
    }
}
