//! How the CLI speaks: human text or exactly one JSON document on stdout (`--json`), errors on
//! stderr (human) or as `{"error": {...}}` on stdout (`--json`), and the exit code of every
//! failure: 1 when the server refused the request, 2 for usage, connection and authentication
//! failures, 130 (128 + SIGINT) when Ctrl-C interrupted it, 141 (128 + SIGPIPE, what a shell
//! reports for a command killed by a closed pipe) when stdout or stderr was closed under it
//! (`simutrador-client … | head -1`).
//!
//! The daemon's messages are written for every protocol client and name protocol requests
//! ("list yours with list_sessions"); [`cli_hints`] turns those hints into the CLI commands
//! that do the same, so a CLI user is never told to send a message.
//!
//! Every write goes through [`stdout_line`] or [`stderr_line`]: a closed pipe is recorded
//! (see [`pipe_closed`]) and ends the command quietly, never a panic.

use serde::Serialize;
use serde_json::{Value, json};
use simutrador_client::ClientError;
use std::io::Write;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

/// Exit code when the server refused the request.
pub const EXIT_REFUSED: u8 = 1;
/// Exit code for usage, connection and authentication failures.
pub const EXIT_FAILURE: u8 = 2;
/// Exit code when stdout or stderr was closed: 128 + SIGPIPE, as a shell reports it.
pub const EXIT_BROKEN_PIPE: u8 = 141;
/// Exit code after Ctrl-C: 128 + SIGINT, as a shell reports it.
pub const EXIT_INTERRUPTED: u8 = 130;

/// The daemon's hints that name protocol requests, and the CLI command for each.
const CLI_HINTS: &[(&str, &str)] = &[
    (
        "start it with start_simulation",
        "start it with `simutrador-client session run ID --strategy NAME`",
    ),
    (
        "stop one with stop_session first",
        "stop one first with `simutrador-client session stop ID` (see `simutrador-client session list --state paused`)",
    ),
    (
        "list yours with list_sessions",
        "list yours with `simutrador-client session list`",
    ),
    (
        "see list_symbols for what this daemon holds",
        "see `simutrador-client data symbols` for what this daemon holds",
    ),
    (
        "list_symbols shows the symbols this server has",
        "`simutrador-client data symbols` shows the symbols this server has",
    ),
    (
        ", or fork_session: a new session with the same parameters, from the start",
        ": a new session with the same parameters, from the start",
    ),
];

/// `message` with every hint that names a protocol request replaced by the CLI command.
pub fn cli_hints(message: &str) -> String {
    CLI_HINTS
        .iter()
        .fold(message.to_string(), |text, (protocol, cli)| {
            text.replace(protocol, cli)
        })
}

/// Set once a write hit a closed stdout or stderr.
static PIPE_CLOSED: AtomicBool = AtomicBool::new(false);

/// True once a write to stdout or stderr found the pipe closed: the command should stop and
/// exit with [`EXIT_BROKEN_PIPE`].
pub fn pipe_closed() -> bool {
    PIPE_CLOSED.load(Ordering::Relaxed)
}

/// Record `e` when it is a closed pipe; hand it back either way.
fn note_pipe(e: std::io::Error) -> std::io::Error {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        PIPE_CLOSED.store(true, Ordering::Relaxed);
    }
    e
}

/// True when `err` (anywhere in its chain) is a closed pipe, or a write already found one.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    pipe_closed()
        || err.chain().any(|e| {
            e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
        })
}

/// Write one line to stdout and flush; a closed pipe is recorded and returned as the error.
pub fn stdout_line(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}")
        .and_then(|()| out.flush())
        .map_err(note_pipe)
}

/// Write one line to stderr (progress, warnings). A failure cannot be reported anywhere, so
/// it is only recorded when it is a closed pipe.
pub fn stderr_line(text: &str) {
    let mut err = std::io::stderr().lock();
    if let Err(e) = writeln!(err, "{text}") {
        note_pipe(e);
    }
}

/// A mistake in how the command was used (missing argument, no terminal for `--interactive`).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// A command stopped by Ctrl-C (exit 130): the message says what state it left behind and
/// what to run next; `details` carries the same for `--json`.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Interrupted {
    /// What happened and what to do next.
    pub message: String,
    /// Machine-readable details (`session_id`, `state`, `resume`).
    pub details: Value,
}

/// Shorthand for a [`UsageError`] as an `anyhow::Error`.
pub fn usage(message: impl Into<String>) -> anyhow::Error {
    UsageError(message.into()).into()
}

/// Where results go.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    json: bool,
}

impl Output {
    /// Human output, or JSON with `json`.
    pub fn new(json: bool) -> Self {
        Output { json }
    }

    /// True with `--json`.
    pub fn is_json(&self) -> bool {
        self.json
    }

    /// Print the command's result: `value` as JSON, or the text `human` builds.
    pub fn emit<T: Serialize>(
        &self,
        value: &T,
        human: impl FnOnce() -> String,
    ) -> anyhow::Result<()> {
        if self.json {
            let text = serde_json::to_string_pretty(value)?;
            stdout_line(&text)?;
        } else {
            stdout_line(human().trim_end())?;
        }
        Ok(())
    }

    /// Print text that only humans need (previews, progress); nothing with `--json`.
    pub fn note(&self, text: &str) -> std::io::Result<()> {
        if !self.json {
            stdout_line(text.trim_end())?;
        }
        Ok(())
    }

    /// Report a failure: on stderr for humans, as the one JSON document with `--json`.
    pub fn failure(&self, failure: &Failure) {
        if self.json {
            let doc = json!({"error": {
                "error_code": failure.code,
                "message": failure.message,
                "details": failure.details,
            }});
            // Nowhere left to report a failed write: a closed pipe is recorded by it.
            let _ = stdout_line(&serde_json::to_string_pretty(&doc).unwrap_or_default());
        } else {
            stderr_line(&format!("error: {}", failure.message));
        }
    }
}

/// A failed command, classified: code, message (with what to do next), details, exit code.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// A wire error code (`SESSION_NOT_FOUND`) or a client-side one (`CONNECTION_FAILED`,
    /// `TIMEOUT`, `PROTOCOL_ERROR`, `CONFIG_ERROR`, `USAGE_ERROR`, `ERROR`).
    pub code: String,
    /// The whole error chain, `{:#}`-formatted, plus a hint where the chain has none.
    pub message: String,
    /// Machine-readable details from the server, or `null`.
    pub details: Value,
    /// 1, 2 or 130.
    pub exit: u8,
}

impl Failure {
    /// Classify an error from a command.
    pub fn classify(err: &anyhow::Error) -> Self {
        let chain = format!("{err:#}");
        if err.chain().any(|e| e.is::<UsageError>()) {
            return Failure::new("USAGE_ERROR", chain, EXIT_FAILURE);
        }
        if let Some(i) = err.chain().find_map(|e| e.downcast_ref::<Interrupted>()) {
            return Failure {
                code: "INTERRUPTED".into(),
                message: chain,
                details: i.details.clone(),
                exit: EXIT_INTERRUPTED,
            };
        }
        let Some(client) = err.chain().find_map(|e| e.downcast_ref::<ClientError>()) else {
            return Failure::new("ERROR", chain, EXIT_FAILURE);
        };
        match client {
            ClientError::Server { code, details, .. } => Failure {
                code: code.as_str().to_string(),
                message: cli_hints(&chain),
                details: details.clone(),
                exit: EXIT_REFUSED,
            },
            ClientError::Auth { code, .. } => {
                let hint = match code {
                    shared_models::ErrorCode::InvalidApiKey => {
                        "check the key, or create one with `simutrador-server keys add --user NAME`"
                    }
                    shared_models::ErrorCode::AuthRequired => {
                        "run `simutrador-client auth login --api-key KEY` or set SIMUTRADOR_API_KEY"
                    }
                    _ => "run `simutrador-client auth login` to get a new token",
                };
                let message = if chain.contains("auth login") {
                    chain
                } else {
                    format!("{chain}; {hint}")
                };
                Failure::new(code.as_str(), message, EXIT_FAILURE)
            }
            ClientError::Connection(_) => Failure::new("CONNECTION_FAILED", chain, EXIT_FAILURE),
            ClientError::Timeout { .. } => Failure::new("TIMEOUT", chain, EXIT_FAILURE),
            ClientError::Protocol(_) => Failure::new("PROTOCOL_ERROR", chain, EXIT_FAILURE),
            ClientError::Config(_) => Failure::new("CONFIG_ERROR", chain, EXIT_FAILURE),
        }
    }

    fn new(code: &str, message: String, exit: u8) -> Self {
        Failure {
            code: code.to_string(),
            message,
            details: Value::Null,
            exit,
        }
    }

    /// The process exit code.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.exit)
    }
}

/// Report a command-line parsing error (or print `--help`/`--version`) and pick the exit code.
/// With `--json` anywhere on the command line, a usage error is the JSON error document.
pub fn clap_failure(err: clap::Error, json: bool) -> ExitCode {
    use clap::error::ErrorKind;
    if !json
        || matches!(
            err.kind(),
            ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
        )
    {
        if let Err(e) = err.print()
            && note_pipe(e).kind() == std::io::ErrorKind::BrokenPipe
        {
            return ExitCode::from(EXIT_BROKEN_PIPE);
        }
        return ExitCode::from(if err.use_stderr() { EXIT_FAILURE } else { 0 });
    }
    let failure = Failure::new("USAGE_ERROR", clap_message(&err), EXIT_FAILURE);
    Output::new(true).failure(&failure);
    failure.exit_code()
}

/// A clap error in one line for `--json`: the error, clap's "did you mean" tips, the pointer
/// to `--help`.
fn clap_message(err: &clap::Error) -> String {
    let rendered = err.render().to_string();
    let mut lines = rendered.lines().map(str::trim);
    let first = lines
        .next()
        .unwrap_or("invalid arguments")
        .trim_start_matches("error: ");
    let mut parts = vec![first.to_string()];
    parts.extend(
        lines
            .filter(|l| l.starts_with("tip:"))
            .map(|l| l.trim_start_matches("tip:").trim().to_string()),
    );
    parts.push("see `simutrador-client --help`".into());
    parts.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::args::Cli;
    use clap::Parser;
    use shared_models::{ErrorBody, ErrorCode};

    fn parse_error(argv: &[&str]) -> clap::Error {
        Cli::try_parse_from(argv).err().unwrap()
    }

    #[test]
    fn mistyped_subcommands_and_options_get_a_did_you_mean() {
        for (argv, tip) in [
            (vec!["c", "sesion", "list"], "'session'"),
            (vec!["c", "session", "list", "--stat", "x"], "'--state'"),
            (vec!["c", "session", "lst"], "'list'"),
            (vec!["c", "--jsn", "health"], "'--json'"),
        ] {
            let err = parse_error(&argv);
            let text = err.render().to_string();
            assert!(text.contains("similar") && text.contains(tip), "{text}");
            // With --json the tip is in the one-line message too.
            let message = clap_message(&err);
            assert!(
                message.contains("similar") && message.contains(tip),
                "{message}"
            );
            assert!(
                message.ends_with("see `simutrador-client --help`"),
                "{message}"
            );
        }
    }

    #[test]
    fn server_hints_name_cli_commands_not_protocol_requests() {
        let body = ErrorBody::new(
            ErrorCode::SessionNotFound,
            "no session 'x' for this user; list yours with list_sessions",
        );
        let f = Failure::classify(&ClientError::from(body).into());
        assert!(
            f.message.contains("`simutrador-client session list`")
                && !f.message.contains("list_sessions"),
            "{}",
            f.message
        );
        for (protocol, cli) in CLI_HINTS {
            let out = cli_hints(protocol);
            assert_eq!(out, *cli);
            for name in shared_models::ClientMessage::TYPES {
                assert!(!out.contains(&format!(" {name}")), "{out}");
            }
        }
    }

    #[test]
    fn server_refusals_exit_1_with_code_and_details() {
        let body = ErrorBody::new(ErrorCode::InvalidSymbol, "unknown symbol 'XYZ'")
            .with_details(json!({"invalid_symbols": ["XYZ"]}));
        let err = anyhow::Error::from(ClientError::from(body)).context("creating the session");
        let f = Failure::classify(&err);
        assert_eq!(f.exit, 1);
        assert_eq!(f.code, "INVALID_SYMBOL");
        assert_eq!(
            f.message,
            "creating the session: INVALID_SYMBOL: unknown symbol 'XYZ'"
        );
        assert_eq!(f.details["invalid_symbols"][0], "XYZ");
    }

    #[test]
    fn the_json_error_document_has_the_documented_shape() {
        let f = Failure::classify(
            &ClientError::from(ErrorBody::new(ErrorCode::SessionNotFound, "gone")).into(),
        );
        let doc =
            json!({"error": {"error_code": f.code, "message": f.message, "details": f.details}});
        assert_eq!(doc["error"]["error_code"], "SESSION_NOT_FOUND");
        assert_eq!(doc["error"]["message"], "SESSION_NOT_FOUND: gone");
        assert!(doc["error"]["details"].is_null());
        assert_eq!(doc.as_object().unwrap().len(), 1);
    }

    #[test]
    fn local_failures_exit_2_and_say_what_to_do() {
        let auth = ClientError::Auth {
            code: ErrorCode::TokenExpired,
            message: "expired".into(),
        };
        let f = Failure::classify(&auth.into());
        assert_eq!((f.exit, f.code.as_str()), (2, "TOKEN_EXPIRED"));
        assert!(f.message.contains("auth login"), "{}", f.message);

        let f = Failure::classify(&ClientError::Connection("refused".into()).into());
        assert_eq!((f.exit, f.code.as_str()), (2, "CONNECTION_FAILED"));
        let f = Failure::classify(&usage("--interactive needs a terminal"));
        assert_eq!((f.exit, f.code.as_str()), (2, "USAGE_ERROR"));
        let f = Failure::classify(&anyhow::anyhow!("disk full"));
        assert_eq!(f.exit, 2);
    }
}
