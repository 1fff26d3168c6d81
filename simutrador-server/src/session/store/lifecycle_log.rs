//! The writer of the lifecycle journals (`<id>.jsonl`), shared by the [`FileStore`] and the
//! run logs of running sessions.
//!
//! A lifecycle record that cannot be written (ENOSPC, EROFS, EIO) is not dropped: its framed
//! line (with its `seq`) is kept, in order, as the session's *unwritten* lines, and written
//! before the session's next lifecycle line, by the session's run log before the run sends
//! anything more (write ahead: a running session whose state change is not on disk sends no
//! frame and pauses with reason `store_error`), or by the next successful probe of the store.
//! A failed write leaves nothing of itself in the file (it is cut back).
//!
//! [`FileStore`]: super::FileStore

use parking_lot::Mutex;
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::frame;

/// The lifecycle journals' sequence numbers and unwritten lines, behind one lock (which also
/// serializes every lifecycle write, so lines never interleave).
#[derive(Debug, Default)]
pub(super) struct Lifecycle {
    /// The last `seq` framed for each lifecycle journal (written or still unwritten).
    pub(super) seqs: HashMap<String, u64>,
    /// Per session, framed lines not written yet, in order.
    unwritten: HashMap<String, Vec<u8>>,
}

/// [`Lifecycle`] shared between the store and the run logs, with a lock-free "is anything
/// unwritten" for the run logs' check before every frame.
#[derive(Debug, Default)]
pub(super) struct SharedLifecycle {
    inner: Mutex<Lifecycle>,
    /// Sessions with unwritten lines.
    unwritten_sessions: AtomicUsize,
}

impl SharedLifecycle {
    /// The state, locked (every lifecycle write happens under it).
    pub(super) fn lock(&self) -> parking_lot::MutexGuard<'_, Lifecycle> {
        self.inner.lock()
    }

    /// Write `id`'s unwritten lines (if any) at the end of `path`; on failure they stay
    /// unwritten.
    pub(super) fn write_unwritten(
        &self,
        lifecycle: &mut Lifecycle,
        id: &str,
        path: &Path,
    ) -> std::io::Result<()> {
        self.write_after_unwritten(lifecycle, id, path, None)
    }

    /// Write `id`'s unwritten lines and then `record` (its JSON), framed as line `seq`,
    /// through a buffer and without building the line (for a million-point results record
    /// that would be one more copy of it). Only when the write fails is the line built, to be
    /// kept with the other unwritten lines.
    pub(super) fn write_record(
        &self,
        lifecycle: &mut Lifecycle,
        id: &str,
        path: &Path,
        seq: u64,
        record: &[u8],
    ) -> std::io::Result<()> {
        self.write_after_unwritten(lifecycle, id, path, Some((seq, record)))
    }

    /// `id`'s unwritten lines, then `record` (`seq` and JSON) if any, in one buffered write at
    /// the end of `path`; on failure all of it is kept as unwritten lines.
    fn write_after_unwritten(
        &self,
        lifecycle: &mut Lifecycle,
        id: &str,
        path: &Path,
        record: Option<(u64, &[u8])>,
    ) -> std::io::Result<()> {
        let mut bytes = match lifecycle.unwritten.remove(id) {
            Some(bytes) => {
                self.unwritten_sessions.fetch_sub(1, Ordering::Relaxed);
                bytes
            }
            None => Vec::new(),
        };
        if bytes.is_empty() && record.is_none() {
            return Ok(());
        }
        let written = private_options().append(true).open(path).and_then(|mut f| {
            write_through(&mut f, |out| {
                out.write_all(&bytes)?;
                match record {
                    Some((seq, rec)) => frame::write_serialized(out, seq, rec),
                    None => Ok(()),
                }
            })
        });
        if written.is_err() {
            if let Some((seq, rec)) = record {
                bytes.extend(frame::encode(seq, rec));
            }
            lifecycle.unwritten.insert(id.to_string(), bytes);
            self.unwritten_sessions.fetch_add(1, Ordering::Relaxed);
        }
        written
    }

    /// True when `id` has lifecycle lines not written yet.
    pub(super) fn has_unwritten(&self, id: &str) -> bool {
        self.unwritten_sessions.load(Ordering::Relaxed) > 0
            && self.inner.lock().unwritten.contains_key(id)
    }

    /// The sessions with unwritten lines.
    pub(super) fn unwritten_ids(&self, lifecycle: &Lifecycle) -> Vec<String> {
        lifecycle.unwritten.keys().cloned().collect()
    }

    /// Forget `id` (deleted): its sequence number and unwritten lines.
    pub(super) fn forget(&self, lifecycle: &mut Lifecycle, id: &str) {
        lifecycle.seqs.remove(id);
        if lifecycle.unwritten.remove(id).is_some() {
            self.unwritten_sessions.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

/// Shared by the store and the run logs.
pub(super) type LifecycleRef = Arc<SharedLifecycle>;

/// Bytes gathered before a `write`: a record this size or smaller is written in one.
const WRITE_BUFFER: usize = 64 * 1024;

/// `write` at the end of `f`, through a buffer; on failure cut `f` back to its length before.
fn write_through(
    f: &mut File,
    write: impl FnOnce(&mut BufWriter<&mut File>) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let len = f.metadata()?.len();
    let mut out = BufWriter::with_capacity(WRITE_BUFFER, &mut *f);
    let written = write(&mut out).and_then(|()| out.flush());
    // Not flushed again when dropped: after a failure, what is left is dropped.
    let _ = out.into_parts();
    written.inspect_err(|_| {
        let _ = f.set_len(len);
    })
}

/// Options that create a journal owner-only (0600 on Unix); the caller adds the access mode.
pub(super) fn private_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    options.create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
}
