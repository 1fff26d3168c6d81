//! [`PgRunLog`]: the run records of one simulation in `run_records`. Records are encoded as
//! the run makes them (the same JSON as the file store's run journal) and written by
//! [`RunLog::flush`] in one statement per flush (one `INSERT … SELECT … FROM unnest(…)`), so
//! a flush is one round trip whatever the number of records; a failed flush writes none of
//! them and keeps them for the next. Each row carries the run's `generation`, and the insert
//! writes nothing unless the session's row still has that generation (the fencing token of
//! [`super::lease`]): a run whose lease another daemon took gets `StoreError::moved`.
//! Opening a run log takes the session's lease; dropping it releases the lease.
//!
//! The session's unwritten lifecycle ops count as buffered too ([`super::write`]):
//! [`RunLog::dirty`] says so and [`RunLog::flush`] writes them first, so the run sends
//! nothing after a state change that is not stored.

use std::sync::Arc;

use super::super::{RunLog, RunRecord};
use super::bridge::{db_error, pg_error};
use super::lease;
use super::{PgStore, Shared};
use crate::session::journal::StoreError;
use crate::session::store::run_log::encode;

/// The buffered run records of one simulation.
pub(super) struct PgRunLog {
    pub(super) shared: Arc<Shared>,
    pub(super) id: String,
    /// The run's generation, stamped on every row.
    pub(super) generation: i64,
    /// The last `n` written.
    pub(super) n: i64,
    /// Encoded records not written yet.
    pub(super) buf: Vec<String>,
}

impl RunLog for PgRunLog {
    fn append(&mut self, record: &RunRecord) {
        let Some(json) = encode(record) else { return };
        match String::from_utf8(json) {
            Ok(json) => self.buf.push(json),
            Err(e) => tracing::warn!(session_id = %self.id, "cannot encode a run record: {e}"),
        }
    }

    fn flush(&mut self) -> Result<(), StoreError> {
        let shared = &self.shared;
        if let Some(owner) = shared.leases.lost_to(&self.id) {
            return Err(StoreError::moved(&self.id, &owner));
        }
        if shared.pending.has_unwritten(&self.id) {
            shared
                .pending
                .write_unwritten(&shared.bridge, &shared.leases, &self.id)
                .inspect_err(|e| shared.health.failed(e))?;
        }
        if self.buf.is_empty() {
            return Ok(());
        }
        let (id, base, generation) = (self.id.clone(), self.n, self.generation);
        let records = std::mem::take(&mut self.buf);
        let (records, written) = shared
            .bridge
            .run(move |pool| async move {
                let written = insert(&pool, &id, base, generation, &records).await;
                (records, written)
            })
            .unwrap_or_else(|| (Vec::new(), Err(db_error("the store is shut down"))));
        match written {
            Ok(()) => {
                self.n += records.len() as i64;
                Ok(())
            }
            Err(e) if e.moved.is_some() => {
                // Refused, not failed: these records are never written.
                if let Some(owner) = &e.moved {
                    shared.leases.lose(&self.id, self.generation, owner);
                }
                Err(e)
            }
            Err(e) => {
                self.buf = records;
                shared.health.failed(&e);
                Err(e)
            }
        }
    }

    fn dirty(&self) -> bool {
        !self.buf.is_empty()
            || self.shared.pending.has_unwritten(&self.id)
            || self.shared.leases.lost_to(&self.id).is_some()
    }
}

/// Insert `records` as rows `base + 1 …` of session `id`, in one statement that writes
/// nothing unless the session's row is still at `generation` (locked while it inserts);
/// `StoreError::moved` when it is not.
async fn insert(
    pool: &deadpool_postgres::Pool,
    id: &str,
    base: i64,
    generation: i64,
    records: &[String],
) -> Result<(), StoreError> {
    let client = pool.get().await.map_err(db_error)?;
    let sql = "WITH fence AS (SELECT 1 FROM sessions WHERE id = $1 AND generation = $3 FOR SHARE) \
               INSERT INTO run_records (session_id, n, generation, record) \
               SELECT $1, $2 + i, $3, r::jsonb FROM fence, unnest($4::text[]) WITH ORDINALITY AS t(r, i)";
    let statement = client.prepare_cached(sql).await.map_err(pg_error)?;
    let inserted = client
        .execute(&statement, &[&id, &base, &generation, &records])
        .await
        .map_err(pg_error)?;
    if inserted == records.len() as u64 {
        return Ok(());
    }
    match lease::owner_of(&client, id).await? {
        Some(owner) => Err(StoreError::moved(id, &owner)),
        None => Ok(()), // the session was deleted meanwhile: nothing to keep
    }
}

impl Drop for PgRunLog {
    fn drop(&mut self) {
        let _ = self.flush();
        let (shared, id, generation) = (self.shared.clone(), self.id.clone(), self.generation);
        let released = shared.bridge.call({
            let (leases, id) = (shared.leases.clone(), id.clone());
            move |pool| async move { lease::release(&pool, &leases, &id, generation).await }
        });
        match released {
            Ok(()) => shared.leases.released(&id, generation),
            Err(e) => {
                tracing::warn!(session_id = %id, "cannot release the session's lease (it lapses by itself): {e}")
            }
        }
    }
}

impl PgStore {
    /// A run log for `id`, with the session's lease taken for this daemon (generation + 1;
    /// `StoreError::moved` when another daemon holds a live lease): `fresh` starts a new run
    /// (its old records deleted in the same transaction); otherwise it appends after the last
    /// stored record.
    pub(super) fn open_run_log(&self, id: &str, fresh: bool) -> Result<PgRunLog, StoreError> {
        let owned = id.to_string();
        let leases = self.shared.leases.clone();
        let opened = self.shared.bridge.call(move |pool| async move {
            let mut client = pool.get().await.map_err(db_error)?;
            let tx = client.transaction().await.map_err(pg_error)?;
            let generation = lease::take(&tx, &leases, &owned).await?;
            let n = if fresh {
                tx.execute("DELETE FROM run_records WHERE session_id = $1", &[&owned])
                    .await
                    .map_err(pg_error)?;
                0
            } else {
                let row = tx
                    .query_one(
                        "SELECT coalesce(max(n), 0) FROM run_records WHERE session_id = $1",
                        &[&owned],
                    )
                    .await
                    .map_err(pg_error)?;
                row.get(0)
            };
            tx.commit().await.map_err(pg_error)?;
            Ok((generation, n))
        });
        let (generation, n) = opened.inspect_err(|e| self.shared.health.failed(e))?;
        self.shared.leases.hold(id, generation);
        Ok(PgRunLog {
            shared: self.shared.clone(),
            id: id.to_string(),
            generation,
            n,
            buf: Vec::with_capacity(256),
        })
    }
}
