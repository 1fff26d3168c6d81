//! [`PgStore`]: sessions in PostgreSQL (`--store postgres://…`), the shared store of
//! `docs/scaling.md` behind the same [`SessionStore`] trait as the embedded [`FileStore`].
//!
//! - [`schema`] — versioned migrations run at start; a newer schema is refused.
//! - `bridge` — the store's own runtime and connection pool, and how the synchronous trait
//!   methods wait for them without holding a daemon worker thread.
//! - `write` — lifecycle writes (`sessions`, `session_events`, `results`), one transaction
//!   per change, kept and retried in order when the database cannot be written.
//! - `run_log` — run records (`run_records`), one statement per flush, stamped with the
//!   run's generation.
//! - `read` — loading at start, run records for a resume, results on demand.
//! - `lease` — one owner per running session: leases taken and renewed, and the fence every
//!   write of a session carries (its generation), so a daemon that lost a session's lease
//!   writes nothing more of it.
//!
//! What this store does not do yet (see `docs/scaling.md`): forwarding requests to a
//! session's owner, reads served from the database (each daemon still loads the sessions at
//! start), the deadline sweeper, users and API keys in the database.
//!
//! [`FileStore`]: super::FileStore

mod bridge;
mod lease;
mod read;
mod run_log;
pub mod schema;
mod write;

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use shared_models::lifecycle::SessionEventRecord;
use shared_models::{SessionState, TerminationReason};

use super::file::Health;
use super::record::{RecordRef, StoredResults, StoredRun, StoredSession};
use super::results::ResultsCache;
use super::{RunLog, SessionStore};
use crate::config::{StoreSection, hide_password};
use crate::session::Session;
use crate::session::journal::{Journal, StoreError, StoreResult};
use crate::session::results::{ResultsSlot, ResultsSummary};
use bridge::{Bridge, db_error, pg_error};
use write::{Op, Pending, ResultsRow, SavedRow, StateRow, big, json_of, kept, name_of};

/// Sessions in a PostgreSQL database.
#[derive(Debug)]
pub struct PgStore {
    shared: Arc<Shared>,
    results: ResultsCache,
    /// The lease renewal task, on the store's runtime.
    renewal: Option<tokio::task::JoinHandle<()>>,
}

/// What the store and its run logs share.
#[derive(Debug)]
struct Shared {
    bridge: Bridge,
    pending: Pending,
    health: Health,
    leases: Arc<lease::Leases>,
}

impl PgStore {
    /// Connect to the database of `settings.url`, create or upgrade its schema, check the
    /// pool, and start renewing the leases this daemon (`daemon_id`) takes. Fails with a message naming the URL (password hidden) when the database
    /// cannot be reached within the connect timeout or its schema is newer than this daemon.
    pub fn open(settings: &StoreSection, daemon_id: &str) -> anyhow::Result<PgStore> {
        let Some(url) = &settings.url else {
            bail!("no PostgreSQL URL configured ([store] url)");
        };
        let shown = hide_password(url);
        let config: tokio_postgres::Config = url
            .parse()
            .with_context(|| format!("the store URL {shown} is not a valid PostgreSQL URL"))?;
        let timeout = Duration::from_secs(settings.connect_timeout_seconds);
        let bridge = Bridge::new(config.clone(), settings.pool_size, timeout)
            .context("cannot start the PostgreSQL store's runtime")?;
        let migrated = bridge
            .run(move |_| async move {
                let (mut client, connection) =
                    tokio::time::timeout(timeout, config.connect(tokio_postgres::NoTls))
                        .await
                        .map_err(|_| {
                            anyhow::anyhow!("no answer within {} s", timeout.as_secs())
                        })??;
                let driver = tokio::spawn(connection);
                let migrated = schema::migrate(&mut client).await;
                drop(client);
                let _ = driver.await;
                migrated
            })
            .unwrap_or_else(|| Err(anyhow::anyhow!("the store's runtime stopped")));
        let applied = migrated.with_context(|| {
            format!(
                "cannot use the PostgreSQL session store at {shown}; check that the server runs and \
                 accepts this user and database (--store, [store] url, SIMUTRADOR_STORE_URL)"
            )
        })?;
        if !applied.is_empty() {
            tracing::info!(store = %shown, migrations = %applied.join(", "), "store schema migrated");
        }
        bridge
            .call(|pool| async move {
                let client = pool.get().await.map_err(db_error)?;
                client.simple_query("SELECT 1").await.map_err(pg_error)?;
                Ok(())
            })
            .with_context(|| format!("cannot open a pooled connection to {shown}"))?;
        tracing::info!(store = %shown, schema = schema::latest_version(), daemon_id, lease_seconds = settings.lease_seconds, "session store: PostgreSQL");
        let leases = Arc::new(lease::Leases::new(
            daemon_id.to_string(),
            settings.lease_seconds,
        ));
        let renewing = leases.clone();
        let renewal = bridge.spawn(move |pool| lease::renew_forever(pool, renewing));
        Ok(PgStore {
            shared: Arc::new(Shared {
                bridge,
                pending: Pending::default(),
                health: Health::default(),
                leases,
            }),
            results: ResultsCache::default(),
            renewal,
        })
    }

    /// This daemon's id among those sharing the database: `[store] daemon_id`, else the
    /// random id kept in `<state_dir>/daemon_id` (created at the first start), so a daemon
    /// restarted on the same state dir takes its own leases back at once.
    pub fn daemon_id(
        settings: &StoreSection,
        state_dir: &std::path::Path,
    ) -> anyhow::Result<String> {
        if let Some(id) = &settings.daemon_id {
            return Ok(id.clone());
        }
        let path = state_dir.join("daemon_id");
        match std::fs::read_to_string(&path) {
            Ok(text) if !text.trim().is_empty() => return Ok(text.trim().to_string()),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
        std::fs::create_dir_all(state_dir)
            .with_context(|| format!("cannot create {}", state_dir.display()))?;
        let id = uuid::Uuid::new_v4().to_string();
        std::fs::write(&path, format!("{id}\n"))
            .with_context(|| format!("cannot write {}", path.display()))?;
        Ok(id)
    }

    /// Write `ops` of session `id` (after its unwritten ones); a failure marks the store
    /// failed and keeps them.
    fn write(&self, id: &str, ops: Vec<Op>) -> StoreResult {
        let shared = &self.shared;
        shared
            .pending
            .write(&shared.bridge, &shared.leases, id, ops)
            .inspect_err(|e| {
                if e.moved.is_none() {
                    kept(id, e);
                    shared.health.failed(e);
                }
            })
    }

    /// Store the results `s` holds, with its run records dropped, in the transaction of
    /// `before` (the final state, when there is one); once stored, keep only the summary in
    /// memory (the whole results start in the cache: the client that ran it asks next).
    fn write_results(&self, s: &Session, before: Vec<Op>, held: Arc<StoredResults>) -> StoreResult {
        let mut ops = before;
        match results_row(&held) {
            Some(row) => ops.push(Op::Results(row)),
            None => return self.write(&s.id, ops),
        }
        let written = self.write(&s.id, ops);
        if written.is_ok() {
            s.release_results();
            self.results.put(&s.id, held, tokio::time::Instant::now());
        }
        written
    }
}

impl Drop for PgStore {
    fn drop(&mut self) {
        if let Some(renewal) = self.renewal.take() {
            renewal.abort();
        }
    }
}

/// The `results` row of `results`; `None` when they cannot be encoded (logged).
fn results_row(results: &StoredResults) -> Option<ResultsRow> {
    let summary = ResultsSummary::of(results);
    let body = super::file::to_json(&RecordRef::Results { results })?;
    Some(ResultsRow {
        metrics: json_of(&summary.metrics),
        open_positions: json_of(&summary.open_positions),
        trades: big(summary.trades),
        equity_points: big(summary.equity_points),
        body,
    })
}

impl Journal for PgStore {
    fn saved(&self, s: &Session) -> StoreResult {
        let row = SavedRow {
            user_id: s.user_id.to_string(),
            params: json_of(&s.params),
            limits: json_of(&s.limits),
            bar_count: big(s.bar_count),
            data: s.data.as_ref().map(json_of),
            created_at: s.created_at,
            state: name_of(&s.state()),
            live: json_of(&s.live()),
        };
        self.write(&s.id, vec![Op::Saved(row)])
    }

    fn transitioned(
        &self,
        s: &Session,
        from: SessionState,
        to: SessionState,
        reason: Option<TerminationReason>,
    ) -> StoreResult {
        let lifecycle = s.lifecycle();
        let started = (from == SessionState::Created && to == SessionState::Running).then(|| {
            (
                lifecycle.strategy.as_ref().map(json_of),
                lifecycle.client_version.clone(),
            )
        });
        let state = Op::State(StateRow {
            to: name_of(&to),
            reason: reason.as_ref().map(name_of),
            at: lifecycle.updated_at,
            settled_ticks: big(s.settled_ticks()),
            live: json_of(&s.live()),
            started,
            ended: to.is_terminal(),
        });
        if !to.is_terminal() {
            return self.write(&s.id, vec![state]);
        }
        // The end, its results and the run records' removal commit together. A completed
        // run's results (`Completing`) come with `results_ready`; its records stay till then.
        match s.results_slot() {
            ResultsSlot::Held(held) => self.write_results(s, vec![state], held),
            ResultsSlot::Completing(_) => self.write(&s.id, vec![state]),
            _ => self.write(&s.id, vec![state, Op::DropRun]),
        }
    }

    fn results_ready(&self, s: &Session) -> StoreResult {
        match s.results_slot() {
            ResultsSlot::Held(held) | ResultsSlot::Completing(held) => {
                self.write_results(s, Vec::new(), held)
            }
            _ => Ok(()),
        }
    }

    fn appended(&self, s: &Session, event: &SessionEventRecord) -> StoreResult {
        let op = Op::Event {
            seq: big(event.seq),
            time: event.time,
            kind: name_of(&event.kind),
            actor: name_of(&event.actor),
            data: event.data.clone(),
        };
        self.write(&s.id, vec![op])
    }

    fn removed(&self, session_id: &str) {
        self.results.remove(session_id);
        // Held while the rows go, so no write of the session is in flight meanwhile.
        let _unwritten = self.shared.pending.forget(session_id);
        let id = session_id.to_string();
        let deleted = self.shared.bridge.call(move |pool| async move {
            let client = pool.get().await.map_err(db_error)?;
            client
                .execute("DELETE FROM sessions WHERE id = $1", &[&id])
                .await
                .map_err(pg_error)
        });
        if let Err(e) = deleted {
            tracing::warn!(session_id, "cannot delete a session from the store: {e}");
        }
    }
}

impl SessionStore for PgStore {
    fn load(&self) -> std::io::Result<Vec<StoredSession>> {
        self.load_all()
            .map_err(|e| std::io::Error::other(e.message))
    }

    fn load_run(&self, session_id: &str) -> StoredRun {
        self.load_run_records(session_id)
    }

    fn run_log(&self, session_id: &str, fresh: bool) -> Result<Box<dyn RunLog>, StoreError> {
        Ok(Box::new(self.open_run_log(session_id, fresh)?))
    }

    fn failure(&self) -> Option<String> {
        self.shared.health.reason()
    }

    fn probe(&self) -> Result<(), StoreError> {
        let shared = &self.shared;
        let probed = shared.bridge.call(|pool| async move {
            let client = pool.get().await.map_err(db_error)?;
            client
                .execute(
                    "INSERT INTO store_probe (id, probed_at) VALUES (1, now()) \
                     ON CONFLICT (id) DO UPDATE SET probed_at = excluded.probed_at",
                    &[],
                )
                .await
                .map_err(pg_error)?;
            Ok(())
        });
        probed
            .and_then(|()| shared.pending.write_all(&shared.bridge, &shared.leases))
            .inspect_err(|e| shared.health.failed(e))?;
        if shared.health.clear() {
            tracing::info!("the session store can be written again");
        }
        Ok(())
    }

    fn load_results(&self, session_id: &str) -> Option<Arc<StoredResults>> {
        let now = tokio::time::Instant::now();
        if let Some(r) = self.results.get(session_id, now) {
            return Some(r);
        }
        let results = self.read_results(session_id)?;
        self.results.put(session_id, results.clone(), now);
        Some(results)
    }

    fn trim_results(&self) {
        self.results.trim(tokio::time::Instant::now());
    }
}
