//! `auth login | status | logout`: exchange an API key for a token and keep it in
//! `credentials.toml` (owner-only), show whether it still works, delete it. Tokens and keys
//! are never printed.

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use serde::Serialize;
use shared_models::Plan;
use simutrador_client::{Client, ClientError};
use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use super::Context;
use super::args::AuthCommand;
use super::config::{ApiKey, Source};
use super::connect::{login, login_key, options};
use super::credentials::CredentialStore;
use super::output::{EXIT_FAILURE, usage};
use super::render::time;

/// Run an `auth` command.
pub async fn run(cmd: AuthCommand, ctx: &Context) -> anyhow::Result<ExitCode> {
    match cmd {
        AuthCommand::Login { .. } => auth_login(ctx).await.map(|()| ExitCode::SUCCESS),
        AuthCommand::Status => auth_status(ctx).await,
        AuthCommand::Logout => auth_logout(ctx).map(|()| ExitCode::SUCCESS),
    }
}

/// `auth login` result (no token in it).
#[derive(Serialize)]
struct LoggedIn {
    url: String,
    user_id: String,
    plan: Plan,
    expires_at: DateTime<Utc>,
    credentials_file: String,
}

async fn auth_login(ctx: &Context) -> anyhow::Result<()> {
    let settings = &ctx.settings;
    let key = match login_key(settings).await {
        Some(key) => key,
        None => prompt_for_key().await?,
    };
    let token = login(settings, &key).await?;
    let store = CredentialStore::new(settings.credentials_path());
    store.save(token.clone())?;
    if key.source == Source::LocalKey {
        ctx.out
            .note("Using the daemon's local key (loopback quick start).")?;
    }
    let done = LoggedIn {
        url: token.url.clone(),
        user_id: token.user_id.clone(),
        plan: token.plan,
        expires_at: token.expires_at,
        credentials_file: store.path().display().to_string(),
    };
    ctx.out.emit(&done, || {
        format!(
            "Logged in to {} as {} (plan {}); the token is valid until {} and stored in {}.",
            done.url,
            done.user_id,
            done.plan,
            time(done.expires_at),
            done.credentials_file
        )
    })
}

async fn prompt_for_key() -> anyhow::Result<ApiKey> {
    if !std::io::stdin().is_terminal() {
        return Err(usage(
            "no API key: pass --api-key KEY, set SIMUTRADOR_API_KEY, or put api_key in client.toml \
             (create a key with `simutrador-server keys add --user NAME`)",
        ));
    }
    let answer = tokio::task::spawn_blocking(|| {
        inquire::Password::new("API key:")
            .without_confirmation()
            .with_help_message("from `simutrador-server keys add`; input is hidden")
            .prompt()
    })
    .await
    .context("the prompt failed")?;
    match answer {
        Ok(value) if !value.trim().is_empty() => Ok(ApiKey {
            value: value.trim().to_string(),
            source: Source::Prompt,
        }),
        Ok(_) => Err(usage("no API key entered; nothing changed")),
        Err(e) => Err(usage(format!("login cancelled ({e}); nothing changed"))),
    }
}

/// `auth status` result.
#[derive(Serialize)]
struct Status {
    url: String,
    logged_in: bool,
    user_id: Option<String>,
    plan: Option<Plan>,
    expires_at: Option<DateTime<Utc>>,
    expired: bool,
    /// `Some(true)` accepted by the daemon, `Some(false)` refused, `None` not checked.
    accepted_by_server: Option<bool>,
    /// True when `SIMUTRADOR_TOKEN` is set (it takes precedence over the stored token).
    env_token: bool,
    note: Option<String>,
}

async fn auth_status(ctx: &Context) -> anyhow::Result<ExitCode> {
    let settings = &ctx.settings;
    let stored = CredentialStore::new(settings.credentials_path()).get(&settings.url)?;
    let now = Utc::now();
    let mut status = Status {
        url: settings.url.to_string(),
        logged_in: stored.is_some(),
        user_id: stored.as_ref().map(|s| s.user_id.clone()),
        plan: stored.as_ref().map(|s| s.plan),
        expires_at: stored.as_ref().map(|s| s.expires_at),
        expired: stored.as_ref().is_some_and(|s| s.expires_at <= now),
        accepted_by_server: None,
        env_token: settings.token.is_some(),
        note: None,
    };
    if let Some(stored) = stored.as_ref().filter(|_| !status.expired) {
        let opts = options(settings).connect_timeout(Duration::from_secs(5));
        match Client::connect_with_options(&settings.url, &stored.token, opts).await {
            Ok(client) => {
                status.accepted_by_server = Some(true);
                client.close().await;
            }
            Err(ClientError::Auth { code, message }) => {
                status.accepted_by_server = Some(false);
                status.note = Some(format!("the daemon refused the token ({code}: {message})"));
            }
            Err(e) => status.note = Some(format!("could not check with the daemon: {e}")),
        }
    }
    let usable = status.logged_in && !status.expired && status.accepted_by_server != Some(false);
    let key_known = login_key(settings).await.is_some();
    ctx.out
        .emit(&status, || human_status(&status, usable, key_known))?;
    Ok(if usable {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_FAILURE)
    })
}

fn human_status(s: &Status, usable: bool, key_known: bool) -> String {
    let mut out = String::new();
    match (&s.user_id, s.expires_at) {
        (Some(user), Some(exp)) => {
            out.push_str(&format!(
                "{}: logged in as {user} (plan {})\n",
                s.url,
                s.plan.unwrap_or_default()
            ));
            let state = if s.expired { "expired" } else { "valid until" };
            out.push_str(&format!("  token {state} {}\n", time(exp)));
        }
        _ => out.push_str(&format!("{}: not logged in\n", s.url)),
    }
    if s.accepted_by_server == Some(true) {
        out.push_str("  the daemon accepts the token\n");
    }
    if let Some(note) = &s.note {
        out.push_str(&format!("  {note}\n"));
    }
    if s.env_token {
        out.push_str("  SIMUTRADOR_TOKEN is set and is used instead of the stored token\n");
    }
    if !usable {
        if key_known {
            out.push_str("  an API key is known: the next command logs in again by itself\n");
        } else {
            out.push_str("  run `simutrador-client auth login --api-key KEY` to log in\n");
        }
    }
    out
}

/// `auth logout` result.
#[derive(Serialize)]
struct LoggedOut {
    url: String,
    removed: bool,
}

fn auth_logout(ctx: &Context) -> anyhow::Result<()> {
    let url = &ctx.settings.url;
    let removed = CredentialStore::new(ctx.settings.credentials_path()).remove(url)?;
    let done = LoggedOut {
        url: url.to_string(),
        removed,
    };
    ctx.out.emit(&done, || {
        if removed {
            format!("Logged out of {url}: the stored token is deleted.")
        } else {
            format!("No stored token for {url}; nothing to do.")
        }
    })
}
