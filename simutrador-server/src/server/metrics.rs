//! `GET /metrics` in the Prometheus text format (version 0.0.4), written by hand: sessions by
//! state, background jobs run / failed / retried and their lag, messages by type, errors by
//! code, open connections, failed writes to the session store, connections refused or closed
//! before they became an authenticated WebSocket (by reason), slow-consumer closes, and
//! reloads of the market data (by result).
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
    refused: [AtomicU64; ConnectionRefusal::ALL.len()],
    slow_consumer_closes: AtomicU64,
    data_reloads: [AtomicU64; 2],
}

/// Why the listener refused a connection, or closed it before it became an authenticated
/// WebSocket (`[connections]` in `docs/configuration.md`): the `reason` label of
/// `simutrador_connections_refused_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionRefusal {
    /// Refused: `max_connections` connections were open.
    MaxConnections,
    /// Refused: `max_connections_per_ip` connections were open from its address.
    MaxConnectionsPerIp,
    /// Closed: no whole request head within `header_read_timeout_seconds`.
    HeaderReadTimeout,
    /// Closed: not an authenticated WebSocket within `unauthenticated_timeout_seconds`.
    UnauthenticatedTimeout,
}

impl ConnectionRefusal {
    /// Every reason, in the order they are rendered.
    pub const ALL: [ConnectionRefusal; 4] = [
        ConnectionRefusal::MaxConnections,
        ConnectionRefusal::MaxConnectionsPerIp,
        ConnectionRefusal::HeaderReadTimeout,
        ConnectionRefusal::UnauthenticatedTimeout,
    ];

    /// The label value (the configuration key it comes from).
    pub fn label(self) -> &'static str {
        match self {
            ConnectionRefusal::MaxConnections => "max_connections",
            ConnectionRefusal::MaxConnectionsPerIp => "max_connections_per_ip",
            ConnectionRefusal::HeaderReadTimeout => "header_read_timeout",
            ConnectionRefusal::UnauthenticatedTimeout => "unauthenticated_timeout",
        }
    }
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

    /// A connection was refused or closed early, for `why`.
    pub fn connection_refused(&self, why: ConnectionRefusal) {
        self.refused[why as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// Connections refused or closed early for `why` so far.
    pub fn connections_refused(&self, why: ConnectionRefusal) -> u64 {
        self.refused[why as usize].load(Ordering::Relaxed)
    }

    /// A WebSocket connection was closed with 4008 (slow consumer).
    pub fn slow_consumer_closed(&self) {
        self.slow_consumer_closes.fetch_add(1, Ordering::Relaxed);
    }

    /// The market data was reloaded (`ok`) or a reload was refused (a bad file; the old
    /// catalog kept serving).
    pub fn data_reloaded(&self, ok: bool) {
        self.data_reloads[usize::from(!ok)].fetch_add(1, Ordering::Relaxed);
    }

    /// Reloads of the market data so far that worked (`ok`) or failed.
    pub fn data_reloads(&self, ok: bool) -> u64 {
        self.data_reloads[usize::from(!ok)].load(Ordering::Relaxed)
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
        let name = "simutrador_connections_refused_total";
        let _ = writeln!(
            out,
            "# HELP {name} Connections refused at accept (over a cap) or closed before they became an authenticated WebSocket (a timeout), by reason."
        );
        let _ = writeln!(out, "# TYPE {name} counter");
        for why in ConnectionRefusal::ALL {
            let n = self.connections_refused(why);
            let _ = writeln!(out, "{name}{{reason=\"{}\"}} {n}", why.label());
        }
        let name = "simutrador_slow_consumer_closes_total";
        let _ = writeln!(
            out,
            "# HELP {name} WebSocket connections closed with close code 4008 (outbound queue full for slow_consumer_timeout_seconds)."
        );
        let _ = writeln!(out, "# TYPE {name} counter");
        let closes = self.slow_consumer_closes.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name} {closes}");
        let name = "simutrador_data_reloads_total";
        let _ = writeln!(
            out,
            "# HELP {name} Reloads of the market data after the data dir changed (or SIGHUP), by result (error: a bad file, the old data kept serving)."
        );
        let _ = writeln!(out, "# TYPE {name} counter");
        for (result, ok) in [("ok", true), ("error", false)] {
            let _ = writeln!(
                out,
                "{name}{{result=\"{result}\"}} {}",
                self.data_reloads(ok)
            );
        }
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
            RequestEvent::SlowConsumerClosed => self.slow_consumer_closed(),
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
        protocol.observe(RequestEvent::SlowConsumerClosed);
        m.connection_refused(ConnectionRefusal::MaxConnectionsPerIp);
        m.data_reloaded(true);
        m.data_reloaded(false);
        m.data_reloaded(true);
        let text = m.render(&[], 0);
        assert!(text.contains("simutrador_data_reloads_total{result=\"ok\"} 2"));
        assert!(text.contains("simutrador_data_reloads_total{result=\"error\"} 1"));
        assert!(text.contains("simutrador_slow_consumer_closes_total 1"));
        assert!(
            text.contains(
                "simutrador_connections_refused_total{reason=\"max_connections_per_ip\"} 1"
            )
        );
        assert!(
            text.contains("simutrador_connections_refused_total{reason=\"max_connections\"} 0")
        );
        assert_eq!(m.jobs_run("time_limit"), 1);
        assert!(text.contains("simutrador_jobs_retried_total{job=\"audit\"} 1"));
        assert!(text.contains("simutrador_jobs_failed_total{job=\"audit\"} 1"));
        assert!(text.contains("simutrador_messages_total{type=\"ping\"} 1"));
        assert!(text.contains("simutrador_errors_total{code=\"RATE_LIMITED\"} 1"));
    }
}
