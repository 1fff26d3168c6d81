"""Every built-in strategy on seeded series, ours (daemon + CLI) vs backtesting.py 0.6.6.

One test per seed (`case_N`); `FIDELITY_CASES` sets how many (default 200), `FIDELITY_SEED`
runs one. A failing case prints what it was and the command that reproduces it.
"""

from __future__ import annotations

import pytest

import cases
from compare import Comparer, Context, dd_on
from conftest import CONTEXTS, OUTCOMES


def compare_case(case, mine, stats, added, finalized) -> Comparer:
    ctx = Context(finalized=finalized, open_at_end=bool(mine.get("open_positions")),
                  added=added,
                  backfilled=float(stats._equity_curve.Equity.iloc[0]) != case.capital,
                  dd_on_ours=dd_on(mine.get("equity_curve", []), stats._equity_curve.index))
    CONTEXTS.update(k for k in ("finalized", "open_at_end", "added", "backfilled")
                    if getattr(ctx, k))
    c = Comparer(ctx, case.capital)
    c.trades(mine.get("trades", []), stats._trades)
    c.stats(mine["metrics"], stats)
    c.equity(mine.get("equity_curve", []), stats._equity_curve)
    OUTCOMES.append(c.out)
    return c


def report(case, comparer) -> str:
    lines = [case.describe(), f"reproduce: {case.repro()}"]
    lines += [f"  {m}" for m in comparer.out.unexpected()]
    return "\n".join(lines)


@pytest.mark.parametrize("seed", cases.seeds(), ids=lambda s: f"case_{s}")
def test_builtin(batch, seed):
    case, mine, stats, added, finalized = batch[seed]
    if isinstance(mine, Exception):
        pytest.fail(f"{case.describe()}\nreproduce: {case.repro()}\n{mine}")
    c = compare_case(case, mine, stats, added, finalized)
    if c.out.unexpected():
        pytest.fail(report(case, c), pytrace=False)
