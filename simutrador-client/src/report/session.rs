//! The report of one session: header with the final state and why the run ended, the limits
//! and how close the run came to them, the equity curve with its drawdown, a price chart per
//! symbol with the entries and exits marked, the statistics, the trades and the open positions.
//! [`session_html`] is a pure function: the same data give the same bytes.

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use shared_models::results::SimulationResults;
use shared_models::session::SessionInfo;
use shared_models::trading::TradeSide;
use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::downsample::{DEFAULT_BUCKETS, min_max};
use super::page::{Cell, Chart, Series, document, escape, table};
use super::stats::{TRADE_COLUMNS, duration, fields_table, metrics_table};

/// The closes of one symbol over the session's bars (seconds since the epoch, ascending).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SymbolPrices {
    /// The symbol.
    pub symbol: String,
    /// Bar times.
    pub times: Vec<i64>,
    /// Closes at those times.
    pub closes: Vec<f64>,
}

/// Everything a session report shows.
#[derive(Debug, Clone, Copy)]
pub struct SessionReport<'a> {
    /// The session (`get_session`).
    pub info: &'a SessionInfo,
    /// Its results (`get_results`, every page).
    pub results: &'a SimulationResults,
    /// Closes per symbol; a symbol without bars here gets a chart of its fills only.
    pub prices: &'a [SymbolPrices],
    /// Shown under the price charts (e.g. where the closes came from), if any.
    pub prices_note: Option<&'a str>,
}

const EQUITY: &str = "#2e90fa";
const DRAWDOWN: &str = "#f04438";
const CLOSE: &str = "#475467";
const LONG_IN: &str = "#12b76a";
const SHORT_IN: &str = "#f79009";
const EXIT: &str = "#7a5af8";

fn f(d: Decimal) -> f64 {
    d.to_f64().unwrap_or(f64::NAN)
}

fn json_str<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

/// The report as one self-contained HTML document.
pub fn session_html(r: &SessionReport<'_>) -> String {
    let (info, results) = (r.info, r.results);
    let mut body = String::new();
    let mut charts = Vec::new();
    let reason = info
        .termination_reason
        .map(|t| json_str(&t))
        .unwrap_or_else(|| "-".into());
    let _ = writeln!(
        body,
        "<h1>Session {}</h1><p class=\"sub\">{} · {} · {} .. {} · state <b id=\"state\">{}</b> · ended because <b id=\"termination-reason\" class=\"{}\">{}</b></p>",
        escape(&info.session_id),
        escape(&info.params.symbols.join(", ")),
        escape(info.params.timeframe.as_str()),
        escape(&info.params.start_date),
        escape(&info.params.end_date),
        escape(info.state.as_str()),
        if reason == "completed" { "good" } else { "bad" },
        escape(&reason),
    );
    body.push_str(&summary_cards(r));
    body.push_str("<h2>Limits</h2>\n");
    body.push_str(&super::limits::limits(r));

    body.push_str("<h2>Equity and drawdown</h2>\n");
    let times: Vec<i64> = results
        .equity_curve
        .iter()
        .map(|p| p.time.timestamp())
        .collect();
    let equity: Vec<f64> = results.equity_curve.iter().map(|p| f(p.equity)).collect();
    let dd: Vec<f64> = results
        .equity_curve
        .iter()
        .map(|p| -p.drawdown_pct.abs())
        .collect();
    let n = times.len();
    let note = thinning_note(n);
    for (id, label, color, axis, style, values, height) in [
        ("chart-equity", "Equity", EQUITY, "$", "line", &equity, 300),
        (
            "chart-drawdown",
            "Drawdown [%]",
            DRAWDOWN,
            "%",
            "area",
            &dd,
            160,
        ),
    ] {
        let thin = min_max(&times, values, DEFAULT_BUCKETS);
        let chart = Chart {
            id: id.into(),
            height,
            series: vec![Series {
                label: label.into(),
                color,
                scale: if axis == "%" { "pct" } else { "usd" },
                axis,
                style,
                values: thin.values.into_iter().map(Some).collect(),
            }],
            x: thin.times,
            x_time: true,
        };
        body.push_str(&chart.placeholder(label, &note));
        charts.push(chart);
    }

    body.push_str("<h2>Prices, entries and exits</h2>\n");
    if let Some(note) = r.prices_note {
        let _ = writeln!(body, "<p class=\"note\">{}</p>", escape(note));
    }
    for (i, symbol) in info.params.symbols.iter().enumerate() {
        let chart = price_chart(i, symbol, r);
        let bars = r
            .prices
            .iter()
            .find(|p| &p.symbol == symbol)
            .map_or(0, |p| p.times.len());
        body.push_str(&chart.placeholder(symbol, &thinning_note(bars)));
        charts.push(chart);
    }

    body.push_str("<h2>Statistics</h2>\n<div class=\"grid\"><div>");
    body.push_str(&metrics_table(&results.metrics));
    body.push_str("</div><div>");
    let info_json = serde_json::to_value(info).unwrap_or_default();
    body.push_str(&fields_table(
        "session-info",
        &info_json,
        &["params", "limits"],
    ));
    body.push_str("<p></p>");
    let params = info_json.get("params").cloned().unwrap_or_default();
    body.push_str(&fields_table("session-params", &params, &[]));
    body.push_str("</div></div>\n");

    let _ = writeln!(body, "<h2>Trades ({})</h2>", results.trades.len());
    body.push_str(&trades_table(results));
    if !results.open_positions.is_empty() {
        body.push_str("<h2>Open positions (valued at the last close)</h2>\n");
        let rows: Vec<Vec<Cell>> = results
            .open_positions
            .iter()
            .map(|p| {
                vec![
                    Cell::text(&p.symbol),
                    Cell::number(p.quantity.normalize().to_string(), p.quantity),
                    Cell::number(p.avg_price.normalize().to_string(), p.avg_price),
                    Cell::number(p.market_value.to_string(), p.market_value),
                    Cell::number(p.unrealized_pnl.to_string(), p.unrealized_pnl),
                ]
            })
            .collect();
        body.push_str(&table(
            "positions",
            &["Symbol", "Qty", "Avg price", "Value", "Unrealized P&L"],
            &rows,
        ));
    }
    let title = format!("SimuTrador session {}", info.session_id);
    document(&title, &body, &charts)
}

fn thinning_note(n: usize) -> String {
    if n > 2 * DEFAULT_BUCKETS {
        format!("{n} points, drawn as min/max of {DEFAULT_BUCKETS} buckets (tables are exact)")
    } else {
        format!("{n} points")
    }
}

fn summary_cards(r: &SessionReport<'_>) -> String {
    let m = &r.results.metrics;
    let mut out = String::from("<div class=\"grid\">");
    for (label, value) in [
        ("Return [%]", format!("{:.2}", m.return_pct)),
        ("Equity Final [$]", m.equity_final.round_dp(2).to_string()),
        ("Max. Drawdown [%]", format!("{:.2}", m.max_drawdown_pct)),
        ("# Trades", m.num_trades.to_string()),
        (
            "Settled bars",
            format!("{} of {}", r.info.settled_ticks, r.info.bar_count),
        ),
    ] {
        let _ = write!(
            out,
            "<div class=\"card\"><div class=\"note\">{}</div><div style=\"font-size:20px\">{}</div></div>",
            escape(label),
            escape(&value)
        );
    }
    out.push_str("</div>\n");
    out
}

/// A symbol's chart: the closes (thinned) and the fills of its trades as markers (exits as
/// rings under the entries, which often fall on the same bar), on the union of both sets of
/// times.
fn price_chart(index: usize, symbol: &str, r: &SessionReport<'_>) -> Chart {
    let thin = r
        .prices
        .iter()
        .find(|p| p.symbol == symbol)
        .map(|p| min_max(&p.times, &p.closes, DEFAULT_BUCKETS))
        .unwrap_or_default();
    let trades: Vec<_> = r
        .results
        .trades
        .iter()
        .filter(|t| t.symbol == symbol)
        .collect();
    let mut x: BTreeSet<i64> = thin.times.iter().copied().collect();
    for t in &trades {
        x.insert(t.entry_time.timestamp());
        x.insert(t.exit_time.timestamp());
    }
    let x: Vec<i64> = x.into_iter().collect();
    let at = |t: i64| x.binary_search(&t).ok();
    let mut close = vec![None; x.len()];
    for (t, v) in thin.times.iter().zip(&thin.values) {
        if let Some(i) = at(*t) {
            close[i] = Some(*v);
        }
    }
    let (mut long_in, mut short_in, mut exit) = (
        vec![None; x.len()],
        vec![None; x.len()],
        vec![None; x.len()],
    );
    for t in &trades {
        let entries = if t.side == TradeSide::Long {
            &mut long_in
        } else {
            &mut short_in
        };
        if let Some(i) = at(t.entry_time.timestamp()) {
            entries[i] = Some(f(t.entry_price));
        }
        if let Some(i) = at(t.exit_time.timestamp()) {
            exit[i] = Some(f(t.exit_price));
        }
    }
    let series = |label: &str, color, style, values| Series {
        label: label.into(),
        color,
        scale: "price",
        axis: "price",
        style,
        values,
    };
    Chart {
        id: format!("chart-price-{index}"),
        height: 280,
        series: vec![
            series("Close", CLOSE, "line", close),
            series("Exit", EXIT, "rings", exit),
            series("Long entry", LONG_IN, "points", long_in),
            series("Short entry", SHORT_IN, "points", short_in),
        ],
        x,
        x_time: true,
    }
}

fn trades_table(results: &SimulationResults) -> String {
    let rows: Vec<Vec<Cell>> = results
        .trades
        .iter()
        .map(|t| {
            vec![
                Cell::text(t.symbol.as_str()),
                Cell::text(json_str(&t.side)),
                Cell::number(t.quantity.normalize().to_string(), t.quantity),
                Cell::number(
                    t.entry_time.format("%Y-%m-%d %H:%M:%S").to_string(),
                    t.entry_time.timestamp(),
                ),
                Cell::number(t.entry_price.to_string(), t.entry_price),
                Cell::number(
                    t.exit_time.format("%Y-%m-%d %H:%M:%S").to_string(),
                    t.exit_time.timestamp(),
                ),
                Cell::number(t.exit_price.to_string(), t.exit_price),
                Cell::number(t.pnl.to_string(), t.pnl),
                Cell::number(format!("{:.2}", t.return_pct), t.return_pct),
                Cell::number(duration(t.duration), t.duration),
                Cell::number(t.commission.to_string(), t.commission),
            ]
        })
        .collect();
    let mut out = String::from("<div class=\"scroll\">");
    out.push_str(&table("sortable trades", &TRADE_COLUMNS, &rows));
    out.push_str("</div>\n");
    out
}
