//! Getting an authenticated connection for a command, with no ceremony:
//!
//! 1. `SIMUTRADOR_TOKEN`, if set; else the stored token for this URL, if not expired;
//! 2. when that token is missing, expired or refused as expired/invalid, log in again with a
//!    known API key (`--api-key`, `SIMUTRADOR_API_KEY`, `api_key` in client.toml) and store
//!    the new token;
//! 3. on a loopback URL with no key configured, use the daemon's `local.key`, so the quick
//!    start needs no setup. The daemon says where that file is (`GET /auth/local-key`), so
//!    this works whatever `--state-dir` it was started with; a daemon that does not answer
//!    falls back to `$SIMUTRADOR_STATE_DIR/local.key`, else the default state dir's.

use anyhow::Context as _;
use chrono::Utc;
use shared_models::ErrorCode;
use simutrador_client::{Client, ClientError, ConnectOptions};
use std::path::Path;

use super::config::{ApiKey, Settings, Source};
use super::credentials::{CredentialStore, StoredToken};

/// The user the daemon's `local.key` belongs to.
const LOCAL_USER: &str = "local";

/// Connection options from the settings.
pub fn options(settings: &Settings) -> ConnectOptions {
    ConnectOptions::default().request_timeout(settings.timeout)
}

/// The key to log in with: a configured one, else (loopback only) the daemon's local key —
/// from the file the daemon names, else from the state dir the settings name.
pub async fn login_key(settings: &Settings) -> Option<ApiKey> {
    if let Some(key) = &settings.api_key {
        return Some(key.clone());
    }
    if !settings.url.is_loopback() {
        return None;
    }
    let advertised = simutrador_client::local_key_path(&settings.url).await;
    let value = advertised
        .as_deref()
        .and_then(read_local_key)
        .or_else(|| read_local_key(settings.local_key_path.as_deref()?))?;
    Some(ApiKey {
        value,
        source: Source::LocalKey,
    })
}

/// The key in the daemon's `local.key`: its first line that is not blank or a `#` comment.
pub fn read_local_key(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
}

/// Exchange `key` for a token (not stored yet).
pub async fn login(settings: &Settings, key: &ApiKey) -> anyhow::Result<StoredToken> {
    settings.url.require_plaintext()?;
    let answer = simutrador_client::login(&settings.url, &key.value)
        .await
        .with_context(|| {
            format!(
                "logging in to {} with the API key from {}",
                settings.url,
                key.origin()
            )
        })?;
    Ok(StoredToken::from_login(&settings.url, &answer, Utc::now()))
}

/// Connect as whoever the settings say, logging in again when needed.
pub async fn connect(settings: &Settings) -> anyhow::Result<Client> {
    let url = &settings.url;
    url.require_plaintext()?;
    let store = CredentialStore::new(settings.credentials_path());
    let key = login_key(settings).await;

    // The daemon's local key logs in as user `local`: never in place of another user's
    // stored login (a refused or revoked login must not silently become `local`).
    let mut other_user = None;
    let key = match (key, store.get(url)?) {
        (Some(k), Some(stored)) if k.source == Source::LocalKey && stored.user_id != LOCAL_USER => {
            other_user = Some(stored.user_id);
            None
        }
        (key, _) => key,
    };
    let why_login = if let Some(token) = &settings.token {
        match Client::connect_with_options(url, token, options(settings)).await {
            Ok(client) => return Ok(keeping(client, key.as_ref())),
            Err(e) if is_stale(&e) && key.is_some() => "SIMUTRADOR_TOKEN was refused",
            Err(e) => {
                return Err(
                    anyhow::Error::from(e).context("connecting with the token in SIMUTRADOR_TOKEN")
                );
            }
        }
    } else {
        match store.get(url)? {
            Some(stored) if !stored.is_expired(Utc::now()) => {
                match Client::connect_with_options(url, &stored.token, options(settings)).await {
                    Ok(client) => return Ok(keeping(client, key.as_ref())),
                    Err(e) if is_stale(&e) => "the stored token was refused",
                    Err(e) => return Err(e.into()),
                }
            }
            Some(_) => "the stored token has expired",
            None => "not logged in",
        }
    };

    let Some(key) = key else {
        let local = match (&settings.local_key_path, url.is_loopback()) {
            _ if other_user.is_some() => format!(
                " for user '{}' (the daemon's local key is not used in place of another user's login)",
                other_user.as_deref().unwrap_or_default()
            ),
            (Some(path), true) => format!(
                " (the daemon's local key {} does not exist: has `simutrador-server serve` been started on this machine?)",
                path.display()
            ),
            _ => String::new(),
        };
        return Err(ClientError::Auth {
            code: ErrorCode::AuthRequired,
            message: format!(
                "{why_login} to {url} and no API key is known{local}; run `simutrador-client auth login --api-key KEY` or set SIMUTRADOR_API_KEY"
            ),
        }
        .into());
    };
    tracing::debug!(reason = why_login, source = key.origin(), "logging in");
    let fresh = login(settings, &key).await?;
    if let Err(e) = store.save(fresh.clone()) {
        // The command can still run; the next one will log in again.
        super::output::stderr_line(&format!("warning: {e}"));
    }
    let client = Client::connect_with_options(url, &fresh.token, options(settings)).await?;
    Ok(client.with_api_key(&key.value))
}

/// The client, remembering the API key when one is known: a run that outlives its token
/// (the daemon closes the connection at expiry) logs in again and resumes.
fn keeping(client: Client, key: Option<&ApiKey>) -> Client {
    match key {
        Some(key) => client.with_api_key(&key.value),
        None => client,
    }
}

/// Refusals that a fresh token can cure.
fn is_stale(err: &ClientError) -> bool {
    matches!(
        err,
        ClientError::Auth {
            code: ErrorCode::TokenExpired | ErrorCode::InvalidToken,
            ..
        }
    )
}

#[cfg(test)]
mod tests {
    use super::super::config::{Env, FileConfig, Flags};
    use super::*;

    fn settings(url: &str, key: Option<&str>, state_dir: &Path) -> Settings {
        let env = Env {
            state_dir: Some(state_dir.to_path_buf()),
            api_key: key.map(Into::into),
            ..Env::default()
        };
        let flags = Flags {
            url: Some(url.into()),
            api_key: None,
        };
        Settings::merge(flags, env, FileConfig::default(), state_dir.join("cfg")).unwrap()
    }

    #[tokio::test]
    async fn the_local_key_is_used_only_on_loopback_without_a_configured_key() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("local.key"),
            "# written by the daemon\n\nsk_local\n",
        )
        .unwrap();

        // Nothing listens on port 1: the daemon cannot say where its key is, so the state
        // dir of the settings is used.
        let key = login_key(&settings("127.0.0.1:1", None, dir.path()))
            .await
            .unwrap();
        assert_eq!(
            (key.value.as_str(), key.source),
            ("sk_local", Source::LocalKey)
        );
        let key = login_key(&settings("localhost:1", Some("sk_env"), dir.path()))
            .await
            .unwrap();
        assert_eq!(key.source, Source::Env);
        assert!(
            login_key(&settings("sim.example.com:8003", None, dir.path()))
                .await
                .is_none()
        );

        let empty = tempfile::tempdir().unwrap();
        assert!(
            login_key(&settings("127.0.0.1:1", None, empty.path()))
                .await
                .is_none()
        );
    }

    /// A mock daemon on one port: `POST /auth/token` (key `sk_local` → `tok-N`) and `/ws`
    /// (accepts issued tokens; `stale` → 401 TOKEN_EXPIRED). Returns its URL and the number of
    /// logins so far.
    async fn mock_daemon() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicUsize, Ordering};
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
        use tokio_tungstenite::tungstenite::http::StatusCode;

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = listener.local_addr().unwrap().to_string();
        let logins = Arc::new(AtomicUsize::new(0));
        let counter = logins.clone();
        tokio::spawn(async move {
            loop {
                let (mut tcp, _) = listener.accept().await.unwrap();
                let mut head = [0u8; 16];
                let n = tcp.peek(&mut head).await.unwrap();
                if head[..n].starts_with(b"POST") {
                    let mut buf = vec![0u8; 4096];
                    let n = tcp.read(&mut buf).await.unwrap();
                    let req = String::from_utf8_lossy(&buf[..n]).to_ascii_lowercase();
                    let (status, body) = if req.contains("x-api-key: sk_local") {
                        let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
                        (
                            "200 OK",
                            format!(
                                r#"{{"access_token":"tok-{n}","token_type":"Bearer","expires_in":3600,"user_id":"local","plan":"pro"}}"#
                            ),
                        )
                    } else {
                        ("401 Unauthorized", r#"{"error_code":"INVALID_API_KEY","message":"unknown key","details":null}"#.to_string())
                    };
                    let reply = format!(
                        "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    tcp.write_all(reply.as_bytes()).await.unwrap();
                    continue;
                }
                tokio::spawn(async move {
                    #[allow(clippy::result_large_err)] // the signature tungstenite asks for
                    let check = |req: &Request,
                                 resp: Response|
                     -> Result<Response, ErrorResponse> {
                        let auth = req
                            .headers()
                            .get("authorization")
                            .and_then(|v| v.to_str().ok());
                        if auth.is_some_and(|a| a.starts_with("Bearer tok-")) {
                            return Ok(resp);
                        }
                        let body =
                            r#"{"error_code":"TOKEN_EXPIRED","message":"expired","details":null}"#;
                        let mut refused = ErrorResponse::new(Some(body.into()));
                        *refused.status_mut() = StatusCode::UNAUTHORIZED;
                        Err(refused)
                    };
                    use futures_util::SinkExt;
                    let Ok(mut ws) = tokio_tungstenite::accept_hdr_async(tcp, check).await else {
                        return;
                    };
                    let ready = r#"{"type":"connection_ready","data":{"user_id":"local","plan":"pro","server_time":"2024-01-01T00:00:00Z","server_version":"0.1.0","protocol_version":1,"limits":{"max_sessions_per_user":5,"max_symbols_per_session":50,"min_initial_capital":"1000","max_initial_capital":"10000000","session_timeout_minutes":60,"max_message_bytes":262144,"messages_per_second":100,"session_creates_per_minute":10}}}"#;
                    let _ = ws
                        .send(tokio_tungstenite::tungstenite::Message::text(ready))
                        .await;
                    let _ = futures_util::StreamExt::next(&mut ws).await;
                });
            }
        });
        (url, logins)
    }

    #[tokio::test]
    async fn the_quick_start_logs_in_with_the_local_key_once_and_reuses_the_token() {
        use std::sync::atomic::Ordering;
        let (url, logins) = mock_daemon().await;
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("local.key"), "sk_local\n").unwrap();
        let s = settings(&url, None, dir.path());

        let client = connect(&s).await.unwrap();
        assert_eq!(client.connection_info().user_id, "local");
        let store = CredentialStore::new(s.credentials_path());
        assert_eq!(store.get(&s.url).unwrap().unwrap().token, "tok-1");
        connect(&s).await.unwrap();
        assert_eq!(
            logins.load(Ordering::SeqCst),
            1,
            "the stored token was reused"
        );

        // A stored token the daemon calls expired is replaced by a fresh login.
        let mut stale = store.get(&s.url).unwrap().unwrap();
        stale.token = "stale".into();
        store.save(stale).unwrap();
        connect(&s).await.unwrap();
        assert_eq!(logins.load(Ordering::SeqCst), 2);
        assert_eq!(store.get(&s.url).unwrap().unwrap().token, "tok-2");
    }

    #[tokio::test]
    async fn a_refused_env_token_without_a_key_is_reported_with_its_origin() {
        let (url, _) = mock_daemon().await;
        let dir = tempfile::tempdir().unwrap();
        let mut s = settings(&url, None, dir.path());
        s.token = Some("stale".into());
        let err = connect(&s).await.unwrap_err();
        let msg = format!("{err:#}");
        assert!(
            msg.contains("SIMUTRADOR_TOKEN") && msg.contains("TOKEN_EXPIRED"),
            "{msg}"
        );

        let mut s = settings(&url, Some("sk_wrong"), dir.path());
        s.token = None;
        let err = connect(&s).await.unwrap_err();
        assert!(format!("{err:#}").contains("SIMUTRADOR_API_KEY"), "{err:#}");
    }

    #[tokio::test]
    async fn no_credentials_at_all_says_how_to_log_in() {
        let dir = tempfile::tempdir().unwrap();
        let err = connect(&settings("sim.example.com:8003", None, dir.path()))
            .await
            .unwrap_err();
        let msg = format!("{err:#}");
        assert!(
            msg.contains("not logged in") && msg.contains("auth login"),
            "{msg}"
        );
    }
}
