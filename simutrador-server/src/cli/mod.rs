//! The `simutrador-server` command line, parsed with `clap` in two stages (raw flags here,
//! validated config in [`crate::config`]): `serve` (the default), `keys`, `data`.

pub mod allocator;
pub mod data;
pub mod keys;
pub mod output;
pub mod serve;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// SimuTrador daemon: authenticated WebSocket API for trading simulations.
#[derive(Debug, Parser)]
#[command(name = "simutrador-server", version, about, propagate_version = true)]
pub struct Cli {
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Flags of `serve`, accepted without the subcommand too.
    #[command(flatten)]
    pub serve: serve::ServeArgs,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the daemon (the default).
    Serve(serve::ServeArgs),
    /// Manage API keys: add, list, revoke.
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// Manage market data: import CSV files, list the catalog.
    #[command(subcommand)]
    Data(data::DataCommand),
}

/// Run the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        None => serve::run(cli.serve),
        Some(Command::Serve(args)) => serve::run(args),
        Some(Command::Keys(cmd)) => keys::run(cmd),
        Some(Command::Data(cmd)) => data::run(cmd),
    }
}
