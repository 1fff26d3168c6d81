//! `session rerun ID [--window N] [--quiet]`: run the built-in strategy, parameters and
//! warm-up that session `ID` ran (as its `start_simulation` recorded them) again, on a fresh
//! session with the same parameters and limits (`fork_session`, on the data the daemon holds
//! now), and say whether the results are identical: the same metrics and the same closed
//! trades, value for value. Everything else `session run` takes (`--window`, `--quiet`) does
//! not change results.
//!
//! A session run by a program's own strategy (`built_in: false`) or by a client that did not
//! record its strategy cannot be rerun by the CLI: a usage error (exit 2) says so before
//! anything is created. The exit code is the new run's ([`super::outcome_view::exit_code`]) or,
//! when it completed but the results differ, [`EXIT_DIFFERENT`].

use serde::Serialize;
use serde_json::Value;
use shared_models::StrategyRef;
use shared_models::results::SimulationResults;
use simutrador_client::strategies::rerun_spec;
use std::process::ExitCode;

use super::Context;
use super::args::RerunArgs;
use super::outcome_view;
use super::output::usage;
use super::session_run::{HowToRun, run_built_in};

/// Exit code of a rerun that completed with results different from the original's.
pub const EXIT_DIFFERENT: u8 = 6;

/// What `session rerun --json` prints.
#[derive(Debug, Serialize)]
pub struct RerunReport {
    /// The session that was run again.
    pub original: String,
    /// The fresh session it ran on.
    pub rerun: String,
    /// What ran.
    pub strategy: StrategyRef,
    /// True when the metrics and the trades are the same.
    pub identical: bool,
    /// What differs: metric keys, `trades` (with both counts), `data_fingerprint`.
    pub differences: Vec<String>,
    /// How the rerun ended.
    pub termination_reason: Option<shared_models::TerminationReason>,
}

/// Run `session rerun`.
pub async fn rerun(args: RerunArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let id = args.id.trim();
    let client = ctx.client().await?;
    let info = client.get_session(id).await?;
    let strategy = info.strategy.clone().ok_or_else(|| {
        usage(format!(
            "session {id} has no recorded strategy (it was run by a client that did not say, or not run at all); nothing to rerun"
        ))
    })?;
    let spec = rerun_spec(&strategy).map_err(usage)?;
    let warmup = warmup_of(id, &strategy, args.warmup).map_err(usage)?;
    if !info.state.is_terminal() {
        return Err(usage(format!(
            "session {id} is {}; rerun compares finished runs, wait until it ends (`session watch {id}`)",
            info.state
        )));
    }
    let original = client.get_results(id).await?;
    let fork = client.fork_session(id).await?;
    let how = HowToRun {
        window: args.window,
        warmup,
        quiet: args.quiet,
    };
    let mut ran = run_built_in(&client, &fork.session_id, &spec, how, ctx).await?;
    // Compare whole results (the run fetched only the summary without `--json`).
    if !ctx.out.is_json() {
        ran.results = client.get_results(&fork.session_id).await?;
    }
    let differences = differences(&original, &ran.results);
    let report = RerunReport {
        original: id.to_string(),
        rerun: fork.session_id.clone(),
        strategy: strategy.clone(),
        identical: differences.is_empty(),
        differences,
        termination_reason: ran.results.outcome.termination_reason,
    };
    ran.note(ctx)?;
    ctx.out.emit(&report, || verdict(&report))?;
    let code = outcome_view::exit_code(report.termination_reason);
    Ok(ExitCode::from(match code {
        0 if !report.identical => EXIT_DIFFERENT,
        c => c,
    }))
}

/// The warm-up to run with: the recorded one (a different `--warmup` is an error: rerun runs
/// what ran), or, for a run that did not record it, `given` (default 0).
fn warmup_of(id: &str, strategy: &StrategyRef, given: Option<u32>) -> Result<u32, String> {
    match (strategy.warmup_bars, given) {
        (Some(recorded), Some(given)) if given != recorded => Err(format!(
            "session {id} ran with --warmup {recorded}; rerun runs what ran, so leave --warmup out (or run `session run` on a fork for a different one)"
        )),
        (Some(recorded), _) => Ok(recorded),
        (None, given) => Ok(given.unwrap_or(0)),
    }
}

/// The human verdict.
fn verdict(r: &RerunReport) -> String {
    let head = format!(
        "Reran {} of session {} on session {}:",
        r.strategy.label(),
        r.original,
        r.rerun
    );
    if r.identical {
        format!("{head} identical results (metrics and trades).")
    } else {
        format!("{head} the results DIFFER: {}.", r.differences.join("; "))
    }
}

/// What differs between the original results `a` and the rerun's `b`: each metric whose
/// value is not the same (`return_pct: 1.2 vs 1.3`), the trades, and the data.
pub fn differences(a: &SimulationResults, b: &SimulationResults) -> Vec<String> {
    let mut out = Vec::new();
    let (ma, mb) = (
        serde_json::to_value(&a.metrics).unwrap_or(Value::Null),
        serde_json::to_value(&b.metrics).unwrap_or(Value::Null),
    );
    if let (Value::Object(ma), Value::Object(mb)) = (&ma, &mb) {
        for (key, va) in ma {
            let vb = mb.get(key).unwrap_or(&Value::Null);
            if va != vb {
                out.push(format!("{key}: {va} vs {vb}"));
            }
        }
    }
    if a.trades != b.trades {
        let first = a
            .trades
            .iter()
            .zip(&b.trades)
            .position(|(x, y)| x != y)
            .unwrap_or(a.trades.len().min(b.trades.len()));
        out.push(format!(
            "trades: {} vs {}, first difference at trade {}",
            a.trades.len(),
            b.trades.len(),
            first + 1
        ));
    }
    let (da, db) = (&a.outcome.data_fingerprint, &b.outcome.data_fingerprint);
    if da != db {
        out.push(format!(
            "data_fingerprint: {} vs {} (the data was re-imported since)",
            da.as_deref().unwrap_or("-"),
            db.as_deref().unwrap_or("-")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn results() -> SimulationResults {
        let json = r#"{"metrics": {"start": "2020-01-01T00:00:00Z", "end": "2020-01-03T00:00:00Z", "duration": 172800, "exposure_time_pct": 66.7, "equity_final": "100120.00", "equity_peak": "100120.00", "commissions": "0", "return_pct": 0.12, "buy_and_hold_return_pct": 0.5, "return_ann_pct": null, "volatility_ann_pct": null, "cagr_pct": null, "sharpe_ratio": null, "sortino_ratio": null, "calmar_ratio": null, "max_drawdown_pct": 0.0, "avg_drawdown_pct": 0.0, "max_drawdown_duration": null, "avg_drawdown_duration": null, "num_trades": 1, "win_rate_pct": 100.0, "best_trade_pct": 1.2, "worst_trade_pct": 1.2, "avg_trade_pct": 1.2, "max_trade_duration": 86400, "avg_trade_duration": 86400, "profit_factor": null, "expectancy_pct": 1.2, "sqn": null}, "trades": [{"symbol": "ACME", "side": "long", "quantity": "100", "entry_time": "2020-01-02T00:00:00Z", "entry_price": "100.00", "exit_time": "2020-01-03T00:00:00Z", "exit_price": "101.20", "pnl": "120.00", "return_pct": 1.2, "commission": "0", "duration": 86400}], "open_positions": [], "equity_curve": [], "data_fingerprint": "00ff00ff00ff00ff"}"#;
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn the_recorded_warmup_is_used_and_a_different_one_refused() {
        let mut s = StrategyRef {
            name: "sma-cross".into(),
            params: serde_json::Map::new(),
            built_in: true,
            warmup_bars: Some(40),
        };
        assert_eq!(warmup_of("a", &s, None), Ok(40));
        assert_eq!(warmup_of("a", &s, Some(40)), Ok(40));
        assert!(
            warmup_of("a", &s, Some(10))
                .unwrap_err()
                .contains("--warmup 40")
        );
        s.warmup_bars = None;
        assert_eq!(warmup_of("a", &s, None), Ok(0));
        assert_eq!(warmup_of("a", &s, Some(10)), Ok(10));
    }

    #[test]
    fn the_same_results_have_no_differences_and_a_changed_one_is_named() {
        let a = results();
        assert!(differences(&a, &a.clone()).is_empty());
        let mut b = a.clone();
        b.metrics.return_pct = 0.13;
        b.trades[0].pnl = rust_decimal::Decimal::new(12_100, 2);
        b.outcome.data_fingerprint = Some("1111111111111111".into());
        let d = differences(&a, &b);
        assert_eq!(d.len(), 3, "{d:?}");
        assert_eq!(d[0], "return_pct: 0.12 vs 0.13");
        assert!(d[1].starts_with("trades: 1 vs 1, first difference at trade 1"));
        assert!(d[2].starts_with("data_fingerprint: 00ff00ff00ff00ff vs 1111"));
    }
}
