//! Throttle on `POST /auth/token` against guessing API keys: failures are counted per client
//! IP and per key prefix (the first [`PREFIX_CHARS`] characters of the presented key), and
//! after [`FREE_FAILURES`] failures in a row each further failure doubles a lock-out, from
//! [`BASE_BACKOFF`] up to [`MAX_BACKOFF`]. While locked out, the endpoint answers 429
//! `RATE_LIMITED` with `Retry-After` and `details.retry_after_ms` without checking the key.
//!
//! A successful exchange clears its key prefix's count and brings the IP's back to the edge
//! of the free failures, so its next failure costs [`BASE_BACKOFF`] again: a user who
//! mistyped their key is never locked out for long once they got it right, and holding one
//! good key buys no run of free guesses. Counts are forgotten [`FORGET_AFTER`] after the last
//! failure.
//!
//! The map is bounded ([`MAX_ENTRIES`]): when it is full, forgotten counts are dropped first,
//! then the oldest (by last failure) until a quarter is free, so a flood of distinct IPs or
//! prefixes cannot grow memory without bound, and a client that keeps failing keeps its count.
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
/// Most IPs and prefixes tracked at once (about 150 bytes each).
pub const MAX_ENTRIES: usize = 50_000;

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    last_failure: Instant,
    locked_until: Instant,
}

/// Failure counts per IP and per key prefix.
#[derive(Debug)]
pub struct TokenThrottle {
    entries: DashMap<String, Entry>,
    capacity: usize,
}

impl Default for TokenThrottle {
    fn default() -> Self {
        TokenThrottle::with_capacity(MAX_ENTRIES)
    }
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
    /// A throttle tracking at most `capacity` IPs and prefixes (at least 4).
    pub fn with_capacity(capacity: usize) -> Self {
        TokenThrottle {
            entries: DashMap::new(),
            capacity: capacity.max(4),
        }
    }

    /// IPs and prefixes tracked now.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when nothing is tracked.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

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
        for key in [ip_key(ip), prefix_key(api_key)] {
            if !self.entries.contains_key(&key) && self.entries.len() >= self.capacity {
                self.make_room(now);
            }
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

    /// Count a successful exchange: the key prefix starts afresh, and the IP's next failure
    /// costs the base lock-out (not a longer one).
    pub fn succeeded(&self, ip: IpAddr, api_key: &str) {
        self.entries.remove(&prefix_key(api_key));
        if let Some(mut e) = self.entries.get_mut(&ip_key(ip)) {
            e.failures = e.failures.min(FREE_FAILURES);
        }
    }

    /// Drop forgotten counts; if that frees too little, the oldest until a quarter is free.
    fn make_room(&self, now: Instant) {
        self.entries
            .retain(|_, e| now.duration_since(e.last_failure) < FORGET_AFTER);
        let keep = self.capacity - self.capacity / 4;
        if self.entries.len() <= keep {
            return;
        }
        let mut ages: Vec<Instant> = self.entries.iter().map(|e| e.last_failure).collect();
        let drop = ages.len() - keep;
        let (_, cutoff, _) = ages.select_nth_unstable(drop - 1);
        let cutoff = *cutoff;
        self.entries.retain(|_, e| e.last_failure > cutoff);
        tracing::warn!(
            tracked = self.entries.len(),
            "token throttle full: forgot the oldest failure counts"
        );
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
        t.succeeded(IP, "stk_anything");
        assert!(t.wait(IP, "stk_anything").is_some());
        tokio::time::advance(FORGET_AFTER).await;
        assert_eq!(t.wait(IP, "stk_anything"), None);
        t.failed(IP, "stk_new");
        assert_eq!(t.wait(IP, "stk_new"), None, "counts are forgotten");
    }

    #[tokio::test(start_paused = true)]
    async fn a_success_resets_the_ips_backoff_to_the_base() {
        let t = TokenThrottle::default();
        // A user who mistyped their key many times: the lock-out grew to the cap.
        for i in 0..FREE_FAILURES + 20 {
            t.failed(IP, &format!("stk_typo{i}"));
        }
        assert_eq!(t.wait(IP, "stk_good"), Some(MAX_BACKOFF), "bounded");
        tokio::time::advance(MAX_BACKOFF).await;
        assert_eq!(t.wait(IP, "stk_good"), None);
        t.succeeded(IP, "stk_good");
        // The next mistake costs the base lock-out, not the cap: no loopback user is locked
        // out for long after one success. (Not free: a valid key buys no run of guesses.)
        t.failed(IP, "stk_typo");
        assert_eq!(t.wait(IP, "stk_good"), Some(BASE_BACKOFF));
        tokio::time::advance(BASE_BACKOFF).await;
        assert_eq!(t.wait(IP, "stk_good"), None);
    }

    #[tokio::test(start_paused = true)]
    async fn a_flood_of_distinct_clients_keeps_the_map_bounded() {
        let t = TokenThrottle::with_capacity(100);
        for i in 0..1_000u32 {
            let ip = IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + i));
            t.failed(ip, &format!("stk_{i:08}"));
            tokio::time::advance(Duration::from_millis(1)).await;
            assert!(t.len() <= 100, "{} entries after {i}", t.len());
        }
        // The newest entries are the ones kept: a client that keeps failing keeps its count.
        let last = IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + 999));
        for _ in 0..FREE_FAILURES {
            t.failed(last, "stk_again");
        }
        assert!(
            t.wait(last, "stk_other").is_some(),
            "its failures were kept"
        );
    }
}
