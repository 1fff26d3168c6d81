//! CONTRACT STUB: checks the market-data side of a session request.

use chrono::{DateTime, Utc};
use shared_models::Timeframe;
use shared_models::dates::DateBound;
use std::sync::Arc;

use super::Catalog;
use crate::error::ApiResult;

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

/// Checks symbols, timeframe and dates against the catalog. Never re-reads files.
#[derive(Debug, Clone)]
pub struct MarketDataValidator {}

impl MarketDataValidator {
    /// A validator over `catalog` allowing at most `max_symbols` per request.
    pub fn new(_catalog: Arc<Catalog>, _max_symbols: usize) -> Self {
        unimplemented!()
    }
    /// The catalog this validator checks against.
    pub fn catalog(&self) -> &Arc<Catalog> {
        unimplemented!()
    }
    /// Validate a request. `timeframe` `None` means `1d`. Errors: `TOO_MANY_SYMBOLS`,
    /// `INVALID_SYMBOL` (`details.invalid_symbols`), `INVALID_TIMEFRAME`,
    /// `INVALID_DATE_RANGE` (`details.available` per symbol).
    pub fn validate(
        &self,
        _symbols: &[String],
        _timeframe: Option<&str>,
        _start: &str,
        _end: &str,
        _now: DateTime<Utc>,
    ) -> ApiResult<ValidatedRange> {
        unimplemented!()
    }
}
