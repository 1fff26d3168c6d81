//! Rate limits, all from `[rate_limits]`: session creations per user per minute and messages
//! per connection per second (`governor`, GCRA), and open connections per user (a counter
//! with a guard).
//!
//! Every refusal is `RATE_LIMITED` with `details.retry_after_ms`: for the `governor` limiters
//! the true wait until the next request conforms (`NotUntil::wait_time_from`), rounded up to
//! the next millisecond; HTTP answers carry it as `Retry-After` in whole seconds, rounded up
//! (the server layer adds it to every 429).

use dashmap::DashMap;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde_json::json;
use shared_models::ErrorCode;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use crate::config::RateLimitSection;
use crate::error::{ApiError, ApiResult, api_error};

/// The daemon-wide limiters.
#[derive(Debug)]
pub struct RateLimits {
    creates: DefaultKeyedRateLimiter<Arc<str>>,
    connections: Arc<DashMap<Arc<str>, u32>>,
    config: RateLimitSection,
}

fn nz(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

impl RateLimits {
    /// Limiters from the config.
    pub fn new(config: &RateLimitSection) -> Self {
        RateLimits {
            creates: RateLimiter::keyed(Quota::per_minute(nz(config.session_creates_per_minute))),
            connections: Arc::new(DashMap::new()),
            config: config.clone(),
        }
    }

    /// Count one session creation for `user`; `RATE_LIMITED` when over the quota.
    pub fn check_create(&self, user: &Arc<str>) -> ApiResult<()> {
        self.creates.check_key(user).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            limited(
                retry_ms(wait),
                format!(
                    "too many sessions created (limit {} per minute)",
                    self.config.session_creates_per_minute
                ),
            )
        })
    }

    /// A limiter for one connection's messages.
    pub fn connection_limiter(&self) -> ConnectionLimiter {
        let quota = Quota::per_second(nz(self.config.messages_per_second)).allow_burst(nz(self
            .config
            .message_burst
            .max(self.config.messages_per_second)));
        ConnectionLimiter {
            limiter: RateLimiter::direct(quota),
            per_second: self.config.messages_per_second,
        }
    }

    /// Take a connection slot for `user`; `RATE_LIMITED` when they have too many open.
    pub fn acquire_connection(&self, user: &Arc<str>) -> ApiResult<ConnectionSlot> {
        let max = self.config.connections_per_user;
        let mut count = self.connections.entry(user.clone()).or_insert(0);
        if *count >= max {
            return Err(limited(
                1_000,
                format!("you already have {max} open connections; close one or reuse it"),
            ));
        }
        *count += 1;
        Ok(ConnectionSlot {
            connections: self.connections.clone(),
            user: user.clone(),
        })
    }
}

/// A wait in whole milliseconds, rounded up and at least 1: retrying after it never comes
/// too early.
fn retry_ms(wait: Duration) -> u64 {
    let ms = wait.as_nanos().div_ceil(1_000_000);
    u64::try_from(ms).unwrap_or(u64::MAX).max(1)
}

fn limited(retry_after_ms: u64, what: String) -> ApiError {
    api_error(
        ErrorCode::RateLimited,
        format!("{what}; retry after {retry_after_ms} ms"),
        json!({ "retry_after_ms": retry_after_ms }),
    )
}

/// Messages-per-second limiter of one connection.
#[derive(Debug)]
pub struct ConnectionLimiter {
    limiter: DefaultDirectRateLimiter,
    per_second: u32,
}

impl ConnectionLimiter {
    /// Count one message; `RATE_LIMITED` when over the quota.
    pub fn check(&self) -> ApiResult<()> {
        self.limiter.check().map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            limited(
                retry_ms(wait),
                format!("too many messages (limit {} per second)", self.per_second),
            )
        })
    }
}

/// One open connection of a user; released on drop.
#[derive(Debug)]
pub struct ConnectionSlot {
    connections: Arc<DashMap<Arc<str>, u32>>,
    user: Arc<str>,
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        if let Some(mut count) = self.connections.get_mut(&self.user) {
            *count = count.saturating_sub(1);
        }
        self.connections
            .remove_if(&self.user, |_, count| *count == 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> RateLimitSection {
        RateLimitSection {
            session_creates_per_minute: 2,
            messages_per_second: 5,
            message_burst: 5,
            connections_per_user: 2,
        }
    }

    #[test]
    fn waits_round_up_to_the_next_millisecond() {
        assert_eq!(retry_ms(Duration::from_micros(1_500)), 2);
        assert_eq!(retry_ms(Duration::from_nanos(1)), 1);
        assert_eq!(retry_ms(Duration::ZERO), 1);
        assert_eq!(retry_ms(Duration::from_millis(1_000)), 1_000);
    }

    #[test]
    fn creations_are_limited_per_user() {
        let limits = RateLimits::new(&config());
        let (a, b): (Arc<str>, Arc<str>) = ("a".into(), "b".into());
        assert!(limits.check_create(&a).is_ok());
        assert!(limits.check_create(&a).is_ok());
        let err = limits.check_create(&a).unwrap_err();
        assert_eq!(err.error_code, ErrorCode::RateLimited);
        assert!(err.details["retry_after_ms"].as_u64().unwrap() > 0);
        assert!(limits.check_create(&b).is_ok());
    }

    #[test]
    fn connection_slots_are_released_on_drop() {
        let limits = RateLimits::new(&config());
        let u: Arc<str> = "u".into();
        let one = limits.acquire_connection(&u).unwrap();
        let _two = limits.acquire_connection(&u).unwrap();
        assert!(limits.acquire_connection(&u).is_err());
        drop(one);
        assert!(limits.acquire_connection(&u).is_ok());
    }

    #[test]
    fn messages_are_limited_per_connection() {
        let limits = RateLimits::new(&config());
        let conn = limits.connection_limiter();
        let ok = (0..20).filter(|_| conn.check().is_ok()).count();
        assert!((5..20).contains(&ok), "{ok}");
    }
}
