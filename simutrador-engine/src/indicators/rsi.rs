//! [`Rsi`]: Wilder's relative strength index (f64).

/// RSI over `period` changes with Wilder's smoothing:
///
/// - the first value needs `period + 1` closes: average gain `G` and loss `L` are the plain
///   means of the first `period` changes;
/// - then `G = (G·(period − 1) + gain) / period` (same for `L`);
/// - `RSI = 100 − 100 / (1 + G / L)`; 100 when `L = 0` (and 50 when `G = L = 0`).
#[derive(Debug, Clone)]
pub struct Rsi {
    period: usize,
    prev: Option<f64>,
    changes: usize,
    gain: f64,
    loss: f64,
}

impl Rsi {
    /// An RSI over `period` changes (0 is treated as 1).
    pub fn new(period: usize) -> Self {
        Rsi {
            period: period.max(1),
            prev: None,
            changes: 0,
            gain: 0.0,
            loss: 0.0,
        }
    }

    /// Add a close; the RSI once `period + 1` closes have been seen.
    pub fn update(&mut self, close: f64) -> Option<f64> {
        let prev = self.prev.replace(close)?;
        let change = close - prev;
        let (up, down) = (change.max(0.0), (-change).max(0.0));
        let n = self.period as f64;
        if self.changes < self.period {
            self.gain += up / n;
            self.loss += down / n;
            self.changes += 1;
        } else {
            self.gain = (self.gain * (n - 1.0) + up) / n;
            self.loss = (self.loss * (n - 1.0) + down) / n;
        }
        self.value()
    }

    /// The latest value, once ready.
    pub fn value(&self) -> Option<f64> {
        if self.changes < self.period {
            return None;
        }
        Some(if self.loss == 0.0 {
            if self.gain == 0.0 { 50.0 } else { 100.0 }
        } else {
            100.0 - 100.0 / (1.0 + self.gain / self.loss)
        })
    }

    /// The number of changes averaged.
    pub fn period(&self) -> usize {
        self.period
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn wilder_smoothing_by_hand() {
        // period 2. Closes 10, 11, 10.5: changes +1, −0.5 → G = 0.5, L = 0.25, RS = 2,
        // RSI = 100 − 100/3 = 66.67. Next close 11.5 (+1): G = (0.5 + 1)/2 = 0.75,
        // L = 0.25/2 = 0.125, RS = 6, RSI = 100 − 100/7 = 85.71.
        let mut rsi = Rsi::new(2);
        assert_eq!(rsi.update(10.0), None);
        assert_eq!(rsi.update(11.0), None);
        assert!(close(rsi.update(10.5).unwrap(), 100.0 - 100.0 / 3.0));
        assert!(close(rsi.update(11.5).unwrap(), 100.0 - 100.0 / 7.0));
    }

    #[test]
    fn flat_and_rising_series() {
        let mut flat = Rsi::new(3);
        let mut up = Rsi::new(3);
        for i in 0..5 {
            flat.update(7.0);
            up.update(i as f64);
        }
        assert_eq!(flat.value(), Some(50.0));
        assert_eq!(up.value(), Some(100.0));
    }
}
