//! The HTML page every report shares: one self-contained document with uPlot (vendored, see
//! `vendor/README.md`), its stylesheet, the report's glue script (`charts.js`) and the chart
//! data as inline JSON; nothing is loaded from the network, so the file works offline.

use serde::Serialize;
use std::fmt::Write as _;

const UPLOT_JS: &str = include_str!("vendor/uPlot.iife.min.js");
const UPLOT_CSS: &str = include_str!("vendor/uPlot.min.css");
const GLUE_JS: &str = include_str!("charts.js");

const STYLE: &str = r#"
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2433;background:#f6f7f9}
main{max-width:1400px;margin:0 auto;padding:16px 24px 48px}
h1{font-size:22px;margin:8px 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #dde1e7;padding-bottom:4px}
.sub{color:#5b6475;margin:0 0 12px}.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:16px}
.card{background:#fff;border:1px solid #dde1e7;border-radius:6px;padding:12px 14px}
.chart{background:#fff;border:1px solid #dde1e7;border-radius:6px;padding:8px;margin:8px 0;overflow-x:auto}
table{border-collapse:collapse;background:#fff;font-variant-numeric:tabular-nums}
th,td{padding:3px 10px;border-bottom:1px solid #eceef2;text-align:right;white-space:nowrap}
th:first-child,td:first-child,td:not([data-v]){text-align:left}th{background:#eef1f5;position:sticky;top:0}
table.sortable th{cursor:pointer}table.sortable th[data-dir=asc]::after{content:" \25B2"}table.sortable th[data-dir=desc]::after{content:" \25BC"}
.scroll{max-height:520px;overflow:auto;border:1px solid #dde1e7;border-radius:6px}
.bad{color:#b42318;font-weight:600}.good{color:#067647;font-weight:600}
.meter{background:#eceef2;border-radius:3px;height:8px;width:160px;display:inline-block;vertical-align:middle}
.meter>span{display:block;height:8px;border-radius:3px;background:#2e90fa}.meter>span.hot{background:#f04438}
.note{color:#5b6475;font-size:12px}.heat td{min-width:64px;text-align:center;color:#101828}
"#;

/// One line of a chart (uPlot series): `style` is `line`, `area`, `points` (filled markers)
/// or `rings` (hollow markers); series with the same `scale` share a y axis.
#[derive(Debug, Clone, Serialize)]
pub struct Series {
    /// Legend text.
    pub label: String,
    /// CSS colour (`#rrggbb`).
    pub color: &'static str,
    /// The y scale's name.
    pub scale: &'static str,
    /// Axis title of the scale (the first series of a scale names it).
    pub axis: &'static str,
    /// `line`, `area`, `points` or `rings`.
    pub style: &'static str,
    /// One value per x, `None` where the series has no point.
    pub values: Vec<Option<f64>>,
}

/// One chart: shared x values (seconds since the epoch, ascending) and its series.
#[derive(Debug, Clone, Serialize)]
pub struct Chart {
    /// The element id the chart is drawn into.
    pub id: String,
    /// Height in pixels.
    pub height: u32,
    /// x values.
    pub x: Vec<i64>,
    /// Whether x is a time (seconds since the epoch) or a plain number.
    pub x_time: bool,
    /// The series.
    pub series: Vec<Series>,
}

impl Chart {
    /// The chart's placeholder element, with its title and the counts the page will show.
    pub fn placeholder(&self, title: &str, note: &str) -> String {
        format!(
            "<div class=\"chart\"><div><b>{}</b> <span class=\"note\">{}</span></div><div id=\"{}\" class=\"plot\" data-expected-series=\"{}\" data-expected-points=\"{}\"></div></div>\n",
            escape(title),
            escape(note),
            escape(&self.id),
            self.series.len(),
            self.x.len()
        )
    }
}

/// `&`, `<`, `>`, `"` and `'` as entities.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The whole document: `body` is trusted HTML built with [`escape`]; the charts travel as JSON
/// in which every `<` is written `\u003c`, so no string in it can close the script element.
pub fn document(title: &str, body: &str, charts: &[Chart]) -> String {
    let json = serde_json::to_string(&serde_json::json!({ "charts": charts }))
        .unwrap_or_else(|_| "{\"charts\":[]}".into())
        .replace('<', "\\u003c");
    let mut out = String::with_capacity(body.len() + json.len() + UPLOT_JS.len() + 8192);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<meta name=\"generator\" content=\"simutrador-client {}\">\
<title>{}</title>\n<style>{UPLOT_CSS}</style>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n{body}</main>\n\
<script type=\"application/json\" id=\"report-data\">{json}</script>\n\
<script>{UPLOT_JS}</script>\n<script>{GLUE_JS}</script>\n</body></html>\n",
        env!("CARGO_PKG_VERSION"),
        escape(title),
    );
    out
}

/// A table: `head` cells, then rows of `(text, sort value)` cells (already escaped text).
pub fn table(class: &str, head: &[&str], rows: &[Vec<Cell>]) -> String {
    let mut out = format!("<table class=\"{class}\"><thead><tr>");
    for h in head {
        let _ = write!(out, "<th>{}</th>", escape(h));
    }
    out.push_str("</tr></thead><tbody>\n");
    for row in rows {
        out.push_str("<tr>");
        for cell in row {
            match &cell.sort {
                Some(v) => {
                    let _ = write!(out, "<td data-v=\"{}\">{}</td>", escape(v), cell.html);
                }
                None => {
                    let _ = write!(out, "<td>{}</td>", cell.html);
                }
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table>\n");
    out
}

/// A table cell: its HTML and, for numbers, the exact value it sorts by.
#[derive(Debug, Clone)]
pub struct Cell {
    /// Escaped HTML.
    pub html: String,
    /// The value a sortable table sorts by (numbers as text).
    pub sort: Option<String>,
}

impl Cell {
    /// Plain text (escaped here).
    pub fn text(text: impl AsRef<str>) -> Self {
        Cell {
            html: escape(text.as_ref()),
            sort: None,
        }
    }

    /// A number shown as `shown`, sorted by `exact`.
    pub fn number(shown: impl AsRef<str>, exact: impl ToString) -> Self {
        Cell {
            html: escape(shown.as_ref()),
            sort: Some(exact.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_self_contained_and_json_cannot_close_the_script() {
        let chart = Chart {
            id: "c".into(),
            height: 100,
            x: vec![1, 2],
            x_time: true,
            series: vec![Series {
                label: "</script><b>".into(),
                color: "#000000",
                scale: "y",
                axis: "",
                style: "line",
                values: vec![Some(1.0), None],
            }],
        };
        let html = document("A & B", "<p>x</p>", &[chart]);
        assert!(html.contains("<title>A &amp; B</title>"));
        assert!(html.contains("\\u003c/script>\\u003cb>"));
        assert_eq!(
            html.matches("</script>").count(),
            3,
            "three script elements"
        );
        assert!(
            !html.contains("<link") && !html.contains("<script src") && !html.contains("@import")
        );
    }
}
