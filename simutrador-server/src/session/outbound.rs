//! What the session layer hands to a client's connection: [`Outgoing`] frames on the
//! connection's queue, and [`encode`], which turns a server message into one. The protocol
//! layer owns the sockets and drains the queue; the session layer (runs, monitors, lifecycle
//! pushes) only fills it, so it never needs the layers above it.
//!
//! The queue ([`channel`]) is bounded twice: by frames (an mpsc channel) and by bytes (a
//! semaphore holding one permit per byte; a frame keeps its permits until the writer has
//! handed it to the socket). A frame larger than the whole byte budget takes all of it, so it
//! still goes out, alone. A sender waits while either bound is reached, so a client that does
//! not read holds at most the budget (plus the frame the writer is writing) of the daemon's
//! memory. The protocol layer watches [`OutboundTx::has_room`] and [`OutboundTx::taken`] to
//! apply back-pressure and to close a slow consumer.

use shared_models::{Envelope, ErrorBody, ErrorCode, ServerMessage};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use tokio::sync::mpsc::error::{SendError, TryRecvError, TrySendError};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, TryAcquireError, mpsc};

/// Messages queued for the writer task.
#[derive(Debug)]
pub enum Outgoing {
    /// A serialized envelope.
    Text(String),
    /// Close the connection with a code and reason.
    Close(u16, String),
}

impl Outgoing {
    /// Bytes this frame holds.
    pub fn len(&self) -> usize {
        match self {
            Outgoing::Text(text) => text.len(),
            Outgoing::Close(_, reason) => 2 + reason.len(),
        }
    }

    /// True for an empty text frame.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Serialize a server message into a frame.
pub fn encode(message: ServerMessage, request_id: Option<String>) -> Outgoing {
    // A run's fills are most of its frames: written by hand (`wire_text`, equal to serde's
    // text); everything else through serde.
    if let Some(text) = shared_models::wire_text::encode_server(&message, request_id.as_deref()) {
        return Outgoing::Text(text);
    }
    match serde_json::to_string(&Envelope::new(message, request_id.clone())) {
        Ok(text) => Outgoing::Text(text),
        Err(e) => {
            tracing::error!("cannot serialize a reply: {e}");
            let body = ErrorBody::new(
                ErrorCode::Internal,
                "the server could not encode its reply; retry",
            );
            let text = serde_json::to_string(&Envelope::new(ServerMessage::Error(body), request_id))
                .unwrap_or_else(|_| r#"{"type":"error","data":{"error_code":"INTERNAL","message":"encoding failed","details":null}}"#.to_string());
            Outgoing::Text(text)
        }
    }
}

/// The byte budget shared by both ends of one queue.
#[derive(Debug)]
struct Budget {
    bytes: Arc<Semaphore>,
    max_bytes: u32,
    /// Frames the writer has taken off the queue (its progress).
    taken: AtomicU64,
    /// Senders waiting for room.
    waiting: AtomicUsize,
}

/// Counts a sender as waiting while it lives (also when its send is cancelled).
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn new(n: &'a AtomicUsize) -> Self {
        n.fetch_add(1, Ordering::Relaxed);
        Waiting(n)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Budget {
    fn cost(&self, frame: &Outgoing) -> u32 {
        u32::try_from(frame.len())
            .unwrap_or(u32::MAX)
            .clamp(1, self.max_bytes)
    }
}

/// A frame in the queue with the bytes of the budget it holds.
#[derive(Debug)]
pub struct Queued {
    frame: Outgoing,
    held: OwnedSemaphorePermit,
}

impl Queued {
    /// The frame, and its hold on the budget: drop the hold once the frame is written.
    pub fn into_parts(self) -> (Outgoing, OwnedSemaphorePermit) {
        (self.frame, self.held)
    }
}

/// A new queue bounded by `frames` and by `bytes` (at least 1 of each).
pub fn channel(frames: usize, bytes: u32) -> (OutboundTx, OutboundRx) {
    let (tx, rx) = mpsc::channel(frames.max(1));
    let max_bytes = bytes.max(1);
    let budget = Arc::new(Budget {
        bytes: Arc::new(Semaphore::new(max_bytes as usize)),
        max_bytes,
        taken: AtomicU64::new(0),
        waiting: AtomicUsize::new(0),
    });
    let shared = Arc::new(Shared {
        tx,
        budget: budget.clone(),
    });
    (OutboundTx(shared), OutboundRx { rx, budget })
}

/// The sending end of a connection's queue (cheap to clone, one pointer). Same methods as an
/// mpsc sender.
#[derive(Debug, Clone)]
pub struct OutboundTx(Arc<Shared>);

#[derive(Debug)]
struct Shared {
    tx: mpsc::Sender<Queued>,
    budget: Arc<Budget>,
}

impl OutboundTx {
    /// Queue `frame`, waiting while the queue is full (by frames or by bytes). An error when
    /// the connection is gone.
    pub async fn send(&self, frame: Outgoing) -> Result<(), SendError<Outgoing>> {
        if let Err(TrySendError::Full(frame) | TrySendError::Closed(frame)) = self.try_send(frame) {
            let _waiting = Waiting::new(&self.0.budget.waiting);
            let cost = self.0.budget.cost(&frame);
            let Ok(held) = self.0.budget.bytes.clone().acquire_many_owned(cost).await else {
                return Err(SendError(frame));
            };
            return self
                .0
                .tx
                .send(Queued { frame, held })
                .await
                .map_err(|e| SendError(e.0.frame));
        }
        Ok(())
    }

    /// Queue `frame` if there is room now.
    pub fn try_send(&self, frame: Outgoing) -> Result<(), TrySendError<Outgoing>> {
        let cost = self.0.budget.cost(&frame);
        let held = match self.0.budget.bytes.clone().try_acquire_many_owned(cost) {
            Ok(held) => held,
            Err(TryAcquireError::NoPermits) => return Err(TrySendError::Full(frame)),
            Err(TryAcquireError::Closed) => return Err(TrySendError::Closed(frame)),
        };
        self.0
            .tx
            .try_send(Queued { frame, held })
            .map_err(|e| match e {
                TrySendError::Full(q) => TrySendError::Full(q.frame),
                TrySendError::Closed(q) => TrySendError::Closed(q.frame),
            })
    }

    /// True when both are the same connection's queue.
    pub fn same_channel(&self, other: &OutboundTx) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.0.tx.same_channel(&other.0.tx)
    }

    /// Completes when the connection's writer is gone.
    pub async fn closed(&self) {
        self.0.tx.closed().await
    }

    /// True when the connection's writer is gone.
    pub fn is_closed(&self) -> bool {
        self.0.tx.is_closed()
    }

    /// True when a frame could be queued now without waiting (a byte and a slot are free).
    pub fn has_room(&self) -> bool {
        self.is_closed()
            || (self.0.budget.bytes.available_permits() > 0 && self.0.tx.capacity() > 0)
    }

    /// True when a sender waits for room, or no frame could be queued now.
    pub fn is_full(&self) -> bool {
        !self.is_closed() && (self.0.budget.waiting.load(Ordering::Relaxed) > 0 || !self.has_room())
    }

    /// Completes once a byte and a slot are free (or the connection is gone).
    pub async fn room(&self) {
        let byte = self.0.budget.bytes.acquire().await;
        let slot = self.0.tx.reserve().await;
        drop((byte, slot));
    }

    /// Bytes queued and not yet written.
    pub fn queued_bytes(&self) -> usize {
        (self.0.budget.max_bytes as usize).saturating_sub(self.0.budget.bytes.available_permits())
    }

    /// Frames queued and not yet taken by the writer.
    pub fn queued_frames(&self) -> usize {
        self.0.tx.max_capacity() - self.0.tx.capacity()
    }

    /// Frames the writer has taken off the queue so far (grows while the client reads).
    pub fn taken(&self) -> u64 {
        self.0.budget.taken.load(Ordering::Relaxed)
    }
}

/// The receiving end, owned by the connection's writer. Dropping it fails every waiting and
/// later send, so a run pushing to a dead connection notices at once.
#[derive(Debug)]
pub struct OutboundRx {
    rx: mpsc::Receiver<Queued>,
    budget: Arc<Budget>,
}

impl OutboundRx {
    /// The next frame; `None` when every sender is gone.
    pub async fn recv(&mut self) -> Option<Queued> {
        let q = self.rx.recv().await;
        self.took(q.is_some());
        q
    }

    /// The next frame if one is queued.
    pub fn try_recv(&mut self) -> Result<Queued, TryRecvError> {
        let q = self.rx.try_recv();
        self.took(q.is_ok());
        q
    }

    /// True when nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.rx.is_empty()
    }

    /// Refuse every further frame and drop what is queued (a slow consumer's backlog).
    pub fn close_and_discard(&mut self) {
        self.budget.bytes.close();
        self.rx.close();
        while self.rx.try_recv().is_ok() {}
    }

    fn took(&self, some: bool) {
        if some {
            self.budget.taken.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl Drop for OutboundRx {
    fn drop(&mut self) {
        // Wake senders waiting for bytes: the connection is gone.
        self.budget.bytes.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(n: usize) -> Outgoing {
        Outgoing::Text("x".repeat(n))
    }

    #[tokio::test]
    async fn bounded_by_bytes_and_by_frames() {
        let (tx, mut rx) = channel(3, 100);
        tx.try_send(text(60)).unwrap();
        assert!(matches!(tx.try_send(text(60)), Err(TrySendError::Full(_))));
        tx.try_send(text(30)).unwrap();
        assert_eq!(tx.queued_bytes(), 90);
        tx.try_send(text(1)).unwrap();
        // Three frames: the frame bound holds although bytes are left.
        assert_eq!(tx.queued_frames(), 3);
        assert!(!tx.has_room());
        assert!(matches!(tx.try_send(text(1)), Err(TrySendError::Full(_))));
        let (frame, held) = rx.recv().await.unwrap().into_parts();
        assert_eq!(frame.len(), 60);
        // Bytes come back only when the writer drops its hold.
        assert_eq!(tx.queued_bytes(), 91);
        drop(held);
        assert_eq!(tx.queued_bytes(), 31);
        assert_eq!(tx.taken(), 1);
        tx.try_send(text(60)).unwrap();
    }

    #[tokio::test]
    async fn a_frame_larger_than_the_budget_goes_alone() {
        let (tx, mut rx) = channel(8, 100);
        tx.send(text(1_000)).await.unwrap();
        assert!(!tx.has_room());
        assert!(matches!(tx.try_send(text(1)), Err(TrySendError::Full(_))));
        let (frame, held) = rx.recv().await.unwrap().into_parts();
        assert_eq!(frame.len(), 1_000);
        drop(held);
        assert!(tx.has_room());
    }

    #[tokio::test]
    async fn dropping_the_receiver_fails_waiting_senders() {
        let (tx, rx) = channel(8, 100);
        tx.send(text(100)).await.unwrap();
        let waiting = tokio::spawn({
            let tx = tx.clone();
            async move { tx.send(text(10)).await.is_err() }
        });
        tokio::task::yield_now().await;
        drop(rx);
        assert!(waiting.await.unwrap());
        assert!(tx.is_closed() && tx.has_room());
        tx.room().await;
    }

    #[tokio::test]
    async fn close_and_discard_frees_the_backlog() {
        let (tx, mut rx) = channel(8, 100);
        tx.send(text(100)).await.unwrap();
        rx.close_and_discard();
        assert_eq!(tx.queued_frames(), 0);
        assert!(tx.send(text(1)).await.is_err());
    }
}
