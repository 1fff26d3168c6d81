//! `session run ID --strategy NAME [-p key=value]... [--window N] [--warmup N] [--quiet]` and
//! `session results ID [--trades] [--equity] [--json | --csv DIR]`.
//!
//! `run` draws an `indicatif` progress bar on stderr (ticks done / total, rate, ETA, equity)
//! when stderr is a terminal, else (or with `--quiet`) a plain line every 10 %; it ends with
//! why the run ended when it did not complete ("Stopped: loss limit reached at bar N …") and
//! the metrics table, or with `--json` the results (with `final_state` and
//! `termination_reason`) as the one JSON document on stdout. Its exit code says how the run
//! ended: 0 completed, 3 a limit or bankruptcy, 4 a user's stop, 5 a daemon failure
//! ([`outcome_view`]). `session results` starts with the same end and origin lines.
//!
//! Ctrl-C during `run` ends the command with exit 130 and [`interrupted`]: the daemon pauses
//! a run whose connection goes away, the CLI waits until the session says so and prints its
//! state and the exact commands that end it or run it again.
//!
//! Only what is printed is fetched: the metrics table needs the metrics and the open positions,
//! so without `--json` (and, for `results`, without `--trades`, `--equity` or `--csv`) the
//! results come as `get_results {format: summary}`, with no trades and no equity curve (for a
//! million-bar run that is ~20 MB the daemon no longer encodes and the CLI no longer decodes).

use indicatif::{ProgressBar, ProgressStyle};
use shared_models::results::SimulationResults;
use simutrador_client::runner::Progress;
use simutrador_client::strategies::{build_strategy, built_in_ref};
use simutrador_client::{Client, RunOptions, StrategySpec};
use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use super::Context;
use super::args::{ResultsArgs, RunArgs};
use super::output::{Interrupted, usage};
use super::{outcome_view, results_view};
use shared_models::SessionState;

/// Run `session run`: the exit code says how the run ended (0 completed; see
/// [`outcome_view::exit_code`]).
pub async fn run(args: RunArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let mut spec = StrategySpec::new(args.strategy.trim());
    for (key, value) in &args.params {
        spec = spec
            .with_assignment(&format!("{key}={value}"))
            .map_err(usage)?;
    }
    let client = ctx.client().await?;
    let how = HowToRun {
        window: args.window,
        warmup: args.warmup,
        quiet: args.quiet,
    };
    let ran = run_built_in(&client, args.id.trim(), &spec, how, ctx).await?;
    ran.report(ctx)
}

/// How `session run` and `session rerun` run a strategy.
#[derive(Debug, Clone, Copy)]
pub struct HowToRun {
    /// `max_pending_ticks`.
    pub window: u32,
    /// Warm-up bars.
    pub warmup: u32,
    /// Plain progress lines instead of a bar.
    pub quiet: bool,
}

/// A finished run of a built-in, for the caller to report.
#[derive(Debug)]
pub struct Ran {
    /// The session.
    pub id: String,
    /// What ran.
    pub spec: StrategySpec,
    /// Its results (the summary only, unless `--json`).
    pub results: SimulationResults,
    /// Bars handed to the strategy.
    pub bars: u64,
    /// Wall time, seconds.
    pub elapsed: f64,
}

impl Ran {
    /// The `Ran …` line (and, for an early end, why) on stdout.
    pub fn note(&self, ctx: &Context) -> std::io::Result<()> {
        ctx.out.note(&format!(
            "Ran {} on session {}: {} bars in {:.2} s ({:.0} bars/s).",
            self.spec.name,
            self.id,
            self.bars,
            self.elapsed,
            self.bars as f64 / self.elapsed.max(1e-9)
        ))?;
        let outcome = &self.results.outcome;
        if let Some(line) = outcome_view::end_line(outcome, self.results.metrics.equity_final) {
            ctx.out.note(&line)?;
        }
        ctx.out.note("")
    }

    /// Print the note and the results; the exit code of how the run ended.
    pub fn report(&self, ctx: &Context) -> anyhow::Result<ExitCode> {
        self.note(ctx)?;
        ctx.out.emit(&self.results, || {
            results_view::render(&self.results, false, false)
        })?;
        Ok(outcome_view::exit_status(
            self.results.outcome.termination_reason,
        ))
    }
}

/// Run the built-in `spec` on session `id` with a progress bar (or lines) on stderr; the
/// strategy and its parameters (defaults filled in) travel with `start_simulation`, so the
/// daemon keeps them with the session.
pub async fn run_built_in(
    client: &Client,
    id: &str,
    spec: &StrategySpec,
    how: HowToRun,
    ctx: &Context,
) -> anyhow::Result<Ran> {
    let mut strategy = build_strategy(spec).map_err(usage)?;
    let origin = built_in_ref(spec).map_err(usage)?;
    let fancy = !how.quiet && std::io::stderr().is_terminal();
    let bar = fancy.then(|| {
        let bar = ProgressBar::new(0);
        if let Ok(style) = ProgressStyle::with_template(
            "{bar:30} {pos}/{len} bars  {per_sec}  ETA {eta}  equity {msg}",
        ) {
            bar.set_style(style);
        }
        bar
    });
    let drawn = bar.clone();
    let started = Instant::now();
    let mut next_line = 0u64;
    let done = Arc::new(AtomicU64::new(0));
    let seen = done.clone();
    let options = RunOptions::default()
        .window(how.window)
        .warmup_bars(how.warmup)
        .summary_results(!ctx.out.is_json())
        .strategy_ref(origin)
        .on_progress(move |p: &Progress| {
            seen.store(p.ticks_done, Ordering::Relaxed);
            match &drawn {
                Some(bar) => {
                    bar.set_length(p.total_ticks);
                    bar.set_position(p.ticks_done);
                    bar.set_message(super::render::money(p.equity.round_dp(2)));
                }
                None => {
                    if p.ticks_done >= next_line {
                        super::output::stderr_line(&plain_line(p, started.elapsed().as_secs_f64()));
                        next_line = p.ticks_done + (p.total_ticks / 10).max(1);
                    }
                }
            }
        });

    let result = tokio::select! {
        result = client.run_simulation(id, &mut strategy, options) => result,
        Ok(()) = tokio::signal::ctrl_c() => {
            if let Some(bar) = &bar {
                bar.finish_and_clear();
            }
            // Closing the connection is what pauses the run on the daemon.
            client.close().await;
            return Err(interrupted(id, spec, how.warmup, ctx).await);
        }
    };
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let results = result?;
    Ok(Ran {
        id: id.to_string(),
        spec: spec.clone(),
        results,
        bars: done.load(Ordering::Relaxed),
        elapsed: started.elapsed().as_secs_f64(),
    })
}

/// After Ctrl-C: wait (polling, a few seconds at most) until the daemon has paused the run,
/// then say where it stands and what to run next.
async fn interrupted(id: &str, spec: &StrategySpec, warmup: u32, ctx: &Context) -> anyhow::Error {
    let mut info = None;
    if let Ok(client) = ctx.client().await {
        for _ in 0..100 {
            match client.get_session(id).await {
                Ok(s) if s.state == SessionState::Running => info = Some(s),
                Ok(s) => {
                    info = Some(s);
                    break;
                }
                Err(_) => break,
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
    let state = info.as_ref().map(|s| s.state);
    let rerun = rerun_command(spec, warmup);
    let message = interrupted_message(id, state, &rerun);
    Interrupted {
        message,
        details: serde_json::json!({
            "session_id": id,
            "state": state,
            "stop": format!("simutrador-client session stop {id}"),
            "fork": format!("simutrador-client session fork {id}"),
            "run_again": rerun,
        }),
    }
    .into()
}

/// `session run NEW_ID` with the same strategy, parameters and options.
fn rerun_command(spec: &StrategySpec, warmup: u32) -> String {
    let mut cmd = format!(
        "simutrador-client session run NEW_ID --strategy {}",
        spec.name.trim()
    );
    for (key, value) in &spec.params {
        cmd.push_str(&format!(" -p {key}={value}"));
    }
    if warmup > 0 {
        cmd.push_str(&format!(" --warmup {warmup}"));
    }
    cmd
}

/// The text after Ctrl-C. A paused run cannot be continued by a new `session run`: the
/// strategy's state lived in the interrupted process.
fn interrupted_message(id: &str, state: Option<SessionState>, rerun: &str) -> String {
    let now = match state {
        Some(SessionState::Paused) => {
            format!("session {id} is paused on the daemon (it keeps it until the idle timeout)")
        }
        Some(state) => format!("session {id} is {state}"),
        None => format!("session {id} is paused on the daemon once it sees the connection gone"),
    };
    format!(
        "interrupted: {now}. The strategy's state was in this process, so no command resumes \
         this run. End it, keeping the results so far:\n  simutrador-client session stop {id}\n\
         or run it again from the start on a copy (fork prints NEW_ID):\n  \
         simutrador-client session fork {id}\n  {rerun}"
    )
}

/// `ticks 500/1000 (50 %), 12345 bars/s, equity 100,000`
fn plain_line(p: &Progress, elapsed: f64) -> String {
    let pct = if p.total_ticks == 0 {
        100.0
    } else {
        p.ticks_done as f64 * 100.0 / p.total_ticks as f64
    };
    format!(
        "bars {}/{} ({pct:.0} %), {:.0} bars/s, equity {}",
        p.ticks_done,
        p.total_ticks,
        p.ticks_done as f64 / elapsed.max(1e-9),
        super::render::money(p.equity.round_dp(2))
    )
}

/// Run `session results`.
pub async fn results(args: ResultsArgs, ctx: &Context) -> anyhow::Result<()> {
    if args.csv.is_some() && ctx.out.is_json() {
        return Err(usage("--json and --csv DIR are exclusive; pick one"));
    }
    let client = ctx.client().await?;
    let id = args.id.trim();
    let everything = args.trades || args.equity || args.csv.is_some() || ctx.out.is_json();
    let results = if everything {
        client.get_results(id).await?
    } else {
        client.get_results_summary(id).await?
    };
    if let Some(dir) = &args.csv {
        let written = results_view::write_csv(&results, dir)?;
        return ctx
            .out
            .emit(&written, || format!("Wrote {}", written.join(", ")));
    }
    ctx.out.emit(&results, || {
        let mut text = outcome_view::results_header(&results.outcome);
        text.push_str(&results_view::render(&results, args.trades, args.equity));
        text
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;

    #[test]
    fn plain_progress_lines_say_where_the_run_is() {
        let p = Progress {
            ticks_done: 500,
            total_ticks: 1000,
            equity: Decimal::new(10_000_012, 2),
            sim_time: None,
        };
        assert_eq!(
            plain_line(&p, 0.5),
            "bars 500/1000 (50 %), 1000 bars/s, equity 100,000.12"
        );
    }

    #[test]
    fn after_ctrl_c_the_message_names_the_state_and_the_commands() {
        use crate::cli::args::{Cli, Command, SessionCommand};
        use clap::Parser;
        let cli = Cli::try_parse_from([
            "c",
            "session",
            "run",
            "abc",
            "-s",
            "sma-cross",
            "-p",
            "fast=5",
            "-p",
            "slow=30",
        ])
        .unwrap();
        let Command::Session(SessionCommand::Run(args)) = cli.command else {
            panic!()
        };
        let spec = StrategySpec {
            name: args.strategy.clone(),
            params: args.params.iter().cloned().collect(),
        };
        let rerun = rerun_command(&spec, args.warmup);
        assert_eq!(
            rerun,
            "simutrador-client session run NEW_ID --strategy sma-cross -p fast=5 -p slow=30"
        );
        let text = interrupted_message("abc", Some(SessionState::Paused), &rerun);
        assert!(text.contains("session abc is paused"), "{text}");
        assert!(
            text.contains("simutrador-client session stop abc"),
            "{text}"
        );
        assert!(
            text.contains("simutrador-client session fork abc"),
            "{text}"
        );
        // Every command printed parses.
        for line in text
            .lines()
            .filter(|l| l.trim().starts_with("simutrador-client "))
        {
            let argv: Vec<&str> = line.split_whitespace().collect();
            Cli::try_parse_from(&argv).unwrap_or_else(|e| panic!("{line}: {e}"));
        }
    }

    #[test]
    fn bad_strategy_names_and_params_are_usage_errors() {
        let spec = StrategySpec::parse("sma-cross", ["fast=30"]).unwrap();
        let err = usage(build_strategy(&spec).err().unwrap());
        let failure = super::super::output::Failure::classify(&err);
        assert_eq!((failure.code.as_str(), failure.exit), ("USAGE_ERROR", 2));
    }
}
