//! The data-reload job: the daemon serves data imported while it runs, without a restart.
//!
//! Every `[server] data_poll_secs` the job takes the [`DataSignature`] of the data dir it
//! serves (file names, sizes, modification times; no file is opened). When it changed and
//! held still for a short settle delay ([`ReloadWatch`]), the catalog is loaded again on a
//! blocking thread, by the same [`DataSource::load`] as at start-up (so the built-in data is
//! merged exactly as then), and swapped in whole ([`SharedCatalog::replace`]): requests from
//! then on see the new catalog, runs keep the bars they started with. One info line says what
//! changed. A load that fails (a hand-edited bad CSV) keeps the old catalog, logs a warning
//! naming `file:line`, and is not retried until the files change again. SIGHUP reloads at
//! once, whatever the files (also with polling off, `data_poll_secs = 0`). Each reload is
//! counted in `simutrador_data_reloads_total{result}`.

use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

use super::metrics::Metrics;
use crate::config::{ServerSection, default_data_dir};
use crate::market_data::source::{DataSignature, ReloadWatch, WatchStep};
use crate::market_data::{DataSource, SharedCatalog};

/// The longest a changed signature is left to settle before it is looked at again.
const SETTLE: Duration = Duration::from_millis(250);

/// The data source `[server]` describes: `data_dir` (plus the built-ins with `demo_data`), or
/// the built-ins plus the default data dir when no data dir is configured.
pub fn data_source(server: &ServerSection) -> DataSource {
    DataSource::resolve(
        server.data_dir.as_deref(),
        server.demo_data,
        default_data_dir,
    )
}

/// What the job works on.
#[derive(Debug, Clone)]
pub struct Reloader {
    /// Where the catalog is loaded from.
    pub source: DataSource,
    /// The catalog the daemon serves.
    pub catalog: Arc<SharedCatalog>,
    /// Counts reloads.
    pub metrics: Arc<Metrics>,
}

impl Reloader {
    /// Load the source again and swap the catalog in; on failure keep the old one. True when
    /// the new catalog is served.
    pub async fn reload(&self, why: &'static str) -> bool {
        let source = self.source.clone();
        let loaded = tokio::task::spawn_blocking(move || source.load()).await;
        match loaded {
            Ok(Ok((catalog, _))) => {
                let c = self.catalog.replace(catalog);
                self.metrics.data_reloaded(true);
                tracing::info!(
                    dir = %self.source.dir.display(),
                    trigger = why,
                    added = %c.added.join(","),
                    changed = %c.changed.join(","),
                    removed = %c.removed.join(","),
                    symbols = c.symbols,
                    bars = c.bars,
                    bars_delta = c.bars_delta,
                    "market data reloaded"
                );
                true
            }
            Ok(Err(e)) => {
                self.metrics.data_reloaded(false);
                tracing::warn!(
                    dir = %self.source.dir.display(),
                    trigger = why,
                    error = %e,
                    "market data not reloaded; the daemon keeps serving the data it had (fix the file, the next change is picked up)"
                );
                false
            }
            Err(e) => {
                self.metrics.data_reloaded(false);
                tracing::error!(error = %e, "the market data reload task failed; the daemon keeps serving the data it had");
                false
            }
        }
    }

    async fn signature(&self) -> DataSignature {
        let source = self.source.clone();
        tokio::task::spawn_blocking(move || source.signature())
            .await
            .unwrap_or_default()
    }
}

/// Watch the data dir every `poll` (never with a zero `poll`) and on `hangup` until
/// `shutdown`; `loaded` is the signature of the files the served catalog came from.
pub async fn run(
    reloader: Reloader,
    loaded: DataSignature,
    poll: Duration,
    mut hangup: Hangup,
    shutdown: CancellationToken,
) {
    let mut watch = ReloadWatch::new(loaded);
    let settle = SETTLE.min(poll);
    let mut next = poll;
    loop {
        let polled = async {
            if poll.is_zero() {
                std::future::pending::<()>().await;
            }
            tokio::time::sleep(next).await;
        };
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = hangup.recv() => {
                tracing::info!(dir = %reloader.source.dir.display(), "SIGHUP: reloading the market data");
                watch.forced(reloader.signature().await);
                reloader.reload("sighup").await;
                next = poll;
            }
            () = polled => {
                next = match watch.observe(reloader.signature().await) {
                    WatchStep::Idle => poll,
                    WatchStep::Settle => settle,
                    WatchStep::Reload => {
                        reloader.reload("data dir changed").await;
                        poll
                    }
                };
            }
        }
    }
}

/// SIGHUP, where there is one; otherwise a future that never resolves. Installed before the
/// daemon says it is listening, so an early SIGHUP reloads rather than ends the process.
#[derive(Debug)]
pub struct Hangup {
    #[cfg(unix)]
    signal: Option<tokio::signal::unix::Signal>,
}

impl Hangup {
    /// Start listening for SIGHUP (needs a Tokio runtime).
    pub fn install() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let signal = signal(SignalKind::hangup())
                .inspect_err(|e| tracing::warn!(error = %e, "cannot listen for SIGHUP; the market data is reloaded only when the data dir changes"))
                .ok();
            Hangup { signal }
        }
        #[cfg(not(unix))]
        Hangup {}
    }

    async fn recv(&mut self) {
        #[cfg(unix)]
        if let Some(s) = &mut self.signal
            && s.recv().await.is_some()
        {
            return;
        }
        std::future::pending::<()>().await
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const BARS: &str = "date,open,high,low,close\n2020-01-01,1,2,1,2\n2020-01-02,2,3,2,3\n";

    #[tokio::test]
    async fn a_reload_swaps_the_catalog_and_a_bad_file_keeps_the_old_one() {
        let home = tempfile::tempdir().unwrap();
        let dir = home.path().join("data");
        std::fs::create_dir_all(dir.join("1d")).unwrap();
        std::fs::write(dir.join("1d/OLD.csv"), BARS).unwrap();
        let source = DataSource {
            dir: dir.clone(),
            configured: true,
            demo: false,
        };
        let reloader = Reloader {
            catalog: SharedCatalog::shared(source.load().unwrap().0),
            source,
            metrics: Arc::new(Metrics::default()),
        };
        let before = reloader.catalog.snapshot();

        std::fs::write(dir.join("1d/NEW.csv"), BARS).unwrap();
        assert!(reloader.reload("test").await);
        let now = reloader.catalog.snapshot();
        assert_eq!(now.symbol_count(), 2);
        assert_eq!(before.symbol_count(), 1, "a snapshot is never changed");

        std::fs::write(
            dir.join("1d/BAD.csv"),
            "date,open,high,low,close\nx,1,1,1,1\n",
        )
        .unwrap();
        assert!(!reloader.reload("test").await);
        assert!(Arc::ptr_eq(&now, &reloader.catalog.snapshot()));
        assert_eq!(
            (
                reloader.metrics.data_reloads(true),
                reloader.metrics.data_reloads(false)
            ),
            (1, 1)
        );
    }
}
