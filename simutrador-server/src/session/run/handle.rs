//! How connection handlers and the session lifecycle talk to a run's actor: a bounded queue
//! of [`Control`]s (in order with the tick stream), and a stop mailbox beside it so an early
//! end always gets through, however full the queue is.
//!
//! The actor times how long it takes to carry out each request ([`RunInbox::time_one`]), so a
//! refusal of a full queue can say when to retry ([`RunHandle::retry_after`]).

use shared_models::messages::simulation::{OrderBatch, TickAck};
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::{Notify, mpsc};
use tokio::time::Instant;

use super::core::StopFlag;
use crate::session::outbound::OutboundTx;

/// Requests queued for one run before senders wait (`send`) or are refused (`try_send`).
/// A client keeps at most a window of acknowledgements in flight and is answered in order,
/// so a well-behaved client never fills it; a flood is back-pressured or refused.
pub const CONTROL_QUEUE: usize = 1024;

/// Where a reply goes: the requesting connection and its request id.
#[derive(Debug, Clone)]
pub struct ReplyTo {
    /// The connection's outgoing queue.
    pub outbound: OutboundTx,
    /// The request's id, echoed on the reply.
    pub request_id: Option<String>,
}

/// A request for the run, in order with the stream.
#[derive(Debug)]
pub enum Control {
    /// `tick_ack`.
    Ack(TickAck, ReplyTo),
    /// `tick_acks`: several acknowledgements, in order.
    Acks(Vec<TickAck>, ReplyTo),
    /// `order_batch`.
    Batch(OrderBatch, ReplyTo),
    /// `pause_simulation`.
    Pause(ReplyTo),
    /// `resume_simulation` (also re-attaches the stream to the requesting connection).
    Resume(ReplyTo),
    /// `get_account`.
    Account(ReplyTo),
}

/// An early end of a running (or paused) simulation.
#[derive(Debug)]
pub struct Terminate {
    /// `stopped` or `expired`.
    pub state: shared_models::SessionState,
    /// Why.
    pub reason: shared_models::TerminationReason,
    /// Who asked.
    pub actor: shared_models::lifecycle::Actor,
    /// The `stop_session` request to answer, if any.
    pub reply: Option<ReplyTo>,
}

/// A stop for the actor, ahead of the queue.
#[derive(Debug)]
pub enum Stop {
    /// Stop at once (session deleted or removed).
    Abort,
    /// End early with results.
    Terminate(Terminate),
}

#[derive(Debug, Default)]
struct Mailbox {
    /// The actor has ended: stops are refused.
    closed: bool,
    stops: VecDeque<Stop>,
}

#[derive(Debug, Default)]
struct Stops {
    flag: StopFlag,
    mailbox: parking_lot::Mutex<Mailbox>,
    wake: Notify,
    service: Service,
}

/// How long the actor takes per request: a moving average, and when it started the request
/// it is on.
#[derive(Debug)]
struct Service {
    /// When the run began (the origin of `started_ns`).
    origin: Instant,
    /// Nanoseconds per request, moving average (1/8 weight to the newest); 0 before the first.
    average_ns: AtomicU64,
    /// Nanoseconds after `origin` plus one at which the current request started; 0 when idle.
    started_ns: AtomicU64,
}

impl Default for Service {
    fn default() -> Self {
        Service {
            origin: Instant::now(),
            average_ns: AtomicU64::new(0),
            started_ns: AtomicU64::new(0),
        }
    }
}

impl Service {
    fn since_origin(&self) -> u64 {
        u64::try_from(self.origin.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }
}

/// Times one request of the actor (from [`RunInbox::time_one`] until dropped).
#[derive(Debug)]
pub struct ServiceTimer {
    stops: Arc<Stops>,
}

impl Drop for ServiceTimer {
    fn drop(&mut self) {
        let service = &self.stops.service;
        let started = service.started_ns.swap(0, Ordering::Relaxed);
        let took = service
            .since_origin()
            .saturating_sub(started.saturating_sub(1));
        let average = service.average_ns.load(Ordering::Relaxed);
        let next = if average == 0 {
            took.max(1)
        } else {
            (average - average / 8).saturating_add(took / 8).max(1)
        };
        service.average_ns.store(next, Ordering::Relaxed);
    }
}

/// The handle a session keeps to its run's actor.
#[derive(Debug, Clone)]
pub struct RunHandle {
    tx: mpsc::Sender<Control>,
    stops: Arc<Stops>,
}

/// The actor's ends of a [`RunHandle`].
#[derive(Debug)]
pub struct RunInbox {
    /// Requests, in order.
    pub rx: mpsc::Receiver<Control>,
    stops: Arc<Stops>,
}

impl RunHandle {
    /// A handle and the inbox the actor reads.
    pub fn channel() -> (RunHandle, RunInbox) {
        let (tx, rx) = mpsc::channel(CONTROL_QUEUE);
        let stops = Arc::<Stops>::default();
        let inbox = RunInbox {
            rx,
            stops: stops.clone(),
        };
        (RunHandle { tx, stops }, inbox)
    }

    /// Ask the run to end early; it stops streaming at once and answers as soon as it reads
    /// the request. False when the run has ended.
    pub fn terminate(&self, t: Terminate) -> bool {
        self.stop(Stop::Terminate(t))
    }

    /// Ask the run to stop at once.
    pub fn abort(&self) {
        self.stop(Stop::Abort);
    }

    fn stop(&self, stop: Stop) -> bool {
        {
            let mut mailbox = self.stops.mailbox.lock();
            if mailbox.closed {
                return false;
            }
            mailbox.stops.push_back(stop);
        }
        self.stops.flag.raise();
        self.stops.wake.notify_one();
        true
    }

    /// True once an early end was requested.
    pub fn stop_requested(&self) -> bool {
        self.stops.flag.is_raised()
    }

    /// Queue a request, waiting while the queue is full; false when the run has ended.
    pub async fn send(&self, control: Control) -> bool {
        self.tx.send(control).await.is_ok()
    }

    /// When a request refused because the queue is full may be sent again: the time the run
    /// takes to carry out one request (its moving average, and at least as long as the
    /// request it is on has taken so far), rounded up to the millisecond, at least 1 ms.
    pub fn retry_after(&self) -> Duration {
        let service = &self.stops.service;
        let average = service.average_ns.load(Ordering::Relaxed);
        let started = service.started_ns.load(Ordering::Relaxed);
        let current = match started {
            0 => 0,
            t => service.since_origin().saturating_sub(t - 1),
        };
        let ns = average.max(current);
        Duration::from_millis(ns.div_ceil(1_000_000).max(1))
    }

    /// Queue a request without waiting (for synchronous callers).
    pub fn try_send(&self, control: Control) -> Result<(), mpsc::error::TrySendError<Control>> {
        self.tx.try_send(control)
    }
}

impl RunInbox {
    /// The flag the run core checks between bars.
    pub fn stop_flag(&self) -> StopFlag {
        self.stops.flag.clone()
    }

    /// Time the request the actor is about to carry out (until the timer is dropped).
    pub fn time_one(&self) -> ServiceTimer {
        let service = &self.stops.service;
        service
            .started_ns
            .store(service.since_origin().saturating_add(1), Ordering::Relaxed);
        ServiceTimer {
            stops: self.stops.clone(),
        }
    }

    /// The oldest stop not yet taken.
    pub fn take_stop(&self) -> Option<Stop> {
        self.stops.mailbox.lock().stops.pop_front()
    }

    /// Completes when a stop may be waiting (does not borrow the inbox).
    pub fn stop_signalled(&self) -> impl Future<Output = ()> + Send + 'static {
        let stops = self.stops.clone();
        async move { stops.wake.notified().await }
    }

    /// Refuse new requests and stops; what is still queued.
    pub fn close(&mut self) -> Vec<Stop> {
        self.rx.close();
        let mut mailbox = self.stops.mailbox.lock();
        mailbox.closed = true;
        mailbox.stops.drain(..).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn retry_after_is_the_measured_time_per_request() {
        let (handle, inbox) = RunHandle::channel();
        // Nothing measured yet: the least, 1 ms.
        assert_eq!(handle.retry_after(), Duration::from_millis(1));
        {
            let _one = inbox.time_one();
            tokio::time::advance(Duration::from_millis(40)).await;
        }
        assert_eq!(handle.retry_after(), Duration::from_millis(40));
        // A request taking longer than the average: at least what it has taken so far.
        let slow = inbox.time_one();
        tokio::time::advance(Duration::from_millis(120)).await;
        assert_eq!(handle.retry_after(), Duration::from_millis(120));
        drop(slow);
        // The average moved 1/8 of the way: 40 + (120 - 40) / 8 = 50 ms.
        assert_eq!(handle.retry_after(), Duration::from_millis(50));
    }
}
