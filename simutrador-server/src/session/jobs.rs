//! Background jobs (deadlines, warnings, cleanup, audit writes) run through [`run_job`]: timed
//! for the lag metric, retried with exponential backoff (100 ms, 200 ms, 400 ms …) up to
//! `job_max_retries` times, and reported as run, retried or failed [`SessionEvent`]s (which
//! the daemon counts in `/metrics`).

use std::time::Duration;
use tokio::time::Instant;

use super::hooks::{SessionEvent, SessionObserver};

/// First backoff; doubles with every retry.
pub const FIRST_BACKOFF: Duration = Duration::from_millis(100);

/// Run `job` (due at `due`), retrying failures; returns its last error when every try failed.
pub async fn run_job(
    observer: &dyn SessionObserver,
    name: &'static str,
    max_retries: u32,
    due: Instant,
    mut job: impl FnMut() -> Result<(), String>,
) -> Result<(), String> {
    observer.observe(SessionEvent::JobRun {
        job: name,
        lag: Instant::now().saturating_duration_since(due),
    });
    let mut backoff = FIRST_BACKOFF;
    let mut attempt = 0;
    loop {
        match job() {
            Ok(()) => return Ok(()),
            Err(why) if attempt >= max_retries => {
                observer.observe(SessionEvent::JobFailed { job: name });
                tracing::error!(
                    job = name,
                    attempts = attempt + 1,
                    "background job failed: {why}"
                );
                return Err(why);
            }
            Err(why) => {
                observer.observe(SessionEvent::JobRetried { job: name });
                tracing::warn!(
                    job = name,
                    attempt,
                    "background job failed, retrying in {backoff:?}: {why}"
                );
                tokio::time::sleep(backoff).await;
                backoff = backoff.saturating_mul(2);
                attempt += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::test_support::Recorder;

    #[tokio::test(start_paused = true)]
    async fn failures_are_retried_with_backoff_and_reported() {
        let events = Recorder::default();
        let mut calls = 0;
        let start = Instant::now();
        let r = run_job(&events, "flaky", 3, start, || {
            calls += 1;
            if calls < 3 {
                Err("disk full".into())
            } else {
                Ok(())
            }
        })
        .await;
        assert!(r.is_ok());
        assert_eq!(calls, 3);
        assert_eq!(start.elapsed(), Duration::from_millis(300));
        assert_eq!(
            events.take(),
            [
                SessionEvent::JobRun {
                    job: "flaky",
                    lag: Duration::ZERO
                },
                SessionEvent::JobRetried { job: "flaky" },
                SessionEvent::JobRetried { job: "flaky" },
            ]
        );
        let r = run_job(&events, "broken", 1, Instant::now(), || Err("no".into())).await;
        assert!(r.is_err());
        assert_eq!(
            events.take(),
            [
                SessionEvent::JobRun {
                    job: "broken",
                    lag: Duration::ZERO
                },
                SessionEvent::JobRetried { job: "broken" },
                SessionEvent::JobFailed { job: "broken" },
            ]
        );
    }
}
