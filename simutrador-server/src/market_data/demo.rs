//! Built-in demo data: fictional symbols generated deterministically in code.
//!
//! No network, no files: the daemon can run and be tried without any market data. Every value
//! comes from a small SplitMix64 generator seeded from the symbol's name, and prices move in
//! integer ticks, so the output is bit-identical on every machine and never changes with a
//! dependency update. All symbols are marked `synthetic`.
//!
//! | symbol     | class  | start price | decimals | daily vol | calendar                      |
//! |------------|--------|-------------|----------|-----------|-------------------------------|
//! | `ACME`     | equity | 50.00       | 2        | 1.6 %     | weekdays; 1m 14:30–21:00 UTC  |
//! | `GLOBEX`   | equity | 120.00      | 2        | 1.3 %     | weekdays; 1m 14:30–21:00 UTC  |
//! | `INITECH`  | equity | 25.00       | 2        | 2.2 %     | weekdays; 1m 14:30–21:00 UTC  |
//! | `UMBRELLA` | equity | 80.00       | 2        | 1.8 %     | weekdays; 1m 14:30–21:00 UTC  |
//! | `FXEUR`    | forex  | 1.10000     | 5        | 0.5 %     | weekdays; 1m around the clock |
//! | `FXGBP`    | forex  | 1.30000     | 5        | 0.6 %     | weekdays; 1m around the clock |
//! | `BITDEMO`  | crypto | 400.00      | 2        | 3.5 %     | every day, 24/7               |
//! | `ETHDEMO`  | crypto | 20.00       | 2        | 4.0 %     | every day, 24/7               |
//!
//! Each has daily bars (`1d`, stamped 00:00 UTC) from 2010-01-01 to 2024-12-31 and one-minute
//! bars (`1m`) for 2024-12-01 .. 2024-12-31, the minute walk starting at the last daily close
//! before December. There are no holidays. Crypto volumes have 4 decimals, others are whole.

use shared_models::{AssetClass, Timeframe};
use std::collections::BTreeMap;
use std::sync::Arc;

use super::bars::{BarSeries, RawColumns};
use super::catalog::SymbolEntry;

/// First day of the daily demo bars, Unix seconds (2010-01-01).
pub const DAILY_START: i64 = 1_262_304_000;
/// Last day of the demo data (2024-12-31 00:00 UTC).
pub const LAST_DAY: i64 = 1_735_603_200;
/// First day of the one-minute demo bars (2024-12-01).
pub const MINUTE_START: i64 = 1_733_011_200;

/// Prices are kept at or below this many ticks so the integer walk cannot overflow.
const MAX_TICKS: i64 = 10_000_000_000;

struct Spec {
    symbol: &'static str,
    class: AssetClass,
    name: &'static str,
    exchange: &'static str,
    start_ticks: i64,
    price_scale: u32,
    vol_ppm: i64,
    drift_ppm: i64,
    revert_ppm: i64,
    volume_base: i64,
    volume_scale: u32,
}

#[rustfmt::skip]
const SPECS: [Spec; 8] = [
    Spec { symbol: "ACME", class: AssetClass::Equity, name: "Acme Corporation", exchange: "DEMO", start_ticks: 5_000, price_scale: 2, vol_ppm: 16_000, drift_ppm: 350, revert_ppm: 0, volume_base: 2_000_000, volume_scale: 0 },
    Spec { symbol: "GLOBEX", class: AssetClass::Equity, name: "Globex Corporation", exchange: "DEMO", start_ticks: 12_000, price_scale: 2, vol_ppm: 13_000, drift_ppm: 250, revert_ppm: 0, volume_base: 1_500_000, volume_scale: 0 },
    Spec { symbol: "INITECH", class: AssetClass::Equity, name: "Initech Inc.", exchange: "DEMO", start_ticks: 2_500, price_scale: 2, vol_ppm: 22_000, drift_ppm: 400, revert_ppm: 0, volume_base: 3_000_000, volume_scale: 0 },
    Spec { symbol: "UMBRELLA", class: AssetClass::Equity, name: "Umbrella Corporation", exchange: "DEMO", start_ticks: 8_000, price_scale: 2, vol_ppm: 18_000, drift_ppm: 300, revert_ppm: 0, volume_base: 900_000, volume_scale: 0 },
    Spec { symbol: "FXEUR", class: AssetClass::Forex, name: "Fictional euro / dollar pair", exchange: "DEMOFX", start_ticks: 110_000, price_scale: 5, vol_ppm: 5_000, drift_ppm: 0, revert_ppm: 2_000, volume_base: 50_000, volume_scale: 0 },
    Spec { symbol: "FXGBP", class: AssetClass::Forex, name: "Fictional pound / dollar pair", exchange: "DEMOFX", start_ticks: 130_000, price_scale: 5, vol_ppm: 6_000, drift_ppm: 0, revert_ppm: 2_000, volume_base: 40_000, volume_scale: 0 },
    Spec { symbol: "BITDEMO", class: AssetClass::Crypto, name: "Bitdemo coin", exchange: "DEMOCRYPTO", start_ticks: 40_000, price_scale: 2, vol_ppm: 35_000, drift_ppm: 1_200, revert_ppm: 0, volume_base: 250_000_000, volume_scale: 4 },
    Spec { symbol: "ETHDEMO", class: AssetClass::Crypto, name: "Ethdemo token", exchange: "DEMOCRYPTO", start_ticks: 2_000, price_scale: 2, vol_ppm: 40_000, drift_ppm: 1_500, revert_ppm: 0, volume_base: 900_000_000, volume_scale: 4 },
];

/// The demo symbols, in the table's order.
pub const SYMBOLS: [&str; 8] = [
    "ACME", "GLOBEX", "INITECH", "UMBRELLA", "FXEUR", "FXGBP", "BITDEMO", "ETHDEMO",
];

/// SplitMix64: tiny, fast, and fixed forever (unlike a crate's default generator).
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator seeded from a string (FNV-1a of its bytes).
    pub fn from_str_seed(seed: &str) -> Self {
        let h = seed.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        });
        SplitMix64(h)
    }
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Roughly normal, mean 0, standard deviation ≈ 1000 (sum of four uniforms).
    fn gauss_milli(&mut self) -> i64 {
        let sum: i64 = (0..4).map(|_| self.below(2001) - 1000).sum();
        sum * 1000 / 1155
    }
    /// Uniform in `0..n` (multiply-shift; `n` small).
    fn below(&mut self, n: u64) -> i64 {
        (((self.next_u64() >> 32) * n) >> 32) as i64
    }
}

/// A random walk in integer ticks producing consistent OHLCV bars.
struct Walk {
    rng: SplitMix64,
    price: i64,
    anchor: i64,
    floor: i64,
    vol_ppm: i64,
    drift_ppm: i64,
    revert_ppm: i64,
    volume_base: i64,
}

impl Walk {
    fn moved(&mut self, from: i64, vol_ppm: i64, drift_ppm: i64) -> i64 {
        // |z| ≤ 3500 and vol ≤ 100_000 ppm keep every product below 2^63 for prices ≤ MAX_TICKS.
        let z = self.rng.gauss_milli();
        let rel = drift_ppm * 1000 + vol_ppm * z;
        let change =
            from * rel / 1_000_000_000 + (self.anchor - from) * self.revert_ppm / 1_000_000;
        (from + change).clamp(self.floor, MAX_TICKS)
    }

    /// The next bar: `[open, high, low, close]` and volume.
    fn next_bar(&mut self, gap: bool) -> ([i64; 4], i64) {
        let open = if gap {
            self.moved(self.price, self.vol_ppm / 4, 0)
        } else {
            self.price
        };
        let close = self.moved(open, self.vol_ppm, self.drift_ppm);
        let wick = |w: &mut Self, p: i64| {
            let z = w.rng.gauss_milli().abs();
            p * w.vol_ppm / 1000 * z / 2_000_000
        };
        let high = open.max(close) + wick(self, open.max(close));
        let low = (open.min(close) - wick(self, open.min(close))).max(1);
        self.price = close;
        let z = self.rng.gauss_milli().abs();
        let r = self.rng.below(100);
        let volume = (self.volume_base * (50 + r) / 100 + self.volume_base * z / 2000).max(1);
        ([open, high, low, close], volume)
    }
}

/// A walk starting (and, with `revert_ppm` > 0, mean-reverting) at `price` ticks.
fn walk(
    seed: &str,
    price: i64,
    vol_ppm: i64,
    drift_ppm: i64,
    revert_ppm: i64,
    volume_base: i64,
) -> Walk {
    Walk {
        rng: SplitMix64::from_str_seed(seed),
        price,
        anchor: price,
        floor: (price / 20).max(1),
        vol_ppm,
        drift_ppm,
        revert_ppm,
        volume_base,
    }
}

/// Monday = 0 … Sunday = 6 for a Unix day number.
fn weekday(day: i64) -> i64 {
    (day + 3).rem_euclid(7)
}

fn trades_on(class: AssetClass, day: i64) -> bool {
    class == AssetClass::Crypto || weekday(day) < 5
}

fn isqrt(n: i64) -> i64 {
    (1..=n).take_while(|k| k * k <= n).last().unwrap_or(1)
}

fn daily(spec: &Spec) -> RawColumns {
    let seed = format!("{}/1d", spec.symbol);
    let mut w = walk(
        &seed,
        spec.start_ticks,
        spec.vol_ppm,
        spec.drift_ppm,
        spec.revert_ppm,
        spec.volume_base,
    );
    let days = (LAST_DAY - DAILY_START) / 86_400 + 1;
    let mut raw = RawColumns::with_capacity(days as usize, spec.price_scale, spec.volume_scale);
    for d in 0..days {
        let day = DAILY_START / 86_400 + d;
        if trades_on(spec.class, day) {
            let (ohlc, v) = w.next_bar(true);
            raw.push(day * 86_400, ohlc, v);
        }
    }
    raw
}

fn minutes(spec: &Spec, start_price: i64) -> RawColumns {
    let (open_min, len) = match spec.class {
        AssetClass::Equity => (14 * 60 + 30, 390),
        _ => (0, 1440),
    };
    let vol = spec.vol_ppm / isqrt(len);
    let drift = spec.drift_ppm / len;
    let seed = format!("{}/1m", spec.symbol);
    let mut w = walk(
        &seed,
        start_price,
        vol,
        drift,
        spec.revert_ppm / len,
        (spec.volume_base / len).max(1),
    );
    let days = (LAST_DAY - MINUTE_START) / 86_400 + 1;
    let mut raw =
        RawColumns::with_capacity((days * len) as usize, spec.price_scale, spec.volume_scale);
    for d in 0..days {
        let day = MINUTE_START / 86_400 + d;
        if trades_on(spec.class, day) {
            for m in 0..len {
                let (ohlc, v) = w.next_bar(false);
                raw.push(day * 86_400 + (open_min + m) * 60, ohlc, v);
            }
        }
    }
    raw
}

fn checked(raw: RawColumns) -> BarSeries {
    let r = BarSeries::from_raw(raw);
    debug_assert!(
        r.is_ok(),
        "demo generator produced a bad bar: {:?}",
        r.as_ref().err()
    );
    r.unwrap_or_default()
}

/// Every demo symbol with its `1d` and `1m` series.
pub fn entries() -> Vec<SymbolEntry> {
    SPECS
        .iter()
        .map(|spec| {
            let d = daily(spec);
            let before = d.ts.partition_point(|&t| t < MINUTE_START);
            let start = before
                .checked_sub(1)
                .map_or(spec.start_ticks, |i| d.close[i]);
            let mut series = BTreeMap::new();
            series.insert(Timeframe::D1, Arc::new(checked(d)));
            series.insert(Timeframe::M1, Arc::new(checked(minutes(spec, start))));
            SymbolEntry {
                symbol: spec.symbol.to_string(),
                asset_class: spec.class,
                exchange: Some(spec.exchange.to_string()),
                description: Some(format!("{} (synthetic demo data)", spec.name)),
                synthetic: true,
                series,
            }
        })
        .collect()
}

/// A long deterministic one-minute series, around the clock: `bars` bars from `start`
/// (Unix seconds) one minute apart, prices from 100.00 with two decimals. The same
/// `symbol_seed` always gives the same series. Used by benchmarks (1,000,000 bars).
pub fn minute_series(symbol_seed: &str, start: i64, bars: usize) -> BarSeries {
    let mut w = walk(symbol_seed, 10_000, 800, 0, 5, 1_000);
    let mut raw = RawColumns::with_capacity(bars, 2, 0);
    for i in 0..bars as i64 {
        let (ohlc, v) = w.next_bar(false);
        raw.push(start.saturating_add(i * 60), ohlc, v);
    }
    checked(raw)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
#[path = "demo_tests.rs"]
mod tests;
