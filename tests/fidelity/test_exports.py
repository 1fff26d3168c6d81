"""Exports as pandas reads them: `session results --csv` and `session export` on an sma-cross
run over a generated daily series. Every `metrics.csv` column but `start`/`end` is numeric, the timestamps of
all three CSV files parse as UTC instants, and (only where pyarrow is installed: it is not in
requirements.txt) the Parquet files load with the same row counts."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from daemon import BIN, Daemon


@pytest.fixture(scope="module")
def finished(built, workdir):
    """A daemon with one finished sma-cross run on EXP 2020: (daemon, session id, results)."""
    daemon = Daemon(workdir / "exports")
    csv = workdir / "exports" / "EXP.csv"
    days = pd.date_range("2020-01-01", "2020-12-31", freq="D")
    rows = ["timestamp,open,high,low,close,volume"]
    for i, day in enumerate(days):
        close = 100 + 10 * math.sin(i / 9) + i / 20
        rows.append(f"{day:%Y-%m-%d},{close:.2f},{close + 1:.2f},{close - 1:.2f},{close:.2f},1000")
    csv.write_text("\n".join(rows) + "\n")
    daemon.import_csv(csv, "EXP", "1d")
    daemon.start()
    try:
        sid = daemon.cli_json("session", "create", "EXP", "--start", "2020-01-01",
                              "--end", "2020-12-31")["session_id"]
        daemon.cli_json("session", "run", sid, "--strategy", "sma-cross", "-q",
                        "-p", "fast=5", "-p", "slow=20")
        results = daemon.cli_json("session", "results", sid, "--trades", "--equity")
        yield daemon, sid, results
    finally:
        daemon.stop()


def test_metrics_csv_is_one_row_of_numbers(finished, workdir):
    daemon, sid, results = finished
    out = workdir / "exports" / "csv"
    # --csv and --json are exclusive: the human form, as a user types it.
    daemon._run([str(BIN / "simutrador-client"), "session", "results", sid, "--csv", str(out)])
    m = pd.read_csv(out / "metrics.csv", parse_dates=["start", "end"])
    assert len(m) == 1
    for column in m.columns:
        if column in ("start", "end"):
            assert str(m[column].dt.tz) == "UTC", column
        else:
            assert pd.api.types.is_numeric_dtype(m[column]), f"{column}: {m[column].dtype}"
    assert m["num_trades"][0] == results["metrics"]["num_trades"]
    assert m["return_pct"][0] == pytest.approx(results["metrics"]["return_pct"])
    trades = pd.read_csv(out / "trades.csv")
    assert len(trades) == len(results["trades"])
    for column in ("entry_time", "exit_time"):
        assert pd.to_datetime(trades[column], format="ISO8601", utc=True).notna().all()
    equity = pd.read_csv(out / "equity.csv")
    assert len(equity) == len(results["equity_curve"])
    assert pd.to_datetime(equity["time"], format="ISO8601", utc=True).notna().all()


def test_parquet_export_loads_in_pandas(finished, workdir):
    pytest.importorskip("pyarrow")
    daemon, sid, results = finished
    out = workdir / "exports" / "parquet"
    daemon.cli_json("session", "export", sid, "-o", str(out))
    assert len(pd.read_parquet(out / "trades.parquet")) == len(results["trades"])
    assert len(pd.read_parquet(out / "equity.parquet")) == len(results["equity_curve"])
    m = pd.read_parquet(out / "metrics.parquet")
    assert len(m) == 1 and pd.api.types.is_datetime64_any_dtype(m["start"])

