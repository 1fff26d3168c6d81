//! [`BarSeries`]: a compact columnar series of bars, the daemon's storage for market data.
//! A bar read out of it is the system's one bar type, [`shared_models::Bar`] (a
//! [`Candle`] with its time); the columns are storage, not another bar type.
//!
//! A series stores six `i64` columns: timestamps (Unix seconds, UTC) and the open, high, low,
//! close and volume *mantissas*. Every price of a series shares one decimal scale, and volumes
//! share another, so `Decimal::new(mantissa, scale)` gives the exact value back. That is
//! 48 bytes per bar (less when series of one calendar share their timestamp column, see
//! [`BarSeries::share_timestamps`]), and the simulation engine can compare and add raw
//! mantissas without touching `Decimal` at all.
//!
//! Series are immutable once built and are shared by `Arc` between every session that replays
//! them.

use rust_decimal::Decimal;
use shared_models::{Bar, Candle};
use std::ops::Range;
use std::sync::Arc;

use super::fingerprint::ContentHasher;

/// The largest number of decimal places a price or volume may have.
pub const MAX_SCALE: u32 = 12;

/// An immutable, time-ordered series of bars for one symbol at one timeframe.
#[derive(Debug, Clone, Default)]
pub struct BarSeries {
    ts: Arc<[i64]>,
    open: Vec<i64>,
    high: Vec<i64>,
    low: Vec<i64>,
    close: Vec<i64>,
    volume: Vec<i64>,
    price_scale: u32,
    volume_scale: u32,
    /// [`super::fingerprint::ContentHasher`] of every column and both scales.
    content_hash: u128,
}

/// The raw columns of a series: mantissas at one price scale and one volume scale.
///
/// Build one (for example while parsing a file or generating data) and turn it into a checked
/// [`BarSeries`] with [`BarSeries::from_raw`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawColumns {
    /// Unix seconds, strictly increasing.
    pub ts: Vec<i64>,
    /// Open mantissas.
    pub open: Vec<i64>,
    /// High mantissas.
    pub high: Vec<i64>,
    /// Low mantissas.
    pub low: Vec<i64>,
    /// Close mantissas.
    pub close: Vec<i64>,
    /// Volume mantissas.
    pub volume: Vec<i64>,
    /// Decimal places of every price mantissa (≤ [`MAX_SCALE`]).
    pub price_scale: u32,
    /// Decimal places of every volume mantissa (≤ [`MAX_SCALE`]).
    pub volume_scale: u32,
}

impl RawColumns {
    /// Empty columns with room for `n` bars.
    pub fn with_capacity(n: usize, price_scale: u32, volume_scale: u32) -> Self {
        RawColumns {
            ts: Vec::with_capacity(n),
            open: Vec::with_capacity(n),
            high: Vec::with_capacity(n),
            low: Vec::with_capacity(n),
            close: Vec::with_capacity(n),
            volume: Vec::with_capacity(n),
            price_scale,
            volume_scale,
        }
    }

    /// Append one bar given as mantissas (not checked until [`BarSeries::from_raw`]).
    pub fn push(&mut self, ts: i64, ohlc: [i64; 4], volume: i64) {
        self.ts.push(ts);
        self.open.push(ohlc[0]);
        self.high.push(ohlc[1]);
        self.low.push(ohlc[2]);
        self.close.push(ohlc[3]);
        self.volume.push(volume);
    }
}

/// What is wrong with one bar, as found by [`check_bar`].
pub fn check_bar(prev_ts: Option<i64>, ts: i64, ohlc: [i64; 4], volume: i64) -> Result<(), String> {
    let [open, high, low, close] = ohlc;
    if let Some(p) = prev_ts
        && ts <= p
    {
        return Err(format!(
            "time {ts} is not after the previous bar's {p}; bars must be in strictly increasing time order"
        ));
    }
    if open <= 0 || high <= 0 || low <= 0 || close <= 0 {
        return Err("prices must be positive".into());
    }
    if high < low {
        return Err("high is below low".into());
    }
    if open > high || open < low {
        return Err("open is outside the bar's low..high range".into());
    }
    if close > high || close < low {
        return Err("close is outside the bar's low..high range".into());
    }
    if volume < 0 {
        return Err("volume is negative".into());
    }
    Ok(())
}

/// `mantissa × 10^(to − from)` with overflow checking (`to ≥ from`).
pub fn rescale(mantissa: i64, from: u32, to: u32) -> Option<i64> {
    10i64
        .checked_pow(to.checked_sub(from)?)
        .and_then(|f| mantissa.checked_mul(f))
}

fn decimal_parts(d: Decimal, what: &str) -> Result<(i64, u32), String> {
    let scale = d.scale();
    if scale > MAX_SCALE {
        return Err(format!(
            "{what} {d} has {scale} decimal places; at most {MAX_SCALE} are supported"
        ));
    }
    let m = i64::try_from(d.mantissa()).map_err(|_| format!("{what} {d} is too large"))?;
    Ok((m, scale))
}

impl BarSeries {
    /// Build from bars in strictly increasing time order (checked).
    pub fn from_bars(bars: &[Bar]) -> Result<Self, String> {
        let mut price_scale = 0;
        let mut volume_scale = 0;
        for Bar { candle: c, .. } in bars {
            for p in [c.open, c.high, c.low, c.close] {
                price_scale = price_scale.max(p.scale());
            }
            volume_scale = volume_scale.max(c.volume.scale());
        }
        if price_scale > MAX_SCALE || volume_scale > MAX_SCALE {
            return Err(format!(
                "a value has more than {MAX_SCALE} decimal places; at most {MAX_SCALE} are supported"
            ));
        }
        let mut raw = RawColumns::with_capacity(bars.len(), price_scale, volume_scale);
        for (i, &Bar { time, candle: b }) in bars.iter().enumerate() {
            let mut ohlc = [0i64; 4];
            for (slot, (p, what)) in ohlc.iter_mut().zip([
                (b.open, "open"),
                (b.high, "high"),
                (b.low, "low"),
                (b.close, "close"),
            ]) {
                let (m, s) = decimal_parts(p, what).map_err(|e| format!("bar {i}: {e}"))?;
                *slot = rescale(m, s, price_scale).ok_or_else(|| {
                    format!("bar {i}: {what} {p} is too large at scale {price_scale}")
                })?;
            }
            let (m, s) = decimal_parts(b.volume, "volume").map_err(|e| format!("bar {i}: {e}"))?;
            let v = rescale(m, s, volume_scale)
                .ok_or_else(|| format!("bar {i}: volume {} is too large", b.volume))?;
            raw.push(time, ohlc, v);
        }
        Self::from_raw(raw).map_err(|(i, e)| format!("bar {i}: {e}"))
    }

    /// Build from raw columns, checking every bar (time order, OHLC consistency, positive
    /// prices, non-negative volume, scales ≤ [`MAX_SCALE`], equal column lengths).
    /// On failure returns the index of the first bad bar and the reason.
    pub fn from_raw(raw: RawColumns) -> Result<Self, (usize, String)> {
        let n = raw.ts.len();
        if [&raw.open, &raw.high, &raw.low, &raw.close, &raw.volume]
            .iter()
            .any(|c| c.len() != n)
        {
            return Err((0, "columns have different lengths".into()));
        }
        if raw.price_scale > MAX_SCALE || raw.volume_scale > MAX_SCALE {
            return Err((0, format!("scale above {MAX_SCALE} decimal places")));
        }
        let mut prev = None;
        let mut hash = ContentHasher::default();
        for i in 0..n {
            let ohlc = [raw.open[i], raw.high[i], raw.low[i], raw.close[i]];
            check_bar(prev, raw.ts[i], ohlc, raw.volume[i]).map_err(|e| (i, e))?;
            prev = Some(raw.ts[i]);
            for w in [raw.ts[i], ohlc[0], ohlc[1], ohlc[2], ohlc[3], raw.volume[i]] {
                hash.write(w as u64);
            }
        }
        hash.write(n as u64);
        hash.write(u64::from(raw.price_scale));
        hash.write(u64::from(raw.volume_scale));
        Ok(BarSeries {
            ts: Arc::from(raw.ts),
            open: shrink(raw.open),
            high: shrink(raw.high),
            low: shrink(raw.low),
            close: shrink(raw.close),
            volume: shrink(raw.volume),
            price_scale: raw.price_scale,
            volume_scale: raw.volume_scale,
            content_hash: hash.finish(),
        })
    }

    /// A stable hash of every bar and both scales, computed when the series was built: equal
    /// series have equal hashes in every process (see [`super::fingerprint`]).
    pub fn content_hash(&self) -> u128 {
        self.content_hash
    }

    /// Number of bars.
    pub fn len(&self) -> usize {
        self.ts.len()
    }
    /// True when there are no bars.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// All timestamps (Unix seconds), increasing.
    pub fn timestamps(&self) -> &[i64] {
        &self.ts
    }
    /// The `i`-th bar (panics if out of range, like slice indexing).
    pub fn bar(&self, i: usize) -> Bar {
        Bar {
            time: self.ts[i],
            candle: self.candle(i),
        }
    }
    /// The prices and volume of the `i`-th bar (panics if out of range).
    #[inline]
    pub fn candle(&self, i: usize) -> Candle {
        Candle {
            open: self.price(self.open[i]),
            high: self.price(self.high[i]),
            low: self.price(self.low[i]),
            close: self.price(self.close[i]),
            volume: Decimal::new(self.volume[i], self.volume_scale),
        }
    }
    /// The `i`-th bar, or `None` past the end.
    pub fn get(&self, i: usize) -> Option<Bar> {
        (i < self.len()).then(|| self.bar(i))
    }
    /// Indices of the bars with `first_second <= ts <= last_second`.
    pub fn index_range(&self, first_second: i64, last_second: i64) -> Range<usize> {
        let start = self.ts.partition_point(|&t| t < first_second);
        let end = self.ts.partition_point(|&t| t <= last_second);
        start..end.max(start)
    }
    /// Timestamp of the first bar.
    pub fn first_ts(&self) -> Option<i64> {
        self.ts.first().copied()
    }
    /// Timestamp of the last bar.
    pub fn last_ts(&self) -> Option<i64> {
        self.ts.last().copied()
    }
    /// Decimal places shared by every price mantissa.
    pub fn price_scale(&self) -> u32 {
        self.price_scale
    }
    /// Decimal places shared by every volume mantissa.
    pub fn volume_scale(&self) -> u32 {
        self.volume_scale
    }
    /// A price mantissa of this series as an exact `Decimal`.
    pub fn price(&self, mantissa: i64) -> Decimal {
        Decimal::new(mantissa, self.price_scale)
    }
    /// Raw open mantissas (scale [`Self::price_scale`]).
    pub fn opens(&self) -> &[i64] {
        &self.open
    }
    /// Raw high mantissas.
    pub fn highs(&self) -> &[i64] {
        &self.high
    }
    /// Raw low mantissas.
    pub fn lows(&self) -> &[i64] {
        &self.low
    }
    /// Raw close mantissas.
    pub fn closes(&self) -> &[i64] {
        &self.close
    }
    /// Raw volume mantissas (scale [`Self::volume_scale`]).
    pub fn volumes(&self) -> &[i64] {
        &self.volume
    }
    /// Heap plus inline bytes held by this series (a shared timestamp column counts fully).
    pub fn memory_bytes(&self) -> usize {
        let cols = self.open.capacity()
            + self.high.capacity()
            + self.low.capacity()
            + self.close.capacity()
            + self.volume.capacity();
        std::mem::size_of::<Self>() + (self.ts.len() + cols) * std::mem::size_of::<i64>()
    }
    /// True when both series use the very same timestamp column (see [`Self::share_timestamps`]).
    pub fn shares_timestamps_with(&self, other: &BarSeries) -> bool {
        Arc::ptr_eq(&self.ts, &other.ts)
    }
    /// Use `other`'s timestamp column when it is equal to ours, so series on one calendar
    /// (all equities of an exchange) hold their timestamps once. Returns true when shared.
    pub fn share_timestamps(&mut self, other: &BarSeries) -> bool {
        if self.ts[..] == other.ts[..] {
            self.ts = Arc::clone(&other.ts);
            true
        } else {
            false
        }
    }
}

fn shrink(mut v: Vec<i64>) -> Vec<i64> {
    v.shrink_to_fit();
    v
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn bar(time: i64, o: Decimal, h: Decimal, l: Decimal, c: Decimal, v: Decimal) -> Bar {
        let candle = Candle {
            open: o,
            high: h,
            low: l,
            close: c,
            volume: v,
        };
        Bar { time, candle }
    }

    #[test]
    fn decimals_round_trip_exactly_with_one_scale() {
        let bars = [
            bar(
                10,
                dec!(100),
                dec!(104.06),
                dec!(95.96),
                dec!(100.34),
                dec!(22351900),
            ),
            bar(20, dec!(1.5), dec!(2), dec!(1.125), dec!(1.875), dec!(0.25)),
        ];
        let s = BarSeries::from_bars(&bars).unwrap();
        assert_eq!(s.price_scale(), 3);
        assert_eq!(s.volume_scale(), 2);
        assert_eq!(s.bar(0), bars[0]);
        assert_eq!(s.bar(1), bars[1]);
        assert_eq!(s.closes(), &[100_340, 1_875]);
        assert_eq!(s.get(2), None);
    }

    #[test]
    fn bad_bars_are_refused_with_their_index() {
        let ok = bar(1, dec!(2), dec!(3), dec!(1), dec!(2), dec!(0));
        let cases = [
            (
                bar(1, dec!(2), dec!(3), dec!(1), dec!(2), dec!(0)),
                "increasing",
            ),
            (
                bar(2, dec!(2), dec!(1), dec!(3), dec!(2), dec!(0)),
                "high is below low",
            ),
            (bar(2, dec!(4), dec!(3), dec!(1), dec!(2), dec!(0)), "open"),
            (
                bar(2, dec!(2), dec!(3), dec!(1), dec!(0.5), dec!(0)),
                "close",
            ),
            (
                bar(2, dec!(2), dec!(3), dec!(-1), dec!(2), dec!(0)),
                "positive",
            ),
            (
                bar(2, dec!(2), dec!(3), dec!(1), dec!(2), dec!(-1)),
                "negative",
            ),
            (
                bar(2, dec!(2), dec!(3), dec!(1), dec!(2.0000000000001), dec!(0)),
                "decimal places",
            ),
        ];
        for (b, want) in cases {
            let err = BarSeries::from_bars(&[ok, b]).unwrap_err();
            assert!(err.contains(want), "{err} should mention {want}");
            assert!(
                err.starts_with("bar 1") || want == "decimal places",
                "{err}"
            );
        }
        let huge = bar(
            2,
            dec!(2),
            dec!(1000000000000000000),
            dec!(1),
            dec!(2),
            dec!(0),
        );
        let tiny = bar(3, dec!(2), dec!(3), dec!(1.5), dec!(2), dec!(0));
        assert!(
            BarSeries::from_bars(&[ok, huge, tiny])
                .unwrap_err()
                .contains("too large")
        );
    }

    #[test]
    fn index_range_is_inclusive_at_both_ends() {
        let raw = RawColumns {
            ts: vec![10, 20, 30, 40],
            open: vec![1; 4],
            high: vec![1; 4],
            low: vec![1; 4],
            close: vec![1; 4],
            volume: vec![0; 4],
            price_scale: 0,
            volume_scale: 0,
        };
        let s = BarSeries::from_raw(raw).unwrap();
        assert_eq!(s.index_range(20, 30), 1..3);
        assert_eq!(s.index_range(0, 100), 0..4);
        assert_eq!(s.index_range(11, 19), 1..1);
        assert_eq!(s.index_range(50, 60), 4..4);
        assert_eq!(s.index_range(30, 10), 2..2);
    }

    #[test]
    fn memory_per_bar_is_at_most_64_bytes() {
        let n = 10_000;
        let mut raw = RawColumns::with_capacity(n, 2, 0);
        for i in 0..n as i64 {
            raw.push(i * 60, [100, 110, 90, 105], 7);
        }
        let s = BarSeries::from_raw(raw).unwrap();
        assert!(s.memory_bytes() <= 64 * n, "{}", s.memory_bytes());
        let mut t = s.clone();
        assert!(t.share_timestamps(&s) && t.shares_timestamps_with(&s));
    }
}
