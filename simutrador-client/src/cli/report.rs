//! `session report ID` and `batch report DIR`: fetch what a report shows (through the SDK, or
//! from a batch's `summary.json`), hand it to the pure generators of
//! [`simutrador_client::report`], and write the one HTML file.

use anyhow::Context as _;
use serde_json::json;
use simutrador_client::report::{self, BatchReport, SessionReport};
use std::path::{Path, PathBuf};

use super::Context;
use super::args::SessionReportArgs;
use super::batch_args::BatchReportArgs;
use super::output::usage;

/// `session report`.
pub async fn session(args: SessionReportArgs, ctx: &Context) -> anyhow::Result<()> {
    let id = args.id.trim();
    let client = ctx.client().await?;
    let info = client.get_session(id).await?;
    let results = client.get_results(id).await?;
    let (prices, note) = if args.no_prices {
        (
            Vec::new(),
            "Price charts left out (--no-prices): only the fills are drawn.".to_string(),
        )
    } else {
        match report::prices::replay_closes(&client, id).await {
            Ok(p) => (
                p,
                "Closes read by replaying a fork of the session on the data the daemon holds now (the fork is deleted again).".to_string(),
            ),
            Err(e) => (
                Vec::new(),
                format!("No closes: replaying a fork of the session failed ({e}); only the fills are drawn."),
            ),
        }
    };
    let html = report::session_html(&SessionReport {
        info: &info,
        results: &results,
        prices: &prices,
        prices_note: Some(&note),
    });
    let path = args
        .output
        .unwrap_or_else(|| PathBuf::from(format!("session-{}.html", info.session_id)));
    write(&path, &html)?;
    ctx.out.emit(
        &json!({"session_id": info.session_id, "path": path.display().to_string(), "bytes": html.len()}),
        || format!("Wrote {} ({}).", path.display(), size(html.len())),
    )
}

/// `batch report`.
pub fn batch(args: BatchReportArgs, ctx: &Context) -> anyhow::Result<()> {
    let summary_path = args.dir.join("summary.json");
    let text = std::fs::read_to_string(&summary_path).map_err(|e| {
        usage(format!(
            "cannot read {}: {e}; give the output folder of a `batch run` (it holds summary.json)",
            summary_path.display()
        ))
    })?;
    let summary: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| usage(format!("{} is not JSON: {e}", summary_path.display())))?;
    let metric = match args.metric.trim() {
        "return" => "return_pct",
        other => other,
    };
    let title = args.dir.display().to_string();
    let html = report::batch_html(&BatchReport {
        title: &title,
        summary: &summary,
        metric,
        x: args.x.as_deref(),
        y: args.y.as_deref(),
    })
    .map_err(usage)?;
    let path = args.output.unwrap_or_else(|| args.dir.join("report.html"));
    write(&path, &html)?;
    ctx.out.emit(
        &json!({"path": path.display().to_string(), "bytes": html.len()}),
        || format!("Wrote {} ({}).", path.display(), size(html.len())),
    )
}

fn write(path: &Path, html: &str) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    std::fs::write(path, html).with_context(|| format!("cannot write {}", path.display()))
}

fn size(bytes: usize) -> String {
    if bytes >= 1 << 20 {
        format!("{:.1} MB", bytes as f64 / f64::from(1 << 20))
    } else {
        format!("{} KB", bytes.div_ceil(1024))
    }
}
