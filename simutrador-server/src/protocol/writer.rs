//! The writer of one WebSocket connection, and the slow-consumer watchdog.
//!
//! The writer task owns the sink and drains the connection's [`OutboundRx`], flushing when the
//! queue runs dry (so a burst of tick blocks goes out in few syscalls). A frame keeps its hold
//! on the queue's byte budget until it has been handed to the socket.
//!
//! [`stalled`] completes when the queue has been full (or a sender has waited for room) for
//! `after` with no frame taken by the writer: the client is not reading. The connection then
//! calls [`Writer::slow_consumer`]: the writer drops the backlog (freeing its memory and failing
//! every waiting sender, so a run pushing to this client pauses), sends close code
//! [`CLOSE_SLOW_CONSUMER`] after what is already in the socket's buffer, and gives up on the
//! socket after [`CLOSE_GRACE`].

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::SinkExt;
use futures_util::stream::SplitSink;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::session::outbound::{OutboundRx, OutboundTx, Outgoing};

/// Close code sent to a client that stopped reading (its outbound queue stayed full for
/// `[connections] slow_consumer_timeout_seconds`).
pub const CLOSE_SLOW_CONSUMER: u16 = 4008;

/// How long the writer keeps trying to deliver its last frames (at a normal end) or the close
/// frame (to a slow consumer) before it drops the socket.
pub const CLOSE_GRACE: Duration = Duration::from_secs(10);

/// The running writer task of one connection.
#[derive(Debug)]
pub struct Writer {
    stop: CancellationToken,
    slow: CancellationToken,
    task: JoinHandle<()>,
}

impl Writer {
    /// Start writing `rx` to `sink` in a task of `tasks`.
    pub fn spawn(sink: SplitSink<WebSocket, Message>, rx: OutboundRx, tasks: &TaskTracker) -> Self {
        let (stop, slow) = (CancellationToken::new(), CancellationToken::new());
        let task = tasks.spawn(write_loop(sink, rx, stop.clone(), slow.clone()));
        Writer { stop, slow, task }
    }

    /// The client stopped reading: drop the backlog and close with [`CLOSE_SLOW_CONSUMER`].
    pub fn slow_consumer(&self) {
        self.slow.cancel();
    }

    /// Write what is queued, close, and wait for the task (at most [`CLOSE_GRACE`], then the
    /// socket is dropped).
    pub async fn finish(mut self) {
        self.stop.cancel();
        if tokio::time::timeout(CLOSE_GRACE, &mut self.task)
            .await
            .is_err()
        {
            self.task.abort();
        }
    }
}

/// Completes once `tx` has stayed full for `after` without the writer taking a frame.
pub async fn stalled(tx: &OutboundTx, after: Duration) {
    let step = (after / 4).max(Duration::from_millis(10));
    let mut tick = tokio::time::interval(step);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut full_since: Option<(Instant, u64)> = None;
    loop {
        tick.tick().await;
        if !tx.is_full() {
            full_since = None;
            continue;
        }
        let taken = tx.taken();
        match full_since {
            Some((since, at)) if at == taken => {
                if since.elapsed() >= after {
                    return;
                }
            }
            _ => full_since = Some((Instant::now(), taken)),
        }
    }
}

enum Written {
    More,
    Closed,
    Failed,
}

async fn write_loop(
    mut sink: SplitSink<WebSocket, Message>,
    mut rx: OutboundRx,
    stop: CancellationToken,
    slow: CancellationToken,
) {
    loop {
        let queued = tokio::select! {
            biased;
            _ = slow.cancelled() => break,
            queued = rx.recv() => queued,
            _ = stop.cancelled() => rx.try_recv().ok(),
        };
        let Some(queued) = queued else { break };
        let (frame, held) = queued.into_parts();
        let written = tokio::select! {
            biased;
            _ = slow.cancelled() => break,
            written = write(&mut sink, frame, rx.is_empty()) => written,
        };
        drop(held);
        match written {
            Written::More => {}
            Written::Closed => return,
            Written::Failed => break,
        }
    }
    if slow.is_cancelled() {
        rx.close_and_discard();
        let frame = CloseFrame {
            code: CLOSE_SLOW_CONSUMER,
            reason: "slow consumer".into(),
        };
        let _ = tokio::time::timeout(CLOSE_GRACE, sink.send(Message::Close(Some(frame)))).await;
        return;
    }
    let _ = sink.close().await;
}

/// Hand one frame to the socket; flush when nothing else is queued.
async fn write(sink: &mut SplitSink<WebSocket, Message>, frame: Outgoing, last: bool) -> Written {
    let result = match frame {
        Outgoing::Text(text) => sink.feed(Message::Text(text.into())).await,
        Outgoing::Close(code, reason) => {
            let frame = CloseFrame {
                code,
                reason: reason.into(),
            };
            let _ = sink.send(Message::Close(Some(frame))).await;
            return Written::Closed;
        }
    };
    if result.is_err() || (last && sink.flush().await.is_err()) {
        return Written::Failed;
    }
    Written::More
}
