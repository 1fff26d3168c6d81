//! Tests of catalog loading, listing and merging.

use super::*;
use std::fs;

const GOOG: &str = ",Open,High,Low,Close,Volume\n2004-08-19,100,104.06,95.96,100.34,22351900\n2004-08-20,101.01,109.08,100.5,108.31,11428600\n";
const EURUSD: &str = "timestamp,open,high,low,close,volume\n2017-04-19 09:00:00,1.0716,1.0722,1.07083,1.07219,1413\n2017-04-19 10:00:00,1.07214,1.07296,1.07214,1.0726,1241\n";

fn data_dir(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (rel, text) in files {
        let p = dir.path().join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }
    dir
}

#[test]
fn loads_folders_and_symbols_toml() {
    let dir = data_dir(&[
        ("daily/goog.csv", GOOG),
        ("1h/EURUSD.csv", EURUSD),
        ("1h/GOOG.csv", EURUSD),
        ("1h/notes.txt", "ignored"),
        (
            "symbols.toml",
            "[EURUSD]\nasset_class = \"forex\"\ndescription = \"Euro\"\n[GOOG]\nexchange = \"NASDAQ\"\n",
        ),
    ]);
    let c = Catalog::load_dir(dir.path()).unwrap();
    assert_eq!(c.symbol_count(), 2);
    assert_eq!(c.bar_count(), 6);
    let goog = c.get("GOOG").unwrap();
    assert_eq!(goog.asset_class, AssetClass::Equity);
    assert_eq!(goog.exchange.as_deref(), Some("NASDAQ"));
    assert!(!goog.synthetic);
    assert_eq!(
        goog.timeframes().collect::<Vec<_>>(),
        [Timeframe::H1, Timeframe::D1]
    );
    assert_eq!(c.get("EURUSD").unwrap().asset_class, AssetClass::Forex);
    assert!(c.get("goog").is_none(), "lookups take normalized names");

    let list = c.list(None, None);
    assert_eq!(
        list.iter().map(|s| s.symbol.as_str()).collect::<Vec<_>>(),
        ["EURUSD", "GOOG"]
    );
    assert_eq!(c.list(Some(AssetClass::Forex), None).len(), 1);
    assert_eq!(c.list(None, Some(Timeframe::D1)).len(), 1);
    assert_eq!(c.list(Some(AssetClass::Crypto), None).len(), 0);

    let r = c.symbol_range("GOOG", Timeframe::D1).unwrap();
    assert_eq!(
        (r.bars, r.first.to_rfc3339()),
        (2, "2004-08-19T00:00:00+00:00".to_string())
    );
    assert!(c.symbol_range("GOOG", Timeframe::M1).is_none());
    // Same timestamps at one timeframe: one shared column.
    let (a, b) = (
        c.series("GOOG", Timeframe::H1).unwrap(),
        c.series("EURUSD", Timeframe::H1).unwrap(),
    );
    assert!(a.shares_timestamps_with(b));
}

#[test]
fn layout_mistakes_are_named() {
    let e = Catalog::load_dir(data_dir(&[("2d/X.csv", GOOG)]).path())
        .unwrap_err()
        .to_string();
    assert!(e.contains("unknown timeframe folder '2d'"), "{e}");
    let e = Catalog::load_dir(data_dir(&[("1d/X.csv", GOOG), ("daily/x.csv", GOOG)]).path())
        .unwrap_err()
        .to_string();
    assert!(e.contains("same symbol and timeframe"), "{e}");
    let e = Catalog::load_dir(
        data_dir(&[
            ("1d/X.csv", GOOG),
            ("symbols.toml", "[X]\nclass = \"equity\"\n"),
        ])
        .path(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("symbols.toml") && e.contains("class"), "{e}");
    let e = Catalog::load_dir(
        data_dir(&[("1d/X.csv", "date,open,high,low,close\n2020-01-01,1,2,3,1\n")]).path(),
    )
    .unwrap_err();
    assert!(matches!(e, MarketDataError::Parse { line: 2, .. }), "{e}");
    assert!(matches!(
        Catalog::load_dir(Path::new("/nonexistent/simutrador")),
        Err(MarketDataError::Io { .. })
    ));
    let e = Catalog::load_dir(data_dir(&[("1d/bad name!.csv", GOOG)]).path())
        .unwrap_err()
        .to_string();
    assert!(e.contains("not a valid symbol"), "{e}");
}

#[test]
fn extend_replaces_symbol_and_timeframe() {
    let mut c = Catalog::demo();
    let before = c.symbol_count();
    let mine = Catalog::load_dir(data_dir(&[("1d/ACME.csv", GOOG), ("1h/NEW.csv", EURUSD)]).path())
        .unwrap();
    c.extend(mine);
    assert_eq!(c.symbol_count(), before + 1);
    let acme = c.get("ACME").unwrap();
    assert!(!acme.synthetic);
    assert_eq!(acme.series[&Timeframe::D1].len(), 2);
    assert!(
        acme.series.contains_key(&Timeframe::M1),
        "other timeframes stay"
    );
    assert!(Catalog::empty().list(None, None).is_empty());
    assert!(c.memory_bytes() <= 64 * c.bar_count() as usize);
}

#[test]
#[ignore = "reads /work/shared/data; run by hand"]
fn real_files_load() {
    let dir = tempfile::tempdir().unwrap();
    for (tf, f) in [("1d", "GOOG"), ("1h", "EURUSD"), ("1mo", "BTCUSD")] {
        fs::create_dir_all(dir.path().join(tf)).unwrap();
        fs::copy(
            format!("/work/shared/data/{f}.csv"),
            dir.path().join(tf).join(format!("{f}.csv")),
        )
        .unwrap();
    }
    let c = Catalog::load_dir(dir.path()).unwrap();
    for s in c.list(None, None) {
        println!("{s:?}");
    }
    assert_eq!(c.bar_count(), 2148 + 5000 + 156);
}
