"""The comparison can fail: a real order case's results, altered on purpose, must be reported
as unexpected mismatches (so a green suite is not vacuous).

Takes the first clean order case (no deliberate model difference applies, orders_plan.draw)
with a trade, then (1) nudges one trade's exit price by one cent, (2) changes one statistic by
0.1 %, (3) drops a trade, and asserts each is an unexpected mismatch of the right key, while the
unaltered results compare equal.
"""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest

from test_orders import compare_case, report


def _clean_case(orders_batch):
    for case, mine, stats in orders_batch.values():
        if case.clean and not isinstance(mine, Exception) and mine[0].get("trades"):
            return case, mine, stats
    pytest.skip("no clean order case with a trade in this run (FIDELITY_ORDER_SEED?)")


def _unexpected(case, results, played, stats) -> set[str]:
    c, _ = compare_case(case, results, played, stats)
    return {m.key for m in c.out.unexpected()}


def test_unaltered_results_compare_equal(orders_batch):
    case, (results, played), stats = _clean_case(orders_batch)
    assert _unexpected(case, results, played, stats) == set()


def test_a_nudged_exit_price_is_a_mismatch(orders_batch):
    case, (results, played), stats = _clean_case(orders_batch)
    altered = copy.deepcopy(results)
    t = altered["trades"][0]
    t["exit_price"] = str(Decimal(t["exit_price"]) + Decimal("0.01"))
    assert "trade.exit_price" in _unexpected(case, altered, played, stats)
    c, flags = compare_case(case, altered, played, stats)  # what a failing case prints
    text = report(case, c, flags, altered, stats)
    assert case.repro() in text and "trade.exit_price" in text


def test_a_changed_statistic_is_a_mismatch(orders_batch):
    case, (results, played), stats = _clean_case(orders_batch)
    altered = copy.deepcopy(results)
    m = altered["metrics"]
    m["equity_final"] = str(Decimal(str(m["equity_final"])) * Decimal("1.001"))
    assert "Equity Final [$]" in _unexpected(case, altered, played, stats)


def test_a_missing_trade_is_a_mismatch(orders_batch):
    case, (results, played), stats = _clean_case(orders_batch)
    altered = copy.deepcopy(results)
    altered["trades"] = altered["trades"][1:]
    assert "trades" in _unexpected(case, altered, played, stats)
