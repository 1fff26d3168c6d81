//! Checks the market-data side of a session request (symbols, timeframe, dates) against the
//! catalog held in memory ([`SharedCatalog`]: one snapshot per request, so a reload in the
//! middle of a check is not seen half-way). Never re-reads files.
//!
//! Order of checks, first failure wins: symbol list empty (`INVALID_SYMBOL`) or too long
//! (`TOO_MANY_SYMBOLS`); timeframe unparsable (`INVALID_TIMEFRAME`); malformed or unknown
//! symbols, all collected (`INVALID_SYMBOL`); symbols without that timeframe
//! (`INVALID_TIMEFRAME`); dates unparsable, reversed, in the future, outside a symbol's data, or
//! holding no bar (`INVALID_DATE_RANGE`).
//!
//! Ranges are inclusive at both ends: `start.first_second() ..= end.last_second()`, so
//! `2020-01-02..2020-01-02` is the whole of 2 January (UTC).

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use shared_models::Timeframe;
use shared_models::dates::DateBound;
use std::sync::Arc;

use super::calendar::{FnvHasher, count_distinct};
use super::timefmt::{day_of, days_since_epoch, format_rfc3339, parse_date_bound};
use super::{BarSeries, Catalog, SharedCatalog};
use crate::error::{ApiResult, ErrorCode, api_error};
use std::hash::Hasher;

/// The market-data part of a request, normalized and checked.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidatedRange {
    /// Upper-case symbols, first occurrence order, duplicates removed.
    pub symbols: Vec<String>,
    /// Bar size.
    pub timeframe: Timeframe,
    /// Start bound (inclusive).
    pub start: DateBound,
    /// End bound (inclusive).
    pub end: DateBound,
    /// Distinct bar times across the symbols within the range (= ticks to replay).
    pub bar_count: u64,
}

impl ValidatedRange {
    /// First Unix second of the range (inclusive).
    pub fn first_second(&self) -> i64 {
        self.start.first_second()
    }
    /// Last Unix second of the range (inclusive).
    pub fn last_second(&self) -> i64 {
        self.end.last_second()
    }
}

pub use shared_models::market::{is_valid_symbol, normalize_symbol};

fn symbol_hash(s: &str) -> u64 {
    let mut h = FnvHasher::default();
    h.write(s.as_bytes());
    h.finish()
}

/// Checks symbols, timeframe and dates against the catalog. Never re-reads files.
#[derive(Debug, Clone)]
pub struct MarketDataValidator {
    catalog: Arc<SharedCatalog>,
    max_symbols: usize,
}

impl MarketDataValidator {
    /// A validator over `catalog` allowing at most `max_symbols` per request.
    pub fn new(catalog: Arc<SharedCatalog>, max_symbols: usize) -> Self {
        MarketDataValidator {
            catalog,
            max_symbols,
        }
    }
    /// The catalog as it is now (a snapshot: keep it for the whole request).
    pub fn catalog(&self) -> Arc<Catalog> {
        self.catalog.snapshot()
    }
    /// The swappable catalog this validator checks against.
    pub fn shared(&self) -> &Arc<SharedCatalog> {
        &self.catalog
    }
    /// The largest number of distinct symbols a request may name.
    pub fn max_symbols(&self) -> usize {
        self.max_symbols
    }
    /// Validate a request. `timeframe` `None` means `1d`. Errors: `TOO_MANY_SYMBOLS`,
    /// `INVALID_SYMBOL` (`details.invalid_symbols`), `INVALID_TIMEFRAME`,
    /// `INVALID_DATE_RANGE` (`details.available` per symbol).
    pub fn validate(
        &self,
        symbols: &[String],
        timeframe: Option<&str>,
        start: &str,
        end: &str,
        now: DateTime<Utc>,
    ) -> ApiResult<ValidatedRange> {
        self.validate_on(&self.catalog(), symbols, timeframe, start, end, now)
    }

    /// [`MarketDataValidator::validate`] against `catalog`, a snapshot the caller keeps (to
    /// fingerprint the same bars it validated).
    pub fn validate_on(
        &self,
        catalog: &Catalog,
        symbols: &[String],
        timeframe: Option<&str>,
        start: &str,
        end: &str,
        now: DateTime<Utc>,
    ) -> ApiResult<ValidatedRange> {
        let symbols = self.normalize_list(symbols)?;
        let tf = parse_timeframe(timeframe)?;
        let series = Self::lookup(catalog, &symbols, tf)?;
        let (start, end) = parse_range(start, end, now)?;
        check_available(&symbols, &series, tf, &start, &end)?;
        let (first, last) = (start.first_second(), end.last_second());
        let bar_count = count_distinct(&series, first, last, Some(catalog.calendars()));
        if bar_count == 0 {
            return Err(api_error(
                ErrorCode::InvalidDateRange,
                format!(
                    "there is no {tf} bar from {start} to {end} (a weekend or holiday?); widen the range"
                ),
                json!({"start": start.to_string(), "end": end.to_string()}),
            ));
        }
        Ok(ValidatedRange {
            symbols,
            timeframe: tf,
            start,
            end,
            bar_count,
        })
    }

    fn normalize_list(&self, raw: &[String]) -> ApiResult<Vec<String>> {
        if raw.is_empty() {
            return Err(api_error(
                ErrorCode::InvalidSymbol,
                "give at least one symbol",
                json!({"invalid_symbols": [], "reasons": {}}),
            ));
        }
        let mut out: Vec<String> = Vec::with_capacity(raw.len().min(self.max_symbols + 1));
        // Duplicates: compare hashes first (on the stack for the usual ≤ 64 symbols).
        let mut hashes = [0u64; 64];
        let mut seen = std::collections::HashSet::new();
        for s in raw {
            let n = normalize_symbol(s);
            let dup = if raw.len() <= hashes.len() {
                let h = symbol_hash(&n);
                let k = out.len();
                // Branch-free scan of the hashes (vectorizes); strings only on a hash match.
                let hit = hashes[..k].iter().fold(false, |acc, &x| acc | (x == h));
                let dup = hit && (0..k).any(|i| hashes[i] == h && out[i] == n);
                hashes[k] = h;
                dup
            } else {
                !seen.insert(n.clone())
            };
            if !dup {
                out.push(n);
            }
        }
        if out.len() > self.max_symbols {
            return Err(api_error(
                ErrorCode::TooManySymbols,
                format!(
                    "{} symbols requested but a session may have at most {}; split the request",
                    out.len(),
                    self.max_symbols
                ),
                json!({"count": out.len(), "max": self.max_symbols}),
            ));
        }
        Ok(out)
    }

    fn lookup<'a>(
        catalog: &'a Catalog,
        symbols: &[String],
        tf: Timeframe,
    ) -> ApiResult<Vec<&'a BarSeries>> {
        let mut found = Vec::with_capacity(symbols.len());
        let mut bad: Vec<(&str, String)> = Vec::new();
        let mut missing_tf = Map::new();
        for s in symbols {
            let Some(entry) = is_valid_symbol(s).then(|| catalog.get(s)).flatten() else {
                let reason = if is_valid_symbol(s) {
                    "not in the catalog; list_symbols shows the symbols this server has"
                } else {
                    "malformed: use 1 to 24 of A-Z 0-9 . _ - / ^ =, starting with a letter or digit"
                };
                bad.push((s, reason.to_string()));
                continue;
            };
            match entry.series.get(&tf) {
                Some(series) => found.push(series.as_ref()),
                None => {
                    let have: Vec<&str> = entry.timeframes().map(Timeframe::as_str).collect();
                    missing_tf.insert(s.clone(), json!(have));
                }
            }
        }
        if !bad.is_empty() {
            let shown: Vec<String> = bad.iter().map(|(s, _)| clip(s)).collect();
            let reasons: Map<String, Value> = bad
                .iter()
                .map(|(s, r)| (clip(s), Value::from(r.as_str())))
                .collect();
            let msg = match bad.as_slice() {
                [(s, r)] => format!("symbol '{}' is {r}", clip(s)),
                _ => format!(
                    "{} symbols are invalid: {}; see details.reasons",
                    bad.len(),
                    shown.join(", ")
                ),
            };
            return Err(api_error(
                ErrorCode::InvalidSymbol,
                msg,
                json!({"invalid_symbols": shown, "reasons": reasons}),
            ));
        }
        if !missing_tf.is_empty() {
            let list: Vec<String> = missing_tf
                .iter()
                .map(|(s, v)| format!("{s} has {}", join_tfs(v)))
                .collect();
            return Err(api_error(
                ErrorCode::InvalidTimeframe,
                format!(
                    "no {tf} data for {}; pick a timeframe every symbol has",
                    list.join("; ")
                ),
                json!({"timeframe": tf.as_str(), "available_timeframes": missing_tf}),
            ));
        }
        Ok(found)
    }
}

fn join_tfs(v: &Value) -> String {
    let tfs: Vec<&str> = v
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    if tfs.is_empty() {
        "no bars".into()
    } else {
        tfs.join(", ")
    }
}

/// At most 40 characters of a user-supplied string, for messages and details.
fn clip(s: &str) -> String {
    match s.char_indices().nth(40) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// A timeframe from a request (`None` means `1d`); `INVALID_TIMEFRAME` with the allowed
/// spellings otherwise.
pub fn parse_timeframe(tf: Option<&str>) -> ApiResult<Timeframe> {
    let Some(t) = tf else {
        return Ok(Timeframe::D1);
    };
    t.parse().map_err(|e| {
        let allowed: Vec<&str> = Timeframe::ALL.iter().map(|t| t.as_str()).collect();
        api_error(
            ErrorCode::InvalidTimeframe,
            format!("{e}"),
            json!({"timeframe": clip(t), "allowed": allowed}),
        )
    })
}

fn parse_range(start: &str, end: &str, now: DateTime<Utc>) -> ApiResult<(DateBound, DateBound)> {
    let parse = |field: &str, v: &str| {
        parse_date_bound(v).map_err(|e| {
            api_error(
                ErrorCode::InvalidDateRange,
                format!("{field}: {e}"),
                json!({"field": field, "value": clip(v)}),
            )
        })
    };
    let (s, e) = (parse("start_date", start)?, parse("end_date", end)?);
    if s.date() > e.date() || s.first_second() > e.last_second() {
        return Err(api_error(
            ErrorCode::InvalidDateRange,
            format!(
                "start_date {s} is after end_date {e}; swap them (both ends are inclusive, so one day is start = end)"
            ),
            json!({"start": s.to_string(), "end": e.to_string()}),
        ));
    }
    let today = now.date_naive();
    if e.date() > today {
        return Err(api_error(
            ErrorCode::InvalidDateRange,
            format!(
                "end_date {e} is in the future (today is {today}, UTC); choose an end on or before today"
            ),
            json!({"end": e.to_string(), "today": today.to_string()}),
        ));
    }
    Ok((s, e))
}

fn check_available(
    symbols: &[String],
    series: &[&BarSeries],
    tf: Timeframe,
    start: &DateBound,
    end: &DateBound,
) -> ApiResult<()> {
    let (start_day, end_day) = (
        days_since_epoch(start.date()).unwrap_or(i64::MIN),
        days_since_epoch(end.date()).unwrap_or(i64::MAX),
    );
    let outside = |s: &BarSeries| match (s.first_ts(), s.last_ts()) {
        (Some(f), Some(l)) => start_day < f.div_euclid(86_400) || end_day > l.div_euclid(86_400),
        _ => true,
    };
    if !series.iter().any(|s| outside(s)) {
        return Ok(());
    }
    let mut available = Map::new();
    let mut off = Vec::new();
    for (sym, s) in symbols.iter().zip(series) {
        let (f, l) = (s.first_ts().unwrap_or(0), s.last_ts().unwrap_or(0));
        available.insert(
            sym.clone(),
            json!({"first": format_rfc3339(f), "last": format_rfc3339(l)}),
        );
        if outside(s) {
            off.push(format!(
                "{sym} has {tf} data from {} to {}",
                day_of(f),
                day_of(l)
            ));
        }
    }
    Err(api_error(
        ErrorCode::InvalidDateRange,
        format!(
            "{start}..{end} is outside the available data: {}; choose dates inside that range",
            off.join("; ")
        ),
        json!({"start": start.to_string(), "end": end.to_string(), "available": available}),
    ))
}

/// Distinct timestamps in `first..=last` across the series (a k-way merge over the distinct
/// calendars; a single calendar is just the length of its index range).
pub fn count_bars(series: &[&BarSeries], first: i64, last: i64) -> u64 {
    count_distinct(series, first, last, None)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
#[path = "validator_tests.rs"]
mod tests;
