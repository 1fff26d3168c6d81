//! Tests of the market-data validator: error codes, details and date edge cases.

use super::*;
use crate::market_data::SymbolEntry;
use crate::market_data::bars::RawColumns;
use chrono::TimeZone;
use shared_models::AssetClass;
use std::collections::BTreeMap;

const JAN1: i64 = 1_577_836_800; // 2020-01-01, a Wednesday

fn daily(days: i64, weekdays_only: bool) -> Arc<BarSeries> {
    let mut raw = RawColumns::with_capacity(0, 2, 0);
    for d in 0..days {
        let day = JAN1 / 86_400 + d;
        if !weekdays_only || (day + 3) % 7 < 5 {
            raw.push(day * 86_400, [100, 110, 90, 105], 10);
        }
    }
    Arc::new(BarSeries::from_raw(raw).unwrap())
}

fn entry(symbol: &str, series: &[(Timeframe, Arc<BarSeries>)]) -> SymbolEntry {
    SymbolEntry {
        symbol: symbol.into(),
        asset_class: AssetClass::Equity,
        exchange: None,
        description: None,
        synthetic: false,
        series: series.iter().cloned().collect::<BTreeMap<_, _>>(),
    }
}

fn validator() -> MarketDataValidator {
    let mut c = Catalog::empty();
    c.insert(entry("EQ", &[(Timeframe::D1, daily(31, true))]));
    c.insert(entry("EQ2", &[(Timeframe::D1, daily(31, true))]));
    c.insert(entry("CR", &[(Timeframe::D1, daily(31, false))]));
    c.insert(entry(
        "BRK.B",
        &[
            (Timeframe::D1, daily(10, false)),
            (Timeframe::H1, daily(10, false)),
        ],
    ));
    c.insert(entry("MIN", &[(Timeframe::M1, daily(5, false))]));
    MarketDataValidator::new(SharedCatalog::shared(c), 3)
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2020, 1, 15, 12, 0, 0).unwrap()
}

fn syms(s: &[&str]) -> Vec<String> {
    s.iter().map(|s| s.to_string()).collect()
}

fn ok(s: &[&str], tf: Option<&str>, a: &str, b: &str) -> ValidatedRange {
    validator().validate(&syms(s), tf, a, b, now()).unwrap()
}

fn err(s: &[&str], tf: Option<&str>, a: &str, b: &str) -> crate::error::ApiError {
    validator().validate(&syms(s), tf, a, b, now()).unwrap_err()
}

#[test]
fn symbols_are_normalized_and_deduplicated() {
    let r = ok(
        &[" eq", "brk.b", "EQ ", "Eq"],
        None,
        "2020-01-01",
        "2020-01-10",
    );
    assert_eq!(r.symbols, ["EQ", "BRK.B"]);
    assert_eq!(r.timeframe, Timeframe::D1);
    assert_eq!(r.start.to_string(), "2020-01-01");
    assert_eq!(r.first_second(), JAN1);
    assert_eq!(r.last_second(), JAN1 + 10 * 86_400 - 1);
}

#[test]
fn symbol_errors() {
    let e = err(&[], None, "2020-01-01", "2020-01-02");
    assert_eq!(e.error_code, ErrorCode::InvalidSymbol);
    assert!(e.message.contains("at least one symbol"));

    let e = err(
        &["EQ", "CR", "EQ2", "BRK.B"],
        None,
        "2020-01-01",
        "2020-01-02",
    );
    assert_eq!(e.error_code, ErrorCode::TooManySymbols);
    assert_eq!(e.details, json!({"count": 4, "max": 3}));
    // Duplicates do not count against the limit.
    ok(&["EQ", "eq", "CR", "EQ2"], None, "2020-01-01", "2020-01-02");

    let e = err(&["nope", "bad sym", ""], None, "2020-01-01", "2020-01-02");
    assert_eq!(e.error_code, ErrorCode::InvalidSymbol);
    assert_eq!(e.details["invalid_symbols"], json!(["NOPE", "BAD SYM", ""]));
    assert!(
        e.details["reasons"]["NOPE"]
            .as_str()
            .unwrap()
            .contains("not in the catalog")
    );
    assert!(
        e.details["reasons"]["BAD SYM"]
            .as_str()
            .unwrap()
            .contains("malformed")
    );

    let long = "A".repeat(25);
    let e = err(&[&long], None, "2020-01-01", "2020-01-02");
    assert_eq!(e.details["invalid_symbols"], json!([long]));
    let e = err(
        &["X".repeat(1000).as_str()],
        None,
        "2020-01-01",
        "2020-01-02",
    );
    assert!(
        e.message.len() < 200,
        "long input is clipped: {}",
        e.message
    );
}

#[test]
fn symbol_format() {
    for good in [
        "A",
        "BRK.B",
        "EUR/USD",
        "A^B",
        "ES=F",
        "0700",
        "A_B-C",
        &"Z".repeat(24),
    ] {
        assert!(is_valid_symbol(good), "{good}");
    }
    for bad in [
        "",
        ".A",
        "a",
        "A B",
        "É",
        "A$",
        "^GSPC",
        &"Z".repeat(25),
        "-A",
    ] {
        assert!(!is_valid_symbol(bad), "{bad}");
    }
}

#[test]
fn timeframe_errors() {
    let e = err(&["EQ"], Some("2d"), "2020-01-01", "2020-01-02");
    assert_eq!(e.error_code, ErrorCode::InvalidTimeframe);
    assert_eq!(e.details["allowed"][6], "1d");

    let e = err(
        &["EQ", "MIN", "BRK.B"],
        Some("1h"),
        "2020-01-01",
        "2020-01-02",
    );
    assert_eq!(e.error_code, ErrorCode::InvalidTimeframe);
    assert_eq!(
        e.details["available_timeframes"],
        json!({"EQ": ["1d"], "MIN": ["1m"]})
    );
    assert!(
        e.message.contains("EQ has 1d") && e.message.contains("MIN has 1m"),
        "{}",
        e.message
    );
    assert_eq!(
        ok(&["brk.b"], Some("daily"), "2020-01-01", "2020-01-02").timeframe,
        Timeframe::D1
    );
}

#[test]
fn date_errors() {
    let code = |a: &str, b: &str| err(&["EQ"], None, a, b).error_code;
    for (a, b) in [
        ("2021-02-30", "2020-01-02"),
        ("2020-01-01", "soon"),
        ("", "2020-01-02"),
    ] {
        assert_eq!(code(a, b), ErrorCode::InvalidDateRange, "{a}..{b}");
    }
    let e = err(&["EQ"], None, "2020-02-30", "2020-01-02");
    assert!(e.message.contains("YYYY-MM-DD"), "{}", e.message);
    assert_eq!(e.details["field"], "start_date");

    let e = err(&["EQ"], None, "2020-01-10", "2020-01-09");
    assert!(e.message.contains("after"), "{}", e.message);
    let e = err(
        &["EQ"],
        None,
        "2020-01-02T10:00:00Z",
        "2020-01-02T09:00:00Z",
    );
    assert!(e.message.contains("after"), "{}", e.message);

    let e = err(&["EQ"], None, "2020-01-02", "2020-01-16");
    assert!(
        e.message.contains("future") && e.details["today"] == "2020-01-15",
        "{}",
        e.message
    );
    // Today itself is not the future.
    ok(&["EQ"], None, "2020-01-02", "2020-01-15");
}

#[test]
fn range_must_lie_inside_the_data() {
    let v = validator();
    let later = Utc.with_ymd_and_hms(2021, 1, 1, 0, 0, 0).unwrap();
    let e = v
        .validate(
            &syms(&["EQ", "BRK.B"]),
            None,
            "2019-12-31",
            "2020-01-05",
            later,
        )
        .unwrap_err();
    assert_eq!(e.error_code, ErrorCode::InvalidDateRange);
    assert_eq!(
        e.details["available"]["EQ"],
        json!({"first": "2020-01-01T00:00:00Z", "last": "2020-01-31T00:00:00Z"})
    );
    assert_eq!(
        e.details["available"]["BRK.B"]["last"],
        "2020-01-10T00:00:00Z"
    );
    assert!(
        e.message
            .contains("EQ has 1d data from 2020-01-01 to 2020-01-31"),
        "{}",
        e.message
    );
    let e = v
        .validate(&syms(&["BRK.B"]), None, "2020-01-05", "2020-01-11", later)
        .unwrap_err();
    assert!(e.message.contains("2020-01-10"), "{}", e.message);
    // The first and the last day themselves are inside.
    v.validate(&syms(&["EQ"]), None, "2020-01-01", "2020-01-31", later)
        .unwrap();
}

#[test]
fn inclusive_ends_and_one_day_ranges() {
    // 2020-01-01 (Wed) .. 2020-01-03 (Fri): three bars, both ends counted.
    assert_eq!(ok(&["EQ"], None, "2020-01-01", "2020-01-03").bar_count, 3);
    assert_eq!(ok(&["EQ"], None, "2020-01-02", "2020-01-02").bar_count, 1);
    assert_eq!(
        ok(
            &["EQ"],
            None,
            "2020-01-02T00:00:00Z",
            "2020-01-02T00:00:00Z"
        )
        .bar_count,
        1
    );
    assert_eq!(
        ok(&["EQ"], None, "2020-01-02T00:00:01Z", "2020-01-03").bar_count,
        1
    );
    // A weekend holds no equity bar.
    let e = err(&["EQ"], None, "2020-01-04", "2020-01-05");
    assert_eq!(e.error_code, ErrorCode::InvalidDateRange);
    assert!(e.message.contains("no 1d bar"), "{}", e.message);
}

#[test]
fn bar_count_merges_calendars() {
    // Jan 1..12: 8 weekdays for EQ, 12 days for CR; the union is 12.
    assert_eq!(ok(&["EQ"], None, "2020-01-01", "2020-01-12").bar_count, 8);
    assert_eq!(ok(&["CR"], None, "2020-01-01", "2020-01-12").bar_count, 12);
    assert_eq!(
        ok(&["EQ", "CR"], None, "2020-01-01", "2020-01-12").bar_count,
        12
    );
    assert_eq!(
        ok(&["EQ", "EQ2"], None, "2020-01-01", "2020-01-12").bar_count,
        8
    );
    // The weekend alone: only CR trades, still valid for the pair.
    assert_eq!(
        ok(&["EQ", "CR"], None, "2020-01-04", "2020-01-05").bar_count,
        2
    );

    let a = [10, 20, 30, 40];
    let b = [15, 20, 35, 40, 50];
    let c = [5];
    let sa = series_of(&a);
    let sb = series_of(&b);
    let sc = series_of(&c);
    assert_eq!(count_bars(&[&sa, &sb, &sc], 0, 100), 8);
    assert_eq!(count_bars(&[&sa, &sb], 20, 40), 4);
    assert_eq!(count_bars(&[], 0, 100), 0);
}

fn series_of(ts: &[i64]) -> BarSeries {
    let mut raw = RawColumns::with_capacity(ts.len(), 0, 0);
    for &t in ts {
        raw.push(t, [1, 1, 1, 1], 0);
    }
    BarSeries::from_raw(raw).unwrap()
}

#[test]
fn demo_catalog_validates() {
    let v = MarketDataValidator::new(SharedCatalog::shared(Catalog::demo()), 50);
    let now = Utc.with_ymd_and_hms(2025, 6, 1, 0, 0, 0).unwrap();
    let all = syms(&super::super::demo::SYMBOLS);
    let r = v
        .validate(&all, Some("1m"), "2024-12-02", "2024-12-02", now)
        .unwrap();
    assert_eq!(r.bar_count, 1440);
    let r = v
        .validate(&all, None, "2024-12-28", "2024-12-29", now)
        .unwrap();
    assert_eq!(r.bar_count, 2, "the weekend has crypto bars only");
}

#[test]
fn demo_calendars_nest() {
    let c = Catalog::demo();
    let a = c.series("ACME", Timeframe::D1).unwrap();
    let b = c.series("BITDEMO", Timeframe::D1).unwrap();
    assert!(c.calendars().contains(a, b));
    assert!(!c.calendars().contains(b, a));
    let am = c.series("ACME", Timeframe::M1).unwrap();
    let fm = c.series("FXEUR", Timeframe::M1).unwrap();
    assert!(
        c.calendars().contains(am, fm),
        "equity hours lie inside forex hours"
    );
}
