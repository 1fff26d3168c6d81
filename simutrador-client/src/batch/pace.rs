//! [`Pacer`]: keeps one connection's requests under the daemon's `messages_per_second` (from
//! `connection_ready`), so a long batch of short runs is slowed down instead of refused with
//! `RATE_LIMITED`. The same rule as the daemon's limiter (GCRA): a steady rate with a burst of
//! one second's worth. `tick_ack`s are not counted by the daemon and not paced here.

use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// A per-connection request pacer.
#[derive(Debug)]
pub struct Pacer {
    interval: Duration,
    burst: Duration,
    tat: Mutex<Option<Instant>>,
}

impl Pacer {
    /// At most `per_second` requests a second (a little under, for margin), bursts of as many.
    pub fn new(per_second: u32) -> Self {
        let rate = f64::from(per_second.max(1)) * 0.9;
        let interval = Duration::from_secs_f64(1.0 / rate);
        Pacer {
            interval,
            burst: interval.mul_f64(rate.floor().max(1.0)),
            tat: Mutex::new(None),
        }
    }

    /// Wait until `n` more requests fit.
    pub async fn acquire(&self, n: u32) {
        for _ in 0..n {
            let wait = {
                let mut tat = self.tat.lock().unwrap_or_else(|e| e.into_inner());
                let now = Instant::now();
                let t = tat.map_or(now, |t| t.max(now));
                *tat = Some(t + self.interval);
                (t + self.interval).checked_duration_since(now + self.burst)
            };
            if let Some(wait) = wait {
                tokio::time::sleep(wait).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_burst_passes_then_the_rate_holds() {
        let p = Pacer::new(100); // 90 a second, bursts of 90
        let t = Instant::now();
        p.acquire(90).await;
        assert!(t.elapsed() < Duration::from_millis(20), "{:?}", t.elapsed());
        p.acquire(90).await;
        let e = t.elapsed();
        assert!(
            e >= Duration::from_millis(950) && e <= Duration::from_millis(1100),
            "{e:?}"
        );
    }
}
