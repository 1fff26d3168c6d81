//! [`Ema`]: exponential moving average (f64).

/// `ema = α·x + (1 − α)·ema` with `α = 2 / (period + 1)`, seeded with the simple mean of the
/// first `period` values (the TA-Lib convention), so the first value appears at the
/// `period`-th update.
#[derive(Debug, Clone)]
pub struct Ema {
    period: usize,
    alpha: f64,
    seen: usize,
    seed_sum: f64,
    value: f64,
}

impl Ema {
    /// An EMA over `period` values (0 is treated as 1).
    pub fn new(period: usize) -> Self {
        let period = period.max(1);
        Ema {
            period,
            alpha: 2.0 / (period as f64 + 1.0),
            seen: 0,
            seed_sum: 0.0,
            value: 0.0,
        }
    }

    /// Add a value; the average once `period` values have been seen.
    pub fn update(&mut self, x: f64) -> Option<f64> {
        if self.seen < self.period {
            self.seen += 1;
            self.seed_sum += x;
            if self.seen == self.period {
                self.value = self.seed_sum / self.period as f64;
            }
        } else {
            self.value += self.alpha * (x - self.value);
        }
        self.value()
    }

    /// The latest value, once ready.
    pub fn value(&self) -> Option<f64> {
        (self.seen >= self.period).then_some(self.value)
    }

    /// The window length.
    pub fn period(&self) -> usize {
        self.period
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_with_the_mean_then_smooths() {
        // period 3, α = 0.5: seed (1 + 2 + 3) / 3 = 2; then 2 + 0.5·(6 − 2) = 4;
        // then 4 + 0.5·(0 − 4) = 2.
        let mut ema = Ema::new(3);
        assert_eq!(ema.update(1.0), None);
        assert_eq!(ema.update(2.0), None);
        assert_eq!(ema.update(3.0), Some(2.0));
        assert_eq!(ema.update(6.0), Some(4.0));
        assert_eq!(ema.update(0.0), Some(2.0));
        assert_eq!(ema.period(), 3);
    }
}
