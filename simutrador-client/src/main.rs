//! `simutrador-client`: the command-line tool. Everything happens in [`cli`]; this file parses
//! the arguments, runs the command on a Tokio runtime, and turns failures into the documented
//! exit codes (0 success, 1 refused by the server, 2 usage/connection/authentication, 130
//! interrupted by Ctrl-C, 141 when stdout or stderr was closed under it, quietly).

#![forbid(unsafe_code)]
// Tests may unwrap: a panic there is a failed test, not a crash a user sees.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod cli;

use clap::Parser;
use std::process::ExitCode;

use cli::output::{EXIT_BROKEN_PIPE, Failure, Output, clap_failure, is_broken_pipe, pipe_closed};

fn main() -> ExitCode {
    // `args_os`: a non-UTF-8 argument is a usage error, not a panic.
    let raw: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let parsed = match cli::args::Cli::try_parse_from(&raw) {
        Ok(parsed) => parsed,
        Err(err) => return clap_failure(err, raw.iter().any(|a| a == "--json")),
    };
    let out = Output::new(parsed.global.json);
    // Two workers keep the connection's reader and writer running while a prompt blocks.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build();
    let result = match runtime {
        Ok(runtime) => runtime.block_on(cli::run(parsed)),
        Err(e) => Err(anyhow::Error::from(e).context("cannot start the async runtime")),
    };
    match result {
        // A closed stdout/stderr (`| head -1`) ends the command quietly, as SIGPIPE would.
        Ok(_) if pipe_closed() => ExitCode::from(EXIT_BROKEN_PIPE),
        Err(err) if is_broken_pipe(&err) => ExitCode::from(EXIT_BROKEN_PIPE),
        Ok(code) => code,
        Err(err) => {
            // `Failure` formats the whole chain with `{:#}`.
            let failure = Failure::classify(&err);
            out.failure(&failure);
            if pipe_closed() {
                return ExitCode::from(EXIT_BROKEN_PIPE);
            }
            failure.exit_code()
        }
    }
}
