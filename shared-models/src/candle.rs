//! The bar types of the whole system: [`Candle`], one OHLCV bar of one symbol in exact
//! decimals, and [`Bar`], a candle with its time.
//!
//! The wire carries candles in `tick` and bars in `history_snapshot`; the engine settles
//! candles; the daemon's CSV reader and catalog hand out bars (their compact `BarSeries`
//! columns are storage, not a third bar type); the client's strategies see candles and keep
//! bars in their history. Nothing else describes a bar.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// One bar of one symbol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candle {
    /// First price of the bar.
    pub open: Decimal,
    /// Highest price.
    pub high: Decimal,
    /// Lowest price.
    pub low: Decimal,
    /// Last price; positions are marked at it.
    pub close: Decimal,
    /// Traded volume (not used for fills).
    pub volume: Decimal,
}

/// A [`Candle`] with its bar time.
///
/// On the wire (`history_snapshot`) it is one flat object whose `time` is RFC 3339 text:
/// `{"time": "2020-01-02T00:00:00Z", "open": "100", "high": …}`. A time with a fraction of a
/// second is read to the whole second below it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bar {
    /// Bar time, Unix seconds (UTC).
    #[serde(with = "unix_text")]
    pub time: i64,
    /// Prices and volume.
    #[serde(flatten)]
    pub candle: Candle,
}

impl Bar {
    /// The bar of `candle` at `time` (Unix seconds).
    pub fn new(time: i64, candle: Candle) -> Bar {
        Bar { time, candle }
    }

    /// Bar time as a `DateTime` (the epoch for a time chrono cannot represent).
    pub fn datetime(&self) -> DateTime<Utc> {
        DateTime::from_timestamp(self.time, 0).unwrap_or_default()
    }
}

/// Unix seconds written as RFC 3339 text (as chrono writes a `DateTime<Utc>`) and read with
/// [`crate::time_text`].
mod unix_text {
    use chrono::DateTime;
    use serde::{Deserializer, Serialize, Serializer, ser};

    pub fn serialize<S: Serializer>(t: &i64, s: S) -> Result<S::Ok, S::Error> {
        DateTime::from_timestamp(*t, 0)
            .ok_or_else(|| ser::Error::custom(format!("bar time {t} is out of range")))?
            .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        crate::time_text::deserialize(d).map(|t| t.timestamp())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar() -> Bar {
        Bar::new(
            1_577_923_200,
            Candle {
                open: Decimal::new(10_000, 2),
                high: Decimal::new(10_500, 2),
                low: Decimal::new(9_950, 2),
                close: Decimal::new(10_200, 2),
                volume: Decimal::from(1200),
            },
        )
    }

    #[test]
    fn a_bar_is_one_flat_object_with_an_rfc3339_time() {
        let json = serde_json::to_string(&bar()).unwrap();
        assert_eq!(
            json,
            r#"{"time":"2020-01-02T00:00:00Z","open":"100.00","high":"105.00","low":"99.50","close":"102.00","volume":"1200"}"#
        );
        let back: Bar = serde_json::from_str(&json).unwrap();
        assert_eq!(back, bar());
        assert_eq!(back.datetime().timestamp(), back.time);
    }

    #[test]
    fn other_rfc3339_spellings_read_to_the_second() {
        let text = r#"{"time":"2020-01-02T01:00:00.75+01:00","open":"100.00","high":"105.00","low":"99.50","close":"102.00","volume":"1200"}"#;
        assert_eq!(serde_json::from_str::<Bar>(text).unwrap(), bar());
        let bad = text.replace("2020-01-02T01:00:00.75+01:00", "yesterday");
        assert!(serde_json::from_str::<Bar>(&bad).is_err());
    }

    #[test]
    fn a_time_chrono_cannot_represent_is_an_error_not_a_panic() {
        let b = Bar::new(i64::MAX, bar().candle);
        assert!(serde_json::to_string(&b).is_err());
        assert_eq!(b.datetime(), DateTime::<Utc>::default());
    }
}
