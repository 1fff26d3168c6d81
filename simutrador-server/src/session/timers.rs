//! Deadlines: one task holding a [`DelayQueue`] of every session's time-limit warning and
//! expiry. Nothing is scanned on an interval: an idle session costs one queue entry, and the
//! task wakes only when the next deadline is due (or a deadline is added or cancelled), so a
//! session expires at its deadline to within the timer's millisecond resolution. Each firing
//! runs as a job (lag measured, failures retried with backoff, see [`super::jobs`]).
//!
//! Schedules and cancels reach the task through a bounded mailbox, not an unbounded channel:
//! requests are coalesced per session, so it never holds more than one entry per session.

use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::Notify;
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

/// What one session asked of the timer task since it last looked.
#[derive(Debug, Default)]
struct Pending {
    /// Drop the session's deadlines first.
    cancel: bool,
    /// Then add these: at most one per [`TimerKind`].
    schedule: Vec<(Instant, TimerKind)>,
}

/// The bounded mailbox between the session layer and the timer task: requests are coalesced
/// per session (a cancel drops what was pending; a schedule replaces a pending one of the
/// same kind), so it holds at most one entry, with at most two deadlines, per session in the
/// table, however fast deadlines change. Senders never wait.
#[derive(Debug, Default)]
struct Mailbox {
    pending: Mutex<HashMap<Arc<str>, Pending>>,
    wake: Notify,
}

/// Adds and cancels deadlines; cheap to clone.
#[derive(Debug, Clone)]
pub struct TimerHandle {
    mailbox: Arc<Mailbox>,
}

/// The receiving end, handed to [`run`].
#[derive(Debug)]
pub struct TimerQueue {
    mailbox: Arc<Mailbox>,
}

/// A handle and its queue.
pub fn channel() -> (TimerHandle, TimerQueue) {
    let mailbox = Arc::new(Mailbox::default());
    (
        TimerHandle {
            mailbox: mailbox.clone(),
        },
        TimerQueue { mailbox },
    )
}

impl TimerHandle {
    /// Fire `kind` for `session_id` at `at` (replacing a pending, not yet applied, request of
    /// the same kind).
    pub fn schedule(&self, session_id: &Arc<str>, at: Instant, kind: TimerKind) {
        {
            let mut pending = self.mailbox.pending.lock();
            let entry = pending.entry(session_id.clone()).or_default();
            entry.schedule.retain(|(_, k)| *k != kind);
            entry.schedule.push((at, kind));
        }
        self.mailbox.wake.notify_one();
    }

    /// Drop every deadline of `session_id`.
    pub fn cancel(&self, session_id: &Arc<str>) {
        self.mailbox.pending.lock().insert(
            session_id.clone(),
            Pending {
                cancel: true,
                schedule: Vec::new(),
            },
        );
        self.mailbox.wake.notify_one();
    }

    /// Sessions with a request the timer task has not applied yet (for tests).
    pub fn pending(&self) -> usize {
        self.mailbox.pending.lock().len()
    }
}

type Deadlines = DelayQueue<(Arc<str>, TimerKind, Instant)>;
type Keys = HashMap<Arc<str>, Vec<delay_queue::Key>>;

impl TimerQueue {
    /// Apply every pending request to the delay queue.
    fn apply(&self, delays: &mut Deadlines, keys: &mut Keys) {
        let pending = std::mem::take(&mut *self.mailbox.pending.lock());
        for (id, p) in pending {
            if p.cancel {
                for key in keys.remove(&id).unwrap_or_default() {
                    delays.try_remove(&key);
                }
            }
            for (at, kind) in p.schedule {
                let key = delays.insert_at((id.clone(), kind, at), at);
                keys.entry(id.clone()).or_default().push(key);
            }
        }
    }
}

/// Run the deadlines of `sessions` until `shutdown`.
pub async fn run(sessions: Arc<SessionManager>, queue: TimerQueue, shutdown: CancellationToken) {
    let mut delays: Deadlines = DelayQueue::new();
    let mut keys: Keys = HashMap::new();
    loop {
        // Biased: every pending schedule and cancel is applied before anything fires.
        tokio::select! {
            biased;
            _ = shutdown.cancelled() => break,
            () = queue.mailbox.wake.notified() => queue.apply(&mut delays, &mut keys),
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
                let _ = run_job(&**sessions.observer(), name, retries, due, || {
                    sessions.on_deadline(&id, kind)
                })
                .await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn requests_are_coalesced_per_session_and_a_cancel_drops_what_was_pending() {
        let (handle, queue) = channel();
        let (a, b): (Arc<str>, Arc<str>) = (Arc::from("a"), Arc::from("b"));
        let now = Instant::now();
        for i in 0..1000 {
            let at = now + Duration::from_secs(i);
            handle.schedule(&a, at, TimerKind::TimeWarning);
            handle.schedule(&a, at, TimerKind::Expire);
        }
        handle.schedule(&b, now, TimerKind::Expire);
        handle.cancel(&b);
        assert_eq!(
            handle.pending(),
            2,
            "one entry per session, however many requests"
        );
        let (mut delays, mut keys) = (DelayQueue::new(), Keys::new());
        queue.apply(&mut delays, &mut keys);
        assert_eq!(handle.pending(), 0);
        assert_eq!(
            delays.len(),
            2,
            "a: the last warning and expiry; b: nothing"
        );
        assert_eq!(keys.get(&a).map(Vec::len), Some(2));
        assert!(!keys.contains_key(&b));
        handle.cancel(&a);
        queue.apply(&mut delays, &mut keys);
        assert!(delays.is_empty() && keys.is_empty());
    }
}
