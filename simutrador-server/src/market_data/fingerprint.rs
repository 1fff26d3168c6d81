//! Fingerprints of market data: what a session's bars were when it was created, so that a
//! run is never started or resumed on bars that changed since (`DATA_CHANGED`).
//!
//! Every [`BarSeries`] carries a content hash ([`BarSeries::content_hash`]), computed once
//! when the series is built, while its bars are checked: a stable 128-bit hash
//! ([`ContentHasher`]) of its timestamps, its OHLCV mantissas and its two decimal scales.
//! The same bars give the same hash in every process and on every machine, whatever file
//! form they were read from; any changed, added or removed bar changes it.
//!
//! A session stores a [`DataFingerprint`] taken at creation: per symbol, the hash of its
//! whole series plus how many of its bars fall inside the session's dates. Taking and
//! checking one costs a binary search per symbol, not a pass over the bars, however long the
//! series. It is deliberately conservative: re-importing a symbol with bars added *outside*
//! the session's dates also counts as a change (the series hash covers the whole file).
//!
//! The hash detects accidental change (a re-import, an edited file); it is not meant to
//! resist someone who crafts a collision on purpose.

use serde::{Deserialize, Serialize};
use shared_models::Timeframe;
use std::fmt::Write as _;

use super::{BarSeries, Catalog};

/// A stable 128-bit hash over `u64` words (two independent multiply–xorshift lanes).
#[derive(Debug, Clone, Copy)]
pub struct ContentHasher {
    a: u64,
    b: u64,
}

impl Default for ContentHasher {
    fn default() -> Self {
        ContentHasher {
            a: 0x243F_6A88_85A3_08D3,
            b: 0x1319_8A2E_0370_7344,
        }
    }
}

impl ContentHasher {
    /// Mix one word into both lanes.
    #[inline]
    pub fn write(&mut self, w: u64) {
        self.a = mix(self.a ^ w, 0x9E37_79B9_7F4A_7C15);
        self.b = mix(self.b.rotate_left(23) ^ w, 0xC2B2_AE3D_27D4_EB4F);
    }

    /// The hash of everything written.
    pub fn finish(&self) -> u128 {
        let a = mix(self.a ^ (self.b >> 17), 0xFF51_AFD7_ED55_8CCD);
        let b = mix(self.b ^ (self.a >> 29), 0xC4CE_B9FE_1A85_EC53);
        (u128::from(a) << 64) | u128::from(b)
    }
}

#[inline]
fn mix(x: u64, k: u64) -> u64 {
    let x = x.wrapping_mul(k);
    x ^ (x >> 31)
}

/// The hash as 32 lower-case hex digits.
pub fn hex(hash: u128) -> String {
    format!("{hash:032x}")
}

/// One symbol's part of a [`DataFingerprint`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SymbolFingerprint {
    /// Upper-case symbol.
    pub symbol: String,
    /// [`BarSeries::content_hash`] of the symbol's whole series at the session's timeframe,
    /// as 32 hex digits.
    pub series_hash: String,
    /// Bars in that series.
    pub series_bars: u64,
    /// Bars of that series inside the session's dates.
    pub range_bars: u64,
}

/// The data a session replays, as it was when the session was created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataFingerprint {
    /// The session's bar size.
    pub timeframe: Timeframe,
    /// Its symbols, in the session's order.
    pub symbols: Vec<SymbolFingerprint>,
}

impl DataFingerprint {
    /// The fingerprint of `symbols` at `timeframe` between `first` and `last` (Unix seconds,
    /// inclusive) in `catalog`; `Err` names the first symbol the catalog does not hold.
    pub fn of_catalog(
        catalog: &Catalog,
        symbols: &[String],
        timeframe: Timeframe,
        first: i64,
        last: i64,
    ) -> Result<DataFingerprint, String> {
        let mut series = Vec::with_capacity(symbols.len());
        for s in symbols {
            series.push((
                s.as_str(),
                catalog.series(s, timeframe).ok_or_else(|| s.clone())?,
            ));
        }
        Ok(Self::of_series(
            timeframe,
            series.iter().map(|(s, b)| (*s, b.as_ref())),
            first,
            last,
        ))
    }

    /// The fingerprint of the given `(symbol, series)` pairs between `first` and `last`.
    pub fn of_series<'a>(
        timeframe: Timeframe,
        series: impl IntoIterator<Item = (&'a str, &'a BarSeries)>,
        first: i64,
        last: i64,
    ) -> DataFingerprint {
        let symbols = series
            .into_iter()
            .map(|(symbol, s)| SymbolFingerprint {
                symbol: symbol.to_string(),
                series_hash: hex(s.content_hash()),
                series_bars: s.len() as u64,
                range_bars: s.index_range(first, last).len() as u64,
            })
            .collect();
        DataFingerprint { timeframe, symbols }
    }

    /// One short digest of the whole fingerprint (16 hex digits), for messages and listings.
    pub fn digest(&self) -> String {
        let mut h = ContentHasher::default();
        for s in &self.symbols {
            for b in s.symbol.bytes().chain(s.series_hash.bytes()) {
                h.write(u64::from(b));
            }
            h.write(s.range_bars);
        }
        let mut out = String::with_capacity(16);
        let _ = write!(out, "{:016x}", (h.finish() >> 64) as u64);
        out
    }

    /// What differs between this fingerprint (at creation) and `now`, one sentence per
    /// changed symbol; `now` is `None` for a symbol the catalog no longer holds. Empty when
    /// nothing changed.
    pub fn changes(&self, now: &[(String, Option<SymbolFingerprint>)]) -> Vec<String> {
        let tf = self.timeframe;
        let mut out = Vec::new();
        for was in &self.symbols {
            let current = now.iter().find(|(s, _)| *s == was.symbol).map(|(_, f)| f);
            match current {
                Some(Some(is)) if is == was => {}
                Some(Some(is)) => out.push(format!(
                    "{} {tf}: {} bars ({} in the session's dates), hash {}… at creation; {} bars ({} in its dates), hash {}… now",
                    was.symbol,
                    was.series_bars,
                    was.range_bars,
                    &was.series_hash[..was.series_hash.len().min(12)],
                    is.series_bars,
                    is.range_bars,
                    &is.series_hash[..is.series_hash.len().min(12)],
                )),
                _ => out.push(format!(
                    "{} {tf}: {} bars at creation; no longer in the catalog",
                    was.symbol, was.series_bars
                )),
            }
        }
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::market_data::bars::RawColumns;

    fn series(closes: &[i64]) -> BarSeries {
        let mut raw = RawColumns::with_capacity(closes.len(), 2, 0);
        for (i, c) in closes.iter().enumerate() {
            raw.push(86_400 * (i as i64 + 1), [*c, *c, *c, *c], 10);
        }
        BarSeries::from_raw(raw).unwrap()
    }

    #[test]
    fn the_content_hash_is_stable_and_sees_every_change() {
        let a = series(&[100, 101, 102]);
        // Pinned: the hash must not change between versions, or every stored session would
        // refuse to resume after an upgrade.
        assert_eq!(
            hex(a.content_hash()),
            hex(series(&[100, 101, 102]).content_hash())
        );
        assert_eq!(hex(a.content_hash()), "64a915cae67f88932d46650ca90e6fc6");
        for other in [
            &[100, 101, 103][..],
            &[100, 101],
            &[100, 101, 102, 103],
            &[101, 100, 102],
        ] {
            assert_ne!(a.content_hash(), series(other).content_hash(), "{other:?}");
        }
        let mut raw = RawColumns::with_capacity(3, 3, 0); // same values, another scale
        for (i, c) in [1000, 1010, 1020].iter().enumerate() {
            raw.push(86_400 * (i as i64 + 1), [*c, *c, *c, *c], 10);
        }
        assert_ne!(
            a.content_hash(),
            BarSeries::from_raw(raw).unwrap().content_hash()
        );
    }

    #[test]
    fn fingerprints_compare_and_explain_changes() {
        let (a, b) = (series(&[100, 101, 102]), series(&[100, 101, 103]));
        let was = DataFingerprint::of_series(Timeframe::D1, [("AAA", &a)], 0, 2 * 86_400);
        assert_eq!(was.symbols[0].range_bars, 2);
        assert_eq!(was.digest().len(), 16);
        let same = DataFingerprint::of_series(Timeframe::D1, [("AAA", &a)], 0, 2 * 86_400);
        assert_eq!(was, same);
        let now = DataFingerprint::of_series(Timeframe::D1, [("AAA", &b)], 0, 2 * 86_400);
        assert_ne!(was, now);
        assert_ne!(was.digest(), now.digest());
        let changes = was.changes(&[("AAA".into(), Some(now.symbols[0].clone()))]);
        assert_eq!(changes.len(), 1);
        assert!(
            changes[0].starts_with("AAA 1d: 3 bars (2 in the session's dates)"),
            "{changes:?}"
        );
        let gone = was.changes(&[("AAA".into(), None)]);
        assert!(gone[0].contains("no longer in the catalog"), "{gone:?}");
        assert!(
            was.changes(&[("AAA".into(), Some(was.symbols[0].clone()))])
                .is_empty()
        );
    }
}
