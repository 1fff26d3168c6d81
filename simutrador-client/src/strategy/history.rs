//! [`History`]: the bars seen so far, per symbol, in fixed ring buffers whose capacity is
//! chosen when the run starts (so pushing a bar never allocates). It holds the warm-up bars of
//! the `history_snapshot` followed by every tick's bar up to and including the current one —
//! never a later one: the runner pushes a tick's bars right before handing that tick to the
//! strategy. A bar is the system's one timed bar type, [`Bar`] (`shared_models::Bar`,
//! re-exported here): the warm-up bars of the snapshot go in as they arrive.

use rust_decimal::Decimal;

/// A [`super::Candle`] with its time (Unix seconds): the shared bar type.
pub use shared_models::Bar;

/// One symbol's ring buffer.
#[derive(Debug, Clone)]
struct Ring {
    bars: Vec<Bar>,
    /// Index of the oldest bar.
    head: usize,
    /// Bars ever pushed.
    total: u64,
}

impl Ring {
    fn len(&self) -> usize {
        self.bars.len()
    }

    fn push(&mut self, bar: Bar, capacity: usize) {
        if capacity == 0 {
        } else if self.bars.len() < capacity {
            self.bars.push(bar);
        } else {
            self.bars[self.head] = bar;
            self.head = (self.head + 1) % capacity;
        }
        self.total += 1;
    }

    /// `ago` = 0 is the newest bar.
    fn get(&self, ago: usize) -> Option<&Bar> {
        let len = self.len();
        if ago >= len {
            return None;
        }
        self.bars.get((self.head + len - 1 - ago) % len)
    }
}

/// Read-only bars so far, per symbol (by the session's symbol index).
#[derive(Debug, Clone)]
pub struct History {
    capacity: usize,
    rings: Vec<Ring>,
}

impl History {
    /// Room for `capacity` bars of each of `symbols` symbols, allocated now.
    pub(crate) fn new(symbols: usize, capacity: usize) -> Self {
        History {
            capacity,
            rings: (0..symbols)
                .map(|_| Ring {
                    bars: Vec::with_capacity(capacity),
                    head: 0,
                    total: 0,
                })
                .collect(),
        }
    }

    /// Append a bar of `symbol` (dropping the oldest once full).
    pub(crate) fn push(&mut self, symbol: usize, bar: Bar) {
        let capacity = self.capacity;
        if let Some(ring) = self.rings.get_mut(symbol) {
            ring.push(bar, capacity);
        }
    }

    /// Bars kept per symbol.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Bars of `symbol` currently held (≤ capacity).
    pub fn len(&self, symbol: usize) -> usize {
        self.rings.get(symbol).map_or(0, Ring::len)
    }

    /// True when `symbol` has no bar yet.
    pub fn is_empty(&self, symbol: usize) -> bool {
        self.len(symbol) == 0
    }

    /// Bars of `symbol` seen since the start (warm-up included), even those dropped.
    pub fn total(&self, symbol: usize) -> u64 {
        self.rings.get(symbol).map_or(0, |r| r.total)
    }

    /// The bar `ago` bars back: 0 is the latest (the current tick's, when it has one).
    pub fn bar(&self, symbol: usize, ago: usize) -> Option<&Bar> {
        self.rings.get(symbol)?.get(ago)
    }

    /// The close `ago` bars back.
    pub fn close(&self, symbol: usize, ago: usize) -> Option<Decimal> {
        self.bar(symbol, ago).map(|b| b.candle.close)
    }

    /// Held bars of `symbol`, oldest first.
    pub fn iter(&self, symbol: usize) -> impl DoubleEndedIterator<Item = &Bar> + '_ {
        let len = self.len(symbol);
        (0..len).rev().filter_map(move |ago| self.bar(symbol, ago))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::Candle;

    fn bar(t: i64) -> Bar {
        let p = Decimal::from(t);
        Bar {
            time: t,
            candle: Candle {
                open: p,
                high: p,
                low: p,
                close: p,
                volume: Decimal::ONE,
            },
        }
    }

    #[test]
    fn the_ring_keeps_the_latest_bars_in_order() {
        let mut h = History::new(2, 3);
        for t in 1..=5 {
            h.push(0, bar(t));
        }
        h.push(1, bar(9));
        h.push(7, bar(1)); // unknown symbol: ignored
        assert_eq!((h.len(0), h.total(0), h.capacity()), (3, 5, 3));
        assert_eq!(h.close(0, 0), Some(Decimal::from(5)));
        assert_eq!(h.close(0, 2), Some(Decimal::from(3)));
        assert_eq!(h.close(0, 3), None);
        let times: Vec<i64> = h.iter(0).map(|b| b.time).collect();
        assert_eq!(times, [3, 4, 5]);
        assert_eq!(h.close(1, 0), Some(Decimal::from(9)));
        assert!(h.is_empty(5));
    }

    #[test]
    fn a_zero_capacity_history_counts_but_keeps_nothing() {
        let mut h = History::new(1, 0);
        h.push(0, bar(1));
        assert_eq!((h.len(0), h.total(0)), (0, 1));
        assert!(h.bar(0, 0).is_none());
    }
}
