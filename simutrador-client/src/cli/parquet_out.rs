//! Parquet files of a run's results — `trades.parquet`, `equity.parquet`, `metrics.parquet`
//! — written with the `parquet` crate's column writer (no Arrow: one row group per file,
//! snappy-compressed). The columns are those of the CSV files, typed: times as
//! `TIMESTAMP(MICROS, UTC)`, money and statistics as `DOUBLE` (money rounded to the nearest
//! double: the CSV files keep exact decimals), counts and seconds as `INT64`, undefined
//! values as nulls. pandas (`pd.read_parquet`) and polars read them as they are.

use anyhow::Context as _;
use parquet::basic::Compression;
use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use shared_models::results::SimulationResults;
use simutrador_client::batch::metrics_table::{self, Cell};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One column's values.
#[derive(Debug, Clone, PartialEq)]
pub enum Column {
    /// UTF-8 text, never null.
    Text(Vec<String>),
    /// UTC instants as microseconds since the epoch, never null.
    Time(Vec<i64>),
    /// Doubles; `None` is null.
    Double(Vec<Option<f64>>),
    /// 64-bit integers; `None` is null.
    Int(Vec<Option<i64>>),
}

impl Column {
    fn schema_line(&self, name: &str) -> String {
        match self {
            Column::Text(_) => format!("REQUIRED BYTE_ARRAY {name} (UTF8);"),
            Column::Time(_) => format!("REQUIRED INT64 {name} (TIMESTAMP(MICROS,true));"),
            Column::Double(_) => format!("OPTIONAL DOUBLE {name};"),
            Column::Int(_) => format!("OPTIONAL INT64 {name};"),
        }
    }
}

fn micros(t: &chrono::DateTime<chrono::Utc>) -> i64 {
    t.timestamp_micros()
}

fn dbl(d: Decimal) -> Option<f64> {
    d.to_f64()
}

fn int<T: TryInto<i64>>(v: Option<T>) -> Option<i64> {
    v.and_then(|x| x.try_into().ok())
}

/// Split nullable values into the present ones and their definition levels.
fn levels<T: Copy>(values: &[Option<T>]) -> (Vec<T>, Vec<i16>) {
    let present = values.iter().filter_map(|v| *v).collect();
    let defs = values.iter().map(|v| i16::from(v.is_some())).collect();
    (present, defs)
}

/// Write `columns` as one row group of a Parquet file at `path`.
pub fn write_table(path: &Path, name: &str, columns: &[(&str, Column)]) -> anyhow::Result<()> {
    let fields: Vec<String> = columns.iter().map(|(n, c)| c.schema_line(n)).collect();
    let schema = parse_message_type(&format!("message {name} {{ {} }}", fields.join(" ")))
        .context("building the Parquet schema")?;
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .build();
    let file =
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut writer = SerializedFileWriter::new(file, Arc::new(schema), Arc::new(props))?;
    let mut group = writer.next_row_group()?;
    let mut values = columns.iter().map(|(_, c)| c);
    while let Some(mut out) = group.next_column()? {
        let Some(column) = values.next() else { break };
        match column {
            Column::Text(v) => {
                let bytes: Vec<ByteArray> = v.iter().map(|s| ByteArray::from(s.as_str())).collect();
                out.typed::<ByteArrayType>()
                    .write_batch(&bytes, None, None)?;
            }
            Column::Time(v) => {
                out.typed::<Int64Type>().write_batch(v, None, None)?;
            }
            Column::Double(v) => {
                let (present, defs) = levels(v);
                out.typed::<DoubleType>()
                    .write_batch(&present, Some(&defs), None)?;
            }
            Column::Int(v) => {
                let (present, defs) = levels(v);
                out.typed::<Int64Type>()
                    .write_batch(&present, Some(&defs), None)?;
            }
        }
        out.close()?;
    }
    group.close()?;
    writer
        .close()
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// The columns of `trades.parquet` (those of `trades.csv`).
pub fn trade_columns(r: &SimulationResults) -> Vec<(&'static str, Column)> {
    let t = &r.trades;
    let side = |tr: &shared_models::trading::Trade| {
        serde_json::to_value(tr.side)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    };
    vec![
        (
            "symbol",
            Column::Text(t.iter().map(|x| x.symbol.to_string()).collect()),
        ),
        ("side", Column::Text(t.iter().map(side).collect())),
        (
            "quantity",
            Column::Double(t.iter().map(|x| dbl(x.quantity)).collect()),
        ),
        (
            "entry_time",
            Column::Time(t.iter().map(|x| micros(&x.entry_time)).collect()),
        ),
        (
            "entry_price",
            Column::Double(t.iter().map(|x| dbl(x.entry_price)).collect()),
        ),
        (
            "exit_time",
            Column::Time(t.iter().map(|x| micros(&x.exit_time)).collect()),
        ),
        (
            "exit_price",
            Column::Double(t.iter().map(|x| dbl(x.exit_price)).collect()),
        ),
        (
            "pnl",
            Column::Double(t.iter().map(|x| dbl(x.pnl)).collect()),
        ),
        (
            "return_pct",
            Column::Double(t.iter().map(|x| Some(x.return_pct)).collect()),
        ),
        (
            "commission",
            Column::Double(t.iter().map(|x| dbl(x.commission)).collect()),
        ),
        (
            "duration",
            Column::Int(t.iter().map(|x| Some(x.duration)).collect()),
        ),
        (
            "entry_bar",
            Column::Int(t.iter().map(|x| int(x.entry_bar)).collect()),
        ),
        (
            "exit_bar",
            Column::Int(t.iter().map(|x| int(x.exit_bar)).collect()),
        ),
    ]
}

/// The columns of `equity.parquet` (those of `equity.csv`).
pub fn equity_columns(r: &SimulationResults) -> Vec<(&'static str, Column)> {
    let e = &r.equity_curve;
    vec![
        (
            "time",
            Column::Time(e.iter().map(|p| micros(&p.time)).collect()),
        ),
        (
            "equity",
            Column::Double(e.iter().map(|p| dbl(p.equity)).collect()),
        ),
        (
            "drawdown_pct",
            Column::Double(e.iter().map(|p| Some(p.drawdown_pct)).collect()),
        ),
        (
            "drawdown_duration",
            Column::Int(e.iter().map(|p| p.drawdown_duration).collect()),
        ),
    ]
}

/// The columns of `metrics.parquet`: one row, the columns of `metrics.csv`.
pub fn metric_columns(r: &SimulationResults) -> Vec<(&'static str, Column)> {
    metrics_table::columns(&r.metrics)
        .into_iter()
        .map(|(name, cell)| {
            let column = match cell {
                Cell::Time(t) => Column::Time(vec![micros(&t)]),
                Cell::Count(n) => Column::Int(vec![i64::try_from(n).ok()]),
                other => Column::Double(vec![other.number()]),
            };
            (name, column)
        })
        .collect()
}

/// Write the three files into `dir`; returns their paths.
pub fn write_all(r: &SimulationResults, dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for (file, name, columns) in [
        ("trades.parquet", "trades", trade_columns(r)),
        ("equity.parquet", "equity", equity_columns(r)),
        ("metrics.parquet", "metrics", metric_columns(r)),
    ] {
        let path = dir.join(file);
        write_table(&path, name, &columns)?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
#[path = "parquet_out_tests.rs"]
mod tests;
