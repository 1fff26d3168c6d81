//! Results on demand: a finished session's equity curve and trades are read back from its
//! lifecycle journal (the `results` record, the one durable copy) when `get_results` asks,
//! and the last few are kept in a small bounded cache so a client paging through a
//! million-point curve parses the journal once, not once per page.
//!
//! Results just written at the end of a run start in the cache (their client asks for them
//! next). The cache holds at most [`CACHE_ENTRIES`] results and forgets each one
//! [`CACHE_IDLE`] after its last use (the cleanup task calls
//! [`super::SessionStore::trim_results`]); deleting a session drops its entry. So loaded
//! results do not stay in memory for the retention period; its cost is measured in
//! `docs/benchmarks.md` ("Finished sessions in memory").

use parking_lot::Mutex;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

use super::record::{Record, StoredResults};

/// Results kept loaded at most.
pub const CACHE_ENTRIES: usize = 2;

/// How long loaded results stay cached after their last use.
pub const CACHE_IDLE: Duration = Duration::from_secs(30);

struct Entry {
    id: String,
    results: Arc<StoredResults>,
    used: Instant,
}

/// The last results loaded from disk, least recently used first.
#[derive(Default)]
pub struct ResultsCache {
    entries: Mutex<VecDeque<Entry>>,
}

impl std::fmt::Debug for ResultsCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResultsCache")
            .field("entries", &self.len())
            .finish()
    }
}

impl ResultsCache {
    /// The cached results of `id`, marked used at `now`.
    pub fn get(&self, id: &str, now: Instant) -> Option<Arc<StoredResults>> {
        let mut entries = self.entries.lock();
        let i = entries.iter().position(|e| e.id == id)?;
        let mut entry = entries.remove(i)?;
        entry.used = now;
        let results = entry.results.clone();
        entries.push_back(entry);
        Some(results)
    }

    /// Keep `results` of `id`, dropping the least recently used beyond [`CACHE_ENTRIES`].
    pub fn put(&self, id: &str, results: Arc<StoredResults>, now: Instant) {
        let mut entries = self.entries.lock();
        entries.retain(|e| e.id != id);
        entries.push_back(Entry {
            id: id.to_string(),
            results,
            used: now,
        });
        while entries.len() > CACHE_ENTRIES {
            entries.pop_front();
        }
    }

    /// Forget `id` (its session was deleted).
    pub fn remove(&self, id: &str) {
        self.entries.lock().retain(|e| e.id != id);
    }

    /// Forget what was last used [`CACHE_IDLE`] or longer before `now`.
    pub fn trim(&self, now: Instant) {
        self.entries
            .lock()
            .retain(|e| now.saturating_duration_since(e.used) < CACHE_IDLE);
    }

    /// How many results are cached.
    pub fn len(&self) -> usize {
        self.entries.lock().len()
    }

    /// True when nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The last readable `results` record in the bytes of a lifecycle journal. Only complete
/// lines count (a line being appended, or cut short by a crash, is not one); nothing is
/// repaired here (start-up recovery does that).
pub fn last_results(journal: &[u8]) -> Option<StoredResults> {
    let complete = journal.iter().rposition(|b| *b == b'\n')?;
    journal[..complete]
        .split(|b| *b == b'\n')
        .rev()
        .filter_map(super::frame::record_of)
        .find_map(|rec| match serde_json::from_slice::<Record>(rec) {
            Ok(Record::Results { results }) => Some(*results),
            _ => None,
        })
}

#[cfg(test)]
#[path = "results_tests.rs"]
mod disk_tests;

/// Metrics of a run without trades, for tests.
#[cfg(test)]
pub(crate) const METRICS: &str = r#"{"start": "2020-01-01T00:00:00Z", "end": "2020-01-03T00:00:00Z", "duration": 172800, "exposure_time_pct": 0.0, "equity_final": "1", "equity_peak": "1", "commissions": "0", "return_pct": 0.0, "buy_and_hold_return_pct": 0.0, "return_ann_pct": null, "volatility_ann_pct": null, "cagr_pct": null, "sharpe_ratio": null, "sortino_ratio": null, "calmar_ratio": null, "max_drawdown_pct": 0.0, "avg_drawdown_pct": 0.0, "max_drawdown_duration": null, "avg_drawdown_duration": null, "num_trades": 0, "win_rate_pct": null, "best_trade_pct": null, "worst_trade_pct": null, "avg_trade_pct": null, "max_trade_duration": null, "avg_trade_duration": null, "profit_factor": null, "expectancy_pct": null, "sqn": null}"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn results(n: usize) -> Arc<StoredResults> {
        let json = serde_json::json!({
            "metrics": serde_json::from_str::<serde_json::Value>(METRICS).unwrap(),
            "trades": {"symbol": [], "side": [], "quantity": [], "entry_time": [], "entry_price": [],
                "exit_time": [], "exit_price": [], "pnl": [], "return_pct": [], "commission": [], "duration": []},
            "open_positions": [],
            "equity": {"time_start": 0, "time_step": 60, "equity": vec!["1"; n]},
        });
        Arc::new(serde_json::from_value(json).unwrap())
    }

    #[tokio::test(start_paused = true)]
    async fn the_cache_is_bounded_and_forgets_what_was_not_used_for_a_while() {
        let cache = ResultsCache::default();
        let t0 = Instant::now();
        cache.put("a", results(1), t0);
        cache.put("b", results(2), t0);
        assert!(cache.get("a", t0).is_some(), "a is now the most recent");
        cache.put("c", results(3), t0);
        assert_eq!(cache.len(), CACHE_ENTRIES);
        assert!(cache.get("b", t0).is_none(), "the least recently used went");
        tokio::time::advance(CACHE_IDLE / 2).await;
        assert!(cache.get("c", Instant::now()).is_some());
        tokio::time::advance(CACHE_IDLE / 2).await;
        cache.trim(Instant::now());
        assert_eq!(
            cache.len(),
            1,
            "a was idle for CACHE_IDLE; c was used since"
        );
        cache.remove("c");
        assert!(cache.is_empty());
    }

    #[test]
    fn the_last_complete_results_record_counts() {
        let line = |n: usize| {
            let r = Record::Results {
                results: Box::new((*results(n)).clone()),
            };
            let mut l = serde_json::to_vec(&r).unwrap();
            l.push(b'\n');
            l
        };
        let mut journal = line(1);
        journal.extend(b"{\"t\":\"event\" not json\n");
        journal.extend(line(2));
        let found = last_results(&journal).unwrap();
        assert_eq!(found.equity.equity.len(), 2);
        let mut torn = journal.clone();
        torn.extend(&line(3)[..20]);
        assert_eq!(last_results(&torn).unwrap().equity.equity.len(), 2);
        assert!(last_results(b"").is_none());
    }
}
