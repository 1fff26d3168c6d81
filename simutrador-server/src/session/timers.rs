//! Deadlines: one task holding a [`DelayQueue`] of every session's time-limit warning and
//! expiry. Nothing is scanned on an interval: an idle session costs one queue entry, and the
//! task wakes only when the next deadline is due (or a deadline is added or cancelled), so a
//! session expires at its deadline to within the timer's millisecond resolution. Each firing
//! runs as a job (lag measured, failures retried with backoff, see [`super::jobs`]).

use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::time::{DelayQueue, delay_queue};

use super::SessionManager;
use super::jobs::run_job;

/// What a deadline does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimerKind {
    /// Warn that `warning_threshold_pct` of the time limit is used.
    TimeWarning,
    /// End the session: state `expired`, reason `time_limit`.
    Expire,
}

#[derive(Debug)]
enum Command {
    Schedule(Arc<str>, Instant, TimerKind),
    Cancel(Arc<str>),
}

/// Adds and cancels deadlines; cheap to clone.
#[derive(Debug, Clone)]
pub struct TimerHandle {
    tx: mpsc::UnboundedSender<Command>,
}

/// The receiving end, handed to [`run`].
#[derive(Debug)]
pub struct TimerQueue {
    rx: mpsc::UnboundedReceiver<Command>,
}

/// A handle and its queue.
pub fn channel() -> (TimerHandle, TimerQueue) {
    let (tx, rx) = mpsc::unbounded_channel();
    (TimerHandle { tx }, TimerQueue { rx })
}

impl TimerHandle {
    /// Fire `kind` for `session_id` at `at`.
    pub fn schedule(&self, session_id: &Arc<str>, at: Instant, kind: TimerKind) {
        let _ = self
            .tx
            .send(Command::Schedule(session_id.clone(), at, kind));
    }

    /// Drop every deadline of `session_id`.
    pub fn cancel(&self, session_id: &Arc<str>) {
        let _ = self.tx.send(Command::Cancel(session_id.clone()));
    }
}

/// Run the deadlines of `sessions` until `shutdown`.
pub async fn run(
    sessions: Arc<SessionManager>,
    mut queue: TimerQueue,
    shutdown: CancellationToken,
) {
    let mut delays: DelayQueue<(Arc<str>, TimerKind, Instant)> = DelayQueue::new();
    let mut keys: HashMap<Arc<str>, Vec<delay_queue::Key>> = HashMap::new();
    loop {
        // Biased: every queued schedule and cancel is applied before anything fires.
        tokio::select! {
            biased;
            _ = shutdown.cancelled() => break,
            command = queue.rx.recv() => match command {
                None => break,
                Some(Command::Schedule(id, at, kind)) => {
                    let key = delays.insert_at((id.clone(), kind, at), at);
                    keys.entry(id).or_default().push(key);
                }
                Some(Command::Cancel(id)) => {
                    for key in keys.remove(&id).unwrap_or_default() {
                        delays.try_remove(&key);
                    }
                }
            },
            Some(expired) = std::future::poll_fn(|cx| delays.poll_expired(cx)), if !delays.is_empty() => {
                let fired = expired.key();
                let (id, kind, due) = expired.into_inner();
                if let Some(list) = keys.get_mut(&id) {
                    list.retain(|k| *k != fired);
                    if list.is_empty() {
                        keys.remove(&id);
                    }
                }
                let name = match kind {
                    TimerKind::TimeWarning => "time_warning",
                    TimerKind::Expire => "time_limit",
                };
                let retries = sessions.job_retries();
                let _ = run_job(sessions.metrics(), name, retries, due, || {
                    sessions.on_deadline(&id, kind)
                })
                .await;
            }
        }
    }
}
