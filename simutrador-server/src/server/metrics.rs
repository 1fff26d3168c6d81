//! `GET /metrics` in the Prometheus text format (version 0.0.4), written by hand: sessions by
//! state, background jobs run / failed / retried and their lag, messages by type, errors by
//! code, open connections, failed writes to the session store.
//!
//! The lower layers never name this registry: it implements the session layer's
//! [`SessionObserver`] and the protocol layer's [`RequestObserver`], and the server installs
//! it when it builds the session manager and the daemon state.

use dashmap::DashMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::protocol::{RequestEvent, RequestObserver};
use crate::session::hooks::{SessionEvent, SessionObserver};

/// Counters shared by the whole daemon.
#[derive(Debug, Default)]
pub struct Metrics {
    jobs_run: DashMap<&'static str, AtomicU64>,
    jobs_failed: DashMap<&'static str, AtomicU64>,
    jobs_retried: DashMap<&'static str, AtomicU64>,
    job_lag_micros_sum: AtomicU64,
    job_lag_micros_max: AtomicU64,
    job_lag_count: AtomicU64,
    messages: DashMap<&'static str, AtomicU64>,
    errors: DashMap<&'static str, AtomicU64>,
    store_failures: AtomicU64,
}

fn bump(map: &DashMap<&'static str, AtomicU64>, key: &'static str) {
    if let Some(c) = map.get(key) {
        c.fetch_add(1, Ordering::Relaxed);
        return;
    }
    map.entry(key).or_default().fetch_add(1, Ordering::Relaxed);
}

impl Metrics {
    /// A job ran (successfully or not) `lag` after it was due.
    pub fn job_run(&self, job: &'static str, lag: Duration) {
        bump(&self.jobs_run, job);
        let us = u64::try_from(lag.as_micros()).unwrap_or(u64::MAX);
        self.job_lag_micros_sum.fetch_add(us, Ordering::Relaxed);
        self.job_lag_micros_max.fetch_max(us, Ordering::Relaxed);
        self.job_lag_count.fetch_add(1, Ordering::Relaxed);
    }

    /// A job failed for good (after its retries).
    pub fn job_failed(&self, job: &'static str) {
        bump(&self.jobs_failed, job);
    }

    /// A job is retried.
    pub fn job_retried(&self, job: &'static str) {
        bump(&self.jobs_retried, job);
    }

    /// A request of `kind` arrived.
    pub fn message(&self, kind: &'static str) {
        bump(&self.messages, kind);
    }

    /// An `error` with `code` was answered.
    pub fn error(&self, code: &'static str) {
        bump(&self.errors, code);
    }

    /// A write to the session store failed.
    pub fn store_failed(&self) {
        self.store_failures.fetch_add(1, Ordering::Relaxed);
    }

    /// Failed writes to the session store so far.
    pub fn store_failures(&self) -> u64 {
        self.store_failures.load(Ordering::Relaxed)
    }

    /// Jobs run of kind `job`.
    pub fn jobs_run(&self, job: &str) -> u64 {
        self.jobs_run
            .get(job)
            .map_or(0, |c| c.load(Ordering::Relaxed))
    }

    /// The text exposition, given the gauges only the caller knows.
    pub fn render(&self, sessions_by_state: &[(&str, u64)], connections: u64) -> String {
        let mut out = String::new();
        gauge_header(&mut out, "simutrador_sessions", "Sessions held, by state.");
        for (state, n) in sessions_by_state {
            let _ = writeln!(out, "simutrador_sessions{{state=\"{state}\"}} {n}");
        }
        gauge_header(
            &mut out,
            "simutrador_connections",
            "Open WebSocket connections.",
        );
        let _ = writeln!(out, "simutrador_connections {connections}");
        counters(
            &mut out,
            "simutrador_jobs_run_total",
            "Background jobs run.",
            "job",
            &self.jobs_run,
        );
        counters(
            &mut out,
            "simutrador_jobs_failed_total",
            "Background jobs that failed after their retries.",
            "job",
            &self.jobs_failed,
        );
        counters(
            &mut out,
            "simutrador_jobs_retried_total",
            "Background job retries.",
            "job",
            &self.jobs_retried,
        );
        let count = self.job_lag_count.load(Ordering::Relaxed);
        let sum = self.job_lag_micros_sum.load(Ordering::Relaxed) as f64 / 1e6;
        let max = self.job_lag_micros_max.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(
            out,
            "# HELP simutrador_job_lag_seconds Delay between a job's due time and its start."
        );
        let _ = writeln!(out, "# TYPE simutrador_job_lag_seconds summary");
        let _ = writeln!(out, "simutrador_job_lag_seconds_sum {sum}");
        let _ = writeln!(out, "simutrador_job_lag_seconds_count {count}");
        gauge_header(
            &mut out,
            "simutrador_job_lag_seconds_max",
            "Largest job lag seen.",
        );
        let _ = writeln!(out, "simutrador_job_lag_seconds_max {max}");
        counters(
            &mut out,
            "simutrador_messages_total",
            "Requests received, by type.",
            "type",
            &self.messages,
        );
        counters(
            &mut out,
            "simutrador_errors_total",
            "Errors answered, by code.",
            "code",
            &self.errors,
        );
        let _ = writeln!(
            out,
            "# HELP simutrador_store_write_failures_total Failed writes to the session store (journals, probes)."
        );
        let _ = writeln!(out, "# TYPE simutrador_store_write_failures_total counter");
        let _ = writeln!(
            out,
            "simutrador_store_write_failures_total {}",
            self.store_failures()
        );
        out
    }
}

impl SessionObserver for Metrics {
    fn observe(&self, event: SessionEvent) {
        match event {
            SessionEvent::JobRun { job, lag } => self.job_run(job, lag),
            SessionEvent::JobRetried { job } => self.job_retried(job),
            SessionEvent::JobFailed { job } => self.job_failed(job),
            SessionEvent::StoreFailed => self.store_failed(),
        }
    }
}

impl RequestObserver for Metrics {
    fn observe(&self, event: RequestEvent) {
        match event {
            RequestEvent::Received(kind) => self.message(kind),
            RequestEvent::Refused(code) => self.error(code),
        }
    }
}

fn gauge_header(out: &mut String, name: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} gauge");
}

fn counters(
    out: &mut String,
    name: &str,
    help: &str,
    label: &str,
    map: &DashMap<&'static str, AtomicU64>,
) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} counter");
    let mut rows: Vec<(&str, u64)> = map
        .iter()
        .map(|e| (*e.key(), e.value().load(Ordering::Relaxed)))
        .collect();
    rows.sort_unstable();
    for (k, v) in rows {
        let _ = writeln!(out, "{name}{{{label}=\"{k}\"}} {v}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prometheus_text() {
        let m = Metrics::default();
        m.job_run("deadline", Duration::from_millis(3));
        m.job_retried("audit");
        m.message("ping");
        m.message("ping");
        m.error("INVALID_STATE");
        let text = m.render(&[("running", 2)], 3);
        assert!(text.contains("simutrador_sessions{state=\"running\"} 2"));
        assert!(text.contains("simutrador_jobs_run_total{job=\"deadline\"} 1"));
        assert!(text.contains("simutrador_jobs_retried_total{job=\"audit\"} 1"));
        assert!(text.contains("simutrador_messages_total{type=\"ping\"} 2"));
        assert!(text.contains("simutrador_errors_total{code=\"INVALID_STATE\"} 1"));
        assert!(text.contains("simutrador_job_lag_seconds_count 1"));
        assert!(text.contains("# TYPE simutrador_connections gauge"));
    }

    #[test]
    fn counts_what_the_lower_layers_report() {
        let m = Metrics::default();
        let session: &dyn SessionObserver = &m;
        session.observe(SessionEvent::JobRun {
            job: "time_limit",
            lag: Duration::from_millis(1),
        });
        session.observe(SessionEvent::JobRetried { job: "audit" });
        session.observe(SessionEvent::JobFailed { job: "audit" });
        session.observe(SessionEvent::StoreFailed);
        let protocol: &dyn RequestObserver = &m;
        protocol.observe(RequestEvent::Received("ping"));
        protocol.observe(RequestEvent::Refused("RATE_LIMITED"));
        let text = m.render(&[], 0);
        assert_eq!(m.jobs_run("time_limit"), 1);
        assert!(text.contains("simutrador_jobs_retried_total{job=\"audit\"} 1"));
        assert!(text.contains("simutrador_jobs_failed_total{job=\"audit\"} 1"));
        assert!(text.contains("simutrador_messages_total{type=\"ping\"} 1"));
        assert!(text.contains("simutrador_errors_total{code=\"RATE_LIMITED\"} 1"));
    }
}
