//! The audit log: one JSON object per line in `audit.jsonl` in the state directory, for every
//! session create, update, start, stop, delete, every API-key change and every automated
//! action (expiry, loss-limit stop, warnings, halts, idle timeout, removal). Each line carries
//! the time, the actor (`user` or `system`), the user concerned, the action, the session (if
//! any) and details. Never a secret: keys appear by id only, tokens not at all.

use chrono::{DateTime, Utc};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The file name in the state directory.
pub const FILE_NAME: &str = "audit.jsonl";

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// When.
    pub time: DateTime<Utc>,
    /// `user` or `system`.
    pub actor: String,
    /// The user the action concerns.
    pub user_id: String,
    /// What happened, e.g. `session_created`, `session_stopped`, `api_key_added`.
    pub action: String,
    /// The session, when the action is about one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// Specifics (no secrets).
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub details: Value,
}

impl AuditEntry {
    /// An entry stamped now.
    pub fn now(
        actor: &str,
        user_id: &str,
        action: &str,
        session_id: Option<&str>,
        details: Value,
    ) -> Self {
        AuditEntry {
            time: Utc::now(),
            actor: actor.to_string(),
            user_id: user_id.to_string(),
            action: action.to_string(),
            session_id: session_id.map(str::to_string),
            details,
        }
    }
}

/// Appends entries to `audit.jsonl`.
#[derive(Debug)]
pub struct AuditLog {
    path: PathBuf,
    lock: Mutex<()>,
}

impl AuditLog {
    /// The audit log of `state_dir` (created on the first entry).
    pub fn in_dir(state_dir: &Path) -> Self {
        AuditLog {
            path: state_dir.join(FILE_NAME),
            lock: Mutex::new(()),
        }
    }

    /// Where the log is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Append one line (owner-only file on Unix).
    pub fn append(&self, entry: &AuditEntry) -> std::io::Result<()> {
        let mut line = serde_json::to_string(entry).map_err(std::io::Error::other)?;
        line.push('\n');
        let _guard = self.lock.lock();
        let mut options = std::fs::OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&self.path)?;
        file.write_all(line.as_bytes())
    }

    /// Every entry (for tests and tools); unreadable lines are skipped.
    pub fn read_all(&self) -> Vec<AuditEntry> {
        std::fs::read_to_string(&self.path)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn entries_are_json_lines() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::in_dir(dir.path());
        log.append(&AuditEntry::now(
            "user",
            "alice",
            "session_created",
            Some("s1"),
            json!({"symbols": ["ACME"]}),
        ))
        .unwrap();
        log.append(&AuditEntry::now(
            "system",
            "alice",
            "session_expired",
            Some("s1"),
            Value::Null,
        ))
        .unwrap();
        let all = log.read_all();
        assert_eq!(all.len(), 2);
        assert_eq!(all[1].actor, "system");
        let text = std::fs::read_to_string(log.path()).unwrap();
        assert_eq!(text.lines().count(), 2);
        assert!(!text.contains("details\":null"));
    }
}
