//! Lifecycle writes of the PostgreSQL store: each change of a session is an [`Op`] (owned
//! data, so it can travel to the store's runtime), and the ops of one change — a state change
//! and, at the end, the results and the removal of the run records — commit in one
//! transaction.
//!
//! Store failures follow the embedded store's rules (`docs/store.md`): an op that cannot be
//! written is kept, in order, as the session's *unwritten* ops, and written (in one
//! transaction with what follows) before the session's next change, by its run log before the
//! run sends anything more, or by the next successful probe. One lock serializes lifecycle
//! writes, as the file store's does, so a session's changes reach the database in the order
//! they were made.
//!
//! Every transaction first checks the session's lease ([`super::lease::check`], the row
//! locked): a change refused because another daemon owns the session now is dropped, not
//! kept (`StoreError::moved`; nothing of it is written, ever).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, Utc};
use deadpool_postgres::{GenericClient, Pool};
use parking_lot::{Mutex, MutexGuard};
use serde_json::Value;

use super::bridge::{Bridge, db_error, pg_error};
use super::lease::{self, Fence, Leases};
use crate::session::journal::{StoreError, StoreResult};

/// The columns `saved` writes (a new session, or `update_session`).
pub(super) struct SavedRow {
    pub(super) user_id: String,
    pub(super) params: Value,
    pub(super) limits: Value,
    pub(super) bar_count: i64,
    pub(super) data: Option<Value>,
    pub(super) created_at: DateTime<Utc>,
    pub(super) state: String,
    pub(super) live: Value,
}

/// The columns a state change writes.
pub(super) struct StateRow {
    pub(super) to: String,
    pub(super) reason: Option<String>,
    pub(super) at: DateTime<Utc>,
    pub(super) settled_ticks: i64,
    pub(super) live: Value,
    /// `created` → `running`: the start time is `at`, with what runs.
    pub(super) started: Option<(Option<Value>, Option<String>)>,
    /// A terminal state: the end time is `at`.
    pub(super) ended: bool,
}

/// The columns of a session's results.
pub(super) struct ResultsRow {
    pub(super) metrics: Value,
    pub(super) open_positions: Value,
    pub(super) trades: i64,
    pub(super) equity_points: i64,
    /// The file store's `results` record, as JSON.
    pub(super) body: Vec<u8>,
}

/// One change of one session.
pub(super) enum Op {
    Saved(SavedRow),
    State(StateRow),
    Event {
        seq: i64,
        time: DateTime<Utc>,
        kind: String,
        actor: String,
        data: Value,
    },
    /// The results, and the run records dropped with them.
    Results(ResultsRow),
    /// The run records dropped (a session that ended without results to keep).
    DropRun,
}

/// Per session, the ops not written yet; its lock serializes every lifecycle write.
#[derive(Default)]
pub(super) struct Pending {
    unwritten: Mutex<HashMap<String, VecDeque<Op>>>,
    /// Sessions with unwritten ops (a lock-free "nothing is unwritten" for the run logs).
    sessions: AtomicUsize,
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pending")
            .field("sessions", &self.sessions.load(Ordering::Relaxed))
            .finish()
    }
}

impl Pending {
    /// Write `ops` of session `id` after its unwritten ones, all in one transaction; on
    /// failure all of them stay unwritten, in order.
    pub(super) fn write(
        &self,
        bridge: &Bridge,
        leases: &Leases,
        id: &str,
        ops: Vec<Op>,
    ) -> StoreResult {
        let mut unwritten = self.unwritten.lock();
        let mut queue = self.take(&mut unwritten, id);
        queue.extend(ops);
        self.write_queue(bridge, leases.fence(id), &mut unwritten, id, queue)
    }

    /// Write the unwritten ops of `id`, if any.
    pub(super) fn write_unwritten(
        &self,
        bridge: &Bridge,
        leases: &Leases,
        id: &str,
    ) -> StoreResult {
        let mut unwritten = self.unwritten.lock();
        let queue = self.take(&mut unwritten, id);
        self.write_queue(bridge, leases.fence(id), &mut unwritten, id, queue)
    }

    /// Write every session's unwritten ops (after a successful probe).
    pub(super) fn write_all(&self, bridge: &Bridge, leases: &Leases) -> StoreResult {
        let mut unwritten = self.unwritten.lock();
        let ids: Vec<String> = unwritten.keys().cloned().collect();
        for id in ids {
            let queue = self.take(&mut unwritten, &id);
            match self.write_queue(bridge, leases.fence(&id), &mut unwritten, &id, queue) {
                Err(e) if e.moved.is_some() => continue,
                other => other?,
            }
            tracing::info!(session_id = %id, "session changes kept while the store failed are written");
        }
        Ok(())
    }

    /// True when `id` has ops not written yet.
    pub(super) fn has_unwritten(&self, id: &str) -> bool {
        self.sessions.load(Ordering::Relaxed) > 0 && self.unwritten.lock().contains_key(id)
    }

    /// Forget `id`'s unwritten ops (the session is deleted); the lock is held while the
    /// caller deletes its rows, so no write of it is in flight meanwhile.
    pub(super) fn forget(&self, id: &str) -> MutexGuard<'_, HashMap<String, VecDeque<Op>>> {
        let mut unwritten = self.unwritten.lock();
        drop(self.take(&mut unwritten, id));
        unwritten
    }

    fn take(&self, unwritten: &mut HashMap<String, VecDeque<Op>>, id: &str) -> VecDeque<Op> {
        match unwritten.remove(id) {
            Some(queue) => {
                self.sessions.fetch_sub(1, Ordering::Relaxed);
                queue
            }
            None => VecDeque::new(),
        }
    }

    fn write_queue(
        &self,
        bridge: &Bridge,
        fence: Fence,
        unwritten: &mut HashMap<String, VecDeque<Op>>,
        id: &str,
        queue: VecDeque<Op>,
    ) -> StoreResult {
        if queue.is_empty() {
            return Ok(());
        }
        let owned_id = id.to_string();
        let (queue, written) = bridge
            .run(move |pool| async move {
                let written = commit(&pool, &owned_id, &fence, &queue).await;
                (queue, written)
            })
            .unwrap_or_else(|| (VecDeque::new(), Err(db_error("the store is shut down"))));
        if let Err(e) = &written
            && e.moved.is_some()
        {
            tracing::warn!(session_id = %id, changes = queue.len(), "session changes refused, not written: {e}");
            return written;
        }
        if written.is_err() && !queue.is_empty() {
            unwritten.insert(id.to_string(), queue);
            self.sessions.fetch_add(1, Ordering::Relaxed);
        }
        written
    }
}

/// Write `ops` of session `id` in one transaction, if `fence` holds.
async fn commit(pool: &Pool, id: &str, fence: &Fence, ops: &VecDeque<Op>) -> StoreResult {
    let mut client = pool.get().await.map_err(db_error)?;
    let tx = client.transaction().await.map_err(pg_error)?;
    lease::check(&tx, id, fence).await?;
    for op in ops {
        apply(&tx, id, op).await.map_err(pg_error)?;
    }
    tx.commit().await.map_err(pg_error)
}

/// One op's SQL. Every write but `saved` touches only a session that exists (one deleted
/// meanwhile gets nothing), and a terminal state is final, as in the file store's fold.
async fn apply(c: &impl GenericClient, id: &str, op: &Op) -> Result<(), tokio_postgres::Error> {
    match op {
        Op::Saved(r) => {
            let sql = "INSERT INTO sessions (id, user_id, params, limits, bar_count, data, state, \
                       created_at, updated_at, live) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9) \
                       ON CONFLICT (id) DO UPDATE SET params = excluded.params, limits = excluded.limits, \
                       bar_count = excluded.bar_count, data = excluded.data";
            let s = c.prepare_cached(sql).await?;
            c.execute(
                &s,
                &[
                    &id,
                    &r.user_id,
                    &r.params,
                    &r.limits,
                    &r.bar_count,
                    &r.data,
                    &r.state,
                    &r.created_at,
                    &r.live,
                ],
            )
            .await?;
        }
        Op::State(r) => {
            let (start, strategy, client_version) = match &r.started {
                Some((strategy, version)) => (true, strategy.clone(), version.clone()),
                None => (false, None, None),
            };
            let sql = "UPDATE sessions SET state = $2, updated_at = $3, settled_ticks = $4, live = $5, \
                       started_at = CASE WHEN $6 THEN $3 ELSE started_at END, \
                       strategy = CASE WHEN $6 THEN $7 ELSE strategy END, \
                       client_version = CASE WHEN $6 THEN $8 ELSE client_version END, \
                       ended_at = CASE WHEN $9 THEN $3 ELSE ended_at END, \
                       termination_reason = CASE WHEN $9 THEN $10 ELSE termination_reason END \
                       WHERE id = $1 AND ended_at IS NULL";
            let s = c.prepare_cached(sql).await?;
            c.execute(
                &s,
                &[
                    &id,
                    &r.to,
                    &r.at,
                    &r.settled_ticks,
                    &r.live,
                    &start,
                    &strategy,
                    &client_version,
                    &r.ended,
                    &r.reason,
                ],
            )
            .await?;
        }
        Op::Event {
            seq,
            time,
            kind,
            actor,
            data,
        } => {
            let sql = "INSERT INTO session_events (session_id, seq, time, kind, actor, data) \
                       SELECT $1, $2, $3, $4, $5, $6 WHERE EXISTS (SELECT 1 FROM sessions WHERE id = $1) \
                       ON CONFLICT DO NOTHING";
            let s = c.prepare_cached(sql).await?;
            c.execute(&s, &[&id, seq, time, kind, actor, data]).await?;
        }
        Op::Results(r) => {
            let sql = "INSERT INTO results (session_id, metrics, open_positions, trades, equity_points, body) \
                       SELECT $1, $2, $3, $4, $5, $6 WHERE EXISTS (SELECT 1 FROM sessions WHERE id = $1) \
                       ON CONFLICT (session_id) DO UPDATE SET metrics = excluded.metrics, \
                       open_positions = excluded.open_positions, trades = excluded.trades, \
                       equity_points = excluded.equity_points, body = excluded.body";
            let s = c.prepare_cached(sql).await?;
            c.execute(
                &s,
                &[
                    &id,
                    &r.metrics,
                    &r.open_positions,
                    &r.trades,
                    &r.equity_points,
                    &r.body,
                ],
            )
            .await?;
            drop_run(c, id).await?;
        }
        Op::DropRun => drop_run(c, id).await?,
    }
    Ok(())
}

async fn drop_run(c: &impl GenericClient, id: &str) -> Result<(), tokio_postgres::Error> {
    let s = c
        .prepare_cached("DELETE FROM run_records WHERE session_id = $1")
        .await?;
    c.execute(&s, &[&id]).await.map(|_| ())
}

/// `value`'s serde name (`"running"` for `SessionState::Running`), for a text column.
pub(super) fn name_of<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

/// `value` as JSON for a `jsonb` column (`Null` if it cannot be encoded, which the types
/// stored here never fail to be).
pub(super) fn json_of<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value)
        .inspect_err(|e| tracing::warn!("cannot encode a store column: {e}"))
        .unwrap_or(Value::Null)
}

/// A count as a `bigint`.
pub(super) fn big(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// `StoreError` for a session change kept unwritten.
pub(super) fn kept(id: &str, e: &StoreError) {
    tracing::warn!(session_id = %id, "cannot store a session change (kept, written once the store can be written): {e}");
}
