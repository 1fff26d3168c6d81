//! [`Candle`]: one OHLCV bar of one symbol in exact decimals — the one bar type of the whole
//! system. The wire carries it in `tick` and `history_snapshot`; the engine settles it; the CSV
//! reader, the catalog and the client's strategies read and hand it on.

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
