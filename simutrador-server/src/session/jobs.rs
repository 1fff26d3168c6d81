//! Background jobs (deadlines, warnings, cleanup, audit writes) run through [`run_job`]: timed
//! for the lag metric, retried with exponential backoff (100 ms, 200 ms, 400 ms …) up to
//! `job_max_retries` times, and counted in `/metrics` as run, retried or failed.

use std::time::Duration;
use tokio::time::Instant;

use crate::server::metrics::Metrics;

/// First backoff; doubles with every retry.
pub const FIRST_BACKOFF: Duration = Duration::from_millis(100);

/// Run `job` (due at `due`), retrying failures; returns its last error when every try failed.
pub async fn run_job(
    metrics: &Metrics,
    name: &'static str,
    max_retries: u32,
    due: Instant,
    mut job: impl FnMut() -> Result<(), String>,
) -> Result<(), String> {
    metrics.job_run(name, Instant::now().saturating_duration_since(due));
    let mut backoff = FIRST_BACKOFF;
    let mut attempt = 0;
    loop {
        match job() {
            Ok(()) => return Ok(()),
            Err(why) if attempt >= max_retries => {
                metrics.job_failed(name);
                tracing::error!(
                    job = name,
                    attempts = attempt + 1,
                    "background job failed: {why}"
                );
                return Err(why);
            }
            Err(why) => {
                metrics.job_retried(name);
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

    #[tokio::test(start_paused = true)]
    async fn failures_are_retried_with_backoff_and_counted() {
        let m = Metrics::default();
        let mut calls = 0;
        let start = Instant::now();
        let r = run_job(&m, "flaky", 3, start, || {
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
        let text = m.render(&[], 0);
        assert!(
            text.contains("simutrador_jobs_retried_total{job=\"flaky\"} 2"),
            "{text}"
        );
        let r = run_job(&m, "broken", 1, Instant::now(), || Err("no".into())).await;
        assert!(r.is_err());
        assert!(
            m.render(&[], 0)
                .contains("simutrador_jobs_failed_total{job=\"broken\"} 1")
        );
    }
}
