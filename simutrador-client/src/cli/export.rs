//! `session export ID --format parquet|csv [-o DIR]`: a finished session's whole results as
//! files for pandas and polars — `trades`, `equity` and `metrics` as Parquet
//! ([`super::parquet_out`]) or as the CSV files of `session results --csv`. The folder
//! defaults to `./<ID>`; existing files of the same names are replaced.

use std::path::PathBuf;

use super::Context;
use super::history_args::{ExportArgs, ExportFormat};
use super::parquet_out;
use super::results_view;

/// Run `session export`.
pub async fn export(args: ExportArgs, ctx: &Context) -> anyhow::Result<()> {
    let id = args.id.trim();
    let dir = args.out.clone().unwrap_or_else(|| PathBuf::from(id));
    let client = ctx.client().await?;
    let results = client.get_results(id).await?;
    let written: Vec<String> = match args.format {
        ExportFormat::Csv => results_view::write_csv(&results, &dir)?,
        ExportFormat::Parquet => {
            std::fs::create_dir_all(&dir)
                .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
            parquet_out::write_all(&results, &dir)?
                .iter()
                .map(|p| p.display().to_string())
                .collect()
        }
    };
    ctx.out.emit(&written, || {
        format!(
            "Wrote {} ({} trades, {} equity points)",
            written.join(", "),
            results.trades.len(),
            results.equity_curve.len()
        )
    })
}
