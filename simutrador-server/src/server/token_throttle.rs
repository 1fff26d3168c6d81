//! Throttle on `POST /auth/token` against guessing API keys: failures are counted per client
//! IP and per key prefix (the first [`PREFIX_CHARS`] characters of the presented key), and
//! after [`FREE_FAILURES`] failures in a row each further failure doubles a lock-out, from
//! [`BASE_BACKOFF`] up to [`MAX_BACKOFF`]. While locked out, the endpoint answers 429
//! `RATE_LIMITED` with `Retry-After` and `details.retry_after_ms` without checking the key.
//!
//! A successful exchange clears its key prefix's count (not the IP's: holding one good key
//! must not buy more guesses). Counts are forgotten [`FORGET_AFTER`] after the last failure.
//! Time is `tokio::time::Instant`, so tests drive it with `tokio::time::pause`.

use dashmap::DashMap;
use std::net::IpAddr;
use std::time::Duration;
use tokio::time::Instant;

/// Failures in a row allowed before the first lock-out.
pub const FREE_FAILURES: u32 = 5;
/// The first lock-out; each further failure doubles it.
pub const BASE_BACKOFF: Duration = Duration::from_secs(1);
/// The longest lock-out.
pub const MAX_BACKOFF: Duration = Duration::from_secs(300);
/// A count is forgotten this long after its last failure.
pub const FORGET_AFTER: Duration = Duration::from_secs(15 * 60);
/// Characters of the presented key that name its prefix (`stk_` + 8).
pub const PREFIX_CHARS: usize = 12;
/// Above this many tracked clients, stale entries are swept on the next failure.
const SWEEP_ABOVE: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    last_failure: Instant,
    locked_until: Instant,
}

/// Failure counts per IP and per key prefix.
#[derive(Debug, Default)]
pub struct TokenThrottle {
    entries: DashMap<String, Entry>,
}

fn ip_key(ip: IpAddr) -> String {
    format!("ip:{ip}")
}

fn prefix_key(api_key: &str) -> String {
    format!(
        "key:{}",
        api_key.chars().take(PREFIX_CHARS).collect::<String>()
    )
}

impl TokenThrottle {
    /// How long `ip` presenting `api_key` must still wait; `None` when it may try now.
    pub fn wait(&self, ip: IpAddr, api_key: &str) -> Option<Duration> {
        let now = Instant::now();
        [ip_key(ip), prefix_key(api_key)]
            .iter()
            .filter_map(|k| self.entries.get(k).map(|e| e.locked_until))
            .filter(|until| *until > now)
            .max()
            .map(|until| until - now)
    }

    /// Count a failed exchange.
    pub fn failed(&self, ip: IpAddr, api_key: &str) {
        let now = Instant::now();
        if self.entries.len() > SWEEP_ABOVE {
            self.entries
                .retain(|_, e| now.duration_since(e.last_failure) < FORGET_AFTER);
        }
        for key in [ip_key(ip), prefix_key(api_key)] {
            let mut entry = self.entries.entry(key).or_insert(Entry {
                failures: 0,
                last_failure: now,
                locked_until: now,
            });
            if now.duration_since(entry.last_failure) >= FORGET_AFTER {
                entry.failures = 0;
            }
            entry.failures = entry.failures.saturating_add(1);
            entry.last_failure = now;
            if let Some(backoff) = backoff(entry.failures) {
                entry.locked_until = now + backoff;
            }
        }
    }

    /// Count a successful exchange: the key prefix starts afresh.
    pub fn succeeded(&self, api_key: &str) {
        self.entries.remove(&prefix_key(api_key));
    }
}

/// The lock-out after the `failures`-th failure in a row.
fn backoff(failures: u32) -> Option<Duration> {
    let over = failures.checked_sub(FREE_FAILURES)?.checked_sub(1)?;
    let factor = 1u32.checked_shl(over.min(31)).unwrap_or(u32::MAX);
    Some(BASE_BACKOFF.saturating_mul(factor).min(MAX_BACKOFF))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const IP: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    #[test]
    fn backoff_doubles_after_the_free_failures_up_to_the_cap() {
        assert_eq!(backoff(FREE_FAILURES), None);
        assert_eq!(backoff(FREE_FAILURES + 1), Some(BASE_BACKOFF));
        assert_eq!(backoff(FREE_FAILURES + 2), Some(BASE_BACKOFF * 2));
        assert_eq!(backoff(FREE_FAILURES + 4), Some(BASE_BACKOFF * 8));
        assert_eq!(backoff(u32::MAX), Some(MAX_BACKOFF));
    }

    #[tokio::test(start_paused = true)]
    async fn failures_lock_out_the_ip_and_the_prefix_until_the_backoff_passes() {
        let t = TokenThrottle::default();
        for i in 0..FREE_FAILURES {
            assert_eq!(t.wait(IP, "stk_guess"), None, "failure {i} is free");
            t.failed(IP, &format!("stk_guess{i}"));
        }
        assert_eq!(t.wait(IP, "stk_other"), None);
        t.failed(IP, "stk_other");
        // Over the free failures: the IP is locked out, whatever key it presents.
        assert_eq!(t.wait(IP, "stk_anything"), Some(BASE_BACKOFF));
        tokio::time::advance(BASE_BACKOFF).await;
        assert_eq!(t.wait(IP, "stk_anything"), None);
        t.failed(IP, "stk_again");
        assert_eq!(t.wait(IP, "stk_anything"), Some(BASE_BACKOFF * 2));

        // Another IP presenting a different prefix is not affected; the same prefix is.
        let other: IpAddr = "10.0.0.2".parse().unwrap();
        assert_eq!(t.wait(other, "stk_zzzzzzzzzz"), None);

        // A success clears the prefix, not the IP.
        t.succeeded("stk_anything");
        assert!(t.wait(IP, "stk_anything").is_some());
        tokio::time::advance(FORGET_AFTER).await;
        assert_eq!(t.wait(IP, "stk_anything"), None);
        t.failed(IP, "stk_new");
        assert_eq!(t.wait(IP, "stk_new"), None, "counts are forgotten");
    }
}
