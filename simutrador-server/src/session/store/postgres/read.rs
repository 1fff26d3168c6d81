//! Reading the PostgreSQL store back: every session with its events and its results'
//! summary at start ([`SessionStore::load`](super::super::SessionStore::load)), a session's
//! run records for a resume, and a finished session's whole results on demand (kept in the
//! same small cache as the file store's).
//!
//! `jsonb` columns are read as text and decoded with serde into the daemon's own types, so the
//! rows say exactly what the file store's records say. A row that cannot be decoded is
//! logged and left out (the file store would quarantine its journal; here the row stays in
//! the database, untouched, for an operator).

use std::sync::Arc;

use serde::de::DeserializeOwned;
use shared_models::lifecycle::SessionEventRecord;
use tokio_postgres::Row;

use super::super::record::{Record, RunRecord, StoredResults, StoredRun, StoredSession};
use super::PgStore;
use super::bridge::{db_error, pg_error};
use crate::session::journal::StoreError;
use crate::session::results::ResultsSummary;

const SESSIONS: &str = "SELECT id, user_id, params::text, limits::text, bar_count, data::text, state, \
    termination_reason, created_at, updated_at, started_at, ended_at, settled_ticks, live::text, \
    strategy::text, client_version FROM sessions ORDER BY created_at, id";
const EVENTS: &str = "SELECT session_id, seq, time, kind, actor, data::text FROM session_events \
    ORDER BY session_id, seq";
const RESULTS: &str =
    "SELECT session_id, metrics::text, open_positions::text, trades, equity_points FROM results";

impl PgStore {
    /// Every session, its events and its results' summary.
    pub(super) fn load_all(&self) -> Result<Vec<StoredSession>, StoreError> {
        let (sessions, events, results) = self.shared.bridge.call(|pool| async move {
            let client = pool.get().await.map_err(db_error)?;
            let sessions = client.query(SESSIONS, &[]).await.map_err(pg_error)?;
            let events = client.query(EVENTS, &[]).await.map_err(pg_error)?;
            let results = client.query(RESULTS, &[]).await.map_err(pg_error)?;
            Ok((sessions, events, results))
        })?;
        let mut loaded: Vec<StoredSession> = Vec::with_capacity(sessions.len());
        let mut index = std::collections::HashMap::with_capacity(sessions.len());
        for row in &sessions {
            match session_of(row) {
                Ok(s) => {
                    index.insert(s.id().to_string(), loaded.len());
                    loaded.push(s);
                }
                Err(e) => tracing::error!(
                    session_id = %row.get::<_, String>(0),
                    "a session row cannot be read; left out: {e}"
                ),
            }
        }
        for row in &events {
            let id: String = row.get(0);
            let Some(&i) = index.get(&id) else { continue };
            match event_of(row) {
                Ok(event) => loaded[i].events.push(event),
                Err(e) => {
                    tracing::error!(session_id = %id, "an event row cannot be read; left out: {e}")
                }
            }
        }
        for row in &results {
            let id: String = row.get(0);
            let Some(&i) = index.get(&id) else { continue };
            match summary_of(row) {
                Ok(summary) => loaded[i].results = Some(summary),
                Err(e) => {
                    tracing::error!(session_id = %id, "a results row cannot be read; left out: {e}")
                }
            }
        }
        for s in &mut loaded {
            s.derive();
        }
        Ok(loaded)
    }

    /// The run records of `id`, in order (empty when it has none or they cannot be read).
    pub(super) fn load_run_records(&self, id: &str) -> StoredRun {
        let owned = id.to_string();
        let rows = self.shared.bridge.call(move |pool| async move {
            let client = pool.get().await.map_err(db_error)?;
            client
                .query(
                    "SELECT record::text FROM run_records WHERE session_id = $1 ORDER BY n",
                    &[&owned],
                )
                .await
                .map_err(pg_error)
        });
        let rows = match rows {
            Ok(rows) => rows,
            Err(e) => {
                tracing::error!(session_id = %id, "cannot read the run records; not replayed: {e}");
                return StoredRun::default();
            }
        };
        let mut records = Vec::with_capacity(rows.len());
        for row in &rows {
            match serde_json::from_str::<RunRecord>(row.get(0)) {
                Ok(r) => records.push(r),
                Err(e) => {
                    tracing::error!(session_id = %id, "a run record cannot be read; not replayed: {e}");
                    return StoredRun::default();
                }
            }
        }
        StoredRun::from_records(records)
    }

    /// The whole results of `id` from the database (`None` without them).
    pub(super) fn read_results(&self, id: &str) -> Option<Arc<StoredResults>> {
        let owned = id.to_string();
        let body = self.shared.bridge.call(move |pool| async move {
            let client = pool.get().await.map_err(db_error)?;
            let row = client
                .query_opt("SELECT body FROM results WHERE session_id = $1", &[&owned])
                .await
                .map_err(pg_error)?;
            Ok(row.map(|r| r.get::<_, Vec<u8>>(0)))
        });
        let body = match body {
            Ok(Some(body)) => body,
            Ok(None) => {
                tracing::warn!(session_id = %id, "the store has no results for this session");
                return None;
            }
            Err(e) => {
                tracing::warn!(session_id = %id, "cannot read the stored results: {e}");
                return None;
            }
        };
        match serde_json::from_slice::<Record>(&body) {
            Ok(Record::Results { results }) => Some(Arc::new(results.with_drawdown())),
            Ok(_) => None,
            Err(e) => {
                tracing::warn!(session_id = %id, "the stored results cannot be read: {e}");
                None
            }
        }
    }
}

/// A `sessions` row as the session it stores.
fn session_of(row: &Row) -> Result<StoredSession, String> {
    let id: String = row.get(0);
    let mut s = StoredSession::saved(
        &id,
        row.get(1),
        json(row.get(2), "params")?,
        u64::try_from(row.get::<_, i64>(4)).unwrap_or(0),
        json(row.get(3), "limits")?,
        row.get(8),
    );
    s.data = row
        .get::<_, Option<&str>>(5)
        .map(|d| json(d, "data"))
        .transpose()?;
    let info = &mut s.info;
    info.state = named(row.get(6), "state")?;
    info.termination_reason = row
        .get::<_, Option<&str>>(7)
        .map(|r| named(r, "termination_reason"))
        .transpose()?;
    info.updated_at = row.get(9);
    info.started_at = row.get(10);
    info.ended_at = row.get(11);
    info.settled_ticks = u64::try_from(row.get::<_, i64>(12)).unwrap_or(0);
    info.strategy = row
        .get::<_, Option<&str>>(14)
        .map(|v| json(v, "strategy"))
        .transpose()?;
    info.client_version = row.get(15);
    s.live = json(row.get(13), "live")?;
    Ok(s)
}

fn event_of(row: &Row) -> Result<SessionEventRecord, String> {
    Ok(SessionEventRecord {
        seq: u64::try_from(row.get::<_, i64>(1)).unwrap_or(0),
        time: row.get(2),
        kind: named(row.get(3), "kind")?,
        actor: named(row.get(4), "actor")?,
        data: json(row.get(5), "data")?,
    })
}

fn summary_of(row: &Row) -> Result<ResultsSummary, String> {
    Ok(ResultsSummary {
        metrics: json(row.get(1), "metrics")?,
        open_positions: json(row.get(2), "open_positions")?,
        trades: u64::try_from(row.get::<_, i64>(3)).unwrap_or(0),
        equity_points: u64::try_from(row.get::<_, i64>(4)).unwrap_or(0),
    })
}

fn json<T: DeserializeOwned>(text: &str, column: &str) -> Result<T, String> {
    serde_json::from_str(text).map_err(|e| format!("column {column}: {e}"))
}

/// A serde enum from its name in a text column.
fn named<T: DeserializeOwned>(text: &str, column: &str) -> Result<T, String> {
    serde_json::from_value(serde_json::Value::String(text.to_string()))
        .map_err(|e| format!("column {column}: {e}"))
}
