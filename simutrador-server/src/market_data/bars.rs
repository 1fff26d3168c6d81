//! CONTRACT STUB: one OHLCV bar and a compact columnar series of them.

use rust_decimal::Decimal;
use std::ops::Range;

/// One bar. `ts` is the bar's timestamp in Unix seconds (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bar {
    /// Unix seconds, UTC.
    pub ts: i64,
    /// Open price.
    pub open: Decimal,
    /// High price.
    pub high: Decimal,
    /// Low price.
    pub low: Decimal,
    /// Close price.
    pub close: Decimal,
    /// Volume.
    pub volume: Decimal,
}

/// An immutable, time-ordered series of bars for one symbol at one timeframe.
#[derive(Debug, Clone, Default)]
pub struct BarSeries {}

impl BarSeries {
    /// Build from bars in strictly increasing time order (checked).
    pub fn from_bars(_bars: &[Bar]) -> Result<Self, String> {
        unimplemented!()
    }
    /// Number of bars.
    pub fn len(&self) -> usize {
        unimplemented!()
    }
    /// True when there are no bars.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// All timestamps (Unix seconds), increasing.
    pub fn timestamps(&self) -> &[i64] {
        unimplemented!()
    }
    /// The `i`-th bar (panics if out of range, like slice indexing).
    pub fn bar(&self, _i: usize) -> Bar {
        unimplemented!()
    }
    /// Indices of the bars with `first_second <= ts <= last_second`.
    pub fn index_range(&self, _first_second: i64, _last_second: i64) -> Range<usize> {
        unimplemented!()
    }
}
