//! The data check of a run: a session built on the bars it was created on runs; on other
//! bars (a re-imported symbol, a symbol gone) `build` refuses with `DATA_CHANGED`; a session
//! journaled before fingerprints existed loads without one and is not checked.

use shared_models::{ErrorCode, Timeframe};
use std::collections::BTreeMap;
use std::sync::Arc;

use super::start;
use super::test_harness::{catalog, session};
use crate::market_data::bars::RawColumns;
use crate::market_data::{BarSeries, Catalog, DataFingerprint, SymbolEntry};
use crate::session::limits::RiskLimits;
use crate::session::store::StoredSession;
use crate::session::store::record::Record;
use crate::session::test_support::params;

const YEAR_2020: (i64, i64) = (1_577_836_800, 1_609_459_199);

fn fingerprint(catalog: &Catalog) -> DataFingerprint {
    let p = params();
    DataFingerprint::of_catalog(catalog, &p.symbols, p.timeframe, YEAR_2020.0, YEAR_2020.1).unwrap()
}

/// The built-in catalog with ACME daily replaced by `closes` (one bar a day from 2020-01-01).
fn re_imported(closes: &[i64]) -> Catalog {
    let mut c = catalog().clone();
    let mut raw = RawColumns::with_capacity(closes.len(), 2, 0);
    for (i, x) in closes.iter().enumerate() {
        raw.push(YEAR_2020.0 + 86_400 * i as i64, [*x; 4], 100);
    }
    let mut entry: SymbolEntry = c.get("ACME").unwrap().clone();
    entry.series = BTreeMap::from([(Timeframe::D1, Arc::new(BarSeries::from_raw(raw).unwrap()))]);
    c.insert(entry);
    c
}

#[test]
fn a_run_is_built_only_on_the_bars_its_session_was_created_on() {
    let s = session(RiskLimits::none()).with_data(Some(fingerprint(catalog())));
    assert!(start::build(&s, catalog()).is_ok());

    let changed = re_imported(&[10_000, 10_100, 10_200]);
    let e = start::build(&s, &changed).unwrap_err();
    assert_eq!(e.error_code, ErrorCode::DataChanged);
    assert!(
        e.message.contains("ACME 1d:") && e.message.contains("session fork s-1"),
        "{}",
        e.message
    );
    assert_eq!(e.details["changes"].as_array().unwrap().len(), 1);
    assert_eq!(e.details["fingerprint"], fingerprint(catalog()).digest());

    let e = start::build(&s, &Catalog::empty()).unwrap_err();
    assert_eq!(e.error_code, ErrorCode::DataChanged);
    assert!(
        e.message.contains("no longer in the catalog"),
        "{}",
        e.message
    );

    // Without a fingerprint (an old journal) nothing is checked.
    let old = session(RiskLimits::none());
    assert!(start::build(&old, &changed).is_ok());
}

#[test]
fn the_fingerprint_survives_the_journal_and_old_journals_load_without_it() {
    let data = fingerprint(catalog());
    let saved = Record::Saved {
        user_id: "alice".into(),
        params: params(),
        bar_count: 253,
        limits: RiskLimits::none(),
        created_at: chrono::Utc::now(),
        data: Some(data.clone()),
    };
    let line = serde_json::to_string(&saved).unwrap();
    let back: Record = serde_json::from_str(&line).unwrap();
    assert_eq!(back, saved);
    let stored = StoredSession::fold("s-1", [back]).unwrap();
    assert_eq!(stored.data, Some(data));

    // A saved record written before fingerprints existed.
    let mut old: serde_json::Value = serde_json::from_str(&line).unwrap();
    old.as_object_mut().unwrap().remove("data");
    let old: Record = serde_json::from_value(old).unwrap();
    assert_eq!(StoredSession::fold("s-1", [old]).unwrap().data, None);
}
