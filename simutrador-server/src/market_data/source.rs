//! Where the daemon's catalog comes from, and how it notices that the files changed.
//!
//! [`DataSource`] is the one way the daemon loads its catalog, at start-up and at every
//! reload: the configured data dir (plus the built-in demo data and samples with
//! `demo_data`), or — with no data dir configured — the built-ins plus the default data dir
//! when it exists, so `data import` without `--data-dir` just works.
//!
//! [`DataSignature`] is a cheap picture of the files a load reads (`symbols.toml` and every
//! `<tf>/<SYMBOL>.csv`: name, size, modification time, inode), taken without opening them.
//! [`ReloadWatch`] decides from successive signatures when to reload: a changed signature is
//! looked at once more after a short settle delay and reloaded only when it held still (a
//! copy in progress is not read half-written), and a signature that was tried once — loaded,
//! or refused because a file is bad — is not tried again until the files change again.

use std::path::{Path, PathBuf};

use super::metadata::SYMBOLS_FILE;
use super::{Catalog, MarketDataError};

/// The data the daemon serves: a data dir (watched even when it does not exist yet) and
/// whether the built-in data comes with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataSource {
    /// The data dir to load and watch.
    pub dir: PathBuf,
    /// True when the dir was configured (it must exist); false for the default data dir
    /// (loaded only when it exists).
    pub configured: bool,
    /// Serve the built-in demo data and samples too.
    pub demo: bool,
}

impl DataSource {
    /// The source of `[server] data_dir` and `demo_data` as configured; `default_dir` is the
    /// default data dir (used when no data dir is configured).
    pub fn resolve(
        data_dir: Option<&Path>,
        demo_data: Option<bool>,
        default_dir: impl FnOnce() -> PathBuf,
    ) -> Self {
        match data_dir {
            Some(dir) => DataSource {
                dir: dir.to_path_buf(),
                configured: true,
                demo: demo_data.unwrap_or(false),
            },
            None => DataSource {
                dir: default_dir(),
                configured: false,
                demo: demo_data.unwrap_or(true),
            },
        }
    }

    /// Load the catalog and describe its parts (for the start-up banner). Fails on any bad
    /// file (`file:line: reason`) and when there is no data at all.
    pub fn load(&self) -> Result<(Catalog, Vec<String>), MarketDataError> {
        let mut sources = Vec::new();
        let mut catalog = if self.demo {
            sources.push("built-in demo data (synthetic) and samples (GOOG)".to_string());
            Catalog::built_in()
        } else {
            Catalog::empty()
        };
        if self.configured || self.dir.is_dir() {
            let loaded = Catalog::load_dir(&self.dir)?;
            sources.push(format!(
                "{} ({} symbols)",
                self.dir.display(),
                loaded.symbol_count()
            ));
            catalog.extend(loaded);
        }
        if catalog.symbol_count() == 0 {
            return Err(MarketDataError::Invalid(format!(
                "no market data: {} holds no CSV files; import some with `simutrador-server data import` or drop --data-dir to use the demo data",
                self.dir.display()
            )));
        }
        Ok((catalog, sources))
    }

    /// The files a [`DataSource::load`] would read, as they are now.
    pub fn signature(&self) -> DataSignature {
        DataSignature::of_dir(&self.dir)
    }
}

/// Name, size, modification time and inode of every file a load reads, sorted by path.
/// Empty when the dir does not exist.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DataSignature(Vec<FileStamp>);

/// One file of a [`DataSignature`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct FileStamp {
    path: PathBuf,
    size: u64,
    modified: Option<std::time::SystemTime>,
    inode: u64,
}

impl DataSignature {
    /// Look at `dir`: `symbols.toml` and `<folder>/*.csv` (dot-files skipped, as the loader
    /// skips them). Unreadable entries are left out; a load would report them.
    pub fn of_dir(dir: &Path) -> Self {
        let mut files = Vec::new();
        stamp(&dir.join(SYMBOLS_FILE), &mut files);
        for folder in visible_entries(dir).filter(|p| p.is_dir()) {
            for file in visible_entries(&folder) {
                let csv = file
                    .extension()
                    .is_some_and(|x| x.eq_ignore_ascii_case("csv"));
                if csv {
                    stamp(&file, &mut files);
                }
            }
        }
        files.sort();
        DataSignature(files)
    }

    /// Number of files seen.
    pub fn files(&self) -> usize {
        self.0.len()
    }
}

fn visible_entries(dir: &Path) -> impl Iterator<Item = PathBuf> {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .map(|e| e.path())
}

fn stamp(path: &Path, out: &mut Vec<FileStamp>) {
    let Ok(meta) = std::fs::metadata(path) else {
        return;
    };
    if !meta.is_file() {
        return;
    }
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&meta);
    #[cfg(not(unix))]
    let inode = 0;
    out.push(FileStamp {
        path: path.to_path_buf(),
        size: meta.len(),
        modified: meta.modified().ok(),
        inode,
    });
}

/// What to do after looking at the files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchStep {
    /// Nothing changed since the last load (or failed load): wait for the next poll.
    Idle,
    /// The files changed: look once more after the settle delay.
    Settle,
    /// The files changed and held still: reload now.
    Reload,
}

/// Decides when the files changed enough to reload (see the module doc).
#[derive(Debug, Clone)]
pub struct ReloadWatch {
    tried: DataSignature,
    pending: Option<DataSignature>,
}

impl ReloadWatch {
    /// Watching from `loaded`, the signature of the files the current catalog came from.
    pub fn new(loaded: DataSignature) -> Self {
        ReloadWatch {
            tried: loaded,
            pending: None,
        }
    }

    /// The next step given the files as they are `now`. [`WatchStep::Reload`] marks `now` as
    /// tried, whatever the reload's outcome: a bad file is not re-read until the files change.
    pub fn observe(&mut self, now: DataSignature) -> WatchStep {
        if now == self.tried {
            self.pending = None;
            return WatchStep::Idle;
        }
        if self.pending.as_ref() == Some(&now) {
            self.pending = None;
            self.tried = now;
            return WatchStep::Reload;
        }
        self.pending = Some(now);
        WatchStep::Settle
    }

    /// A reload was asked for (SIGHUP): whatever the files, `now` is what it reads.
    pub fn forced(&mut self, now: DataSignature) {
        self.pending = None;
        self.tried = now;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
#[path = "source_tests.rs"]
mod tests;
