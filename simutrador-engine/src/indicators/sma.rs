//! [`Sma`]: simple moving average of `Decimal`s with an exact running sum.

use rust_decimal::Decimal;
use std::cmp::Ordering;

use super::ring::Ring;

/// Mean of the last `period` values, exact: the sum is kept exactly (add the new value,
/// subtract the one leaving the window), and only [`Sma::value`] divides.
#[derive(Debug, Clone)]
pub struct Sma {
    period: usize,
    window: Ring<Decimal>,
    sum: Decimal,
}

impl Sma {
    /// An average over `period` values (a period of 0 is treated as 1).
    pub fn new(period: usize) -> Self {
        let period = period.max(1);
        Sma {
            period,
            window: Ring::new(period),
            sum: Decimal::ZERO,
        }
    }

    /// The window length.
    pub fn period(&self) -> usize {
        self.period
    }

    /// Add a value; the average once `period` values have been seen.
    pub fn update(&mut self, value: Decimal) -> Option<Decimal> {
        self.push(value);
        self.value()
    }

    /// Add a value without computing the average (no division): for callers that only
    /// [`Sma::compare`] averages or read [`Sma::sum`].
    pub fn push(&mut self, value: Decimal) {
        if self.window.is_full()
            && let Some(old) = self.window.pop_front()
        {
            self.sum -= old;
        }
        self.window.push_back(value);
        self.sum += value;
    }

    /// True once `period` values have been seen.
    pub fn is_ready(&self) -> bool {
        self.window.is_full()
    }

    /// Exact sum of the window.
    pub fn sum(&self) -> Decimal {
        self.sum
    }

    /// The average (rounded to `Decimal`'s 28 digits), once ready.
    pub fn value(&self) -> Option<Decimal> {
        self.is_ready()
            .then(|| self.sum / Decimal::from(self.period as u64))
    }

    /// Compare two ready averages exactly (`sum_a · n_b` vs `sum_b · n_a`, no division);
    /// `None` while either is not ready.
    pub fn compare(&self, other: &Sma) -> Option<Ordering> {
        if !self.is_ready() || !other.is_ready() {
            return None;
        }
        let a = self.sum.checked_mul(Decimal::from(other.period as u64));
        let b = other.sum.checked_mul(Decimal::from(self.period as u64));
        match (a, b) {
            (Some(a), Some(b)) => Some(a.cmp(&b)),
            _ => self.value()?.partial_cmp(&other.value()?),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn averages_the_last_period_values_exactly() {
        let mut sma = Sma::new(3);
        assert_eq!(sma.update(dec!(1)), None);
        assert_eq!(sma.update(dec!(2)), None);
        assert_eq!(sma.update(dec!(4)), Some(dec!(7) / dec!(3)));
        assert_eq!(sma.update(dec!(6)), Some(dec!(4)));
        assert_eq!(
            sma.update(dec!(0.1)),
            Some(dec!(3.3666666666666666666666666667))
        );
        assert_eq!(sma.sum(), dec!(10.1));
    }

    #[test]
    fn compares_averages_without_rounding() {
        // 1/3 vs 2/6: equal exactly, though both divisions round.
        let (mut a, mut b) = (Sma::new(3), Sma::new(6));
        assert_eq!(a.compare(&b), None);
        for v in [dec!(0), dec!(0), dec!(1)] {
            a.update(v);
        }
        for v in [dec!(0), dec!(0), dec!(0), dec!(0), dec!(1), dec!(1)] {
            b.update(v);
        }
        assert_eq!(a.compare(&b), Some(Ordering::Equal));
        b.update(dec!(0.0001));
        assert_eq!(a.compare(&b), Some(Ordering::Less));
    }
}
