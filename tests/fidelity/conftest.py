"""Fixtures of the differential suite: the daemon, the batch of built-in cases, the report.

- `workdir`: a temp dir for the session (data dir, HOME, CSVs), removed at the end.
- `built`: `cargo build -p simutrador-server -p simutrador-client` once per session.
- `batch`: every seeded case of test_builtin.py run at once: the series imported, one daemon
  started, every case created and run through the CLI in threads while backtesting.py runs
  the same cases in this process; the test functions then only compare.
- `orders_batch`: the same for the order cases of test_orders.py (orders_plan.py), on a daemon
  of their own, each played by the SDK program `fidelity_orders` (built here).
- At the end, a table of every compared key: how often compared, how often different (known
  differences and unexpected ones apart).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import bt_orders  # noqa: E402
import bt_side  # noqa: E402
import orders_plan  # noqa: E402
import cases as cases_mod  # noqa: E402
import ours  # noqa: E402
from compare import Outcome  # noqa: E402
from daemon import ROOT, Daemon, build  # noqa: E402

OUTCOMES: list[Outcome] = []
CONTEXTS: Counter = Counter()  # how many cases had each condition of compare.Context


@pytest.fixture(scope="session")
def workdir():
    d = Path(tempfile.mkdtemp(prefix="simutrador-fidelity-"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="session")
def built():
    build()


@pytest.fixture(scope="session")
def batch(built, workdir):
    """seed -> (case, our results or the CLI error, backtesting.py stats, added fills,
    finalized)."""
    all_cases = [cases_mod.draw(s) for s in cases_mod.seeds()]
    daemon = Daemon(workdir / "builtin")
    csvs = workdir / "builtin" / "csv"
    csvs.mkdir()
    for case in all_cases:
        ours.import_case(daemon, case, csvs)
    daemon.start()
    try:
        def mine(case):
            try:
                return ours.run(daemon, case)
            except Exception as e:  # reported by the case's test
                return e
        with ThreadPoolExecutor(max_workers=3) as pool:
            futures = {c.seed: pool.submit(mine, c) for c in all_cases}
            theirs = {}
            for c in all_cases:
                theirs[c.seed] = bt_side.run(c.series.frame(), c.series.closes_cents(), c.strategy,
                                             c.params, c.capital, c.commission, c.close_at_end)
            results = {c.seed: (c, futures[c.seed].result(), *theirs[c.seed]) for c in all_cases}
    finally:
        daemon.stop()
    return results


@pytest.fixture(scope="session")
def orders_batch(built, workdir):
    """seed -> (case, (our results, our fills) or the error, backtesting.py stats)."""
    subprocess.run(["cargo", "build", "-q", "-p", "simutrador-e2e", "--bin", ours.ORDERS_BIN],
                   cwd=ROOT, check=True)
    all_cases = [orders_plan.draw(s) for s in orders_plan.seeds()]
    root = workdir / "orders"
    daemon = Daemon(root)
    csvs = root / "csv"
    csvs.mkdir()
    for case in all_cases:
        ours.import_case(daemon, case, csvs)
        case.write_plan(csvs / f"{case.symbol}.plan.json")
    daemon.start()
    try:
        def mine(case):
            try:
                return ours.run_orders(daemon, case, csvs / f"{case.symbol}.plan.json")
            except Exception as e:  # reported by the case's test
                return e
        with ThreadPoolExecutor(max_workers=3) as pool:
            futures = {c.seed: pool.submit(mine, c) for c in all_cases}
            theirs = {c.seed: bt_orders.run(c) for c in all_cases}
            results = {c.seed: (c, futures[c.seed].result(), theirs[c.seed]) for c in all_cases}
    finally:
        daemon.stop()
    return results


def pytest_terminal_summary(terminalreporter):
    if not OUTCOMES:
        return
    compared, known, unexpected = Counter(), Counter(), Counter()
    for o in OUTCOMES:
        compared.update(set(o.compared))
        known.update({m.key for m in o.mismatches if m.known})
        unexpected.update({m.key for m in o.mismatches if not m.known})
    tr = terminalreporter
    tr.section("fidelity: cases with a difference, per compared key")
    tr.write_line("conditions: " + ", ".join(f"{k} {v}" for k, v in sorted(CONTEXTS.items())))
    tr.write_line(f"{len(OUTCOMES)} cases; {'key':<28} {'compared':>8} {'known':>6} {'unexpected':>10}")
    for key in sorted(compared, key=lambda k: (-(known[k] + unexpected[k]), k)):
        tr.write_line(f"{'':>10}{key:<28} {compared[key]:>8} {known[key]:>6} {unexpected[key]:>10}")
