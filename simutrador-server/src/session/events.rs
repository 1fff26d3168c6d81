//! A session's append-only event log (`SESSION_CREATED` … `SESSION_ENDED`), paged by
//! `get_session_events`. Entries are serializable, so a store can journal them as they are
//! appended; only [`crate::session::SessionManager::record`] appends.

use chrono::Utc;
use serde_json::Value;
use shared_models::lifecycle::{Actor, EventKind, SessionEventRecord};
use shared_models::messages::lifecycle::SessionEventList;

/// Default page of `get_session_events`.
pub const DEFAULT_PAGE: u32 = 100;
/// Largest page of `get_session_events`.
pub const MAX_PAGE: u32 = 1000;
/// Most events kept per session; the oldest are dropped beyond it (never `SESSION_CREATED`).
pub const MAX_EVENTS: usize = 10_000;

/// The log of one session.
#[derive(Debug, Default, Clone)]
pub struct EventLog {
    events: Vec<SessionEventRecord>,
    next_seq: u64,
}

impl EventLog {
    /// A log holding `events` (in sequence order), as loaded from a store.
    pub fn restore(mut events: Vec<SessionEventRecord>) -> Self {
        let next_seq = events.last().map_or(0, |e| e.seq + 1);
        if events.len() > MAX_EVENTS {
            // As when appending: the oldest go, never `SESSION_CREATED`.
            events.drain(1..=events.len() - MAX_EVENTS);
        }
        EventLog { events, next_seq }
    }

    /// Append an event stamped now; returns it.
    pub fn append(&mut self, kind: EventKind, actor: Actor, data: Value) -> SessionEventRecord {
        let record = SessionEventRecord {
            seq: self.next_seq,
            time: Utc::now(),
            kind,
            actor,
            data,
        };
        self.next_seq += 1;
        if self.events.len() >= MAX_EVENTS {
            self.events.remove(1);
        }
        self.events.push(record.clone());
        record
    }

    /// Events recorded.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// True before the first event.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// How many events of `kind` there are.
    pub fn count(&self, kind: EventKind) -> usize {
        self.events.iter().filter(|e| e.kind == kind).count()
    }

    /// The last `n` events, oldest first.
    pub fn latest(&self, n: usize) -> Vec<SessionEventRecord> {
        self.events[self.events.len().saturating_sub(n)..].to_vec()
    }

    /// One page, oldest first.
    pub fn page(
        &self,
        session_id: &str,
        limit: Option<u32>,
        offset: Option<u32>,
    ) -> SessionEventList {
        let limit = limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
        let offset = offset.unwrap_or(0);
        let events: Vec<_> = self
            .events
            .iter()
            .skip(offset as usize)
            .take(limit as usize)
            .cloned()
            .collect();
        let total = self.events.len() as u64;
        SessionEventList {
            session_id: session_id.to_string(),
            has_more: u64::from(offset) + (events.len() as u64) < total,
            events,
            total,
            limit,
            offset,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pages_are_oldest_first_with_sequence_numbers() {
        let mut log = EventLog::default();
        log.append(EventKind::SessionCreated, Actor::User, json!({}));
        log.append(EventKind::SessionStarted, Actor::User, Value::Null);
        log.append(
            EventKind::TimeLimitWarning,
            Actor::System,
            json!({"used_pct": 80.0}),
        );
        let p = log.page("s", Some(2), None);
        assert_eq!(p.events.len(), 2);
        assert!(p.has_more);
        assert_eq!(p.events[1].kind, EventKind::SessionStarted);
        let p = log.page("s", Some(2), Some(2));
        assert_eq!(p.events[0].seq, 2);
        assert_eq!(p.events[0].actor, Actor::System);
        assert!(!p.has_more);
        assert_eq!(log.count(EventKind::TimeLimitWarning), 1);
    }
}
