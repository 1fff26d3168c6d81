//! Recovery at start-up for [`FileStore`]: one session's journals read by the rules of
//! [`super::frame`] — a torn final record cut, damage anywhere else quarantined (both files
//! moved unchanged to `sessions/quarantine/`) and the session marked `damaged` with a message
//! for its owner.

use serde::de::DeserializeOwned;
use std::fs::OpenOptions;
use std::path::Path;

use super::file::{FileStore, RUN_EXT, private_dir};
use super::frame::{self, Scan};
use super::record::{Record, RunRecord, StoredSession};

impl FileStore {
    /// Move the files of session `id` into the quarantine folder, unchanged; the message
    /// shown to its owner.
    fn quarantine(&self, id: &str, path: &Path, damage: &frame::Damage) -> String {
        let dir = self.quarantine_dir();
        let moved = private_dir(&dir).and_then(|()| {
            for from in [self.lifecycle_path(id), self.run_path(id)] {
                let name = from.file_name().map(ToOwned::to_owned).unwrap_or_default();
                let to = dir.join(name);
                if to.exists() {
                    // Never overwrite what is already kept there.
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::AlreadyExists,
                        format!("{} already exists", to.display()),
                    ));
                }
                if from.exists() {
                    std::fs::rename(&from, to)?;
                }
            }
            Ok(())
        });
        let file = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let kept = match moved {
            Ok(()) => dir.join(file),
            Err(e) => {
                tracing::error!(session_id = %id, "cannot move a damaged journal to {}: {e}", dir.display());
                path.to_path_buf()
            }
        };
        tracing::error!(session_id = %id, path = %kept.display(), line = damage.line, "damaged session journal ({}); the session is kept as damaged and will not be resumed", damage.reason);
        damage_message(&kept, damage, &self.dir)
    }

    /// One lifecycle journal, read and recovered (a torn end cut, damage quarantined).
    pub(super) fn load_one(
        &self,
        id: &str,
        path: &Path,
        quarantined: bool,
    ) -> Option<StoredSession> {
        let scan: Scan<Record> = read_scan(path, !quarantined);
        let mut damage = scan.damage.map(|d| (path.to_path_buf(), d));
        let run_path = if quarantined {
            self.quarantine_dir().join(format!("{id}{RUN_EXT}"))
        } else {
            self.run_path(id)
        };
        if damage.is_none() {
            let run: Scan<RunRecord> = read_scan(&run_path, !quarantined);
            damage = run.damage.map(|d| (run_path, d));
        }
        let message = match (&damage, quarantined) {
            (None, false) => None,
            (Some((p, d)), false) => Some(self.quarantine(id, p, d)),
            (Some((p, d)), true) => Some(damage_message(p, d, &self.dir)),
            (None, true) => Some(format!(
                "the journal {} is in quarantine; the session will not be resumed from there. \
                 Move the session's files back to {} and restart the daemon to resume it, \
                 or delete the session to discard it (docs/store.md)",
                path.display(),
                self.dir.display()
            )),
        };
        if message.is_none() {
            self.lifecycle
                .lock()
                .seqs
                .insert(id.to_string(), scan.last_seq);
        }
        let Some(mut s) = StoredSession::fold(id, scan.records) else {
            match message {
                Some(m) => {
                    tracing::error!(session_id = %id, "a damaged session journal names no owner; it cannot be shown to anyone: {m}")
                }
                None => {
                    tracing::warn!(path = %path.display(), "session journal without its parameters; ignored")
                }
            }
            return None;
        };
        if let Some(message) = message {
            s.mark_damaged(message);
        }
        Some(s)
    }
}

/// What the owner of a damaged session reads.
fn damage_message(kept: &Path, damage: &frame::Damage, sessions: &Path) -> String {
    format!(
        "the journal {} is damaged at line {} ({}); the session is kept as it was and will not be resumed. \
         Inspect the file: to recover it, repair or cut that line, move the session's files back to {} and restart the daemon; \
         or delete the session to discard it (docs/store.md)",
        kept.display(),
        damage.line,
        damage.reason,
        sessions.display()
    )
}

/// Read and scan the journal at `path` (empty when missing). With `cut`, a torn final
/// record is cut off the file (never when the journal is damaged: it is kept as it is).
pub(super) fn read_scan<T: DeserializeOwned>(path: &Path, cut: bool) -> Scan<T> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) => {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(path = %path.display(), "cannot read a journal: {e}");
            }
            return frame::scan(&[]);
        }
    };
    let scan = frame::scan(&bytes);
    if let Some(why) = scan.torn.as_ref().filter(|_| cut && scan.damage.is_none()) {
        tracing::warn!(
            path = %path.display(),
            bytes = bytes.len() - scan.keep,
            "the journal ends with a torn record (a write cut short by a crash); cut off: {why}"
        );
        let cut = OpenOptions::new()
            .write(true)
            .open(path)
            .and_then(|f| f.set_len(scan.keep as u64));
        if let Err(e) = cut {
            tracing::warn!(path = %path.display(), "cannot cut the torn record: {e}");
        }
    }
    scan
}
