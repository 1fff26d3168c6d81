//! [`FileRunLog`]: the run journal of one simulation (`<id>.run.jsonl`). Records are framed
//! ([`super::frame`]) into a buffer as the run makes them and written by [`RunLog::flush`]; a
//! failed write is cut back off the file and its records stay buffered for the next flush.
//!
//! The session's lifecycle lines that a failed write left unwritten count as buffered too
//! ([`super::lifecycle_log`]): [`RunLog::dirty`] says so and [`RunLog::flush`] writes them
//! first, so the run sends nothing after a state change that is not on disk.

use std::fs::File;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use shared_models::wire_text;

use super::file::{Health, to_json};
use super::frame;
use super::lifecycle_log::LifecycleRef;
use super::{RunLog, RunRecord};
use crate::session::journal::StoreError;

/// The buffered run journal of one simulation.
pub(super) struct FileRunLog {
    pub(super) file: File,
    pub(super) path: PathBuf,
    /// Framed records not yet written.
    pub(super) buf: Vec<u8>,
    /// The last `seq` framed.
    pub(super) seq: u64,
    /// The file's length after the last successful write.
    pub(super) len: u64,
    pub(super) health: Arc<Health>,
    /// The session's id and lifecycle journal, whose unwritten lines go first.
    pub(super) id: String,
    pub(super) lifecycle_path: PathBuf,
    pub(super) lifecycle: LifecycleRef,
}

impl FileRunLog {
    /// Write the session's unwritten lifecycle lines, if any.
    fn flush_lifecycle(&self) -> Result<(), StoreError> {
        if !self.lifecycle.has_unwritten(&self.id) {
            return Ok(());
        }
        let mut lifecycle = self.lifecycle.lock();
        let path = &self.lifecycle_path;
        self.lifecycle
            .write_unwritten(&mut lifecycle, &self.id, path)
            .map_err(|e| {
                let e = StoreError::io(format!("cannot write {}", path.display()), &e);
                self.health.failed(&e);
                e
            })
    }
}

impl RunLog for FileRunLog {
    fn append(&mut self, record: &RunRecord) {
        let Some(rec) = encode(record) else { return };
        self.seq += 1;
        // Framed straight into the buffer (no line of its own); writing to a `Vec` cannot fail.
        let _ = frame::write_serialized(&mut self.buf, self.seq, &rec);
    }

    fn flush(&mut self) -> Result<(), StoreError> {
        self.flush_lifecycle()?;
        if self.buf.is_empty() {
            return Ok(());
        }
        match self.file.write_all(&self.buf) {
            Ok(()) => {
                self.len += self.buf.len() as u64;
                self.buf.clear();
                Ok(())
            }
            Err(e) => {
                // Nothing of a failed write stays in the file; the records stay buffered.
                let _ = self.file.set_len(self.len);
                let e = StoreError::io(format!("cannot write {}", self.path.display()), &e);
                self.health.failed(&e);
                Err(e)
            }
        }
    }

    fn dirty(&self) -> bool {
        !self.buf.is_empty() || self.lifecycle.has_unwritten(&self.id)
    }
}

/// A run record's JSON. Acks and progress — nearly every record of a run — are written by
/// hand (the same text serde writes: `run_log_tests`); the rest through serde.
pub(super) fn encode(record: &RunRecord) -> Option<Vec<u8>> {
    match record {
        RunRecord::Ack {
            seq,
            orders,
            cancels,
        } => {
            let mut text = String::with_capacity(32 + 160 * orders.len());
            text.push_str("{\"t\":\"ack\",\"seq\":");
            text.push_str(itoa::Buffer::new().format(*seq));
            wire_text::push_orders_and_cancels(&mut text, orders, cancels);
            text.push('}');
            Some(text.into_bytes())
        }
        RunRecord::Progress { acked } => {
            Some(format!("{{\"t\":\"progress\",\"acked\":{acked}}}").into_bytes())
        }
        _ => to_json(record),
    }
}

impl Drop for FileRunLog {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

#[cfg(test)]
#[path = "run_log_tests.rs"]
mod tests;
