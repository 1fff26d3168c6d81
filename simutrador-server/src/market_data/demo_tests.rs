//! Tests of the demo data generator.

use super::*;
use crate::market_data::Catalog;
use crate::market_data::timefmt::day_of;

#[test]
fn two_generations_are_identical() {
    let (a, b) = (entries(), entries());
    assert_eq!(a.len(), SYMBOLS.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.symbol, y.symbol);
        for (tf, s) in &x.series {
            let t = &y.series[tf];
            assert_eq!(s.timestamps(), t.timestamps());
            assert_eq!(s.closes(), t.closes());
            assert_eq!(s.volumes(), t.volumes());
        }
    }
}

#[test]
fn spot_check_pins_the_generator() {
    // If this fails the demo data changed: every user's demo results change with it.
    let c = Catalog::demo();
    let acme = c.series("ACME", Timeframe::D1).unwrap();
    assert_eq!(acme.first_ts(), Some(DAILY_START));
    assert_eq!(acme.price_scale(), 2);
    let b = acme.bar(0);
    assert_eq!(b.time, DAILY_START);
    assert_eq!(
        (b.candle.open.to_string(), b.candle.close.to_string()),
        (SPOT.0.to_string(), SPOT.1.to_string())
    );
    let s = minute_series("BENCH", 0, 1000);
    assert_eq!(s.closes()[999], SPOT.2);
}

const SPOT: (&str, &str, i64) = ("49.94", "49.40", 10_041);

#[test]
fn calendars_follow_the_asset_class() {
    let c = Catalog::demo();
    for sym in SYMBOLS {
        let e = c.get(sym).unwrap();
        assert!(e.synthetic);
        assert!(
            e.description
                .as_deref()
                .unwrap()
                .contains("synthetic demo data")
        );
        let d = &e.series[&Timeframe::D1];
        let m = &e.series[&Timeframe::M1];
        assert_eq!(d.last_ts(), Some(LAST_DAY));
        // 2024-12-01 is a Sunday.
        let first_day = if e.asset_class == AssetClass::Crypto {
            "2024-12-01"
        } else {
            "2024-12-02"
        };
        assert_eq!(
            day_of(m.first_ts().unwrap()).to_string(),
            first_day,
            "{sym}"
        );
        assert_eq!(day_of(m.last_ts().unwrap()).to_string(), "2024-12-31");
        let weekend = d.timestamps().iter().any(|&t| weekday(t / 86_400) >= 5);
        assert_eq!(weekend, e.asset_class == AssetClass::Crypto, "{sym}");
        let per_day = match e.asset_class {
            AssetClass::Equity => 390 * 22,
            AssetClass::Forex => 1440 * 22,
            AssetClass::Crypto => 1440 * 31,
        };
        assert_eq!(m.len(), per_day, "{sym}");
        assert!(d.len() > 3_900, "{sym}: at least 15 years of weekdays");
        assert!(d.volumes().iter().chain(m.volumes()).all(|&v| v > 0));
    }
    let first = c.series("ACME", Timeframe::M1).unwrap().first_ts().unwrap();
    assert_eq!(first % 86_400, 14 * 3600 + 30 * 60);
    // Equities and forex share one daily calendar column.
    let (a, f) = (
        c.series("ACME", Timeframe::D1).unwrap(),
        c.series("FXEUR", Timeframe::D1).unwrap(),
    );
    assert!(a.shares_timestamps_with(f));
}

#[test]
fn minute_series_is_long_and_consistent() {
    let s = minute_series("X", 1_700_000_000, 10_000);
    assert_eq!(s.len(), 10_000);
    assert_eq!(s.timestamps()[1] - s.timestamps()[0], 60);
    assert_eq!(
        minute_series("X", 1_700_000_000, 10_000).closes(),
        s.closes()
    );
    assert_ne!(
        minute_series("Y", 1_700_000_000, 10_000).closes(),
        s.closes()
    );
    assert!(s.memory_bytes() <= 64 * s.len());
}
