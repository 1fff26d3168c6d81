//! Who hears about a session besides the request's own reply: every open connection of its
//! owner (warnings, early ends) and the connections that subscribed to it with
//! `subscribe_session` (live `session_stats_update`s). A subscriber is always a connection of
//! the owner: the subscribe handler looks the session up with the caller's user id first.
//!
//! Pushes never wait: a full connection queue drops a statistics update (the next one follows
//! within the interval) and hands an important message to a short task of the session
//! layer's tracker (it ends when the queue takes the message or the connection closes).

use dashmap::DashMap;
use shared_models::ServerMessage;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::mpsc::error::TrySendError;
use tokio_util::task::TaskTracker;

use crate::session::outbound::{OutboundTx, encode};

/// One connection's outgoing queue.
#[derive(Debug, Clone)]
struct Conn {
    id: u64,
    out: OutboundTx,
}

/// The connection registry and the subscriptions.
#[derive(Debug, Default)]
pub struct Monitor {
    by_user: DashMap<Arc<str>, Vec<Conn>>,
    subscribers: DashMap<Arc<str>, Vec<Conn>>,
    next_id: AtomicU64,
}

/// Keeps a connection registered; unregisters it (and its subscriptions) when dropped.
#[derive(Debug)]
pub struct Registration {
    monitor: Arc<Monitor>,
    user_id: Arc<str>,
    /// The connection's number in the registry.
    pub id: u64,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.monitor.unregister(&self.user_id, self.id);
    }
}

impl Monitor {
    /// Register a connection of `user_id`.
    pub fn register(self: &Arc<Self>, user_id: &Arc<str>, out: OutboundTx) -> Registration {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.by_user
            .entry(user_id.clone())
            .or_default()
            .push(Conn { id, out });
        Registration {
            monitor: self.clone(),
            user_id: user_id.clone(),
            id,
        }
    }

    fn unregister(&self, user_id: &str, id: u64) {
        if let Some(mut conns) = self.by_user.get_mut(user_id) {
            conns.retain(|c| c.id != id);
        }
        self.by_user.remove_if(user_id, |_, conns| conns.is_empty());
        for mut entry in self.subscribers.iter_mut() {
            entry.value_mut().retain(|c| c.id != id);
        }
        self.subscribers.retain(|_, conns| !conns.is_empty());
    }

    /// Subscribe connection `id` (with queue `out`) to `session_id`; idempotent.
    pub fn subscribe(&self, session_id: &Arc<str>, id: u64, out: OutboundTx) {
        let mut subs = self.subscribers.entry(session_id.clone()).or_default();
        if !subs.iter().any(|c| c.id == id) {
            subs.push(Conn { id, out });
        }
    }

    /// Remove connection `id`'s subscription; true when there was one.
    pub fn unsubscribe(&self, session_id: &str, id: u64) -> bool {
        let mut removed = false;
        if let Some(mut subs) = self.subscribers.get_mut(session_id) {
            let before = subs.len();
            subs.retain(|c| c.id != id);
            removed = subs.len() < before;
        }
        self.subscribers
            .remove_if(session_id, |_, subs| subs.is_empty());
        removed
    }

    /// Drop every subscription to a session (it was removed).
    pub fn forget(&self, session_id: &str) {
        self.subscribers.remove(session_id);
    }

    /// Sessions with at least one subscriber.
    pub fn subscribed(&self) -> Vec<Arc<str>> {
        self.subscribers.iter().map(|e| e.key().clone()).collect()
    }

    /// True when someone subscribed to `session_id`.
    pub fn has_subscribers(&self, session_id: &str) -> bool {
        self.subscribers.contains_key(session_id)
    }

    /// Open connections of `user_id`.
    pub fn connections_of(&self, user_id: &str) -> usize {
        self.by_user.get(user_id).map_or(0, |c| c.len())
    }

    /// A statistics update to the session's subscribers (dropped where a queue is full).
    pub fn stats(&self, session_id: &str, message: ServerMessage) {
        let Some(subs) = self.subscribers.get(session_id).map(|s| s.clone()) else {
            return;
        };
        for c in subs {
            let _ = c.out.try_send(encode(message.clone(), None));
        }
    }

    /// An important push (warning, early end) to every connection of the owner and every
    /// subscriber, once per connection, except the queue `skip` (which gets its own reply).
    /// A full queue gets the message from a task spawned on `tasks`.
    pub fn announce(
        &self,
        user_id: &str,
        session_id: &str,
        message: &ServerMessage,
        skip: Option<&OutboundTx>,
        tasks: &TaskTracker,
    ) {
        let mut targets: Vec<Conn> = self
            .by_user
            .get(user_id)
            .map(|c| c.clone())
            .unwrap_or_default();
        if let Some(subs) = self.subscribers.get(session_id) {
            for c in subs.iter() {
                if !targets.iter().any(|t| t.id == c.id) {
                    targets.push(c.clone());
                }
            }
        }
        for c in targets {
            if skip.is_some_and(|s| s.same_channel(&c.out)) {
                continue;
            }
            match c.out.try_send(encode(message.clone(), None)) {
                Err(TrySendError::Full(frame)) => {
                    if let Ok(rt) = tokio::runtime::Handle::try_current() {
                        let push = async move {
                            let _ = c.out.send(frame).await;
                        };
                        tasks.spawn_on(push, &rt);
                    }
                }
                Ok(()) | Err(TrySendError::Closed(_)) => {}
            }
        }
    }
}

/// Every `stats_interval`, send `session_stats_update` for each subscribed session (cost grows
/// with subscriptions, not with sessions). Ends at shutdown.
pub async fn run_ticker(
    sessions: Arc<super::SessionManager>,
    shutdown: tokio_util::sync::CancellationToken,
) {
    let every = sessions
        .stats_interval()
        .max(std::time::Duration::from_millis(10));
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tick.tick() => {
                for id in sessions.monitor().subscribed() {
                    match sessions.session_by_id(&id) {
                        Some(s) => sessions.push_stats(&s),
                        None => sessions.monitor().forget(&id),
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::outbound;
    use shared_models::messages::server::Pong;

    fn pong() -> ServerMessage {
        ServerMessage::Pong(Pong {
            server_time: chrono::Utc::now(),
        })
    }

    #[tokio::test]
    async fn announcements_reach_the_owner_once_per_connection_and_never_another_user() {
        let m = Arc::new(Monitor::default());
        let (alice, bob): (Arc<str>, Arc<str>) = (Arc::from("alice"), Arc::from("bob"));
        let (tx1, mut rx1) = outbound::channel(8, 1 << 20);
        let (tx2, mut rx2) = outbound::channel(8, 1 << 20);
        let (tx3, mut rx3) = outbound::channel(8, 1 << 20);
        let r1 = m.register(&alice, tx1.clone());
        let _r2 = m.register(&alice, tx2.clone());
        let _r3 = m.register(&bob, tx3);
        let s: Arc<str> = Arc::from("s1");
        m.subscribe(&s, r1.id, tx1.clone());
        let tasks = TaskTracker::new();
        m.announce("alice", "s1", &pong(), Some(&tx2), &tasks);
        assert!(tasks.is_empty(), "no queue was full");
        assert!(rx1.try_recv().is_ok());
        assert!(
            rx1.try_recv().is_err(),
            "once, although owner and subscriber"
        );
        assert!(rx2.try_recv().is_err(), "skipped");
        assert!(rx3.try_recv().is_err(), "another user");
        m.stats("s1", pong());
        assert!(rx1.try_recv().is_ok());
        drop(r1);
        assert!(!m.has_subscribers("s1"));
        assert_eq!(m.connections_of("alice"), 1);
    }

    #[tokio::test]
    async fn a_full_queue_gets_its_announcement_from_a_tracked_task() {
        let m = Arc::new(Monitor::default());
        let alice: Arc<str> = Arc::from("alice");
        let (tx, mut rx) = outbound::channel(1, 1 << 20);
        let _r = m.register(&alice, tx.clone());
        tx.try_send(encode(pong(), None)).unwrap(); // the queue is full
        let tasks = TaskTracker::new();
        m.announce("alice", "s1", &pong(), None, &tasks);
        assert_eq!(tasks.len(), 1, "handed to a task of the tracker");
        tasks.close();
        assert!(rx.recv().await.is_some());
        tasks.wait().await; // the task delivered once the queue had room
        assert!(rx.try_recv().is_ok(), "the announcement arrived");
    }
}
