//! [`Bridge`]: the PostgreSQL store's own async runtime and connection pool, and the one way
//! the synchronous [`SessionStore`](super::super::SessionStore) methods reach them.
//!
//! The store's traits are synchronous and are called from the daemon's tokio tasks. A call
//! spawns its work (a future owning everything it needs) on the store's runtime — two worker
//! threads named `pg-store`, separate from the daemon's — and waits for the reply on a
//! one-slot channel. On the daemon's multi-threaded runtime the wait runs inside
//! `block_in_place`, so the worker hands its other tasks to another thread instead of holding
//! them while the database answers. The pool (deadpool-postgres) bounds the connections; its
//! wait and create timeouts bound how long a call waits for one.

use std::future::Future;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::NoTls;

use crate::session::journal::StoreError;

/// The store's runtime and pool.
pub(super) struct Bridge {
    runtime: Option<tokio::runtime::Runtime>,
    pool: Pool,
}

impl std::fmt::Debug for Bridge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let status = self.pool.status();
        f.debug_struct("Bridge")
            .field("connections", &status.size)
            .field("max", &status.max_size)
            .finish()
    }
}

impl Bridge {
    /// A runtime and a pool of at most `size` connections to `config`; `timeout` bounds
    /// opening a connection and waiting for a free one. Connects nothing yet.
    pub(super) fn new(
        mut config: tokio_postgres::Config,
        size: u32,
        timeout: Duration,
    ) -> std::io::Result<Bridge> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("pg-store")
            .enable_all()
            .build()?;
        config.connect_timeout(timeout);
        if config.get_application_name().is_none() {
            config.application_name("simutrador-server");
        }
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(size as usize)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(timeout))
            .create_timeout(Some(timeout))
            .recycle_timeout(Some(timeout))
            .build()
            .map_err(std::io::Error::other)?;
        Ok(Bridge {
            runtime: Some(runtime),
            pool,
        })
    }

    /// Run `work` (given the pool) on the store's runtime and wait for its result; `None`
    /// when the runtime is gone (the daemon is shutting down).
    pub(super) fn run<T, F>(&self, work: impl FnOnce(Pool) -> F) -> Option<T>
    where
        F: Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        let runtime = self.runtime.as_ref()?;
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let future = work(self.pool.clone());
        runtime.spawn(async move {
            let _ = tx.send(future.await);
        });
        let wait = || rx.recv().ok();
        match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
            Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(wait),
            _ => wait(),
        }
    }

    /// Spawn `work` (given the pool) on the store's runtime, for as long as it runs; `None`
    /// when the runtime is gone.
    pub(super) fn spawn<F>(
        &self,
        work: impl FnOnce(Pool) -> F,
    ) -> Option<tokio::task::JoinHandle<()>>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let runtime = self.runtime.as_ref()?;
        Some(runtime.spawn(work(self.pool.clone())))
    }

    /// [`Bridge::run`] for work that can fail with a [`StoreError`].
    pub(super) fn call<T, F>(&self, work: impl FnOnce(Pool) -> F) -> Result<T, StoreError>
    where
        F: Future<Output = Result<T, StoreError>> + Send + 'static,
        T: Send + 'static,
    {
        self.run(work)
            .unwrap_or_else(|| Err(db_error("the store is shut down")))
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        // Dropped from async code at the end of the daemon: do not wait for anything.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// A failed database operation as a [`StoreError`] (`PostgreSQL store: …`).
pub(super) fn db_error(e: impl std::fmt::Display) -> StoreError {
    StoreError {
        message: format!("PostgreSQL store: {e}"),
        moved: None,
    }
}

/// A tokio-postgres error with its cause (the server's message, or the I/O error).
pub(super) fn pg_error(e: tokio_postgres::Error) -> StoreError {
    match e.as_db_error() {
        Some(db) => db_error(format!("{}: {}", db.code().code(), db.message())),
        None => match std::error::Error::source(&e) {
            Some(cause) => db_error(format!("{e}: {cause}")),
            None => db_error(e),
        },
    }
}
