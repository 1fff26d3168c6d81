//! [`RollingMax`] / [`RollingMin`]: highest / lowest of the last `period` values, exact, in
//! amortized O(1) per update with a monotonic deque in a fixed ring (no allocation).

use super::ring::Ring;

/// The monotonic deque shared by both: keeps (index, value) pairs whose values are strictly
/// "better" than every later one, so the front is the extreme of the window.
#[derive(Debug, Clone)]
struct Extreme<T> {
    period: usize,
    seen: u64,
    deque: Ring<(u64, T)>,
}

impl<T: Copy + Default + PartialOrd> Extreme<T> {
    fn new(period: usize) -> Self {
        let period = period.max(1);
        Extreme {
            period,
            seen: 0,
            deque: Ring::new(period),
        }
    }

    /// `beats(a, b)`: `a` makes `b` useless (a ≥ b for a max).
    fn update(&mut self, value: T, beats: fn(&T, &T) -> bool) -> Option<T> {
        let index = self.seen;
        self.seen += 1;
        while let Some((_, back)) = self.deque.back() {
            if beats(&value, &back) {
                self.deque.pop_back();
            } else {
                break;
            }
        }
        while let Some((i, _)) = self.deque.front() {
            if i + (self.period as u64) <= index {
                self.deque.pop_front();
            } else {
                break;
            }
        }
        // Room is guaranteed: every index left is within the last `period - 1`.
        self.deque.push_back((index, value));
        self.value()
    }

    fn value(&self) -> Option<T> {
        if self.seen < self.period as u64 {
            return None;
        }
        self.deque.front().map(|(_, v)| v)
    }
}

/// Highest of the last `period` values.
#[derive(Debug, Clone)]
pub struct RollingMax<T>(Extreme<T>);

/// Lowest of the last `period` values.
#[derive(Debug, Clone)]
pub struct RollingMin<T>(Extreme<T>);

impl<T: Copy + Default + PartialOrd> RollingMax<T> {
    /// A window of `period` values (0 is treated as 1).
    pub fn new(period: usize) -> Self {
        RollingMax(Extreme::new(period))
    }
    /// Add a value; the maximum once `period` values have been seen.
    pub fn update(&mut self, value: T) -> Option<T> {
        self.0.update(value, |a, b| a >= b)
    }
    /// The latest maximum, once ready.
    pub fn value(&self) -> Option<T> {
        self.0.value()
    }
}

impl<T: Copy + Default + PartialOrd> RollingMin<T> {
    /// A window of `period` values (0 is treated as 1).
    pub fn new(period: usize) -> Self {
        RollingMin(Extreme::new(period))
    }
    /// Add a value; the minimum once `period` values have been seen.
    pub fn update(&mut self, value: T) -> Option<T> {
        self.0.update(value, |a, b| a <= b)
    }
    /// The latest minimum, once ready.
    pub fn value(&self) -> Option<T> {
        self.0.value()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_a_naive_scan() {
        let series = [5, 3, 8, 8, 1, 9, 2, 2, 7, 0, 4, 6, 6, 3];
        for period in 1..=5 {
            let (mut hi, mut lo) = (RollingMax::new(period), RollingMin::new(period));
            for (i, &x) in series.iter().enumerate() {
                let (h, l) = (hi.update(x), lo.update(x));
                if i + 1 < period {
                    assert_eq!((h, l), (None, None));
                    continue;
                }
                let w = &series[i + 1 - period..=i];
                assert_eq!(h, w.iter().max().copied(), "period {period} at {i}");
                assert_eq!(l, w.iter().min().copied(), "period {period} at {i}");
            }
        }
    }

    #[test]
    fn works_with_decimals() {
        use rust_decimal_macros::dec;
        let mut hi = RollingMax::new(2);
        hi.update(dec!(1.5));
        assert_eq!(hi.update(dec!(1.25)), Some(dec!(1.5)));
        assert_eq!(hi.update(dec!(1.0)), Some(dec!(1.25)));
    }
}
