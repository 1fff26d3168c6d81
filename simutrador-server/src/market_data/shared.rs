//! The daemon's swappable catalog: [`SharedCatalog`] holds the current [`Catalog`] behind an
//! `Arc`, readers take a [`SharedCatalog::snapshot`] per request or run, and the server's
//! data-reload job swaps in a freshly loaded catalog with [`SharedCatalog::replace`].
//!
//! A snapshot is never changed: a request validated and fingerprinted on one snapshot sees
//! one consistent catalog, and a run keeps the `Arc<BarSeries>` it was built from however
//! often the catalog is replaced afterwards. [`CatalogChanges`] says what a replacement
//! added, changed or removed (for the reload's log line).

use std::collections::BTreeSet;
use std::sync::{Arc, RwLock};

use super::Catalog;

/// The current catalog, replaceable while the daemon runs.
#[derive(Debug, Default)]
pub struct SharedCatalog {
    current: RwLock<Arc<Catalog>>,
}

impl SharedCatalog {
    /// A shared catalog starting with `catalog`.
    pub fn new(catalog: Catalog) -> Self {
        SharedCatalog {
            current: RwLock::new(Arc::new(catalog)),
        }
    }

    /// [`SharedCatalog::new`] behind an `Arc`, as the daemon's layers hold it.
    pub fn shared(catalog: Catalog) -> Arc<Self> {
        Arc::new(Self::new(catalog))
    }

    /// The catalog as it is now; keep it for the whole request or run.
    pub fn snapshot(&self) -> Arc<Catalog> {
        // A poisoned lock only means a writer panicked mid-swap of an `Arc`: the value is
        // still a whole catalog.
        match self.current.read() {
            Ok(c) => c.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Serve `catalog` from now on; returns what changed against the previous one. Snapshots
    /// taken before keep the previous catalog.
    pub fn replace(&self, catalog: Catalog) -> CatalogChanges {
        let new = Arc::new(catalog);
        let old = {
            let mut guard = match self.current.write() {
                Ok(g) => g,
                Err(poisoned) => poisoned.into_inner(),
            };
            std::mem::replace(&mut *guard, new.clone())
        };
        CatalogChanges::between(&old, &new)
    }
}

/// What a catalog replacement changed, by symbol.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CatalogChanges {
    /// Symbols that are new.
    pub added: Vec<String>,
    /// Symbols whose series (timeframes or bars) are not the same as before.
    pub changed: Vec<String>,
    /// Symbols no longer held.
    pub removed: Vec<String>,
    /// Symbols held now.
    pub symbols: usize,
    /// Bars held now.
    pub bars: u64,
    /// Bars held now minus bars held before.
    pub bars_delta: i64,
}

impl CatalogChanges {
    /// Compare `old` with `new` (series compared by content hash, symbols sorted).
    pub fn between(old: &Catalog, new: &Catalog) -> Self {
        let names =
            |c: &Catalog| -> BTreeSet<String> { c.entries().map(|e| e.symbol.clone()).collect() };
        let (before, after) = (names(old), names(new));
        let changed = after
            .intersection(&before)
            .filter(|s| {
                let (a, b) = (old.get(s), new.get(s));
                a.zip(b).is_some_and(|(a, b)| {
                    a.series.len() != b.series.len()
                        || a.series.iter().zip(&b.series).any(|((ta, sa), (tb, sb))| {
                            ta != tb
                                || !(Arc::ptr_eq(sa, sb) || sa.content_hash() == sb.content_hash())
                        })
                })
            })
            .cloned()
            .collect();
        let bars = new.bar_count();
        CatalogChanges {
            added: after.difference(&before).cloned().collect(),
            changed,
            removed: before.difference(&after).cloned().collect(),
            symbols: new.symbol_count(),
            bars,
            bars_delta: i64::try_from(bars).unwrap_or(i64::MAX)
                - i64::try_from(old.bar_count()).unwrap_or(i64::MAX),
        }
    }

    /// True when nothing a client can see changed.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.changed.is_empty() && self.removed.is_empty()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::market_data::BarSeries;
    use crate::market_data::bars::RawColumns;
    use shared_models::Timeframe;

    fn with_acme(closes: &[i64]) -> Catalog {
        let mut c = Catalog::demo();
        let mut raw = RawColumns::with_capacity(closes.len(), 2, 0);
        for (i, x) in closes.iter().enumerate() {
            raw.push(1_577_836_800 + 86_400 * i as i64, [*x; 4], 100);
        }
        let mut entry = c.get("ACME").unwrap().clone();
        entry.series = [(Timeframe::D1, Arc::new(BarSeries::from_raw(raw).unwrap()))].into();
        c.insert(entry);
        c
    }

    #[test]
    fn a_snapshot_keeps_its_catalog_after_a_replace() {
        let shared = SharedCatalog::shared(Catalog::demo());
        let before = shared.snapshot();
        let acme = before.series("ACME", Timeframe::D1).unwrap().clone();
        let changes = shared.replace(with_acme(&[100, 200]));
        assert_eq!(changes.changed, ["ACME"]);
        assert!(changes.added.is_empty() && changes.removed.is_empty());
        // The old snapshot and a series taken from it are untouched; a new snapshot differs.
        assert!(Arc::ptr_eq(
            before.series("ACME", Timeframe::D1).unwrap(),
            &acme
        ));
        assert_eq!(
            shared
                .snapshot()
                .series("ACME", Timeframe::D1)
                .unwrap()
                .len(),
            2
        );
    }

    #[test]
    fn changes_name_added_changed_and_removed_symbols() {
        let old = with_acme(&[100, 200]);
        let same = with_acme(&[100, 200]);
        assert!(CatalogChanges::between(&old, &same).is_empty());
        let new = with_acme(&[100, 201]);
        let mut only = Catalog::empty();
        only.insert(new.get("ACME").unwrap().clone());
        let c = CatalogChanges::between(&old, &only);
        assert_eq!(c.changed, ["ACME"]);
        assert_eq!(c.added, Vec::<String>::new());
        assert_eq!(c.removed.len(), old.symbol_count() - 1);
        assert_eq!(c.symbols, 1);
        assert_eq!(c.bars, 2);
        let c = CatalogChanges::between(&only, &new);
        assert_eq!(c.added.len(), new.symbol_count() - 1);
        assert!(c.changed.is_empty(), "{c:?}");
        assert!(c.bars_delta > 0);
    }
}
