//! Reads the Parquet files back with the `parquet` crate's reader: row counts, column names
//! and types, nulls where a value is undefined.

use super::*;
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;

fn results() -> SimulationResults {
    // Two trades (one without bar indexes), three equity points, an undefined Sharpe ratio.
    let json = r#"{"metrics": {"start": "2020-01-01T00:00:00Z", "end": "2020-01-03T00:00:00Z", "duration": 172800, "exposure_time_pct": 66.7, "equity_final": "100120.00", "equity_peak": "100120.00", "commissions": "1.5", "return_pct": 0.12, "buy_and_hold_return_pct": 0.5, "return_ann_pct": null, "volatility_ann_pct": null, "cagr_pct": null, "sharpe_ratio": null, "sortino_ratio": null, "calmar_ratio": null, "max_drawdown_pct": -1.5, "avg_drawdown_pct": -0.5, "max_drawdown_duration": 86400, "avg_drawdown_duration": null, "num_trades": 2, "win_rate_pct": 50.0, "best_trade_pct": 1.2, "worst_trade_pct": -0.4, "avg_trade_pct": 0.4, "max_trade_duration": 86400, "avg_trade_duration": 86400, "profit_factor": 3.0, "expectancy_pct": 0.4, "sqn": null},
      "trades": [
        {"symbol": "ACME", "side": "long", "quantity": "100", "entry_time": "2020-01-02T00:00:00Z", "entry_price": "100.00", "exit_time": "2020-01-03T00:00:00Z", "exit_price": "101.20", "pnl": "120.00", "return_pct": 1.2, "commission": "0", "duration": 86400, "entry_bar": 1, "exit_bar": 2},
        {"symbol": "GLOBEX", "side": "short", "quantity": "10", "entry_time": "2020-01-02T00:00:00Z", "entry_price": "50", "exit_time": "2020-01-03T00:00:00Z", "exit_price": "50.2", "pnl": "-2", "return_pct": -0.4, "commission": "1.5", "duration": 86400}],
      "open_positions": [],
      "equity_curve": [{"time": "2020-01-01T00:00:00Z", "equity": "100000"}, {"time": "2020-01-02T00:00:00Z", "equity": "99000", "drawdown_pct": 1.0}, {"time": "2020-01-03T00:00:00Z", "equity": "100120.00", "drawdown_duration": 86400}]}"#;
    serde_json::from_str(json).unwrap()
}

/// Every row of a file as (column name, field) pairs.
fn rows(path: &Path) -> Vec<Vec<(String, Field)>> {
    let reader = SerializedFileReader::new(std::fs::File::open(path).unwrap()).unwrap();
    let declared = reader.metadata().file_metadata().num_rows();
    let rows: Vec<Vec<(String, Field)>> = reader
        .get_row_iter(None)
        .unwrap()
        .map(|r| {
            r.unwrap()
                .get_column_iter()
                .map(|(n, f)| (n.clone(), f.clone()))
                .collect()
        })
        .collect();
    assert_eq!(rows.len() as i64, declared);
    rows
}

fn field<'a>(row: &'a [(String, Field)], name: &str) -> &'a Field {
    &row.iter().find(|(n, _)| n == name).unwrap().1
}

#[test]
fn the_three_files_read_back_with_their_rows_and_types() {
    let dir = tempfile::tempdir().unwrap();
    let written = write_all(&results(), dir.path()).unwrap();
    assert_eq!(written.len(), 3);

    let trades = rows(&dir.path().join("trades.parquet"));
    assert_eq!(trades.len(), 2);
    assert_eq!(field(&trades[0], "symbol"), &Field::Str("ACME".into()));
    assert_eq!(field(&trades[1], "side"), &Field::Str("short".into()));
    assert_eq!(
        field(&trades[0], "entry_time"),
        &Field::TimestampMicros(1_577_923_200_000_000)
    );
    assert_eq!(field(&trades[0], "pnl"), &Field::Double(120.0));
    assert_eq!(field(&trades[1], "duration"), &Field::Long(86_400));
    assert_eq!(field(&trades[0], "exit_bar"), &Field::Long(2));
    assert_eq!(field(&trades[1], "exit_bar"), &Field::Null);

    let equity = rows(&dir.path().join("equity.parquet"));
    assert_eq!(equity.len(), 3);
    assert_eq!(field(&equity[1], "equity"), &Field::Double(99_000.0));
    assert_eq!(field(&equity[1], "drawdown_pct"), &Field::Double(1.0));
    assert_eq!(field(&equity[2], "drawdown_duration"), &Field::Long(86_400));
    assert_eq!(field(&equity[0], "drawdown_duration"), &Field::Null);

    let metrics = rows(&dir.path().join("metrics.parquet"));
    assert_eq!(metrics.len(), 1);
    let m = &metrics[0];
    assert_eq!(m.len(), metrics_table::column_names().len());
    assert!(matches!(field(m, "start"), Field::TimestampMicros(_)));
    assert_eq!(field(m, "duration_days"), &Field::Double(2.0));
    assert_eq!(field(m, "equity_final_ccy"), &Field::Double(100_120.0));
    assert_eq!(field(m, "num_trades"), &Field::Long(2));
    assert_eq!(field(m, "sharpe_ratio"), &Field::Null);
    assert_eq!(field(m, "max_drawdown_duration_days"), &Field::Double(1.0));
}

#[test]
fn a_run_without_trades_writes_an_empty_trades_file() {
    let mut r = results();
    r.trades.clear();
    let dir = tempfile::tempdir().unwrap();
    write_all(&r, dir.path()).unwrap();
    assert!(rows(&dir.path().join("trades.parquet")).is_empty());
}
