//! `<data-dir>/symbols.toml`: what the operator says about each symbol.
//!
//! ```toml
//! [GOOG]
//! asset_class = "equity"   # equity | forex | crypto
//! exchange = "NASDAQ"
//! description = "Alphabet Inc."
//! ```
//!
//! Unknown keys are errors naming the file and the key. A symbol with data but no entry is an
//! equity with no exchange or description.

use serde::{Deserialize, Serialize};
use shared_models::AssetClass;
use std::collections::BTreeMap;
use std::path::Path;

use super::MarketDataError;

/// The file name inside the data directory.
pub const SYMBOLS_FILE: &str = "symbols.toml";

/// One `[SYMBOL]` table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SymbolMeta {
    /// `equity`, `forex` or `crypto`; default equity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset_class: Option<String>,
    /// Exchange or venue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exchange: Option<String>,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl SymbolMeta {
    /// The asset class, checked.
    pub fn asset_class(&self) -> Result<AssetClass, String> {
        match &self.asset_class {
            None => Ok(AssetClass::Equity),
            Some(s) => s.parse().map_err(|e| format!("{e}")),
        }
    }
}

/// Every entry of a `symbols.toml`, keyed by upper-case symbol.
pub type SymbolsFile = BTreeMap<String, SymbolMeta>;

/// Read `path`; a missing file is an empty map. Keys are upper-cased; asset classes checked.
pub fn read_symbols_file(path: &Path) -> Result<SymbolsFile, MarketDataError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(SymbolsFile::new()),
        Err(source) => {
            return Err(MarketDataError::Io {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    parse_symbols(&text, path)
}

/// Parse the text of a `symbols.toml`; `path` is used in messages.
pub fn parse_symbols(text: &str, path: &Path) -> Result<SymbolsFile, MarketDataError> {
    let raw: BTreeMap<String, SymbolMeta> = toml::from_str(text).map_err(|e| {
        MarketDataError::Invalid(format!(
            "{}: {}; each table is [SYMBOL] with keys asset_class, exchange, description",
            path.display(),
            e.to_string().trim_end()
        ))
    })?;
    let mut out = SymbolsFile::new();
    for (sym, meta) in raw {
        meta.asset_class().map_err(|e| {
            MarketDataError::Invalid(format!("{}: [{sym}] asset_class: {e}", path.display()))
        })?;
        let key = sym.trim().to_ascii_uppercase();
        if out.insert(key.clone(), meta).is_some() {
            return Err(MarketDataError::Invalid(format!(
                "{}: symbol {key} is listed twice (names are case-insensitive)",
                path.display()
            )));
        }
    }
    Ok(out)
}

/// Write `symbols` to `path` atomically (temporary file, then rename).
pub fn write_symbols_file(path: &Path, symbols: &SymbolsFile) -> Result<(), MarketDataError> {
    let text = toml::to_string(symbols)
        .map_err(|e| MarketDataError::Invalid(format!("cannot write {}: {e}", path.display())))?;
    let body = format!("# Symbols known to SimuTrador: one [SYMBOL] table each.\n\n{text}");
    super::import::write_atomically(path, body.as_bytes())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn parse(t: &str) -> Result<SymbolsFile, MarketDataError> {
        parse_symbols(t, Path::new("data/symbols.toml"))
    }

    #[test]
    fn entries_parse_and_keys_are_upper_cased() {
        let f = parse(
            "[goog]\nasset_class = \"equity\"\nexchange = \"NASDAQ\"\ndescription = \"Alphabet Inc.\"\n\
             [EURUSD]\nasset_class = \"fx\"\n[BTC]\n",
        )
        .unwrap();
        assert_eq!(f["GOOG"].exchange.as_deref(), Some("NASDAQ"));
        assert_eq!(f["EURUSD"].asset_class(), Ok(AssetClass::Forex));
        assert_eq!(f["BTC"].asset_class(), Ok(AssetClass::Equity));
    }

    #[test]
    fn mistakes_name_file_and_key() {
        let e = parse("[GOOG]\nasset_clas = \"equity\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("data/symbols.toml") && e.contains("asset_clas"),
            "{e}"
        );
        let e = parse("[GOOG]\nasset_class = \"bonds\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("[GOOG]") && e.contains("bonds"), "{e}");
        let e = parse("[GOOG]\n[goog]\n").unwrap_err().to_string();
        assert!(e.contains("twice"), "{e}");
        assert!(parse("GOOG = 1\n").is_err());
        assert!(parse("[GOOG\n").is_err());
    }

    #[test]
    fn write_then_read_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(SYMBOLS_FILE);
        assert!(read_symbols_file(&p).unwrap().is_empty());
        let mut f = SymbolsFile::new();
        f.insert(
            "GOOG".into(),
            SymbolMeta {
                asset_class: Some("equity".into()),
                exchange: None,
                description: Some("Alphabet \"A\"".into()),
            },
        );
        write_symbols_file(&p, &f).unwrap();
        assert_eq!(read_symbols_file(&p).unwrap(), f);
    }
}
