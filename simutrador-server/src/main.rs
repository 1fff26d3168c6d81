//! `simutrador-server`: the daemon's command line. Everything lives in the library; this only
//! parses arguments, runs, and turns errors into a message and an exit code.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = simutrador_server::cli::Cli::parse();
    match simutrador_server::cli::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
