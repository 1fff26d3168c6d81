//! Market-data vocabulary: bar timeframes, asset classes, and what the catalog says about a
//! symbol (`list_symbols`, `get_symbol_range`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// The size of one bar. Written `1m 5m 15m 30m 1h 4h 1d 1w 1mo` (`daily` is accepted for `1d`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Timeframe {
    /// One minute.
    M1,
    /// Five minutes.
    M5,
    /// Fifteen minutes.
    M15,
    /// Thirty minutes.
    M30,
    /// One hour.
    H1,
    /// Four hours.
    H4,
    /// One day.
    D1,
    /// One week.
    W1,
    /// One calendar month.
    Mo1,
}

impl Timeframe {
    /// Every timeframe, shortest first.
    pub const ALL: [Timeframe; 9] = [
        Timeframe::M1,
        Timeframe::M5,
        Timeframe::M15,
        Timeframe::M30,
        Timeframe::H1,
        Timeframe::H4,
        Timeframe::D1,
        Timeframe::W1,
        Timeframe::Mo1,
    ];

    /// The canonical spelling, e.g. `"1d"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Timeframe::M1 => "1m",
            Timeframe::M5 => "5m",
            Timeframe::M15 => "15m",
            Timeframe::M30 => "30m",
            Timeframe::H1 => "1h",
            Timeframe::H4 => "4h",
            Timeframe::D1 => "1d",
            Timeframe::W1 => "1w",
            Timeframe::Mo1 => "1mo",
        }
    }

    /// Nominal length of one bar in seconds (a month counts as 30 days).
    pub fn nominal_seconds(self) -> i64 {
        match self {
            Timeframe::M1 => 60,
            Timeframe::M5 => 300,
            Timeframe::M15 => 900,
            Timeframe::M30 => 1_800,
            Timeframe::H1 => 3_600,
            Timeframe::H4 => 14_400,
            Timeframe::D1 => 86_400,
            Timeframe::W1 => 604_800,
            Timeframe::Mo1 => 2_592_000,
        }
    }

    /// True for bars of a day or longer, whose timestamps are dates.
    pub fn is_daily_or_longer(self) -> bool {
        matches!(self, Timeframe::D1 | Timeframe::W1 | Timeframe::Mo1)
    }
}

/// A timeframe string that is not one of the accepted spellings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown timeframe '{0}'; use one of 1m, 5m, 15m, 30m, 1h, 4h, 1d, 1w, 1mo")]
pub struct UnknownTimeframe(pub String);

impl FromStr for Timeframe {
    type Err = UnknownTimeframe;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().to_ascii_lowercase();
        Ok(match t.as_str() {
            "1m" | "1min" | "m1" => Timeframe::M1,
            "5m" | "5min" | "m5" => Timeframe::M5,
            "15m" | "15min" | "m15" => Timeframe::M15,
            "30m" | "30min" | "m30" => Timeframe::M30,
            "1h" | "60m" | "h1" | "hourly" => Timeframe::H1,
            "4h" | "h4" => Timeframe::H4,
            "1d" | "d1" | "daily" | "day" => Timeframe::D1,
            "1w" | "w1" | "weekly" | "week" => Timeframe::W1,
            "1mo" | "mo1" | "monthly" | "month" => Timeframe::Mo1,
            _ => return Err(UnknownTimeframe(s.to_string())),
        })
    }
}

impl fmt::Display for Timeframe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Timeframe {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Timeframe {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The kind of market a symbol trades in; decides calendars and lot sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssetClass {
    /// Stocks and ETFs: weekdays only.
    Equity,
    /// Currency pairs: around the clock on weekdays.
    Forex,
    /// Crypto assets: every day.
    Crypto,
}

impl AssetClass {
    /// The spelling used on the wire and in `symbols.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            AssetClass::Equity => "equity",
            AssetClass::Forex => "forex",
            AssetClass::Crypto => "crypto",
        }
    }
}

/// An asset-class string that is not `equity`, `forex` or `crypto`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown asset class '{0}'; use equity, forex or crypto")]
pub struct UnknownAssetClass(pub String);

impl FromStr for AssetClass {
    type Err = UnknownAssetClass;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "equity" | "equities" | "stock" | "stocks" => Ok(AssetClass::Equity),
            "forex" | "fx" => Ok(AssetClass::Forex),
            "crypto" => Ok(AssetClass::Crypto),
            _ => Err(UnknownAssetClass(s.to_string())),
        }
    }
}

impl fmt::Display for AssetClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The bars the catalog holds for one symbol at one timeframe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeframeRange {
    /// The bar size.
    pub timeframe: Timeframe,
    /// Timestamp of the first bar (UTC).
    pub first: DateTime<Utc>,
    /// Timestamp of the last bar (UTC).
    pub last: DateTime<Utc>,
    /// Number of bars.
    pub bars: u64,
}

/// One symbol in the catalog, as listed by `list_symbols`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SymbolInfo {
    /// Upper-case ticker, e.g. `"ACME"`.
    pub symbol: String,
    /// Market kind.
    pub asset_class: AssetClass,
    /// Exchange or venue, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exchange: Option<String>,
    /// Free text, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// True for the generated built-in demo data (not real prices).
    #[serde(default)]
    pub synthetic: bool,
    /// The timeframes held, shortest first.
    pub timeframes: Vec<TimeframeRange>,
}

/// Answer to `get_symbol_range`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SymbolRange {
    /// Upper-case ticker.
    pub symbol: String,
    /// Market kind.
    pub asset_class: AssetClass,
    /// True for generated demo data.
    #[serde(default)]
    pub synthetic: bool,
    /// The bar size asked for.
    pub timeframe: Timeframe,
    /// Timestamp of the first bar (UTC).
    pub first: DateTime<Utc>,
    /// Timestamp of the last bar (UTC).
    pub last: DateTime<Utc>,
    /// Number of bars.
    pub bars: u64,
}

/// True when `s` matches `^[A-Z0-9][A-Z0-9._\-/^=]{0,23}$` (an already normalized symbol): the
/// symbol syntax the daemon accepts, checked by clients before they send.
pub fn is_valid_symbol(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 24
        && (b[0].is_ascii_uppercase() || b[0].is_ascii_digit())
        && b.iter()
            .all(|&c| c.is_ascii_uppercase() || c.is_ascii_digit() || b"._-/^=".contains(&c))
}

/// Trim and upper-case a symbol as users type it.
pub fn normalize_symbol(s: &str) -> String {
    s.trim().to_ascii_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeframes_parse_their_own_spelling_and_aliases() {
        for tf in Timeframe::ALL {
            assert_eq!(tf.as_str().parse::<Timeframe>().unwrap(), tf);
        }
        assert_eq!("daily".parse::<Timeframe>().unwrap(), Timeframe::D1);
        assert_eq!(" 1H ".parse::<Timeframe>().unwrap(), Timeframe::H1);
        assert!("2d".parse::<Timeframe>().is_err());
        let json = serde_json::to_string(&Timeframe::Mo1).unwrap();
        assert_eq!(json, "\"1mo\"");
    }

    #[test]
    fn asset_classes_parse() {
        assert_eq!("FX".parse::<AssetClass>().unwrap(), AssetClass::Forex);
        assert!("bonds".parse::<AssetClass>().is_err());
    }
}
