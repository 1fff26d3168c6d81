"""What is compared, how, and the differences we know of.

- **Trades**: the same number; each (sorted by exit, then entry time): entry and exit time,
  side, size exactly; entry and exit price, P&L, return, commission within the tolerance;
  entry and exit bar index when we report them.
- **Statistics**: every entry of `STATS` (backtesting.py's name -> our key in `--json
  session results ID`'s `metrics`).
- **Equity curve**: every point's time and equity; the drawdown columns when we report them.

Tolerance: relative 1e-6 (`|a - b| <= 1e-6 * max(|a|, |b|)`), with an absolute floor of 1e-9
(or 1e-9 of the capital for money) for values that should be 0. Durations are seconds.
Missing values: backtesting.py's NaN/NaT equals our `null`; its ±inf equals our `null` (JSON
has no infinity: a deliberate difference, docs/metrics.md); backtesting.py leaves
`Commissions [$]` out when they are 0, which equals our 0. Anything else is a mismatch.

`KNOWN_DIFFERENCES` lists what today's main does not match yet, each with its reason and the
cases it applies to. A listed difference is counted and reported, never hidden: a mismatch
outside its `applies` condition fails the case. Empty the list as the fixes land.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

REL = 1e-6
ABS = 1e-9

# backtesting.py 0.6.6 stats name -> our metrics key, and the kind of value.
STATS: dict[str, tuple[str, str]] = {
    "Start": ("start", "time"),
    "End": ("end", "time"),
    "Duration": ("duration", "seconds"),
    "Exposure Time [%]": ("exposure_time_pct", "float"),
    "Equity Final [$]": ("equity_final", "money"),
    "Equity Peak [$]": ("equity_peak", "money"),
    "Commissions [$]": ("commissions", "money"),
    "Return [%]": ("return_pct", "float"),
    "Buy & Hold Return [%]": ("buy_and_hold_return_pct", "float"),
    "Return (Ann.) [%]": ("return_ann_pct", "float"),
    "Volatility (Ann.) [%]": ("volatility_ann_pct", "float"),
    "CAGR [%]": ("cagr_pct", "float"),
    "Sharpe Ratio": ("sharpe_ratio", "float"),
    "Sortino Ratio": ("sortino_ratio", "float"),
    "Calmar Ratio": ("calmar_ratio", "float"),
    "Alpha [%]": ("alpha_pct", "float"),
    "Beta": ("beta", "float"),
    "Max. Drawdown [%]": ("max_drawdown_pct", "float"),
    "Avg. Drawdown [%]": ("avg_drawdown_pct", "float"),
    "Max. Drawdown Duration": ("max_drawdown_duration", "seconds"),
    "Avg. Drawdown Duration": ("avg_drawdown_duration", "seconds"),
    "# Trades": ("num_trades", "float"),
    "Win Rate [%]": ("win_rate_pct", "float"),
    "Best Trade [%]": ("best_trade_pct", "float"),
    "Worst Trade [%]": ("worst_trade_pct", "float"),
    "Avg. Trade [%]": ("avg_trade_pct", "float"),
    "Max. Trade Duration": ("max_trade_duration", "seconds"),
    "Avg. Trade Duration": ("avg_trade_duration", "seconds"),
    "Profit Factor": ("profit_factor", "float"),
    "Expectancy [%]": ("expectancy_pct", "float"),
    "SQN": ("sqn", "float"),
    "Kelly Criterion": ("kelly_criterion", "float"),
}


@dataclass
class Context:
    """What a known difference may depend on."""
    finalized: bool  # a position was still open at the end and closed by close-at-end
    open_at_end: bool  # our run ended with a position still open
    added: int  # fills that added to an open position (see bt_side)
    backfilled: bool  # backtesting.py's first equity point is not the capital (see below)
    # backtesting.py's own drawdown formulas applied to our (exact) equity curve
    dd_on_ours: dict = field(default_factory=dict)
    # order cases (test_orders.py): the conditions under which the two order models differ by
    # design, for one episode (trades) or any episode of the case (statistics, equity)
    order_flags: frozenset = frozenset()


@dataclass
class Known:
    key: str
    reason: str
    applies: Callable[[Context, object, object], bool] = lambda ctx, ours, theirs: True


def _trades_differ(ctx: Context, *_) -> bool:
    return ctx.added > 0 or ctx.finalized


def _nan(x) -> bool:
    try:
        return math.isnan(float(x))
    except (TypeError, ValueError):
        return x is None or pd.isna(x)


_FOLLOW_TRADES = [
    "Equity Final [$]", "Equity Peak [$]", "Commissions [$]", "Return [%]", "Return (Ann.) [%]",
    "Volatility (Ann.) [%]", "CAGR [%]", "Sharpe Ratio", "Sortino Ratio", "Calmar Ratio",
    "Max. Drawdown [%]", "Avg. Drawdown [%]", "Max. Drawdown Duration", "Avg. Drawdown Duration",
    "# Trades", "Win Rate [%]", "Best Trade [%]", "Worst Trade [%]", "Avg. Trade [%]",
    "Max. Trade Duration", "Avg. Trade Duration", "Profit Factor", "Expectancy [%]", "SQN",
    "Exposure Time [%]", "Alpha [%]", "Beta", "Kelly Criterion", "equity.DrawdownPct",
    "equity.DrawdownDuration"]
_DRAWDOWN = ["Max. Drawdown [%]", "Avg. Drawdown [%]", "Max. Drawdown Duration",
             "Avg. Drawdown Duration", "Calmar Ratio"]
_FROM_FIRST_EQUITY = ["Return [%]", "CAGR [%]", "equity", "Return (Ann.) [%]",
                      "Volatility (Ann.) [%]", "Sharpe Ratio", "Sortino Ratio", "Max. Drawdown [%]",
                      "Avg. Drawdown [%]", "Max. Drawdown Duration", "Avg. Drawdown Duration",
                      "Calmar Ratio", "Alpha [%]", "Beta", "equity.DrawdownPct",
                      "equity.DrawdownDuration"]

# ---------------------------------------------------------------------------------------------
# KNOWN DIFFERENCES, every one deliberate and in docs/metrics.md. Keys: a stats name, "trades" (any trade field), "trade.<f>",
# "equity" (the points), "equity.<column>". The first entry whose `applies` holds explains a
# mismatch; a mismatch no entry explains fails the case.
# ---------------------------------------------------------------------------------------------
KNOWN_DIFFERENCES: list[Known] = [
    # Deliberate (docs/metrics.md, "Differences from backtesting.py"), each with its reason:
    Known("trades",
          "deliberate (docs/metrics.md): --close-at-end closes at the last bar's close; backtesting.py's "
          "finalize_trades=True closes at the last bar's open (it re-runs its broker on the last "
          "bar). And a cross in the direction already held adds the leftover cash's units to "
          "our open trade (one trade, average price); backtesting.py books a trade of its own",
          _trades_differ),
    Known("equity", "follows from the trades' difference (see trades): finalize_trades' "
          "exit at the last open; an addition to a position that backtesting.py's margin "
          "model (valued at the bar's close) refuses", _trades_differ),
    Known("Avg. Drawdown [%]",
          "deliberate (docs/metrics.md): without any drawdown period we say 0; backtesting.py NaN",
          lambda c, ours, theirs: _num(ours) == 0 and _nan(theirs)),
]
KNOWN_DIFFERENCES += [Known(k, "follows from the trades' known difference (see trades)",
                            _trades_differ) for k in _FOLLOW_TRADES]
# Deliberate differences of the order models (test_orders.py). Each applies to the trades of
# the one episode (orders_plan.py) that meets its condition, and to the case's statistics and
# equity; test_orders.episode_flags decides the condition from the bars, the plan and our fills.
ORDER_MODEL_DIFFERENCES = {
    "bracket_entry_bar":
        "deliberate (docs/execution-model.md, 'Brackets'): our stop-loss/take-profit of a limit, "
        "stop or stop-limit entry live in the entry's own bar (checked right after the entry "
        "fill, the fill price as the open) and one filled there; backtesting.py 0.6.6 checks a "
        "non-market entry's SL/TP from the next bar on (it warns 'A contingent SL/TP order would "
        "execute in the same bar'), except a stop entry whose TP is hit and SL is not",
    "stop_limit_trigger":
        "deliberate (docs/execution-model.md, 'Stop-limit orders'): the stop-limit triggered on "
        "a gap past its stop (fill at the open when the limit allows, else a resting limit from "
        "the next bar; backtesting.py fills at min(stop, limit) for a buy, max for a sell, a "
        "price the bar may never have traded) or with its limit equal to its stop (we fill at "
        "the stop; backtesting.py assumes the limit was touched before the stop and waits)",
}
KNOWN_DIFFERENCES += [
    Known("trades", reason, lambda c, *_, f=flag: f in c.order_flags)
    for flag, reason in ORDER_MODEL_DIFFERENCES.items()]
KNOWN_DIFFERENCES += [
    Known(k, "follows from an order-model difference in one of the case's episodes: "
             + ", ".join(ORDER_MODEL_DIFFERENCES), lambda c, *_: bool(c.order_flags))
    for k in _FOLLOW_TRADES + ["equity"]]
# Deliberate (docs/metrics.md), kept after the fixes:
KNOWN_DIFFERENCES += [
    Known(k, "deliberate (docs/metrics.md, 'Base capital'): an order filled on backtesting.py's "
             "first traded bar (buy-and-hold) makes it back-fill the bars before with that "
             "bar's equity and use it as the base; we use the capital",
          lambda c, *_: c.backfilled) for k in _FROM_FIRST_EQUITY]
KNOWN_DIFFERENCES += [
    Known(k, "deliberate: backtesting.py's float equity is 1e-13 below its running peak where ours "
             "(exact decimals) equals it, which splits drawdown periods; its own formula on our "
             "equity gives our figure",
          lambda c, ours, theirs, k=k: k in c.dd_on_ours and close(_num(ours), c.dd_on_ours[k]))
    for k in _DRAWDOWN]
KNOWN_DIFFERENCES += [
    Known("equity.DrawdownDuration",
          "deliberate: the same float noise in backtesting.py's equity splits its drawdown "
          "periods, so their ends (where the column has a duration) move; its own formula on our "
          "equity gives our column",
          lambda c, ours, theirs: isinstance(ours, Column)
          and len(c.dd_on_ours.get("equity.DrawdownDuration", [])) == len(ours.values)
          and all(close(x, y) for x, y in zip(ours.values, c.dd_on_ours["equity.DrawdownDuration"])))]


@dataclass
class Mismatch:
    key: str
    ours: object
    theirs: object
    known: str | None = None

    def __str__(self) -> str:
        tag = f"  [known: {self.known}]" if self.known else ""
        return f"{self.key}: ours {self.ours!r} vs backtesting.py {self.theirs!r}{tag}"


@dataclass
class Outcome:
    """Every comparison of one case: what was compared and what differed."""
    compared: list[str] = field(default_factory=list)
    mismatches: list[Mismatch] = field(default_factory=list)

    def unexpected(self) -> list[Mismatch]:
        return [m for m in self.mismatches if m.known is None]


def _num(x) -> float | None:
    if x is None:
        return None
    if isinstance(x, pd.Timedelta):
        return None if pd.isna(x) else x.total_seconds()
    if isinstance(x, (pd.Timestamp,)):
        return x.timestamp()
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) or math.isinf(v) else v


def _is_inf(x) -> bool:
    try:
        return math.isinf(float(x))
    except (TypeError, ValueError):
        return False


@dataclass
class Column:
    """One of our equity curve's columns, shown as `text` in a report."""
    values: list
    text: str

    def __str__(self) -> str:
        return self.text

    __repr__ = __str__


def dd_on(equity: list[dict], index: pd.DatetimeIndex) -> dict:
    """backtesting.py 0.6.6's drawdown statistics computed on our equity curve."""
    from backtesting._stats import compute_drawdown_duration_peaks
    from backtesting._util import _data_period
    e = np.array([float(p["equity"]) for p in equity])
    if len(e) != len(index):
        return {}
    with np.errstate(divide="ignore", invalid="ignore"):
        dd = 1 - e / np.maximum.accumulate(e)
    dur, peaks = compute_drawdown_duration_peaks(pd.Series(dd, index=index))
    res = _data_period(index)
    res = getattr(res, "resolution_string", None) or res.resolution
    rnd = lambda v: None if pd.isna(v) else v.ceil(res).total_seconds()  # noqa: E731
    max_dd = float(np.nan_to_num(dd.max()))
    return {"Max. Drawdown [%]": -max_dd * 100, "Avg. Drawdown [%]": -peaks.mean() * 100,
            "Max. Drawdown Duration": rnd(dur.max()), "Avg. Drawdown Duration": rnd(dur.mean()),
            "equity.DrawdownDuration": [_num(v) for v in dur.reindex(index)]}


def close(a: float | None, b: float | None, floor: float = ABS) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= max(REL * max(abs(a), abs(b)), floor)


def _ours_time(s) -> float | None:
    """Unix seconds of an RFC 3339 text (ours) or a naive UTC timestamp (theirs)."""
    return None if s is None else pd.Timestamp(s).timestamp()


class Comparer:
    def __init__(self, ctx: Context, capital: float):
        self.ctx, self.capital, self.out = ctx, capital, Outcome()

    def check(self, key: str, ours, theirs, ok: bool) -> None:
        self.out.compared.append(key)
        if not ok:
            self.out.mismatches.append(Mismatch(key, ours, theirs, self._known(key, ours, theirs)))

    def _known(self, key: str, ours, theirs) -> str | None:
        names = [key, "trades"] if key.startswith("trade.") else [key]
        for k in KNOWN_DIFFERENCES:
            if k.key in names and k.applies(self.ctx, ours, theirs):
                return k.reason
        return None

    def stats(self, metrics: dict, stats: pd.Series) -> None:
        for name, (key, kind) in STATS.items():
            theirs_raw = stats.get(name) if name in stats.index else None
            ours_raw = metrics.get(key)
            if kind == "time":
                ours, theirs = _ours_time(ours_raw), _num(theirs_raw)
            else:
                ours, theirs = _num(ours_raw), _num(theirs_raw)
                if kind == "float" and name in STATS and _is_inf(theirs_raw) and ours_raw is None:
                    theirs = None  # ±inf is null in JSON (deliberate, see the module doc)
            if name == "Commissions [$]" and theirs is None and name not in stats.index:
                theirs = 0.0  # left out by backtesting.py when 0
            floor = ABS * self.capital if kind == "money" else ABS
            self.check(name, ours_raw, theirs_raw, close(ours, theirs, floor) and
                       (key in metrics))

    def trades(self, ours: list[dict], theirs: pd.DataFrame) -> None:
        if len(ours) != len(theirs):
            self.check("trades", f"{len(ours)} trades", f"{len(theirs)} trades", False)
            return
        ours = sorted(ours, key=lambda t: (_ours_time(t["exit_time"]), _ours_time(t["entry_time"])))
        theirs = theirs.sort_values(["ExitTime", "EntryTime"], kind="stable")
        money = ABS * self.capital
        for i, (o, (_, t)) in enumerate(zip(ours, theirs.iterrows())):
            size = float(o["quantity"]) * (1 if o["side"] == "long" else -1)
            pairs = [
                ("entry_time", _ours_time(o["entry_time"]), t.EntryTime.timestamp(), 0),
                ("exit_time", _ours_time(o["exit_time"]), t.ExitTime.timestamp(), 0),
                ("size", size, float(t.Size), 0),
                ("entry_price", float(o["entry_price"]), float(t.EntryPrice), ABS),
                ("exit_price", float(o["exit_price"]), float(t.ExitPrice), ABS),
                ("pnl", float(o["pnl"]), float(t.PnL), money),
                ("return_pct", float(o["return_pct"]), float(t.ReturnPct) * 100, ABS),
                ("commission", float(o["commission"]), float(t.Commission), money),
                ("duration", float(o["duration"]), t.Duration.total_seconds(), 0),
            ]
            for fld, a, b, floor in pairs:
                ok = a == b if floor == 0 else close(a, b, floor)
                self.check(f"trade.{fld}", f"#{i} {a}", f"#{i} {b}", ok)
            for fld, col in (("entry_bar", "EntryBar"), ("exit_bar", "ExitBar")):
                self.check(f"trade.{fld}", f"#{i} {o.get(fld)}", f"#{i} {int(t[col])}",
                           o.get(fld) == int(t[col]))

    def equity(self, ours: list[dict], theirs: pd.DataFrame) -> None:
        if len(ours) != len(theirs):
            self.check("equity", f"{len(ours)} points", f"{len(theirs)} points", False)
            return
        times = [_ours_time(p["time"]) for p in ours]
        values = np.array([float(p["equity"]) for p in ours])
        t_times = np.array([t.timestamp() for t in theirs.index])
        t_values = theirs["Equity"].to_numpy(float)
        floor = ABS * self.capital
        bad = np.flatnonzero((np.array(times) != t_times) |
                             (np.abs(values - t_values) > np.maximum(REL * np.maximum(np.abs(values), np.abs(t_values)), floor)))
        first = int(bad[0]) if len(bad) else 0
        self.check("equity", f"{len(bad)} points differ, first #{first}: {ours[first]}",
                   f"{theirs.index[first]} {t_values[first]}", len(bad) == 0)
        # Ours: `drawdown_pct` in percent (DrawdownPct × 100) at every point; `drawdown_duration`
        # in seconds, only at the last point of each drawdown period (NaT elsewhere there).
        for col, key, scale in (("DrawdownPct", "drawdown_pct", 100.0),
                                ("DrawdownDuration", "drawdown_duration", 1.0)):
            a = [None if p.get(key) is None else _num(p[key]) / scale for p in ours]
            b = [_num(x) for x in theirs[col]]
            bad = [i for i, (x, y) in enumerate(zip(a, b)) if not close(x, y)]
            first = bad[0] if bad else 0
            self.check(f"equity.{col}", Column(a, f"{len(bad)} points differ, first #{first}: "
                                                  f"{a[first] if a else None}"),
                       f"{b[first] if b else None}", not bad)
