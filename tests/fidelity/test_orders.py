"""Limit, stop, stop-limit and bracket orders: seeded plans played by an SDK strategy through
the real daemon (tests/src/bin/fidelity_orders.rs) and by backtesting.py 0.6.6 (bt_orders.py).

One test per seed (`orders_N`); `FIDELITY_ORDER_CASES` sets how many (default 40),
`FIDELITY_ORDER_SEED` runs one. Trades are compared episode by episode (orders_plan.py: one
position at a time), so a deliberate difference of the order models (compare.
ORDER_MODEL_DIFFERENCES) explains the trades of the one episode that meets its condition and
nothing else; statistics and the equity curve are compared for the whole case.
"""

from __future__ import annotations

import calendar
from dataclasses import replace

import pandas as pd
import pytest

import orders_plan
from compare import Comparer, Context, dd_on
from conftest import CONTEXTS, OUTCOMES
from orders_plan import Episode, OrdersCase


def _bar_of(case: OrdersCase) -> dict[int, int]:
    return {calendar.timegm(t.timetuple()): i for i, t in enumerate(case.series.times)}


def episode_flags(case: OrdersCase, ep: Episode, fills: dict[str, dict]) -> set[str]:
    """The deliberate model differences (compare.ORDER_MODEL_DIFFERENCES) this episode meets,
    decided from the bars, the plan and our fills (`order_id` -> first fill)."""
    e, bars, bar_of = ep.entry, case.series.ohlc, _bar_of(case)
    flags: set[str] = set()
    buy = e.side == "buy"
    entry = fills.get(e.order_id)
    entry_bar = bar_of[entry["time"]] if entry else None
    if e.order_type == "stop_limit":
        # live from the bar after its decision to its fill or the bar of its cancel's decision
        for j in range(ep.start + 1, (entry_bar if entry else ep.end) + 1):
            o, h, lo, _ = (int(x) for x in bars[j])
            if (h >= e.stop) if buy else (lo <= e.stop):
                if ((o > e.stop) if buy else (o < e.stop)) or e.limit == e.stop:
                    flags.add("stop_limit_trigger")
                break
    if entry and e.order_type != "market":
        o, h, lo, _ = (int(x) for x in bars[entry_bar])
        for suffix in (":sl", ":tp"):
            child = fills.get(e.order_id + suffix)
            if not child or child["time"] != entry["time"]:
                continue
            # backtesting.py 0.6.6 re-checks in the entry bar only for a stop entry (no limit)
            # whose take-profit is hit and stop-loss is not
            bt_rechecks = e.order_type == "stop" and e.tp is not None and (
                (e.tp <= h and (e.sl if e.sl is not None else -1) < lo) if buy else
                (e.tp >= lo and (e.sl if e.sl is not None else float("inf")) > h))
            if not bt_rechecks:
                flags.add("bracket_entry_bar")
    return flags


def coverage(case: OrdersCase, ep: Episode, fills: dict[str, dict]) -> set[str]:
    """What the episode exercised on our side, for the run's `conditions:` line: the entry
    type filled or not, a fill at an open that gapped through the level, a level touched
    exactly by the bar's high or low, bracket exits, an exit in the entry's bar, both bracket
    levels touched in the exit's bar."""
    e, bars, bar_of = ep.entry, case.series.ohlc, _bar_of(case)
    buy, tags = e.side == "buy", set()
    entry = fills.get(e.order_id)
    tags.add(f"{e.order_type}:{'filled' if entry else 'not-filled'}")
    if not entry:
        return tags
    j = bar_of[entry["time"]]
    o, h, lo, _ = (int(x) for x in bars[j])
    price = round(float(entry["price"]) * 100)
    level = e.limit if e.order_type == "limit" else e.stop
    if level is not None and price == o and o != level:
        tags.add("gap-fill")
    if level is not None and (lo == level if (buy == (e.order_type == "limit")) else h == level):
        tags.add("exact-touch")
    for suffix in (":sl", ":tp"):
        child = fills.get(e.order_id + suffix)
        if not child:
            continue
        tags.add(f"exit{suffix}")
        k = bar_of[child["time"]]
        if k == j:
            tags.add(f"{e.order_type}:exit-in-entry-bar")
        _, ch, clo, _ = (int(x) for x in bars[k])
        if e.sl is not None and e.tp is not None and \
                ((clo <= e.sl and ch >= e.tp) if buy else (ch >= e.sl and clo <= e.tp)):
            tags.add("sl-and-tp-touched")
    return tags


def _episode_of(case: OrdersCase, bar: int) -> int:
    """The episode whose entry can fill on `bar` (the last one decided before it)."""
    k = -1
    for i, ep in enumerate(case.episodes):
        if ep.start < bar:
            k = i
    return k


def first_fills(played: dict) -> dict[str, dict]:
    """order id -> its first fill, from the SDK program's output."""
    fills: dict[str, dict] = {}
    for f in played["fills"]:
        fills.setdefault(f["order_id"], f)
    return fills


def compare_case(case: OrdersCase, mine: dict, played: dict, stats) -> tuple[Comparer, dict]:
    """Every comparison of one order case; also returns episode -> its flags."""
    fills = first_fills(played)
    flags = {i: episode_flags(case, ep, fills) for i, ep in enumerate(case.episodes)}
    every = frozenset(f for fs in flags.values() for f in fs)
    ctx = Context(finalized=False, open_at_end=bool(mine.get("open_positions")), added=0,
                  backfilled=float(stats._equity_curve.Equity.iloc[0]) != case.capital,
                  dd_on_ours=dd_on(mine.get("equity_curve", []), stats._equity_curve.index),
                  order_flags=every)
    c = Comparer(ctx, case.capital)
    # trades, episode by episode
    bar_of = _bar_of(case)
    ours_by: dict[int, list] = {}
    for t in mine.get("trades", []):
        bar = bar_of[int(pd.Timestamp(t["entry_time"]).timestamp())]
        ours_by.setdefault(_episode_of(case, bar), []).append(t)
    theirs = stats._trades
    theirs_ep = [_episode_of(case, int(b)) for b in theirs.EntryBar]
    for k in sorted(set(ours_by) | set(theirs_ep)):
        one = Comparer(replace(ctx, order_flags=frozenset(flags.get(k, ()))), case.capital)
        one.out = c.out
        one.trades(ours_by.get(k, []), theirs[[e == k for e in theirs_ep]])
    if not len(theirs) and not mine.get("trades"):
        c.check("trades", "0 trades", "0 trades", True)
    c.stats(mine["metrics"], stats)
    c.equity(mine.get("equity_curve", []), stats._equity_curve)
    return c, flags


def report(case: OrdersCase, c: Comparer, flags: dict, mine: dict, stats) -> str:
    lines = [case.describe(), f"reproduce: {case.repro()}"]
    lines += [f"  {m}" for m in c.out.unexpected()]
    lines.append("  episodes (start-end bar, entry, model differences met):")
    for i, ep in enumerate(case.episodes):
        lines.append(f"    #{i} {ep.start}-{ep.end}: {ep.entry.describe()} {sorted(flags[i])}")
    ours = [(t["entry_time"], t["exit_time"], t["side"], t["quantity"], t["entry_price"],
             t["exit_price"]) for t in mine.get("trades", [])]
    theirs = stats._trades[["EntryTime", "ExitTime", "Size", "EntryPrice", "ExitPrice"]]
    lines.append(f"  ours: {ours}")
    lines.append(f"  backtesting.py: {theirs.values.tolist()}")
    return "\n".join(lines)


@pytest.mark.parametrize("seed", orders_plan.seeds(), ids=lambda s: f"orders_{s}")
def test_orders(orders_batch, seed):
    case, mine, stats = orders_batch[seed]
    if isinstance(mine, Exception):
        pytest.fail(f"{case.describe()}\nreproduce: {case.repro()}\n{mine}")
    results, played = mine
    c, flags = compare_case(case, results, played, stats)
    OUTCOMES.append(c.out)
    fills = first_fills(played)
    CONTEXTS.update(f"orders:{f}" for f in set().union(*flags.values()))
    CONTEXTS.update(f"orders {t}" for ep in case.episodes for t in coverage(case, ep, fills))
    if c.out.unexpected():
        pytest.fail(report(case, c, flags, results, stats), pytrace=False)
