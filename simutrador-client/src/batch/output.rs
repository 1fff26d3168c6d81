//! The files a batch writes: `summary.csv` / `summary.json` (every run in run order, then the
//! skipped combinations), `metrics.csv` (the wide numeric table of
//! [`super::metrics_table`], one row per run that has results, keyed by `run`), per-run
//! `trades/` and `equity/` files when asked, and `run.log`.
//!
//! Each run's row says how it ended (`end_reason`: `completed`, or why it was cut short —
//! `loss_limit`, `bankrupt` … — and `settled_ticks`, the bars it replayed), so a sweep's
//! runs stopped by a limit are told apart from complete ones.
//!
//! The summary and per-run files hold only what the same file and data determine — no wall
//! clock, no session ids — so they are byte-identical whatever the parallelism. `run.log` has
//! the rest (when, how long, which session).

use serde_json::{Map, Value, json};
use shared_models::TerminationReason;
use shared_models::results::{Metrics, SimulationResults};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::config::OutputConfig;
use super::expand::{RunSpec, SkippedRun};
use super::runner::{BatchReport, RunRecord, RunStatus};

/// Metric columns of `summary.csv`, in the order of docs/metrics.md.
pub const METRIC_KEYS: &[&str] = &[
    "start",
    "end",
    "duration",
    "exposure_time_pct",
    "equity_final",
    "equity_peak",
    "commissions",
    "return_pct",
    "buy_and_hold_return_pct",
    "return_ann_pct",
    "volatility_ann_pct",
    "cagr_pct",
    "sharpe_ratio",
    "sortino_ratio",
    "calmar_ratio",
    "alpha_pct",
    "beta",
    "max_drawdown_pct",
    "avg_drawdown_pct",
    "max_drawdown_duration",
    "avg_drawdown_duration",
    "num_trades",
    "win_rate_pct",
    "best_trade_pct",
    "worst_trade_pct",
    "avg_trade_pct",
    "max_trade_duration",
    "avg_trade_duration",
    "profit_factor",
    "expectancy_pct",
    "sqn",
    "kelly_criterion",
];

const RUN_COLUMNS: &str = "run,name,entry,strategy,params,symbols,start_date,end_date,timeframe,status,end_reason,settled_ticks,error_code,error";

/// Why a finished run ended (`completed`, `loss_limit`, `bankrupt` …), when its results say.
pub fn end_reason(record: &RunRecord) -> Option<TerminationReason> {
    record
        .results
        .as_ref()
        .and_then(|r| r.outcome.termination_reason)
}

/// True for a run that finished with results but did not replay every bar (a limit,
/// bankruptcy, a stop): its figures cover only part of the data.
pub fn cut_short(record: &RunRecord) -> bool {
    end_reason(record).is_some_and(|r| r != TerminationReason::Completed)
}

/// `run 3 (sma-cross fast=5) ended early: loss limit reached (loss_limit) at bar 40 of 253`
/// for each run cut short, in run order.
pub fn cut_short_lines(records: &[RunRecord]) -> Vec<String> {
    records
        .iter()
        .filter(|r| cut_short(r))
        .filter_map(|r| {
            let reason = end_reason(r)?;
            let outcome = &r.results.as_ref()?.outcome;
            let at = match (outcome.settled_ticks, outcome.total_ticks) {
                (Some(n), Some(t)) => format!(" at bar {n} of {t}"),
                _ => String::new(),
            };
            Some(format!(
                "run {} ({}) ended early: {} ({reason}){at}",
                r.spec.index,
                r.spec.name,
                reason.describe()
            ))
        })
        .collect()
}

/// `fast=5;short=false;slow=20`.
pub fn params_text(spec: &RunSpec) -> String {
    spec.strategy
        .params
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(";")
}

fn metrics_map(m: &Metrics) -> Map<String, Value> {
    match serde_json::to_value(m) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

fn cell(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => quote(s),
        Some(other) => other.to_string(),
    }
}

/// A CSV field, quoted when needed.
pub fn quote(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

fn error_of(status: &RunStatus) -> (&str, &str) {
    match status {
        RunStatus::Failed { code, message } => (code, message),
        _ => ("", ""),
    }
}

/// `summary.csv`.
pub fn summary_csv(records: &[RunRecord], skipped: &[SkippedRun]) -> String {
    let mut out = String::from(RUN_COLUMNS);
    for k in METRIC_KEYS {
        out.push(',');
        out.push_str(k);
    }
    out.push('\n');
    for r in records {
        let s = &r.spec;
        let (code, message) = error_of(&r.status);
        let _ = write!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            s.index,
            quote(&s.name),
            quote(&s.entry),
            quote(&s.strategy.name),
            quote(&params_text(s)),
            quote(&s.request.symbols.join(" ")),
            quote(&s.request.start_date),
            quote(&s.request.end_date),
            quote(s.request.timeframe.as_deref().unwrap_or("1d")),
            r.status.as_str(),
            end_reason(r).map_or("", TerminationReason::as_str),
            r.results
                .as_ref()
                .and_then(|x| x.outcome.settled_ticks)
                .map_or_else(String::new, |n| n.to_string()),
            code,
            quote(message)
        );
        let m = r.results.as_ref().map(|x| metrics_map(&x.metrics));
        for k in METRIC_KEYS {
            out.push(',');
            out.push_str(&cell(m.as_ref().and_then(|m| m.get(*k))));
        }
        out.push('\n');
    }
    for k in skipped {
        let params: Vec<String> = k.swept.iter().map(|(a, b)| format!("{a}={b}")).collect();
        let _ = write!(
            out,
            ",{},{},,{},,,,,skipped,,,,{}",
            quote(&k.name),
            quote(&k.entry),
            quote(&params.join(";")),
            quote(&k.reason)
        );
        out.push_str(&",".repeat(METRIC_KEYS.len()));
        out.push('\n');
    }
    out
}

/// `summary.json`.
pub fn summary_json(records: &[RunRecord], skipped: &[SkippedRun]) -> Value {
    let runs: Vec<Value> = records
        .iter()
        .map(|r| {
            let s = &r.spec;
            let error = match &r.status {
                RunStatus::Failed { code, message } => json!({"code": code, "message": message}),
                _ => Value::Null,
            };
            json!({
                "run": s.index,
                "name": s.name,
                "entry": s.entry,
                "strategy": s.strategy.name,
                "params": s.strategy.params,
                "swept": s.swept.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect::<Map<_, _>>(),
                "session": s.request,
                "status": r.status.as_str(),
                "end_reason": end_reason(r),
                "settled_ticks": r.results.as_ref().and_then(|x| x.outcome.settled_ticks),
                "total_ticks": r.results.as_ref().and_then(|x| x.outcome.total_ticks),
                "error": error,
                "metrics": r.results.as_ref().map(|x| &x.metrics),
            })
        })
        .collect();
    let skipped: Vec<Value> = skipped
        .iter()
        .map(|k| {
            json!({
                "name": k.name,
                "entry": k.entry,
                "swept": k.swept.iter().map(|(a, b)| (a.clone(), Value::String(b.clone()))).collect::<Map<_, _>>(),
                "reason": k.reason,
            })
        })
        .collect();
    json!({"runs": runs, "skipped": skipped})
}

/// `0003-sma-cross-fast-5-slow-20`: the file stem of a run's own files.
pub fn run_stem(spec: &RunSpec) -> String {
    let mut slug = String::new();
    for c in spec.name.chars() {
        if c.is_ascii_alphanumeric() || c == '.' {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug: String = slug.trim_matches('-').chars().take(80).collect();
    format!("{:04}-{slug}", spec.index)
}

/// Trades as CSV (the columns of `session results --csv`).
pub fn trades_csv(results: &SimulationResults) -> String {
    let mut out = String::from(
        "symbol,side,quantity,entry_time,entry_price,exit_time,exit_price,pnl,return_pct,commission,duration,entry_bar,exit_bar\n",
    );
    for t in &results.trades {
        let side = serde_json::to_value(t.side)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{},{side},{},{},{},{},{},{},{},{},{},{},{}",
            quote(&t.symbol),
            t.quantity,
            time(&t.entry_time),
            t.entry_price,
            time(&t.exit_time),
            t.exit_price,
            t.pnl,
            t.return_pct,
            t.commission,
            t.duration,
            opt(t.entry_bar),
            opt(t.exit_bar)
        );
    }
    out
}

/// Equity curve as CSV: time, equity, drawdown (percent below the running peak) and, at the
/// last point of each drawdown period, its duration in seconds (backtesting.py's
/// `DrawdownPct` × 100 and `DrawdownDuration`).
pub fn equity_csv(results: &SimulationResults) -> String {
    let mut out = String::from("time,equity,drawdown_pct,drawdown_duration\n");
    for p in &results.equity_curve {
        let _ = writeln!(
            out,
            "{},{},{},{}",
            time(&p.time),
            p.equity,
            p.drawdown_pct,
            opt(p.drawdown_duration)
        );
    }
    out
}

/// An optional number as CSV text (empty when absent).
fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

fn time(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

/// Write the files of `report` into `dir`; returns the paths written.
pub fn write_all(
    dir: &Path,
    output: &OutputConfig,
    report: &BatchReport,
    skipped: &[SkippedRun],
    log_header: &str,
) -> std::io::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    std::fs::create_dir_all(dir)?;
    let mut put = |path: PathBuf, text: &str| -> std::io::Result<()> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, text)?;
        written.push(path);
        Ok(())
    };
    let f = output.formats;
    if output.summary {
        if f.csv {
            put(
                dir.join("summary.csv"),
                &summary_csv(&report.records, skipped),
            )?;
            let rows: Vec<(u64, &Metrics)> = report
                .records
                .iter()
                .filter_map(|r| Some((r.spec.index as u64, &r.results.as_ref()?.metrics)))
                .collect();
            put(
                dir.join("metrics.csv"),
                &super::metrics_table::metrics_csv(Some("run"), &rows),
            )?;
        }
        if f.json {
            put(
                dir.join("summary.json"),
                &pretty(&summary_json(&report.records, skipped)),
            )?;
        }
    }
    for r in &report.records {
        let Some(results) = &r.results else { continue };
        let stem = run_stem(&r.spec);
        if output.trades {
            if f.csv {
                put(
                    dir.join("trades").join(format!("{stem}.csv")),
                    &trades_csv(results),
                )?;
            }
            if f.json {
                put(
                    dir.join("trades").join(format!("{stem}.json")),
                    &pretty(&json!(results.trades)),
                )?;
            }
        }
        if output.equity {
            if f.csv {
                put(
                    dir.join("equity").join(format!("{stem}.csv")),
                    &equity_csv(results),
                )?;
            }
            if f.json {
                put(
                    dir.join("equity").join(format!("{stem}.json")),
                    &pretty(&json!(results.equity_curve)),
                )?;
            }
        }
    }
    put(dir.join("run.log"), &run_log(report, log_header))?;
    Ok(written)
}

fn pretty(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
    s.push('\n');
    s
}

/// `run.log`: when, how long, which session — everything kept out of the summary.
pub fn run_log(report: &BatchReport, header: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{header}");
    let _ = writeln!(
        out,
        "{} runs, parallel {}, {:.3} s{}",
        report.records.len(),
        report.parallel,
        report.elapsed.as_secs_f64(),
        if report.cancelled {
            ", interrupted"
        } else {
            ""
        }
    );
    for r in &report.records {
        let (code, _) = error_of(&r.status);
        let _ = writeln!(
            out,
            "run {} [{}{}{}] session {} {:.1} ms: {}",
            r.spec.index,
            r.status.as_str(),
            if code.is_empty() { "" } else { " " },
            code,
            r.session_id.as_deref().unwrap_or("-"),
            r.elapsed.as_secs_f64() * 1e3,
            r.spec.name
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_columns_cover_every_metric() {
        let json = r#"{"start": "2020-01-01T00:00:00Z", "end": "2020-01-03T00:00:00Z", "duration": 172800, "exposure_time_pct": 66.7, "equity_final": "100120.00", "equity_peak": "100120.00", "commissions": "0", "return_pct": 0.12, "buy_and_hold_return_pct": 0.5, "return_ann_pct": null, "volatility_ann_pct": null, "cagr_pct": null, "sharpe_ratio": null, "sortino_ratio": null, "calmar_ratio": null, "max_drawdown_pct": 0.0, "avg_drawdown_pct": 0.0, "max_drawdown_duration": null, "avg_drawdown_duration": null, "num_trades": 1, "win_rate_pct": 100.0, "best_trade_pct": 1.2, "worst_trade_pct": 1.2, "avg_trade_pct": 1.2, "max_trade_duration": 86400, "avg_trade_duration": 86400, "profit_factor": null, "expectancy_pct": 1.2, "sqn": null}"#;
        let m: Metrics = serde_json::from_str(json).unwrap();
        let map = metrics_map(&m);
        assert_eq!(map.len(), METRIC_KEYS.len());
        for k in METRIC_KEYS {
            assert!(map.contains_key(*k), "{k}");
        }
        assert_eq!(cell(map.get("sharpe_ratio")), "");
        assert_eq!(cell(map.get("equity_final")), "100120.00");
        assert_eq!(quote("a,b"), "\"a,b\"");
    }
}
