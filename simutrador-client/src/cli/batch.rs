//! `batch run FILE [--parallel N] [--out DIR] [--sort METRIC] [--fail-fast] [--dry-run]
//! [--quiet] [--window N] [--keep-sessions]`: check the whole file, expand its sweeps, run the
//! sessions in parallel with progress, print a table of every run and write the output files.
//!
//! Exit codes: 0 every run succeeded, 1 a run failed, 2 a bad file or no server (nothing
//! started), 130 interrupted by Ctrl-C (running sessions are stopped, finished runs written).
//!
//! A relative `[output] dir` (or `--out`) is relative to the working directory, never to the
//! batch file's folder: `batch run configs/batch-goog-sweep.toml` writes `./results/goog-sweep`.

use comfy_table::Table;
use simutrador_client::batch::output::{self, METRIC_KEYS};
use simutrador_client::batch::{
    BatchConfig, BatchObserver, BatchOptions, BatchReport, BatchRunner, CancellationToken,
    Expansion, RunRecord, RunStatus, StrategyRegistry, expand,
};
use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;

use super::Context;
use super::batch_args::{BatchCommand, BatchRunArgs};
use super::batch_progress::{BarsObserver, LinesObserver};
use super::output::usage;
use super::render::table;

/// Exit code after Ctrl-C (128 + SIGINT).
pub const EXIT_INTERRUPTED: u8 = super::output::EXIT_INTERRUPTED;

/// Run a `batch` command.
pub async fn run(cmd: BatchCommand, ctx: &Context) -> anyhow::Result<ExitCode> {
    match cmd {
        BatchCommand::Run(args) => run_file(args, ctx).await,
        BatchCommand::Report(args) => super::report::batch(args, ctx).map(|()| ExitCode::SUCCESS),
    }
}

async fn run_file(args: BatchRunArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let registry = StrategyRegistry::built_ins();
    let config = load(&args.file, &registry).map_err(|e| usage(e.to_string()))?;
    let plan = expand(&config, &registry).map_err(|e| usage(e.to_string()))?;
    if let Some(key) = &args.sort
        && !METRIC_KEYS.contains(&key.as_str())
    {
        return Err(usage(format!(
            "--sort {key}: not a metric; use one of {}",
            METRIC_KEYS.join(", ")
        )));
    }
    if args.dry_run {
        let doc = serde_json::json!({
            "runs": plan.runs.iter().map(|r| serde_json::json!({
                "run": r.index, "name": r.name, "strategy": r.strategy.name,
                "params": r.strategy.params, "session": r.request,
            })).collect::<Vec<_>>(),
            "skipped": plan.skipped.iter().map(|s| serde_json::json!({
                "name": s.name, "reason": s.reason,
            })).collect::<Vec<_>>(),
        });
        ctx.out.emit(&doc, || dry_run_text(&plan))?;
        return Ok(ExitCode::SUCCESS);
    }
    let out_dir = args.out.clone().or(config.output.dir.clone());

    let first = ctx.client().await?;
    let allowed = BatchRunner::allowed_parallelism(&first);
    let free = BatchRunner::free_slots(&first).await?;
    let parallel = match args.parallel {
        Some(n) => n as usize,
        None if free == 0 => {
            return Err(usage(format!(
                "you already hold {allowed} open sessions, the most the daemon allows; stop or \
                 delete some (`simutrador-client session list`) and run the batch again"
            )));
        }
        None => free,
    };
    if parallel > free {
        ctx.out.note(&format!(
            "note: --parallel {parallel} is above the {free} sessions you can still open \
             (the daemon allows {allowed}, you hold {}); runs past that fail with \
             SESSION_LIMIT_EXCEEDED",
            allowed - free
        ))?;
    }
    let connections = parallel.clamp(1, 4);
    let mut clients = vec![first];
    for _ in 1..connections {
        clients.push(ctx.client().await?);
    }
    let runner = BatchRunner::new(clients, registry).options(BatchOptions {
        parallel: Some(parallel),
        window: args.window,
        fail_fast: args.fail_fast,
        keep_sessions: args.keep_sessions,
    });

    let cancel = CancellationToken::new();
    let on_ctrl_c = cancel.clone();
    let watcher = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            on_ctrl_c.cancel();
        }
    });
    let fancy = !args.quiet
        && !ctx.out.is_json()
        && std::io::stdout().is_terminal()
        && std::io::stderr().is_terminal();
    let bars = fancy.then(|| Arc::new(BarsObserver::new()));
    let observer: Arc<dyn BatchObserver> = match &bars {
        Some(b) => b.clone(),
        None => Arc::new(LinesObserver::default()),
    };
    let started_at = chrono::Utc::now();
    let report = runner.run(&plan.runs, observer, cancel.clone()).await;
    watcher.abort();
    if let Some(b) = &bars {
        b.finish();
    }

    let mut written = None;
    if let Some(dir) = &out_dir {
        let header = format!(
            "batch {} started {} against {}",
            args.file.display(),
            started_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            ctx.settings.url
        );
        output::write_all(dir, &config.output, &report, &plan.skipped, &header)
            .map_err(|e| anyhow::anyhow!("cannot write the results into {}: {e}", dir.display()))?;
        written = Some(dir.clone());
    }
    let summary = output::summary_json(&report.records, &plan.skipped);
    ctx.out.emit(&summary, || {
        final_text(&report, &plan, args.sort.as_deref(), written.as_deref())
    })?;
    Ok(if report.cancelled {
        ExitCode::from(EXIT_INTERRUPTED)
    } else if report.failures() > 0 || report.records.iter().any(|r| r.status != RunStatus::Ok) {
        ExitCode::from(super::output::EXIT_REFUSED)
    } else {
        ExitCode::SUCCESS
    })
}

/// Read and check the batch file. A relative `[output] dir` is taken relative to the working
/// directory (where the command runs), not to the file's folder, so the example files under
/// `configs/` never write their results into `configs/`.
fn load(
    file: &std::path::Path,
    registry: &StrategyRegistry,
) -> Result<BatchConfig, simutrador_client::batch::BatchFileError> {
    match std::fs::read_to_string(file) {
        Ok(text) => BatchConfig::parse(
            &text,
            &file.display().to_string(),
            std::path::Path::new(""),
            registry,
        ),
        // `load` reports an unreadable file in the usual shape.
        Err(_) => BatchConfig::load(file, registry),
    }
}

fn dry_run_text(plan: &Expansion) -> String {
    let mut t = table(
        &["#", "NAME", "STRATEGY", "PARAMS", "SYMBOLS", "RANGE", "TF"],
        &[0],
    );
    for r in &plan.runs {
        t.add_row(vec![
            r.index.to_string(),
            r.name.clone(),
            r.strategy.name.clone(),
            output::params_text(r).replace(';', " "),
            r.request.symbols.join(","),
            format!("{} → {}", r.request.start_date, r.request.end_date),
            r.request.timeframe.clone().unwrap_or_else(|| "1d".into()),
        ]);
    }
    let mut out = format!("{t}\n{} runs", plan.runs.len());
    append_skipped(&mut out, plan);
    out
}

fn append_skipped(out: &mut String, plan: &Expansion) {
    if plan.skipped.is_empty() {
        return;
    }
    out.push_str(&format!(", {} skipped:", plan.skipped.len()));
    for s in &plan.skipped {
        out.push_str(&format!("\n  skipped {}: {}", s.name, s.reason));
    }
}

/// The value of `key` in a record's metrics, for sorting.
fn metric(record: &RunRecord, key: &str) -> Option<f64> {
    let m = serde_json::to_value(&record.results.as_ref()?.metrics).ok()?;
    match m.get(key)? {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// Records sorted by `key`, best (largest) first; runs without a value last, ties in run order.
pub fn sorted<'a>(records: &'a [RunRecord], key: Option<&str>) -> Vec<&'a RunRecord> {
    let mut v: Vec<&RunRecord> = records.iter().collect();
    if let Some(key) = key {
        v.sort_by(|a, b| match (metric(a, key), metric(b, key)) {
            (Some(x), Some(y)) => y.total_cmp(&x),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        });
    }
    v
}

fn opt(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |x| format!("{x:.2}"))
}

fn results_table(records: &[&RunRecord]) -> Table {
    let mut t = table(
        &[
            "#",
            "NAME",
            "PARAMS",
            "RETURN %",
            "SHARPE",
            "MAX DD %",
            "# TRADES",
            "WIN RATE %",
            "STATUS",
        ],
        &[0, 3, 4, 5, 6, 7],
    );
    for r in records {
        let m = r.results.as_ref().map(|x| &x.metrics);
        let status = match (&r.status, output::end_reason(r)) {
            (RunStatus::Failed { code, .. }, _) => format!("failed {code}"),
            (RunStatus::Ok, Some(reason)) if output::cut_short(r) => format!("cut {reason}"),
            (s, _) => s.as_str().to_string(),
        };
        t.add_row(vec![
            r.spec.index.to_string(),
            r.spec.name.clone(),
            output::params_text(&r.spec).replace(';', " "),
            opt(m.map(|m| m.return_pct)),
            opt(m.and_then(|m| m.sharpe_ratio)),
            opt(m.map(|m| m.max_drawdown_pct)),
            m.map_or_else(|| "-".into(), |m| m.num_trades.to_string()),
            opt(m.and_then(|m| m.win_rate_pct)),
            status,
        ]);
    }
    t
}

fn final_text(
    report: &BatchReport,
    plan: &Expansion,
    sort: Option<&str>,
    written: Option<&std::path::Path>,
) -> String {
    let rows = sorted(&report.records, sort);
    let mut out = results_table(&rows).to_string();
    let ok = report
        .records
        .iter()
        .filter(|r| r.status == RunStatus::Ok)
        .count();
    out.push_str(&format!(
        "\n{ok} of {} runs succeeded in {:.2} s ({} at a time)",
        report.records.len(),
        report.elapsed.as_secs_f64(),
        report.parallel
    ));
    append_skipped(&mut out, plan);
    for line in output::cut_short_lines(&report.records) {
        out.push_str(&format!("\n  {line}"));
    }
    for r in &report.records {
        if let RunStatus::Failed { code, message } = &r.status {
            out.push_str(&format!(
                "\n  run {} failed [{code}]: {message}",
                r.spec.index
            ));
        }
    }
    if report.cancelled {
        out.push_str("\nInterrupted: running sessions were stopped; finished runs are kept.");
    }
    match written {
        Some(dir) => out.push_str(&format!("\nResults written to {}", dir.display())),
        None => out.push_str("\nNo output folder ([output] dir or --out): nothing written."),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_relative_output_dir_is_relative_to_the_working_directory_not_configs() {
        let root = tempfile::tempdir().unwrap();
        let configs = root.path().join("configs");
        std::fs::create_dir(&configs).unwrap();
        let file = configs.join("sweep.toml");
        std::fs::write(
            &file,
            include_str!("../../../configs/batch-goog-sweep.toml"),
        )
        .unwrap();
        let config = load(&file, &StrategyRegistry::built_ins()).unwrap();
        let dir = config.output.dir.unwrap();
        assert_eq!(dir, std::path::Path::new("results/goog-sweep"));
        assert!(!dir.starts_with(&configs));
        // An unreadable file is still reported in the usual shape.
        let err = load(
            &configs.join("missing.toml"),
            &StrategyRegistry::built_ins(),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("cannot read the file"), "{err}");
    }
}
