"""The same comparison as test_builtin.py, on series hypothesis generates (and shrinks).

A failure shrinks to a short series of closes in cents (few distinct values, so ties are
common) and the smallest parameters that still differ. Every example imports its series
under a new symbol and restarts the daemon (the catalog is loaded at start-up).
`FIDELITY_EXAMPLES` sets the number of examples (default 15); the run is derandomized, so CI
sees the same examples every time.
"""

from __future__ import annotations

import itertools
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bt_side
import ours
from cases import Case
from compare import Comparer, Context, dd_on
from daemon import Daemon
from series import TIMEFRAMES, Series, _times

EXAMPLES = int(os.environ.get("FIDELITY_EXAMPLES", "15"))
_names = itertools.count()


@pytest.fixture(scope="module")
def prop_daemon(built, workdir):
    d = Daemon(workdir / "property")
    (workdir / "property" / "csv").mkdir()
    yield d
    d.stop()


@st.composite
def series(draw) -> Series:
    kind = draw(st.sampled_from(TIMEFRAMES))
    levels = draw(st.lists(st.integers(100, 400), min_size=3, max_size=6, unique=True))
    closes = draw(st.lists(st.sampled_from(levels), min_size=30, max_size=120))
    times = _times(kind, len(closes), np.random.default_rng(0))
    ohlc = np.zeros((len(closes), 4), np.int64)
    prev = closes[0]
    for i, c in enumerate(closes):
        o = prev
        ohlc[i] = (o, max(o, c) + (c % 3), max(1, min(o, c) - (c % 2)), c)
        prev = c
    return Series("1d" if kind == "1d-weekends" else kind, times, ohlc,
                  np.full(len(closes), 1000), [kind, "hypothesis"])


@st.composite
def case(draw) -> Case:
    s = draw(series())
    which = draw(st.sampled_from(["sma-cross", "rsi-reversion"]))
    if which == "sma-cross":
        fast = draw(st.integers(1, 5))
        params = dict(fast=fast, slow=draw(st.integers(fast + 1, fast + 8)), short=draw(st.booleans()))
    else:
        params = dict(period=draw(st.integers(2, 6)), lower=float(draw(st.integers(10, 45))),
                      upper=float(draw(st.integers(55, 90))))
    commission = draw(st.sampled_from(["0", "0.001", "0.002"]))
    return Case(next(_names), s, which, params, capital=draw(st.sampled_from([1_000, 10_000])),
                commission=commission, allow_short=True, close_at_end=draw(st.booleans()))


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                 HealthCheck.data_too_large])
@given(c=case())
def test_property(prop_daemon, c):
    prop_daemon.stop()
    ours.import_case(prop_daemon, c, prop_daemon.work / "csv")  # symbol F<counter>: new
    prop_daemon.start()
    mine = ours.run(prop_daemon, c)
    stats, added, finalized = bt_side.run(c.series.frame(), c.series.closes_cents(), c.strategy,
                                          c.params, c.capital, c.commission, c.close_at_end)
    ctx = Context(finalized=finalized, open_at_end=bool(mine.get("open_positions")), added=added,
                  backfilled=float(stats._equity_curve.Equity.iloc[0]) != c.capital,
                  dd_on_ours=dd_on(mine.get("equity_curve", []), stats._equity_curve.index))
    cmp = Comparer(ctx, c.capital)
    cmp.trades(mine.get("trades", []), stats._trades)
    cmp.stats(mine["metrics"], stats)
    cmp.equity(mine.get("equity_curve", []), stats._equity_curve)
    bad = cmp.out.unexpected()
    closes = c.series.closes_cents()
    assert not bad, (f"{c.describe()}\ncloses (cents): {closes}\n"
                     + "\n".join(f"  {m}" for m in bad))
