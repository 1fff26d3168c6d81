//! Market-data speed: validation of session requests, demo generation, CSV loading.
//!
//! `cargo bench -p simutrador-server --bench validator` (release build, plain `Instant`;
//! figures go to docs/benchmarks.md, never into assertions).

use chrono::{TimeZone, Utc};
use shared_models::Timeframe;
use simutrador_server::market_data::csv::{read_csv_file, write_csv};
use simutrador_server::market_data::validator::count_bars;
use simutrador_server::market_data::{
    BarSeries, Catalog, MarketDataValidator, SharedCatalog, SymbolEntry, demo,
};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Run `f` repeatedly for about `budget` and return nanoseconds per call.
fn ns_per_op<T>(budget: Duration, mut f: impl FnMut() -> T) -> f64 {
    let mut iters = 1u64;
    loop {
        let t = Instant::now();
        for _ in 0..iters {
            black_box(f());
        }
        let el = t.elapsed();
        if el >= budget {
            return el.as_nanos() as f64 / iters as f64;
        }
        iters *= 2;
    }
}

/// Fail loudly when a benchmarked request is refused (we want the success path).
fn check<T, E: std::fmt::Display>(what: &str, r: Result<T, E>) -> Result<(), String> {
    r.map(|_| ()).map_err(|e| format!("{what}: {e}"))
}

fn report(name: &str, ns: f64) {
    if ns >= 1e6 {
        println!("{name:<58} {:>12.3} ms/op", ns / 1e6);
    } else if ns >= 1e3 {
        println!("{name:<58} {:>12.3} µs/op", ns / 1e3);
    } else {
        println!("{name:<58} {:>12.1} ns/op", ns);
    }
}

/// 50 symbols: `50 - crypto` on the demo equity calendar, `crypto` on the every-day one.
fn fifty_symbol_catalog(crypto: usize) -> (Catalog, Vec<String>) {
    let demo = Catalog::demo();
    let mut c = Catalog::empty();
    let mut names = Vec::new();
    for i in 0..50 {
        let src = if i < 50 - crypto { "ACME" } else { "BITDEMO" };
        let Some(mut e): Option<SymbolEntry> = demo.get(src).cloned() else {
            continue;
        };
        e.symbol = format!("SYM{i:02}");
        e.series.retain(|tf, _| *tf == Timeframe::D1);
        names.push(e.symbol.to_lowercase());
        c.insert(e);
    }
    (c, names)
}

/// 50 one-minute series on 50 different calendars (offset starts, different lengths).
fn fifty_calendars() -> Vec<BarSeries> {
    (0..50)
        .map(|i| {
            demo::minute_series(
                &format!("CAL{i}"),
                1_700_000_000 + i * 60 * 7,
                5_000 + i as usize,
            )
        })
        .collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let budget = Duration::from_millis(500);
    let now = Utc
        .with_ymd_and_hms(2025, 1, 15, 0, 0, 0)
        .single()
        .ok_or("bad date")?;
    println!("market-data benchmarks (release, std::time::Instant)\n");

    report(
        "demo catalog generation (8 symbols, 1d + 1m)",
        ns_per_op(Duration::from_secs(2), Catalog::demo),
    );
    let demo_cat = Catalog::demo();
    println!(
        "  demo: {} bars, {} bytes held = {:.1} bytes/bar",
        demo_cat.bar_count(),
        demo_cat.memory_bytes(),
        demo_cat.memory_bytes() as f64 / demo_cat.bar_count() as f64
    );

    let v = MarketDataValidator::new(SharedCatalog::shared(demo_cat), 50);
    let one = vec!["acme".to_string()];
    report(
        "validate 1 symbol, 1d, 2015-01-01..2020-12-31",
        ns_per_op(budget, || {
            v.validate(&one, None, "2015-01-01", "2020-12-31", now)
        }),
    );
    report(
        "validate 1 symbol, 1m, one December week",
        ns_per_op(budget, || {
            v.validate(&one, Some("1m"), "2024-12-02", "2024-12-08", now)
        }),
    );
    check(
        "1 symbol",
        v.validate(&one, None, "2015-01-01", "2020-12-31", now),
    )?;
    let all: Vec<String> = demo::SYMBOLS.iter().map(|s| s.to_string()).collect();
    report(
        "validate 8 demo symbols, 1m, 2024-12-02..2024-12-31",
        ns_per_op(budget, || {
            v.validate(&all, Some("1m"), "2024-12-02", "2024-12-31", now)
        }),
    );

    let (one_cal, names) = fifty_symbol_catalog(0);
    let v1 = MarketDataValidator::new(SharedCatalog::shared(one_cal), 50);
    report(
        "validate 50 symbols (1 calendar), 1d, 2015..2020",
        ns_per_op(budget, || {
            v1.validate(&names, None, "2015-01-01", "2020-12-31", now)
        }),
    );
    let (c50, names) = fifty_symbol_catalog(10);
    let v50 = MarketDataValidator::new(SharedCatalog::shared(c50), 50);
    report(
        "validate 50 symbols (40 weekday + 10 every-day), 1d",
        ns_per_op(budget, || {
            v50.validate(&names, None, "2015-01-01", "2020-12-31", now)
        }),
    );
    let c50 = v50.catalog();
    let series: Vec<&BarSeries> = names
        .iter()
        .filter_map(|n| {
            c50.series(&n.to_uppercase(), Timeframe::D1)
                .map(|a| a.as_ref())
        })
        .collect();
    let (first, last) = (1_420_070_400, 1_609_459_199);
    report(
        "  bar_count without the calendar index (2-way merge)",
        ns_per_op(budget, || count_bars(&series, first, last)),
    );
    let cals = fifty_calendars();
    let refs: Vec<&BarSeries> = cals.iter().collect();
    report(
        "  bar_count merge, 50 distinct 1m calendars (~5k bars each)",
        ns_per_op(budget, || count_bars(&refs, i64::MIN, i64::MAX)),
    );

    let dir = tempfile::tempdir()?;
    let path = dir.path().join("BENCH.csv");
    let s = demo::minute_series("BENCH", 1_700_000_000, 100_000);
    let mut f = std::fs::File::create(&path)?;
    write_csv(&s, &mut f)?;
    report(
        "load a 100k-bar CSV (canonical, 1m)",
        ns_per_op(Duration::from_secs(2), || {
            read_csv_file(&path).map(|s| s.len())
        }),
    );
    let big = demo::minute_series("BENCH", 0, 1_000_000);
    println!(
        "  1,000,000-bar series: {:.1} bytes/bar",
        big.memory_bytes() as f64 / big.len() as f64
    );
    report(
        "generate 1,000,000 one-minute bars",
        ns_per_op(Duration::from_secs(2), || {
            demo::minute_series("BENCH", 0, 1_000_000).len()
        }),
    );
    Ok(())
}
