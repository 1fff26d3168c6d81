//! `simutrador-server`: the daemon's command line. Everything lives in the library; this only
//! parses arguments, runs, and turns errors into a message and an exit code.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match simutrador_server::cli::Cli::try_parse() {
        Ok(cli) => cli,
        // `--help`, `--version` or a usage error; a closed pipe while printing it is 141.
        Err(e) => return simutrador_server::cli::output::clap_exit(&e),
    };
    // A closed stdout/stderr ends quietly with 141; other errors print their chain and exit 2.
    simutrador_server::cli::output::exit_code(simutrador_server::cli::run(cli))
}
