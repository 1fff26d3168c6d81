//! The table of requests waiting for their reply, keyed by `request_id`.
//!
//! Registering and closing happen under one lock, so a request can never be registered after
//! the connection died and then wait forever: once [`Pending::close`] ran, every later
//! [`Pending::register`] fails at once with the same error.

use shared_models::ServerMessage;
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use tokio::sync::oneshot;

use crate::error::ClientError;

/// What a waiting request receives: the reply message, or why none will come.
pub(crate) type Reply = Result<ServerMessage, ClientError>;

#[derive(Default)]
struct State {
    waiting: HashMap<String, oneshot::Sender<Reply>>,
    closed: Option<ClientError>,
}

/// Requests in flight on one connection.
#[derive(Default)]
pub(crate) struct Pending {
    state: Mutex<State>,
}

impl Pending {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding this lock cannot leave the map inconsistent, so a poisoned
        // lock is still safe to use.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Wait for the reply to `id`; fails if the connection is already closed.
    pub(crate) fn register(&self, id: String) -> Result<oneshot::Receiver<Reply>, ClientError> {
        let mut state = self.lock();
        if let Some(err) = &state.closed {
            return Err(err.clone());
        }
        let (tx, rx) = oneshot::channel();
        state.waiting.insert(id, tx);
        Ok(rx)
    }

    /// Hand `reply` to the request `id`. False when nobody waits for it (it timed out, or the
    /// id is not ours).
    pub(crate) fn resolve(&self, id: &str, reply: Reply) -> bool {
        let waiter = self.lock().waiting.remove(id);
        match waiter {
            Some(tx) => tx.send(reply).is_ok(),
            None => false,
        }
    }

    /// Stop waiting for `id` (after a timeout or a failed send).
    pub(crate) fn forget(&self, id: &str) {
        self.lock().waiting.remove(id);
    }

    /// The connection is gone: fail every waiting request with `err`, and every later one too.
    /// The first reason recorded wins.
    pub(crate) fn close(&self, err: ClientError) {
        let waiting = {
            let mut state = self.lock();
            let err = state.closed.get_or_insert(err).clone();
            std::mem::take(&mut state.waiting)
                .into_values()
                .map(|tx| (tx, err.clone()))
                .collect::<Vec<_>>()
        };
        for (tx, err) in waiting {
            let _ = tx.send(Err(err));
        }
    }

    /// Why the connection closed, if it did.
    pub(crate) fn closed(&self) -> Option<ClientError> {
        self.lock().closed.clone()
    }

    /// Requests currently waiting.
    pub(crate) fn len(&self) -> usize {
        self.lock().waiting.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared_models::messages::server::Pong;

    fn pong() -> ServerMessage {
        ServerMessage::Pong(Pong {
            server_time: chrono::DateTime::UNIX_EPOCH,
        })
    }

    #[tokio::test]
    async fn replies_reach_their_request_and_close_fails_the_rest() {
        let pending = Pending::default();
        let a = pending.register("a".into()).unwrap();
        let b = pending.register("b".into()).unwrap();
        assert!(pending.resolve("a", Ok(pong())));
        assert!(!pending.resolve("zzz", Ok(pong())));
        assert_eq!(a.await.unwrap().unwrap(), pong());

        pending.close(ClientError::Connection("gone".into()));
        assert_eq!(
            b.await.unwrap(),
            Err(ClientError::Connection("gone".into()))
        );
        assert_eq!(pending.len(), 0);
        let late = pending.register("c".into()).unwrap_err();
        assert_eq!(late, ClientError::Connection("gone".into()));
        pending.close(ClientError::Connection("second reason".into()));
        assert_eq!(
            pending.closed(),
            Some(ClientError::Connection("gone".into()))
        );
    }
}
