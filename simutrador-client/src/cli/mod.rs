//! The `simutrador-client` command-line tool, a thin layer over the SDK.
//!
//! - [`args`] — the `clap` types (raw flags), with [`batch_args`], [`data_args`] and
//!   [`history_args`] for those command groups.
//! - [`config`] — flags > env > `client.toml` > defaults, merged into one [`config::Settings`].
//! - [`credentials`] — stored tokens (owner-only); [`connect`]: getting an authenticated
//!   connection, logging in again when needed.
//! - [`output`] — human text or one JSON document, error shapes and exit codes;
//!   [`render`]: tables and previews.
//! - One file per command group: [`auth`], [`session`] (+ [`session_create`],
//!   [`interactive`], [`session_run`] with [`results_view`] and [`outcome_view`] (why a run
//!   ended, what ran, exit codes), [`session_rerun`], [`session_lifecycle`] for stop,
//!   events, update and bulk delete, [`session_ids`] for short ids,
//!   [`session_watch`] with [`session_watch_view`], [`limits_view`];
//!   the history commands [`session_compare`], [`session_stats`] and [`export`] (with
//!   [`parquet_out`]), their flags in [`history_args`]),
//!   [`data`], [`health`], [`batch`] (batch files, with [`batch_progress`]: its progress bars
//!   or lines), [`report`] (`session report` and `batch report`: HTML files),
//!   [`completions`] (`completions SHELL` and `man`, generated from [`args`]).
//!
//! All of it is in the binary, built only with the crate's `cli` feature (on by default);
//! the library never depends on `clap`, `inquire`, `indicatif`, `comfy-table`, `dirs`,
//! `parquet` or `anyhow`.

pub mod args;
pub mod auth;
pub mod batch;
pub mod batch_args;
pub mod batch_progress;
pub mod completions;
pub mod config;
pub mod connect;
pub mod credentials;
pub mod data;
pub mod data_args;
#[cfg(test)]
mod docs_examples_tests;
pub mod export;
pub mod health;
pub mod history_args;
pub mod interactive;
pub mod limits_view;
pub mod outcome_view;
pub mod output;
pub mod parquet_out;
pub mod render;
pub mod report;
pub mod results_view;
pub mod session;
pub mod session_compare;
pub mod session_create;
pub mod session_ids;
pub mod session_lifecycle;
pub mod session_rerun;
pub mod session_run;
pub mod session_stats;
pub mod session_watch;
pub mod session_watch_view;

use std::process::ExitCode;

use args::{AuthCommand, Cli, Command};
use config::{Flags, Settings};
use output::Output;

/// What every command gets: the merged settings and where to print.
#[derive(Debug)]
pub struct Context {
    /// Merged, validated settings.
    pub settings: Settings,
    /// Human or JSON output.
    pub out: Output,
}

impl Context {
    /// An authenticated connection to the daemon.
    pub async fn client(&self) -> anyhow::Result<simutrador_client::Client> {
        connect::connect(&self.settings).await
    }
}

/// Run one parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    // Generated from the parser alone: no settings, no daemon.
    match &cli.command {
        Command::Completions { shell } => {
            completions::print(&completions::completion_script(*shell))?;
            return Ok(ExitCode::SUCCESS);
        }
        Command::Man => {
            completions::print(&completions::man_page()?)?;
            return Ok(ExitCode::SUCCESS);
        }
        _ => {}
    }
    render::set_wide(cli.global.wide);
    let api_key = match &cli.command {
        Command::Auth(AuthCommand::Login { api_key }) => api_key.clone(),
        _ => None,
    };
    let settings = Settings::load(Flags {
        url: cli.global.url.clone(),
        api_key,
    })?;
    let ctx = Context {
        settings,
        out: Output::new(cli.global.json),
    };
    match cli.command {
        Command::Auth(cmd) => auth::run(cmd, &ctx).await,
        Command::Session(cmd) => session::run(cmd, &ctx).await,
        Command::Data(cmd) => data::run(cmd, &ctx).await.map(|()| ExitCode::SUCCESS),
        Command::Batch(cmd) => batch::run(cmd, &ctx).await,
        Command::Health => health::run(&ctx).await.map(|()| ExitCode::SUCCESS),
        Command::Completions { .. } | Command::Man => Ok(ExitCode::SUCCESS),
    }
}
