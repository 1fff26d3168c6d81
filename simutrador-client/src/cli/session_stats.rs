//! `session stats`: aggregate figures across the sessions that pass the filters of `session
//! list` — how many, how many ran, win rate across sessions (share with a return above 0),
//! mean and median return, best and worst, trades and mean max drawdown — overall and per
//! strategy. `--json` prints the daemon's `history_stats` as it is.

use shared_models::messages::history::{HistoryStats, StatsGroup};
use std::fmt::Write as _;

use super::Context;
use super::history_args::StatsArgs;
use super::render::table;

/// Run `session stats`.
pub async fn stats(args: StatsArgs, ctx: &Context) -> anyhow::Result<()> {
    let client = ctx.client().await?;
    let stats = client.history_stats(args.filter.stats_query()).await?;
    ctx.out.emit(&stats, || render(&stats))
}

fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |x| format!("{x:.2} %"))
}

/// The overall figures, then a table with a row per strategy.
pub fn render(h: &HistoryStats) -> String {
    let o = &h.overall;
    if o.sessions == 0 {
        return "No sessions match. Drop a filter, or see `simutrador-client session list`.".into();
    }
    let mut out = format!(
        "{} sessions, {} ran ({} closed trades; {} ran without a trade)\n",
        o.sessions, o.with_return, o.total_trades, o.zero_trade_sessions
    );
    let _ = writeln!(
        out,
        "  win rate      {} ({} of {} with a return above 0)",
        pct(o.win_rate_pct),
        o.winners,
        o.with_return
    );
    let _ = writeln!(out, "  mean return   {}", pct(o.mean_return_pct));
    let _ = writeln!(out, "  median return {}", pct(o.median_return_pct));
    for (label, best) in [("best", &o.best), ("worst", &o.worst)] {
        if let Some(b) = best {
            let _ = writeln!(
                out,
                "  {label:<13} {} ({})",
                pct(Some(b.return_pct)),
                b.session_id
            );
        }
    }
    let _ = writeln!(out, "  mean max DD   {}", pct(o.mean_max_drawdown_pct));
    let mut t = table(
        &[
            "STRATEGY",
            "SESSIONS",
            "RAN",
            "WIN RATE",
            "MEAN",
            "MEDIAN",
            "BEST",
            "WORST",
            "TRADES",
            "MEAN MAX DD",
        ],
        &[1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
    for g in &h.by_strategy {
        t.add_row(row(g));
    }
    let _ = write!(out, "\nBy strategy:\n{t}");
    if h.by_strategy.iter().any(|g| g.strategy.is_none()) {
        out.push_str("\n(none): sessions that record no strategy");
    }
    out
}

fn row(g: &StatsGroup) -> Vec<String> {
    vec![
        g.strategy.clone().unwrap_or_else(|| "(none)".into()),
        g.sessions.to_string(),
        g.with_return.to_string(),
        pct(g.win_rate_pct),
        pct(g.mean_return_pct),
        pct(g.median_return_pct),
        pct(g.best.as_ref().map(|b| b.return_pct)),
        pct(g.worst.as_ref().map(|b| b.return_pct)),
        g.total_trades.to_string(),
        pct(g.mean_max_drawdown_pct),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_history_says_so_and_groups_are_rows() {
        let empty: HistoryStats = serde_json::from_value(serde_json::json!({
            "overall": {"sessions": 0, "with_return": 0, "winners": 0, "total_trades": 0,
                        "zero_trade_sessions": 0},
            "by_strategy": []
        }))
        .unwrap();
        assert!(render(&empty).starts_with("No sessions match"));
        let one: HistoryStats = serde_json::from_value(serde_json::json!({
            "overall": {"sessions": 2, "with_return": 1, "winners": 1, "win_rate_pct": 100.0,
                        "mean_return_pct": 2.5, "median_return_pct": 2.5,
                        "best": {"session_id": "s1", "return_pct": 2.5},
                        "worst": {"session_id": "s1", "return_pct": 2.5},
                        "total_trades": 3, "zero_trade_sessions": 0},
            "by_strategy": [{"sessions": 2, "with_return": 1, "winners": 1, "total_trades": 3,
                             "zero_trade_sessions": 0, "win_rate_pct": 100.0}]
        }))
        .unwrap();
        let text = render(&one);
        for needle in [
            "2 sessions, 1 ran",
            "100.00 %",
            "(none)",
            "best          2.50 % (s1)",
        ] {
            assert!(text.contains(needle), "{needle} missing in\n{text}");
        }
    }
}
