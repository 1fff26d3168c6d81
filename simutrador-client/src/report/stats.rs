//! The statistics table and the session-details table of a report: every field the daemon
//! sends, in its order, with a readable name and the exact value (decimals as sent, floats in
//! full in the `title`); durations in seconds also as `N days HH:MM:SS`.

use serde_json::Value;
use shared_models::results::Metrics;
use std::fmt::Write as _;

use super::page::escape;

/// Display names of the metrics (backtesting.py's), by JSON key.
pub fn metric_label(key: &str) -> &str {
    match key {
        "start" => "Start",
        "end" => "End",
        "duration" => "Duration",
        "exposure_time_pct" => "Exposure Time [%]",
        "equity_final" => "Equity Final [$]",
        "equity_peak" => "Equity Peak [$]",
        "commissions" => "Commissions [$]",
        "return_pct" => "Return [%]",
        "buy_and_hold_return_pct" => "Buy & Hold Return [%]",
        "return_ann_pct" => "Return (Ann.) [%]",
        "volatility_ann_pct" => "Volatility (Ann.) [%]",
        "cagr_pct" => "CAGR [%]",
        "sharpe_ratio" => "Sharpe Ratio",
        "sortino_ratio" => "Sortino Ratio",
        "calmar_ratio" => "Calmar Ratio",
        "alpha_pct" => "Alpha [%]",
        "beta" => "Beta",
        "max_drawdown_pct" => "Max. Drawdown [%]",
        "avg_drawdown_pct" => "Avg. Drawdown [%]",
        "max_drawdown_duration" => "Max. Drawdown Duration",
        "avg_drawdown_duration" => "Avg. Drawdown Duration",
        "num_trades" => "# Trades",
        "win_rate_pct" => "Win Rate [%]",
        "best_trade_pct" => "Best Trade [%]",
        "worst_trade_pct" => "Worst Trade [%]",
        "avg_trade_pct" => "Avg. Trade [%]",
        "max_trade_duration" => "Max. Trade Duration",
        "avg_trade_duration" => "Avg. Trade Duration",
        "profit_factor" => "Profit Factor",
        "expectancy_pct" => "Expectancy [%]",
        "sqn" => "SQN",
        "kelly_criterion" => "Kelly Criterion",
        other => other,
    }
}

/// The columns of a trade list, in order: the HTML report's trade table shows them all;
/// `session results --trades` shows all but the last, `Commission` (the metrics give the
/// total), to stay narrow enough for a terminal.
pub const TRADE_COLUMNS: [&str; 11] = [
    "Symbol",
    "Side",
    "Qty",
    "Entry",
    "Entry Px",
    "Exit",
    "Exit Px",
    "P&L",
    "Return [%]",
    "Duration",
    "Commission",
];

/// `90061` → `1 days 01:01:01` (backtesting.py's Timedelta look); the CLI's results tables
/// use it too.
pub fn duration(seconds: i64) -> String {
    let sign = if seconds < 0 { "-" } else { "" };
    let s = seconds.unsigned_abs();
    let (days, rest) = (s / 86_400, s % 86_400);
    format!(
        "{sign}{days} days {:02}:{:02}:{:02}",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// A JSON value as table HTML: floats with 2 decimals (exact in the title), durations
/// spelled out, `-` for null, other values as sent.
pub fn value_html(key: &str, value: &Value) -> String {
    match value {
        Value::Null => "-".into(),
        Value::Number(n) if key.ends_with("duration") || key.ends_with("_seconds") => {
            match n.as_i64() {
                Some(s) => format!("<span title=\"{s} s\">{}</span>", duration(s)),
                None => escape(&n.to_string()),
            }
        }
        Value::Number(n) if n.is_f64() => match n.as_f64() {
            Some(f) => format!("<span title=\"{}\">{f:.2}</span>", escape(&n.to_string())),
            None => escape(&n.to_string()),
        },
        Value::String(s) => escape(s),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => escape(&n.to_string()),
        other => escape(&other.to_string()),
    }
}

/// The statistics table (id `stats`), one row per metric.
pub fn metrics_table(m: &Metrics) -> String {
    let Ok(Value::Object(map)) = serde_json::to_value(m) else {
        return String::new();
    };
    let mut out = String::from(
        "<table id=\"stats\"><thead><tr><th>Statistic</th><th>Value</th></tr></thead><tbody>\n",
    );
    for (key, value) in &map {
        let _ = writeln!(
            out,
            "<tr data-key=\"{}\"><td>{}</td><td>{}</td></tr>",
            escape(key),
            escape(metric_label(key)),
            value_html(key, value)
        );
    }
    out.push_str("</tbody></table>\n");
    out
}

/// A key/value table of every field of a JSON object except `skip` (nested objects as
/// compact JSON).
pub fn fields_table(id: &str, object: &Value, skip: &[&str]) -> String {
    let Value::Object(map) = object else {
        return String::new();
    };
    let mut out = format!("<table id=\"{}\"><tbody>\n", escape(id));
    for (key, value) in map.iter().filter(|(k, _)| !skip.contains(&k.as_str())) {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td></tr>",
            escape(&key.replace('_', " ")),
            value_html(key, value)
        );
    }
    out.push_str("</tbody></table>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_read_well_and_keep_the_exact_number() {
        assert_eq!(value_html("x", &json!(null)), "-");
        assert_eq!(
            value_html("sharpe_ratio", &json!(1.23456)),
            "<span title=\"1.23456\">1.23</span>"
        );
        assert!(value_html("max_trade_duration", &json!(90061)).contains("1 days 01:01:01"));
        assert_eq!(value_html("equity_final", &json!("100120.00")), "100120.00");
        assert_eq!(value_html("s", &json!("<b>")), "&lt;b&gt;");
    }
}
