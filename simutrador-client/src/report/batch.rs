//! The report of a batch's output folder (its `summary.json`, see `batch/output.rs`): a
//! sortable table of every run with its swept parameters and main metrics, the chosen metric
//! per run as a chart, a heatmap of that metric over two swept parameters, and the skipped
//! combinations. [`batch_html`] is a pure function of the parsed summary.

use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::page::{Cell, Chart, Series, document, escape, table};
use super::stats::metric_label;

/// The metrics the runs table always shows (the chosen metric is added when missing).
pub const TABLE_METRICS: &[&str] = &[
    "return_pct",
    "buy_and_hold_return_pct",
    "sharpe_ratio",
    "sortino_ratio",
    "max_drawdown_pct",
    "num_trades",
    "win_rate_pct",
    "profit_factor",
    "equity_final",
];

/// What to draw.
#[derive(Debug, Clone, Copy)]
pub struct BatchReport<'a> {
    /// Shown in the title (usually the output folder).
    pub title: &'a str,
    /// `summary.json` as the batch wrote it.
    pub summary: &'a Value,
    /// The heatmap's metric key (e.g. `return_pct`).
    pub metric: &'a str,
    /// The heatmap's x parameter; `None`: the first swept parameter.
    pub x: Option<&'a str>,
    /// The heatmap's y parameter; `None`: the second swept parameter.
    pub y: Option<&'a str>,
}

/// A run of the summary, as the report needs it.
#[derive(Debug, Clone)]
struct Run<'a> {
    index: u64,
    name: &'a str,
    strategy: &'a str,
    status: &'a str,
    error: String,
    swept: BTreeMap<&'a str, &'a str>,
    metrics: Option<&'a serde_json::Map<String, Value>>,
}

fn runs(summary: &Value) -> Vec<Run<'_>> {
    let list = summary.get("runs").and_then(Value::as_array);
    list.map(|l| l.iter().map(run).collect())
        .unwrap_or_default()
}

fn run(v: &Value) -> Run<'_> {
    let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("");
    let swept = v
        .get("swept")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.as_str(), v.as_str().unwrap_or("")))
                .collect()
        })
        .unwrap_or_default();
    let error = v
        .get("error")
        .and_then(|e| e.get("message"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    Run {
        index: v.get("run").and_then(Value::as_u64).unwrap_or(0),
        name: s("name"),
        strategy: s("strategy"),
        status: s("status"),
        error,
        swept,
        metrics: v.get("metrics").and_then(Value::as_object),
    }
}

/// A metric of a run as a number (decimals arrive as strings).
fn number(run: &Run<'_>, key: &str) -> Option<f64> {
    match run.metrics?.get(key)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// The swept parameters, in the order of the first run that has them.
pub fn swept_keys(summary: &Value) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for r in runs(summary) {
        for k in r.swept.keys() {
            if !keys.iter().any(|x| x == k) {
                keys.push((*k).to_string());
            }
        }
    }
    keys
}

/// The report, or why it cannot be drawn (an unknown metric or parameter, no runs).
pub fn batch_html(r: &BatchReport<'_>) -> Result<String, String> {
    let runs = runs(r.summary);
    if runs.is_empty() {
        return Err("summary.json lists no runs".into());
    }
    let keys = swept_keys(r.summary);
    let known = |m: &str| {
        runs.iter()
            .any(|run| run.metrics.is_some_and(|x| x.contains_key(m)))
    };
    if !known(r.metric) && runs.iter().any(|run| run.metrics.is_some()) {
        return Err(format!(
            "no run has a metric '{}'; use a key of docs/metrics.md such as return_pct, sharpe_ratio or max_drawdown_pct",
            r.metric
        ));
    }
    for p in [r.x, r.y].into_iter().flatten() {
        if !keys.iter().any(|k| k == p) {
            return Err(format!(
                "'{p}' is not a swept parameter of this batch; it sweeps: {}",
                if keys.is_empty() {
                    "nothing".to_string()
                } else {
                    keys.join(", ")
                }
            ));
        }
    }
    let x = r.x.map(str::to_string).or_else(|| keys.first().cloned());
    let y =
        r.y.map(str::to_string)
            .or_else(|| keys.iter().find(|k| Some(*k) != x.as_ref()).cloned());

    let ok = runs
        .iter()
        .filter(|run| run.status == "ok" || run.status == "completed")
        .count();
    let mut body = format!(
        "<h1>Batch {}</h1><p class=\"sub\">{} runs · {} with results · swept: {}</p>\n",
        escape(r.title),
        runs.len(),
        runs.iter().filter(|run| run.metrics.is_some()).count(),
        escape(&if keys.is_empty() {
            "nothing".to_string()
        } else {
            keys.join(", ")
        })
    );
    let _ = ok;
    let label = metric_label(r.metric).to_string();
    let chart = Chart {
        id: "chart-metric".into(),
        height: 240,
        x: runs.iter().map(|run| run.index as i64).collect(),
        x_time: false,
        series: vec![Series {
            label: label.clone(),
            color: "#2e90fa",
            scale: "m",
            axis: "",
            style: "points",
            values: runs.iter().map(|run| number(run, r.metric)).collect(),
        }],
    };
    let _ = writeln!(body, "<h2>{} by run</h2>", escape(&label));
    body.push_str(&chart.placeholder(&label, "x: run number"));

    let _ = writeln!(body, "<h2>Heatmap of {}</h2>", escape(&label));
    match (&x, &y) {
        (Some(x), Some(y)) => body.push_str(&heatmap(&runs, r.metric, x, y)),
        _ => {
            body.push_str("<p>A heatmap needs two swept parameters; this batch sweeps fewer.</p>\n")
        }
    }

    body.push_str("<h2>Runs</h2>\n<p class=\"note\">Click a header to sort.</p>\n");
    body.push_str(&runs_table(&runs, &keys, r.metric));
    if let Some(skipped) = r
        .summary
        .get("skipped")
        .and_then(Value::as_array)
        .filter(|s| !s.is_empty())
    {
        let _ = writeln!(body, "<h2>Skipped combinations ({})</h2>", skipped.len());
        let rows: Vec<Vec<Cell>> = skipped
            .iter()
            .map(|k| {
                let s = |f: &str| k.get(f).and_then(Value::as_str).unwrap_or("").to_string();
                vec![Cell::text(s("name")), Cell::text(s("reason"))]
            })
            .collect();
        body.push_str(&table("skipped", &["Name", "Reason"], &rows));
    }
    Ok(document(
        &format!("SimuTrador batch {}", r.title),
        &body,
        &[chart],
    ))
}

fn runs_table(runs: &[Run<'_>], keys: &[String], metric: &str) -> String {
    let mut metrics: Vec<&str> = TABLE_METRICS.to_vec();
    if !metrics.contains(&metric) {
        metrics.insert(0, metric);
    }
    let mut head: Vec<String> = vec!["Run".into(), "Name".into(), "Strategy".into()];
    head.extend(keys.iter().cloned());
    head.push("Status".into());
    head.extend(metrics.iter().map(|m| metric_label(m).to_string()));
    head.push("Error".into());
    let rows: Vec<Vec<Cell>> = runs
        .iter()
        .map(|run| {
            let mut row = vec![
                Cell::number(run.index.to_string(), run.index),
                Cell::text(run.name),
                Cell::text(run.strategy),
            ];
            for k in keys {
                let v = run.swept.get(k.as_str()).copied().unwrap_or("");
                row.push(match v.parse::<f64>() {
                    Ok(n) => Cell::number(v, n),
                    Err(_) => Cell::text(v),
                });
            }
            row.push(Cell::text(run.status));
            for m in &metrics {
                let exact = run.metrics.and_then(|x| x.get(*m)).filter(|v| !v.is_null());
                row.push(match (exact, number(run, m)) {
                    // Floats with 4 decimals; decimals (strings) and counts as sent; the
                    // exact value is what the column sorts by.
                    (Some(Value::String(e)), Some(_)) => Cell::number(e, e),
                    (Some(Value::Number(e)), Some(n)) if e.is_f64() => {
                        Cell::number(format!("{n:.4}"), e)
                    }
                    (Some(e), Some(_)) => Cell::number(e.to_string(), e),
                    _ => Cell::text(""),
                });
            }
            row.push(Cell::text(&run.error));
            row
        })
        .collect();
    let head: Vec<&str> = head.iter().map(String::as_str).collect();
    format!(
        "<div class=\"scroll\">{}</div>\n",
        table("sortable runs", &head, &rows)
    )
}

/// Values of a parameter, numeric order when every value is a number, else first seen.
fn axis_values<'a>(runs: &[Run<'a>], key: &str) -> Vec<&'a str> {
    let mut vals: Vec<&str> = Vec::new();
    for r in runs {
        if let Some(v) = r.swept.get(key).filter(|v| !vals.contains(v)) {
            vals.push(v);
        }
    }
    if vals.iter().all(|v| v.parse::<f64>().is_ok()) {
        vals.sort_by(|a, b| {
            let (a, b) = (
                a.parse::<f64>().unwrap_or(0.0),
                b.parse::<f64>().unwrap_or(0.0),
            );
            a.total_cmp(&b)
        });
    }
    vals
}

/// A cell's colour: red below 0 and green above when the values straddle 0, else light to
/// dark blue from the lowest to the highest.
fn colour(v: f64, lo: f64, hi: f64) -> String {
    let mix = |t: f64, to: (f64, f64, f64)| {
        let t = t.clamp(0.0, 1.0);
        let c = |a: f64| (255.0 + (a - 255.0) * t).round() as u8;
        format!("#{:02x}{:02x}{:02x}", c(to.0), c(to.1), c(to.2))
    };
    if lo < 0.0 && hi > 0.0 {
        if v < 0.0 {
            mix(v / lo, (240.0, 68.0, 56.0))
        } else {
            mix(v / hi, (18.0, 183.0, 106.0))
        }
    } else if hi > lo {
        mix(0.15 + 0.85 * (v - lo) / (hi - lo), (46.0, 144.0, 250.0))
    } else {
        mix(0.5, (46.0, 144.0, 250.0))
    }
}

/// The heatmap table (id `heatmap`): rows are `y` values, columns `x` values; a cell holds
/// the best (highest) value of the metric among the runs with that pair, and how many runs
/// that was when other parameters varied too.
fn heatmap(runs: &[Run<'_>], metric: &str, x: &str, y: &str) -> String {
    let (xs, ys) = (axis_values(runs, x), axis_values(runs, y));
    let mut cells: BTreeMap<(usize, usize), (f64, usize)> = BTreeMap::new();
    for r in runs {
        let (Some(vx), Some(vy)) = (r.swept.get(x), r.swept.get(y)) else {
            continue;
        };
        let (Some(i), Some(j)) = (
            xs.iter().position(|v| v == vx),
            ys.iter().position(|v| v == vy),
        ) else {
            continue;
        };
        let Some(v) = number(r, metric).filter(|v| v.is_finite()) else {
            continue;
        };
        let e = cells.entry((i, j)).or_insert((v, 0));
        e.0 = e.0.max(v);
        e.1 += 1;
    }
    let lo = cells.values().map(|c| c.0).fold(f64::INFINITY, f64::min);
    let hi = cells
        .values()
        .map(|c| c.0)
        .fold(f64::NEG_INFINITY, f64::max);
    let mut out = format!(
        "<table id=\"heatmap\" class=\"heat\" data-cells=\"{}\" data-x=\"{}\" data-y=\"{}\"><thead><tr><th>{} \\ {}</th>",
        cells.len(),
        escape(x),
        escape(y),
        escape(y),
        escape(x)
    );
    for vx in &xs {
        let _ = write!(out, "<th>{}</th>", escape(vx));
    }
    out.push_str("</tr></thead><tbody>\n");
    for (j, vy) in ys.iter().enumerate() {
        let _ = write!(out, "<tr><th>{}</th>", escape(vy));
        for (i, vx) in xs.iter().enumerate() {
            match cells.get(&(i, j)) {
                Some((v, n)) => {
                    let more = if *n > 1 {
                        format!(" <span class=\"note\">best of {n}</span>")
                    } else {
                        String::new()
                    };
                    let _ = write!(
                        out,
                        "<td class=\"cell\" style=\"background:{}\" title=\"{x}={} {y}={}: {v}\">{v:.2}{more}</td>",
                        colour(*v, lo, hi),
                        escape(vx),
                        escape(vy),
                    );
                }
                None => out.push_str("<td>-</td>"),
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table>\n");
    out
}
