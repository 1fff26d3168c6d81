//! Ownership of running sessions when several daemons share one database: a **lease** per
//! session (`sessions.owner_daemon`, `lease_until`) and a **fencing token**
//! (`sessions.generation`), as `docs/scaling.md` describes.
//!
//! - A run that starts or resumes on this daemon takes the lease in one conditional `UPDATE`
//!   ([`take`]): free, already this daemon's, or lapsed (`lease_until < now()`, the database's
//!   clock); the generation goes up by one and is what this daemon *holds* for the session.
//!   A lease another daemon holds refuses the run with `SESSION_MOVED` naming that daemon.
//! - The renewal task ([`renew_forever`], on the store's runtime, every third of the lease)
//!   pushes `lease_until` forward for every lease held; one that is gone (another daemon took
//!   it after it lapsed) is marked lost.
//! - Every write of a session carries its [`Fence`]: with a generation held, the row's
//!   generation must still be that one; without, no other daemon may hold a live lease.
//!   A refused write is `StoreError::moved`, never a silent success.
//! - The lease is released when the run's log is dropped (the run ended, or the daemon shuts
//!   down): `lease_until` becomes NULL and `owner_daemon` keeps naming the last owner; a lost
//!   lease stays marked, so nothing this daemon still holds of that session is
//!   ever written again.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{GenericClient, Pool};
use parking_lot::Mutex;

use super::bridge::{db_error, pg_error};
use crate::session::journal::StoreError;

/// This daemon's leases.
#[derive(Debug)]
pub(super) struct Leases {
    /// This daemon's id (`[store] daemon_id`).
    pub(super) me: String,
    /// Lease length.
    pub(super) seconds: u64,
    held: Mutex<HashMap<String, Held>>,
}

/// A lease this daemon took.
#[derive(Debug, Clone)]
struct Held {
    generation: i64,
    /// Taken by another daemon (named, when known) after it lapsed.
    lost_to: Option<String>,
}

/// What a write of one session must find in its row.
#[derive(Debug, Clone)]
pub(super) struct Fence {
    me: String,
    /// The generation this daemon holds, if it took the session's lease.
    held: Option<i64>,
}

impl Leases {
    pub(super) fn new(me: String, seconds: u64) -> Leases {
        Leases {
            me,
            seconds,
            held: Mutex::new(HashMap::new()),
        }
    }

    /// The fence of writes of `id`.
    pub(super) fn fence(&self, id: &str) -> Fence {
        Fence {
            me: self.me.clone(),
            held: self.held.lock().get(id).map(|h| h.generation),
        }
    }

    /// `id`'s lease is held at `generation`.
    pub(super) fn hold(&self, id: &str, generation: i64) {
        let held = Held {
            generation,
            lost_to: None,
        };
        self.held.lock().insert(id.to_string(), held);
    }

    /// The daemon that took `id`'s lease from this one, if it was lost.
    pub(super) fn lost_to(&self, id: &str) -> Option<String> {
        self.held.lock().get(id).and_then(|h| h.lost_to.clone())
    }

    /// `id`'s lease (at `generation`) is lost to `owner`.
    pub(super) fn lose(&self, id: &str, generation: i64, owner: &str) {
        if let Some(h) = self.held.lock().get_mut(id)
            && h.generation == generation
            && h.lost_to.is_none()
        {
            tracing::warn!(session_id = %id, owner, generation, "session lease lost to another daemon; nothing more of it is written here");
            h.lost_to = Some(owner.to_string());
        }
    }

    /// Forget `id`'s lease at `generation` once released (a lost one stays, fenced).
    pub(super) fn released(&self, id: &str, generation: i64) {
        let mut held = self.held.lock();
        if held
            .get(id)
            .is_some_and(|h| h.generation == generation && h.lost_to.is_none())
        {
            held.remove(id);
        }
    }

    /// The leases to renew: ids and generations.
    fn renewable(&self) -> (Vec<String>, Vec<i64>) {
        self.held
            .lock()
            .iter()
            .filter(|(_, h)| h.lost_to.is_none())
            .map(|(id, h)| (id.clone(), h.generation))
            .unzip()
    }

    fn length(&self) -> f64 {
        self.seconds as f64
    }
}

/// `id`'s current owner, for a refusal (`another daemon` when none is recorded); `None` when
/// the session has no row.
pub(super) async fn owner_of(
    c: &impl GenericClient,
    id: &str,
) -> Result<Option<String>, StoreError> {
    let row = c
        .query_opt("SELECT owner_daemon FROM sessions WHERE id = $1", &[&id])
        .await
        .map_err(pg_error)?;
    Ok(row.map(|r| {
        r.get::<_, Option<String>>(0)
            .unwrap_or_else(|| "another daemon".to_string())
    }))
}

/// Take `id`'s lease for `leases.me` (inside the caller's transaction): the new generation,
/// 0 when the session has no row, or `StoreError::moved` when another daemon holds a live
/// lease.
pub(super) async fn take(
    c: &impl GenericClient,
    leases: &Leases,
    id: &str,
) -> Result<i64, StoreError> {
    let sql = "UPDATE sessions SET owner_daemon = $2, \
               lease_until = now() + make_interval(secs => $3), generation = generation + 1 \
               WHERE id = $1 AND (owner_daemon IS NULL OR owner_daemon = $2 OR lease_until IS NULL \
               OR lease_until < now()) \
               RETURNING generation";
    let row = c
        .query_opt(sql, &[&id, &leases.me, &leases.length()])
        .await
        .map_err(pg_error)?;
    match row {
        Some(row) => Ok(row.get(0)),
        None => match owner_of(c, id).await? {
            Some(owner) => Err(StoreError::moved(id, &owner)),
            None => Ok(0),
        },
    }
}

/// Check `fence` against `id`'s row, locking it for the rest of the caller's transaction.
/// A session without a row passes (a new one, or one deleted meanwhile).
pub(super) async fn check(
    c: &impl GenericClient,
    id: &str,
    fence: &Fence,
) -> Result<(), StoreError> {
    let sql = "SELECT generation, owner_daemon, lease_until < now() FROM sessions \
               WHERE id = $1 FOR UPDATE";
    let Some(row) = c.query_opt(sql, &[&id]).await.map_err(pg_error)? else {
        return Ok(());
    };
    let generation: i64 = row.get(0);
    let owner: Option<String> = row.get(1);
    let lapsed: Option<bool> = row.get(2);
    let allowed = match fence.held {
        Some(held) => generation == held,
        None => owner.is_none() || owner.as_deref() == Some(&fence.me) || lapsed.unwrap_or(true),
    };
    if allowed {
        return Ok(());
    }
    let owner = owner.unwrap_or_else(|| "another daemon".to_string());
    Err(StoreError::moved(id, &owner))
}

/// Release `id`'s lease at `generation` (only if this daemon still holds it): `lease_until`
/// becomes NULL; `owner_daemon` keeps naming the last owner (for `SESSION_MOVED`).
pub(super) async fn release(
    pool: &Pool,
    leases: &Leases,
    id: &str,
    generation: i64,
) -> Result<(), StoreError> {
    let client = pool.get().await.map_err(db_error)?;
    client
        .execute(
            "UPDATE sessions SET lease_until = NULL \
             WHERE id = $1 AND owner_daemon = $2 AND generation = $3",
            &[&id, &leases.me, &generation],
        )
        .await
        .map_err(pg_error)?;
    Ok(())
}

/// Renew every lease held, every third of the lease length, until the runtime stops.
pub(super) async fn renew_forever(pool: Pool, leases: Arc<Leases>) {
    let every = Duration::from_millis((leases.seconds * 1000 / 3).max(100));
    loop {
        tokio::time::sleep(every).await;
        if let Err(e) = renew(&pool, &leases).await {
            tracing::warn!(
                "cannot renew the session leases (they lapse unless renewed in time): {e}"
            );
        }
    }
}

/// One round of renewals: the leases not renewed are marked lost, with their new owner.
pub(super) async fn renew(pool: &Pool, leases: &Leases) -> Result<(), StoreError> {
    let (ids, generations) = leases.renewable();
    if ids.is_empty() {
        return Ok(());
    }
    let client = pool.get().await.map_err(db_error)?;
    let sql = "UPDATE sessions s SET lease_until = now() + make_interval(secs => $3) \
               FROM unnest($1::text[], $2::bigint[]) AS t(id, g) \
               WHERE s.id = t.id AND s.generation = t.g AND s.owner_daemon = $4 RETURNING s.id";
    let rows = client
        .query(sql, &[&ids, &generations, &leases.length(), &leases.me])
        .await
        .map_err(pg_error)?;
    let renewed: std::collections::HashSet<String> = rows.iter().map(|r| r.get(0)).collect();
    for (id, generation) in ids.iter().zip(generations) {
        if !renewed.contains(id) {
            let owner = owner_of(&client, id)
                .await?
                .unwrap_or_else(|| "nobody (deleted)".to_string());
            leases.lose(id, generation, &owner);
        }
    }
    Ok(())
}
