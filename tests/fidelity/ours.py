"""SimuTrador's side: a case through the real daemon and CLI, as JSON.

Order cases (`run_orders`) run the SDK program `fidelity_orders` instead of `session run`.

`session create` (the case's symbol, timeframe, dates, capital, commission, `--no-short`,
`--close-at-end`), `session run --strategy NAME -p ...`, then `--json session results ID
--trades --equity`. Each step is one CLI process, so many cases run side by side in threads.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from cases import Case
from daemon import BIN, CliError, Daemon


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
    # Exit 3: the run ended early at a limit or bankrupt (docs/client.md, exit codes); its
    # results are compared like any other (backtesting.py stops at bankruptcy too).
    daemon.cli_json(
        "session", "run", sid, "--strategy", case.strategy, "-q", *case.cli_params(), ok=(0, 3)
    )
    return daemon.cli_json("session", "results", sid, "--trades", "--equity")


ORDERS_BIN = "fidelity_orders"  # tests/src/bin/fidelity_orders.rs (crate simutrador-e2e)


def run_orders(daemon: Daemon, case, plan: Path) -> tuple[dict, dict]:
    """An order case (`orders_plan.OrdersCase`): create its session, play `plan` with the SDK
    program, read back the results. Returns (results document, the program's fills)."""
    sid = create(daemon, case)
    cmd = [str(BIN / ORDERS_BIN), "--url", daemon.url, "--session", sid, "--plan", str(plan)]
    env = dict(daemon.env, SIMUTRADOR_API_KEY=daemon.api_key())
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if p.returncode != 0:
        raise CliError(f"{' '.join(cmd)} -> exit {p.returncode}\n{p.stdout}\n{p.stderr}")
    played = json.loads(p.stdout)
    return daemon.cli_json("session", "results", sid, "--trades", "--equity"), played
