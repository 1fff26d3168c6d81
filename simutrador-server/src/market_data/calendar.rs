//! Calendars: the timestamp columns series share, and counting distinct bar times fast.
//!
//! Series of one timeframe with identical timestamps share one column (see
//! [`super::BarSeries::share_timestamps`]), so a catalog holds only a few distinct calendars
//! per timeframe (an exchange's trading days, every day for crypto …). At load time the
//! catalog records which calendar is contained in which ([`CalendarIndex`]); counting the bars
//! a session will replay then drops every calendar contained in another one and only merges
//! what is left. Fifty equities on one exchange cost two binary searches.

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};

use super::BarSeries;

/// FNV-1a: a fast hasher for short keys such as symbols (no HashDoS concern: keys come from
/// the operator's files, lookups only read).
#[derive(Debug, Clone, Copy)]
pub struct FnvHasher(u64);

impl Default for FnvHasher {
    fn default() -> Self {
        FnvHasher(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for FnvHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

/// Build-hasher for maps keyed by symbol.
pub type FnvBuild = BuildHasherDefault<FnvHasher>;

/// The identity of a timestamp column (its address; only compared, never dereferenced).
fn column_id(s: &BarSeries) -> usize {
    s.timestamps().as_ptr() as usize
}

/// Which calendar (timestamp column) is wholly contained in which.
#[derive(Debug, Clone, Default)]
pub struct CalendarIndex {
    subsets: HashSet<(usize, usize)>,
}

impl CalendarIndex {
    /// Record containment between the distinct columns of `series` (all of one timeframe).
    pub fn add_timeframe(&mut self, series: &[&BarSeries]) {
        let mut cols: Vec<&BarSeries> = Vec::new();
        for s in series {
            if !s.is_empty() && !cols.iter().any(|c| column_id(c) == column_id(s)) {
                cols.push(s);
            }
        }
        for a in &cols {
            for b in &cols {
                if column_id(a) != column_id(b) && is_subset(a.timestamps(), b.timestamps()) {
                    self.subsets.insert((column_id(a), column_id(b)));
                }
            }
        }
    }

    /// True when every timestamp of `a` is also in `b` (and they are different columns).
    pub fn contains(&self, a: &BarSeries, b: &BarSeries) -> bool {
        self.subsets.contains(&(column_id(a), column_id(b)))
    }
}

/// True when sorted `a` ⊆ sorted `b`.
fn is_subset(a: &[i64], b: &[i64]) -> bool {
    if a.len() > b.len() {
        return false;
    }
    let mut j = 0;
    for &t in a {
        while j < b.len() && b[j] < t {
            j += 1;
        }
        if j == b.len() || b[j] != t {
            return false;
        }
        j += 1;
    }
    true
}

const INLINE: usize = 64;

/// Distinct timestamps in `first..=last` across `series`. With an `index`, calendars contained
/// in another requested calendar are skipped; what remains is merged (one calendar: just the
/// length of its index range).
pub fn count_distinct(
    series: &[&BarSeries],
    first: i64,
    last: i64,
    index: Option<&CalendarIndex>,
) -> u64 {
    // Distinct non-empty columns, without allocating for the usual ≤ 64.
    let mut inline: [&BarSeries; INLINE] = [empty(); INLINE];
    let mut heap: Vec<&BarSeries> = Vec::new();
    let mut k = 0;
    for s in series {
        let seen = inline[..k.min(INLINE)]
            .iter()
            .chain(heap.iter())
            .any(|c| column_id(c) == column_id(s));
        if s.is_empty() || seen {
            continue;
        }
        if k < INLINE {
            inline[k] = s;
        } else {
            heap.push(s);
        }
        k += 1;
    }
    let cols: &mut [&BarSeries] = if heap.is_empty() {
        &mut inline[..k]
    } else {
        heap.extend_from_slice(&inline);
        &mut heap
    };
    // Drop calendars contained in another remaining one.
    let mut n = cols.len();
    if let Some(ix) = index {
        let mut i = 0;
        while i < n {
            if (0..n).any(|j| j != i && ix.contains(cols[i], cols[j])) {
                cols.swap(i, n - 1);
                n -= 1;
            } else {
                i += 1;
            }
        }
    }
    let mut ranges: Vec<&[i64]> = Vec::new();
    match &cols[..n] {
        [] => 0,
        [one] => one.index_range(first, last).len() as u64,
        [a, b] => union2(
            &a.timestamps()[a.index_range(first, last)],
            &b.timestamps()[b.index_range(first, last)],
        ),
        many => {
            ranges.extend(
                many.iter()
                    .map(|s| &s.timestamps()[s.index_range(first, last)]),
            );
            merge_count(&mut ranges)
        }
    }
}

fn empty() -> &'static BarSeries {
    static EMPTY: std::sync::OnceLock<BarSeries> = std::sync::OnceLock::new();
    EMPTY.get_or_init(BarSeries::default)
}

/// |a ∪ b| for two sorted slices.
fn union2(a: &[i64], b: &[i64]) -> u64 {
    let (mut i, mut j, mut common) = (0, 0, 0u64);
    while i < a.len() && j < b.len() {
        let (x, y) = (a[i], b[j]);
        common += u64::from(x == y);
        i += usize::from(x <= y);
        j += usize::from(y <= x);
    }
    (a.len() + b.len()) as u64 - common
}

/// Distinct values across sorted slices (k-way merge).
fn merge_count(cursors: &mut [&[i64]]) -> u64 {
    let mut count = 0;
    loop {
        let Some(min) = cursors.iter().filter_map(|c| c.first().copied()).min() else {
            return count;
        };
        count += 1;
        for c in cursors.iter_mut() {
            if c.first() == Some(&min) {
                *c = &c[1..];
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::market_data::bars::RawColumns;

    fn series(ts: &[i64]) -> BarSeries {
        let mut raw = RawColumns::with_capacity(ts.len(), 0, 0);
        for &t in ts {
            raw.push(t, [1, 1, 1, 1], 0);
        }
        BarSeries::from_raw(raw).unwrap()
    }

    #[test]
    fn counts_with_and_without_the_index() {
        let all = series(&[1, 2, 3, 4, 5, 6, 7]);
        let weekdays = series(&[1, 2, 3, 6, 7]);
        let odd = series(&[1, 3, 5, 9]);
        let mut ix = CalendarIndex::default();
        ix.add_timeframe(&[&all, &weekdays, &odd]);
        assert!(ix.contains(&weekdays, &all));
        assert!(!ix.contains(&all, &weekdays));
        assert!(!ix.contains(&odd, &all));
        for index in [None, Some(&ix)] {
            assert_eq!(count_distinct(&[&weekdays, &all], 0, 100, index), 7);
            assert_eq!(count_distinct(&[&weekdays, &all, &odd], 0, 100, index), 8);
            assert_eq!(count_distinct(&[&weekdays, &odd], 2, 5, index), 3);
            assert_eq!(count_distinct(&[&weekdays, &weekdays], 0, 100, index), 5);
            assert_eq!(count_distinct(&[], 0, 100, index), 0);
        }
        assert!(is_subset(&[], &[1]) && !is_subset(&[2], &[1, 3]));
        assert_eq!(union2(&[1, 2, 5], &[2, 3, 5, 8]), 5);
        let many: Vec<BarSeries> = (0..70).map(|i| series(&[i, 100 + i])).collect();
        let refs: Vec<&BarSeries> = many.iter().collect();
        assert_eq!(count_distinct(&refs, 0, 1000, Some(&ix)), 140);
    }
}
