"""SimuTrador's side: a case through the real daemon and CLI, as JSON.

`session create` (the case's symbol, timeframe, dates, capital, commission, `--no-short`,
`--close-at-end`), `session run --strategy NAME -p ...`, then `--json session results ID
--trades --equity`. Each step is one CLI process, so many cases run side by side in threads.
"""

from __future__ import annotations

from pathlib import Path

from cases import Case
from daemon import Daemon


def import_case(daemon: Daemon, case: Case, folder: Path) -> None:
    csv = folder / f"{case.symbol}.csv"
    case.series.write_csv(csv)
    daemon.import_csv(csv, case.symbol, case.series.timeframe)


def create(daemon: Daemon, case: Case) -> str:
    s = case.series
    args = ["session", "create", case.symbol, "--timeframe", s.timeframe,
            "--start", f"{s.times[0]:%Y-%m-%d}", "--end", f"{s.times[-1]:%Y-%m-%d}",
            "--capital", str(case.capital), "--commission-rate", case.commission,
            "--max-duration", "1h"]
    if not case.allow_short:
        args.append("--no-short")
    if case.close_at_end:
        args.append("--close-at-end")
    return daemon.cli_json(*args)["session_id"]


def run(daemon: Daemon, case: Case) -> dict:
    """Create, run and read back one case: the results document of `session results`."""
    sid = create(daemon, case)
    daemon.cli_json("session", "run", sid, "--strategy", case.strategy, "-q", *case.cli_params())
    return daemon.cli_json("session", "results", sid, "--trades", "--equity")
