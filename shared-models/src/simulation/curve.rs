//! The equity curve, stored compactly: one `i64` time and one `Decimal` per settled bar
//! (24 bytes a bar, in two flat vectors that grow by doubling, so pushing allocates only
//! O(log n) times over a run).

use crate::trading::EquityPoint;
use rust_decimal::Decimal;

use super::portfolio::utc;

/// Equity at every settled bar's close.
#[derive(Debug, Clone, Default)]
pub(crate) struct EquityCurve {
    times: Vec<i64>,
    values: Vec<Decimal>,
}

impl EquityCurve {
    /// Appends one point.
    #[inline]
    pub fn push(&mut self, time: i64, equity: Decimal) {
        self.times.push(time);
        self.values.push(equity);
    }

    /// Reserves room for `n` more points.
    pub fn reserve(&mut self, n: usize) {
        self.times.reserve(n);
        self.values.reserve(n);
    }

    /// Replaces the equity of the last point (used by `flatten`); no-op when empty.
    pub fn set_last(&mut self, equity: Decimal) {
        if let Some(v) = self.values.last_mut() {
            *v = equity;
        }
    }

    /// Time of the last point.
    pub fn last_time(&self) -> Option<i64> {
        self.times.last().copied()
    }

    /// Bar times.
    pub fn times(&self) -> &[i64] {
        &self.times
    }

    /// Equity values, parallel to [`EquityCurve::times`].
    pub fn values(&self) -> &[Decimal] {
        &self.values
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.times.len()
    }

    /// Bytes held by the two vectors (capacity, not length).
    pub fn heap_bytes(&self) -> usize {
        self.times.capacity() * std::mem::size_of::<i64>()
            + self.values.capacity() * std::mem::size_of::<Decimal>()
    }

    /// The wire form.
    pub fn to_points(&self) -> Vec<EquityPoint> {
        self.times
            .iter()
            .zip(&self.values)
            .map(|(&t, &equity)| EquityPoint {
                time: utc(t),
                equity,
            })
            .collect()
    }
}
