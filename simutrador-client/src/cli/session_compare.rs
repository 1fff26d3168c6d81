//! `session compare A B …`: the statistics of several sessions side by side — one column per
//! session (headed by the first 8 characters of its id, the full ids listed above), one row
//! per figure: how it ran and ended, then every metric of its results in backtesting.py's
//! order. `--json` prints the daemon's `session_comparison` as it is.

use shared_models::messages::history::{ComparedSession, SessionComparison};
use std::fmt::Write as _;

use super::Context;
use super::history_args::CompareArgs;
use super::render::{money, reason, table};
use super::results_view::metric_rows;

/// Run `session compare`.
pub async fn compare(args: CompareArgs, ctx: &Context) -> anyhow::Result<()> {
    let ids: Vec<String> = args.ids.iter().map(|id| id.trim().to_string()).collect();
    let client = ctx.client().await?;
    let comparison = client.compare_sessions(&ids).await?;
    ctx.out.emit(&comparison, || render(&comparison))
}

/// The side-by-side table.
pub fn render(c: &SessionComparison) -> String {
    let short: Vec<String> = c
        .sessions
        .iter()
        .map(|s| s.session_id.chars().take(8).collect())
        .collect();
    let mut header: Vec<&str> = vec![""];
    header.extend(short.iter().map(String::as_str));
    let right: Vec<usize> = (1..header.len()).collect();
    let mut t = table(&header, &right);
    let dash = || "-".to_string();
    let mut row = |name: &str, cell: &dyn Fn(&ComparedSession) -> String| {
        let mut cells = vec![name.to_string()];
        cells.extend(c.sessions.iter().map(cell));
        t.add_row(cells);
    };
    row("Strategy", &|s| s.strategy.clone().unwrap_or_else(dash));
    row("State", &|s| s.state.to_string());
    row("End reason", &|s| {
        s.termination_reason.map_or_else(dash, reason)
    });
    row("Symbols", &|s| s.symbols.join(","));
    row("Timeframe", &|s| s.timeframe.clone());
    row("Range", &|s| format!("{} → {}", s.start_date, s.end_date));
    row("Capital [$]", &|s| money(s.initial_capital));
    row("P&L [$]", &|s| {
        s.pnl.map_or_else(dash, |p| money(p.round_dp(2)))
    });
    // Every metric row of the first session that has results names the rows.
    let names = c
        .sessions
        .iter()
        .find_map(|s| s.metrics.as_ref())
        .map(|m| {
            metric_rows(m)
                .into_iter()
                .map(|(n, _, _)| n)
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    for (i, name) in names.into_iter().enumerate() {
        row(name, &|s| {
            s.metrics
                .as_ref()
                .and_then(|m| metric_rows(m).get(i).map(|(_, _, v)| v.human()))
                .unwrap_or_else(dash)
        });
    }
    let mut out = String::new();
    for (s, id) in c.sessions.iter().zip(&short) {
        let _ = writeln!(out, "{id}  {}", s.session_id);
    }
    let _ = write!(out, "\n{t}");
    if c.sessions.iter().any(|s| s.metrics.is_none()) {
        out.push_str("\n- : no results yet (the run has not ended, or never started)");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_without_results_show_dashes_beside_full_metrics() {
        let json = serde_json::json!({"sessions": [
            {"session_id": "aaaaaaaa-1", "state": "created", "symbols": ["ACME"],
             "timeframe": "1d", "start_date": "2020-01-01", "end_date": "2020-12-31",
             "initial_capital": "100000"},
            {"session_id": "bbbbbbbb-2", "state": "completed", "termination_reason": "completed",
             "symbols": ["ACME"], "timeframe": "1d", "start_date": "2020-01-01",
             "end_date": "2020-12-31", "initial_capital": "100000", "equity": "101000",
             "pnl": "1000", "metrics": serde_json::from_str::<serde_json::Value>(METRICS).unwrap()}
        ]});
        let c: SessionComparison = serde_json::from_value(json).unwrap();
        let text = render(&c);
        for needle in [
            "aaaaaaaa  aaaaaaaa-1",
            "Sharpe Ratio",
            "1,000",
            "completed",
            "no results yet",
        ] {
            assert!(text.contains(needle), "{needle} missing in\n{text}");
        }
    }

    const METRICS: &str = r#"{"start": "2020-01-01T00:00:00Z", "end": "2020-01-03T00:00:00Z", "duration": 172800, "exposure_time_pct": 66.7, "equity_final": "101000", "equity_peak": "101000", "commissions": "0", "return_pct": 1.0, "buy_and_hold_return_pct": 0.5, "return_ann_pct": null, "volatility_ann_pct": null, "cagr_pct": null, "sharpe_ratio": null, "sortino_ratio": null, "calmar_ratio": null, "max_drawdown_pct": 0.0, "avg_drawdown_pct": 0.0, "max_drawdown_duration": null, "avg_drawdown_duration": null, "num_trades": 1, "win_rate_pct": 100.0, "best_trade_pct": 1.2, "worst_trade_pct": 1.2, "avg_trade_pct": 1.2, "max_trade_duration": 86400, "avg_trade_duration": 86400, "profit_factor": null, "expectancy_pct": 1.2, "sqn": null}"#;
}
