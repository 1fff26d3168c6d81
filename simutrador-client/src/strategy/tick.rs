//! The current tick as a strategy sees it: [`TickView`], a borrowed window onto **one row** of
//! a decoded `tick_block`. It has no method (and no field) that reaches another row, and its
//! lifetime ends with the `on_tick` call, so a strategy cannot read a bar before its tick — the
//! runner's buffered future ticks are out of reach by construction.
//!
//! Prices travel as integer columns; [`TickView::candle`] turns them into exact `Decimal`s
//! (`Decimal::new(value, scale)`) as the system's one bar type, [`Candle`]
//! (`shared_models::Candle`, re-exported here), and [`TickView::raw`] hands out the integers
//! for cheap maths.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use shared_models::messages::simulation::{BlockColumns, TickBlock};

use crate::error::{ClientError, Result};

/// One bar of one symbol, exact: the shared bar type of the wire and the engine.
pub use shared_models::Candle;

/// One bar of one symbol as the wire's integers: price `p` means `p / 10^price_scale`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawCandle {
    /// Open mantissa.
    pub open: i64,
    /// High mantissa.
    pub high: i64,
    /// Low mantissa.
    pub low: i64,
    /// Close mantissa.
    pub close: i64,
    /// Volume mantissa.
    pub volume: i64,
    /// Decimal places of the prices.
    pub price_scale: u32,
    /// Decimal places of the volume.
    pub volume_scale: u32,
}

impl RawCandle {
    /// The exact candle.
    pub fn to_candle(&self) -> Candle {
        let p = |v| Decimal::new(v, self.price_scale);
        Candle {
            open: p(self.open),
            high: p(self.high),
            low: p(self.low),
            close: p(self.close),
            volume: Decimal::new(self.volume, self.volume_scale),
        }
    }
}

/// Absent row marker in [`Columns::row_of`].
const ABSENT: u32 = u32::MAX;

/// One symbol's columns, checked.
#[derive(Debug)]
struct Columns {
    cols: BlockColumns,
    /// For a sparse symbol: block position → column index (`ABSENT` = no bar).
    row_of: Option<Vec<u32>>,
}

/// A `tick_block` validated and indexed by the session's symbol order.
#[derive(Debug)]
pub(crate) struct DecodedBlock {
    first: u64,
    times: Vec<i64>,
    symbols: Vec<Option<Columns>>,
}

/// Decimal places a `Decimal` can hold.
const MAX_SCALE: u32 = 28;

impl DecodedBlock {
    /// Check `block` against the session's `symbols` (the order of `simulation_started`):
    /// known symbols, scales a `Decimal` can hold, column lengths, strictly increasing rows.
    pub(crate) fn decode(block: TickBlock, symbols: &[String]) -> Result<DecodedBlock> {
        let bad = |what: String| ClientError::Protocol(format!("bad tick_block: {what}"));
        let times = block.bar_times().map_err(bad)?;
        let n = times.len();
        let mut out: Vec<Option<Columns>> = symbols.iter().map(|_| None).collect();
        for (name, cols) in block.symbols {
            let Some(i) = symbols.iter().position(|s| *s == name) else {
                return Err(bad(format!("symbol '{name}' is not in this session")));
            };
            if cols.price_scale > MAX_SCALE || cols.volume_scale > MAX_SCALE {
                return Err(bad(format!("{name}: scale above {MAX_SCALE}")));
            }
            let (len, row_of) = match &cols.rows {
                None => (n, None),
                Some(rows) => {
                    let mut map = vec![ABSENT; n];
                    let mut prev: Option<u32> = None;
                    for (k, &r) in rows.iter().enumerate() {
                        if r as usize >= n || prev.is_some_and(|p| r <= p) {
                            return Err(bad(format!("{name}: rows must increase within times")));
                        }
                        map[r as usize] = k as u32;
                        prev = Some(r);
                    }
                    (rows.len(), Some(map))
                }
            };
            let lens = [
                cols.open.len(),
                cols.high.len(),
                cols.low.len(),
                cols.close.len(),
                cols.volume.len(),
            ];
            if lens.iter().any(|&l| l != len) {
                return Err(bad(format!("{name}: columns must hold {len} values")));
            }
            out[i] = Some(Columns { cols, row_of });
        }
        Ok(DecodedBlock {
            first: block.first_sequence_id,
            times,
            symbols: out,
        })
    }

    /// Sequence id of the first row.
    pub(crate) fn first(&self) -> u64 {
        self.first
    }

    /// Sequence id after the last row.
    pub(crate) fn end(&self) -> u64 {
        self.first + self.times.len() as u64
    }

    /// The view of `sequence_id` (which must be in `first()..end()`).
    pub(crate) fn view(&self, sequence_id: u64) -> Option<TickView<'_>> {
        let row = usize::try_from(sequence_id.checked_sub(self.first)?).ok()?;
        let time = *self.times.get(row)?;
        Some(TickView {
            sequence_id,
            time,
            row,
            block: self,
        })
    }
}

/// The tick being decided on: its time, its sequence id and the bar of every symbol that has
/// one at this time. Symbols are addressed by their index in [`crate::StartContext::symbols`]
/// (the session's order) or by name.
#[derive(Clone, Copy)]
pub struct TickView<'a> {
    sequence_id: u64,
    time: i64,
    row: usize,
    block: &'a DecodedBlock,
}

impl std::fmt::Debug for TickView<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TickView")
            .field("sequence_id", &self.sequence_id)
            .field("time", &self.time)
            .finish()
    }
}

impl<'a> TickView<'a> {
    /// 0-based position in the replay.
    pub fn sequence_id(&self) -> u64 {
        self.sequence_id
    }

    /// Bar time, Unix seconds (UTC).
    pub fn timestamp(&self) -> i64 {
        self.time
    }

    /// Bar time.
    pub fn time(&self) -> DateTime<Utc> {
        DateTime::from_timestamp(self.time, 0).unwrap_or_default()
    }

    /// The raw bar of symbol `index`, if it has one at this tick.
    pub fn raw(&self, index: usize) -> Option<RawCandle> {
        let c = self.block.symbols.get(index)?.as_ref()?;
        let k = match &c.row_of {
            None => self.row,
            Some(map) => match *map.get(self.row)? {
                ABSENT => return None,
                k => k as usize,
            },
        };
        let cols = &c.cols;
        Some(RawCandle {
            open: *cols.open.get(k)?,
            high: *cols.high.get(k)?,
            low: *cols.low.get(k)?,
            close: *cols.close.get(k)?,
            volume: *cols.volume.get(k)?,
            price_scale: cols.price_scale,
            volume_scale: cols.volume_scale,
        })
    }

    /// The exact bar of symbol `index`, if it has one at this tick.
    pub fn candle(&self, index: usize) -> Option<Candle> {
        self.raw(index).map(|r| r.to_candle())
    }

    /// The close of symbol `index`.
    pub fn close(&self, index: usize) -> Option<Decimal> {
        self.raw(index)
            .map(|r| Decimal::new(r.close, r.price_scale))
    }

    /// Symbols with a bar at this tick, by index.
    pub fn has_bar(&self, index: usize) -> bool {
        self.raw(index).is_some()
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! Hand-made blocks for strategy and history tests.
    use super::*;
    use std::collections::BTreeMap;

    /// One symbol `ACME`, one tick per close (prices with 2 decimals, OHLC all = close), times
    /// one day apart from 2020-01-01.
    pub(crate) fn closes_block(first: u64, closes: &[i64]) -> DecodedBlock {
        let cols = BlockColumns {
            price_scale: 2,
            volume_scale: 0,
            rows: None,
            open: closes.to_vec(),
            high: closes.to_vec(),
            low: closes.to_vec(),
            close: closes.to_vec(),
            volume: vec![1; closes.len()],
        };
        let block = TickBlock {
            session_id: "s".into(),
            first_sequence_id: first,
            times: (0..closes.len() as i64)
                .map(|i| 1_577_836_800 + (first as i64 + i) * 86_400)
                .collect(),
            time_range: None,
            symbols: BTreeMap::from([("ACME".to_string(), cols)]),
        };
        match DecodedBlock::decode(block, &["ACME".to_string()]) {
            Ok(b) => b,
            Err(e) => panic!("{e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn cols(rows: Option<Vec<u32>>, n: usize) -> BlockColumns {
        let v: Vec<i64> = (0..n as i64).map(|i| 10_000 + i).collect();
        BlockColumns {
            price_scale: 2,
            volume_scale: 4,
            rows,
            open: v.clone(),
            high: v.clone(),
            low: v.clone(),
            close: v.clone(),
            volume: v,
        }
    }

    fn block(symbols: BTreeMap<String, BlockColumns>) -> TickBlock {
        TickBlock {
            session_id: "s".into(),
            first_sequence_id: 5,
            times: vec![100, 200, 300],
            time_range: None,
            symbols,
        }
    }

    #[test]
    fn sparse_symbols_are_absent_where_they_have_no_bar() {
        let names = vec!["ACME".to_string(), "BIT".to_string()];
        let b = block(BTreeMap::from([
            ("ACME".into(), cols(None, 3)),
            ("BIT".into(), cols(Some(vec![0, 2]), 2)),
        ]));
        let d = DecodedBlock::decode(b, &names).unwrap();
        assert_eq!((d.first(), d.end()), (5, 8));
        let t = d.view(7).unwrap();
        assert_eq!(t.timestamp(), 300);
        assert_eq!(t.close(0), Some(Decimal::new(10_002, 2)));
        assert_eq!(t.candle(1).unwrap().volume, Decimal::new(10_001, 4));
        assert!(!d.view(6).unwrap().has_bar(1));
        assert!(d.view(8).is_none() && d.view(4).is_none());
    }

    #[test]
    fn malformed_blocks_are_protocol_errors() {
        let names = vec!["ACME".to_string()];
        let mut too_fine = cols(None, 3);
        too_fine.price_scale = 29;
        for bad in [
            block(BTreeMap::from([("NOPE".into(), cols(None, 3))])),
            block(BTreeMap::from([("ACME".into(), cols(None, 2))])),
            block(BTreeMap::from([("ACME".into(), cols(Some(vec![2, 1]), 2))])),
            block(BTreeMap::from([("ACME".into(), cols(Some(vec![0, 9]), 2))])),
            block(BTreeMap::from([("ACME".into(), too_fine)])),
        ] {
            let err = DecodedBlock::decode(bad, &names).unwrap_err();
            assert!(matches!(err, ClientError::Protocol(_)), "{err}");
        }
    }
}
