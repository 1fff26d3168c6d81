//! `simutrador-server keys add|list|revoke`: manage the API keys in the state directory.
//!
//! These commands edit `<state_dir>/api_keys.json` directly; a running daemon notices the
//! change at its next authentication check, and closes a revoked key's open connections
//! within its `[auth] key_check_interval_ms`, so no restart is needed. A new key is printed
//! exactly once; `list` never shows a key or its hash.

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use serde::Serialize;
use shared_models::Plan;
use std::path::PathBuf;
use std::process::ExitCode;

use super::output;
use crate::auth::{ApiKeyStore, KeyRecord};
use crate::config::{Overrides, ServerConfig, default_state_dir};

/// `simutrador-server keys …`.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create an API key for a user and print it (once).
    Add(AddArgs),
    /// List the API keys (ids, users, plans, status — never the keys).
    List(ListArgs),
    /// Revoke a key by id, or every key of a user.
    Revoke(RevokeArgs),
}

/// Where the key store lives.
#[derive(Debug, Clone, Args)]
pub struct StateDirArgs {
    /// State directory [default: the one `serve` uses: SIMUTRADOR_STATE_DIR, the config
    /// file's state_dir, else ~/.local/state/simutrador].
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Config file to take the state directory from (as `serve --config`).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// `keys add`.
#[derive(Debug, Clone, Args)]
pub struct AddArgs {
    /// Owner of the key: letters, digits, `_ . @ -`, at most 64 characters.
    #[arg(long, value_name = "NAME")]
    pub user: String,
    /// Plan granted to the key.
    #[arg(long, default_value = "free", value_parser = parse_plan)]
    pub plan: Plan,
    #[command(flatten)]
    pub dir: StateDirArgs,
    /// Print `{"user_id", "api_key", "key_id", "plan"}` as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `keys list`.
#[derive(Debug, Clone, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub dir: StateDirArgs,
    /// Print a JSON array of the key records.
    #[arg(long)]
    pub json: bool,
}

/// `keys revoke`.
#[derive(Debug, Clone, Args)]
pub struct RevokeArgs {
    /// A key id (`k_…`) or a user name (revokes all of that user's keys).
    #[arg(value_name = "KEY_ID_OR_USER")]
    pub target: String,
    #[command(flatten)]
    pub dir: StateDirArgs,
}

/// Run a `keys` subcommand.
pub fn run(cmd: KeysCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        KeysCommand::Add(args) => add(args),
        KeysCommand::List(args) => list(args),
        KeysCommand::Revoke(args) => revoke(args),
    }
}

fn add(args: AddArgs) -> anyhow::Result<ExitCode> {
    validate_user(&args.user)?;
    let store = open(&args.dir)?;
    let (record, key) = store.add(&args.user, args.plan)?;
    audit(
        &args.dir,
        &record.user_id,
        "api_key_added",
        serde_json::json!({ "key_id": record.key_id, "plan": record.plan }),
    );
    if args.json {
        let doc = AddedKey {
            user_id: &record.user_id,
            api_key: &key,
            key_id: &record.key_id,
            plan: record.plan,
        };
        output::line(&serde_json::to_string(&doc)?)?;
    } else {
        output::line(&format!(
            "Created API key {} for user {} (plan {}):\n\n    {key}\n",
            record.key_id, record.user_id, record.plan
        ))?;
        output::line(&format!(
            "Copy it now: it cannot be shown again (only its hash is kept in {}).",
            store.path().display()
        ))?;
        output::line("Use it with: simutrador-client auth login --api-key <key>")?;
    }
    Ok(ExitCode::SUCCESS)
}

fn list(args: ListArgs) -> anyhow::Result<ExitCode> {
    let store = open(&args.dir)?;
    let keys = store.list();
    if args.json {
        let docs: Vec<ListedKey<'_>> = keys.iter().map(ListedKey::from).collect();
        output::line(&serde_json::to_string(&docs)?)?;
    } else if keys.is_empty() {
        output::line(&format!(
            "No API keys in {}. Create one with: simutrador-server keys add --user NAME",
            store.path().display()
        ))?;
    } else {
        output::line(&table(&keys).to_string())?;
    }
    Ok(ExitCode::SUCCESS)
}

fn revoke(args: RevokeArgs) -> anyhow::Result<ExitCode> {
    let store = open(&args.dir)?;
    let revoked = store.revoke_records(&args.target)?;
    let n = revoked.len();
    // One entry per key, naming the key's user (the target may be a key id).
    for record in &revoked {
        let details = serde_json::json!({ "key_id": record.key_id, "target": args.target });
        audit(&args.dir, &record.user_id, "api_key_revoked", details);
    }
    if n == 0 {
        output::warn(&format!(
            "error: no active API key with id or user '{}' in {}; see `simutrador-server keys list`",
            args.target,
            store.path().display()
        ))?;
        return Ok(ExitCode::from(1));
    }
    let noun = if n == 1 { "key" } else { "keys" };
    output::line(&format!(
        "Revoked {n} {noun} matching '{}'. Tokens issued for it stop working at once; a running daemon closes its open connections within [auth] key_check_interval_ms.",
        args.target
    ))?;
    Ok(ExitCode::SUCCESS)
}

/// Open the store in the state dir chosen by the flags, config and environment.
/// Record a key change in the state dir's audit log (key ids only, never a key). A failure to
/// write is reported but does not undo the change.
fn audit(dir: &StateDirArgs, user: &str, action: &str, details: serde_json::Value) {
    let Ok(state_dir) = state_dir(dir) else {
        return;
    };
    let log = crate::audit::AuditLog::in_dir(&state_dir);
    let entry = crate::audit::AuditEntry::now("user", user, action, None, details);
    if let Err(e) = log.append(&entry) {
        let _ = output::warn(&format!(
            "warning: could not write the audit log {}: {e}",
            log.path().display()
        ));
    }
}

fn open(dir: &StateDirArgs) -> anyhow::Result<ApiKeyStore> {
    let state_dir = state_dir(dir)?;
    ApiKeyStore::open(&state_dir)
        .with_context(|| format!("could not open the key store in {}", state_dir.display()))
}

/// `--state-dir`, else what `serve` would use with the same config file and environment.
fn state_dir(dir: &StateDirArgs) -> anyhow::Result<PathBuf> {
    if let Some(d) = &dir.state_dir {
        return Ok(d.clone());
    }
    let env = |k: &str| std::env::var(k).ok();
    match ServerConfig::load(dir.config.as_deref(), &env, &Overrides::default()) {
        Ok(c) => Ok(c.server.state_dir),
        Err(e) if dir.config.is_some() => Err(e),
        Err(e) => {
            // Fall back to the documented default rather than refusing key management
            // because of an unrelated setting.
            let fallback = std::env::var("SIMUTRADOR_STATE_DIR")
                .ok()
                .filter(|v| !v.trim().is_empty())
                .map(PathBuf::from)
                .unwrap_or_else(default_state_dir);
            let _ = output::warn(&format!(
                "warning: ignoring the server configuration ({e:#}); using {}",
                fallback.display()
            ));
            Ok(fallback)
        }
    }
}

/// `keys add --json`, fields in this order.
#[derive(Serialize)]
struct AddedKey<'a> {
    user_id: &'a str,
    api_key: &'a str,
    key_id: &'a str,
    plan: Plan,
}

/// One entry of `keys list --json` (never the key or its hash).
#[derive(Serialize)]
struct ListedKey<'a> {
    key_id: &'a str,
    user_id: &'a str,
    plan: Plan,
    created_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
    /// `active` or `revoked`.
    status: &'static str,
}

impl<'a> From<&'a KeyRecord> for ListedKey<'a> {
    fn from(r: &'a KeyRecord) -> Self {
        ListedKey {
            key_id: &r.key_id,
            user_id: &r.user_id,
            plan: r.plan,
            created_at: r.created_at,
            revoked_at: r.revoked_at,
            status: if r.is_active() { "active" } else { "revoked" },
        }
    }
}

fn status(r: &KeyRecord) -> String {
    match r.revoked_at {
        None => "active".into(),
        Some(t) => format!("revoked {}", t.format("%Y-%m-%d %H:%M")),
    }
}

/// The aligned table for `keys list`.
fn table(keys: &[KeyRecord]) -> Table {
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED).set_header([
        "KEY ID",
        "USER",
        "PLAN",
        "CREATED (UTC)",
        "STATUS",
    ]);
    for r in keys {
        table.add_row([
            r.key_id.clone(),
            r.user_id.clone(),
            r.plan.to_string(),
            r.created_at.format("%Y-%m-%d %H:%M").to_string(),
            status(r),
        ]);
    }
    table
}

/// `free`, `pro` or `enterprise` (any case).
fn parse_plan(s: &str) -> Result<Plan, String> {
    s.parse()
}

/// User names: `^[A-Za-z0-9_.@-]{1,64}$`.
pub fn validate_user(user: &str) -> anyhow::Result<()> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '@' | '-');
    if user.is_empty() || user.len() > 64 || !user.chars().all(ok_char) {
        bail!(
            "invalid user name {user:?}: use 1 to 64 letters, digits or _ . @ - (for example alice or ops@example.com)"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_names() {
        for ok in ["alice", "a", "ops@example.com", "x_y-z.1", &"a".repeat(64)] {
            assert!(validate_user(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a b", "ünï", "a/b", "a\n", &"a".repeat(65)] {
            assert!(validate_user(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn add_list_revoke_through_the_commands() -> anyhow::Result<()> {
        let tmp = tempfile::tempdir()?;
        let dir = StateDirArgs {
            state_dir: Some(tmp.path().to_path_buf()),
            config: None,
        };
        let add_args = AddArgs {
            user: "alice".into(),
            plan: Plan::Pro,
            dir: dir.clone(),
            json: true,
        };
        assert_eq!(run(KeysCommand::Add(add_args))?, ExitCode::SUCCESS);
        let keys = ApiKeyStore::open(tmp.path())?.list();
        assert_eq!(keys.len(), 1);
        let rendered = table(&keys).to_string();
        assert!(rendered.contains("alice") && rendered.contains("active"));
        let revoke = |target: &str| {
            run(KeysCommand::Revoke(RevokeArgs {
                target: target.into(),
                dir: dir.clone(),
            }))
        };
        assert_eq!(revoke("alice")?, ExitCode::SUCCESS);
        assert_eq!(revoke("alice")?, ExitCode::from(1));
        Ok(())
    }

    #[test]
    fn add_json_shape() -> anyhow::Result<()> {
        let doc = AddedKey {
            user_id: "a",
            api_key: "stk_x",
            key_id: "k_1",
            plan: Plan::Free,
        };
        let expected = r#"{"user_id":"a","api_key":"stk_x","key_id":"k_1","plan":"free"}"#;
        assert_eq!(serde_json::to_string(&doc)?, expected);
        Ok(())
    }

    #[derive(Debug, clap::Parser)]
    struct Cli {
        #[command(subcommand)]
        keys: KeysCommand,
    }

    #[test]
    fn parses_as_embedded_subcommand() -> anyhow::Result<()> {
        use clap::{CommandFactory, Parser};
        Cli::command().debug_assert();
        let cli = Cli::try_parse_from(["keys", "add", "--user", "bob", "--plan", "PRO", "--json"])?;
        assert!(matches!(cli.keys, KeysCommand::Add(a) if a.plan == Plan::Pro && a.json));
        let cli = Cli::try_parse_from(["keys", "revoke", "k_12345678", "--state-dir", "/tmp/s"])?;
        assert!(matches!(cli.keys, KeysCommand::Revoke(r) if r.target == "k_12345678"));
        assert!(Cli::try_parse_from(["keys", "add", "--user", "bob", "--plan", "gold"]).is_err());
        Ok(())
    }

    #[test]
    fn plans_parse_case_insensitively() {
        assert_eq!(parse_plan("Enterprise"), Ok(Plan::Enterprise));
        assert!(parse_plan("gold").is_err());
    }
}
