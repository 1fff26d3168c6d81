//! How the `simutrador-server` subcommands print: fallible writes to stdout and stderr, so a
//! closed pipe (`simutrador-server data list | head -1`) is an error the command returns, not
//! a panic, and [`exit_code`] turns it into the conventional quiet exit 141 (128 + SIGPIPE).
//!
//! `unsafe` is forbidden in this workspace, so SIGPIPE keeps Rust's default (ignored) and a
//! write to a closed pipe fails with `BrokenPipe`; every line goes through [`line`] or
//! [`warn`] instead of `println!`/`eprintln!`, which would panic.

use std::io::Write;
use std::process::ExitCode;

/// Exit code when stdout or stderr was closed: 128 + SIGPIPE, as a shell reports it.
pub const EXIT_BROKEN_PIPE: u8 = 141;

/// Write `text` and a newline to stdout, and flush.
pub fn line(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}")?;
    out.flush()
}

/// Write `text` and a newline to stderr (warnings, error messages).
pub fn warn(text: &str) -> std::io::Result<()> {
    let mut err = std::io::stderr().lock();
    writeln!(err, "{text}")
}

/// True when `err`, anywhere in its chain, is a write to a closed pipe.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// The exit code for a command's result: its own code, 141 quietly for a closed pipe, else
/// the error chain on stderr and 2.
pub fn exit_code(result: anyhow::Result<ExitCode>) -> ExitCode {
    match result {
        Ok(code) => code,
        Err(e) if is_broken_pipe(&e) => ExitCode::from(EXIT_BROKEN_PIPE),
        Err(e) => match warn(&format!("error: {e:#}")) {
            Err(io) if io.kind() == std::io::ErrorKind::BrokenPipe => {
                ExitCode::from(EXIT_BROKEN_PIPE)
            }
            _ => ExitCode::from(2),
        },
    }
}

/// Print a `clap` error, `--help` or `--version` and pick the exit code (141 for a closed
/// pipe).
pub fn clap_exit(err: &clap::Error) -> ExitCode {
    match err.print() {
        Err(io) if io.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::from(EXIT_BROKEN_PIPE),
        _ => ExitCode::from(u8::try_from(err.exit_code()).unwrap_or(2)),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_pipe_anywhere_in_the_chain_is_exit_141() {
        let pipe = std::io::Error::from(std::io::ErrorKind::BrokenPipe);
        let err = anyhow::Error::from(pipe).context("printing the table");
        assert!(is_broken_pipe(&err));
        assert_eq!(exit_code(Err(err)), ExitCode::from(EXIT_BROKEN_PIPE));
        assert!(!is_broken_pipe(&anyhow::anyhow!("disk full")));
    }
}
