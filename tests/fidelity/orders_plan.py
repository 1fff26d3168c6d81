"""Seeded order plans: limit, stop, stop-limit and bracket orders, the same on both sides.

A plan is a series of *episodes*, one position at a time. Episode `k` decides its entry at
bar `start` (filled from `start + 1` on, as both models say) and ends at bar `end`: there the
entry (if still working) and its bracket children are cancelled and the position (if any) is
closed at the next open. The next episode starts after that close has filled, so episodes never
overlap and each one's trades are its own.

Drawn per episode: the side; the type (market, limit, stop, stop-limit); the entry level
relative to the decision bar's close (near, within a few bars' volatility, exactly a coming
bar's low/high — the touch case — or far enough never to trigger); for stop-limits the limit
beyond, at, or before the stop; a bracket (none, stop-loss, take-profit or both) at tiny
distances (both hit in one bar), normal ones or far ones; a size in whole units of 2-15 % of
the capital. Brackets are placed on the right side of the entry's reference price (the limit,
else the stop, else the decision close), as backtesting.py requires (it raises otherwise).

Knobs (environment): `FIDELITY_ORDER_CASES` (default 40) seeds 0..N-1; `FIDELITY_ORDER_SEED=S`
only seed S.
"""

from __future__ import annotations

import calendar
import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from series import TIMEFRAMES, Series, generate

TYPES = ["market", "limit", "stop", "stop_limit"]


def cents_text(c: int) -> str:
    return f"{c // 100}.{c % 100:02d}"


@dataclass
class Entry:
    """One planned order, prices in cents (None when the type has none)."""
    order_id: str
    side: str  # buy / sell
    order_type: str
    quantity: int
    limit: int | None = None
    stop: int | None = None
    sl: int | None = None
    tp: int | None = None

    def wire(self, symbol: str) -> dict:
        """Our `OrderRequest` JSON."""
        out = {"order_id": self.order_id, "symbol": symbol, "side": self.side,
               "order_type": self.order_type, "quantity": str(self.quantity),
               "time_in_force": "gtc"}
        for key, v in (("limit_price", self.limit), ("stop_price", self.stop),
                       ("stop_loss", self.sl), ("take_profit", self.tp)):
            if v is not None:
                out[key] = cents_text(v)
        return out

    def describe(self) -> str:
        parts = [self.side, self.order_type, str(self.quantity)]
        parts += [f"{k} {cents_text(v)}" for k, v in (("limit", self.limit), ("stop", self.stop),
                                                      ("sl", self.sl), ("tp", self.tp)) if v]
        return " ".join(parts)


@dataclass
class Episode:
    start: int  # decision bar of the entry
    end: int  # decision bar of cancel + close
    entry: Entry


@dataclass
class OrdersCase:
    seed: int
    series: Series
    capital: int
    commission: str
    episodes: list[Episode] = field(default_factory=list)
    clean: bool = False  # drawn to meet no deliberate model difference (see draw)
    allow_short: bool = True
    close_at_end: bool = False

    @property
    def symbol(self) -> str:
        return f"O{self.seed}"

    def describe(self) -> str:
        kinds = _kinds(e.entry for e in self.episodes)
        return (f"orders case {self.seed}: {'/'.join(self.series.features)} "
                f"{len(self.series)} bars, {'clean, ' if self.clean else ''}"
                f"{len(self.episodes)} episodes ({kinds}), "
                f"commission {self.commission}, capital {self.capital}")

    def repro(self) -> str:
        return (f"FIDELITY_ORDER_SEED={self.seed} target/fidelity-venv/bin/python -m pytest "
                f"tests/fidelity -k orders_{self.seed}")

    def plan(self) -> dict:
        """The JSON the SDK program plays (see tests/src/bin/fidelity_orders.rs)."""
        bars: dict[str, dict] = {}
        epoch = lambda i: calendar.timegm(self.series.times[i].timetuple())  # noqa: E731
        for ep in self.episodes:
            bars[str(ep.start)] = {"time": epoch(ep.start),
                                   "orders": [ep.entry.wire(self.symbol)]}
            oid = ep.entry.order_id
            bars[str(ep.end)] = {"time": epoch(ep.end), "close": True,
                                 "cancel": [oid, f"{oid}:sl", f"{oid}:tp"]}
        return {"bars": bars}

    def write_plan(self, path: Path) -> None:
        path.write_text(json.dumps(self.plan()))


def _kinds(entries) -> str:
    c = Counter(e.order_type + ("+bracket" if e.sl or e.tp else "") for e in entries)
    return ", ".join(f"{k} {v}" for k, v in sorted(c.items()))


def _distance(rng: np.random.Generator, vol: float) -> float:
    """A relative distance: tiny, a few bars' volatility, or far (never reached)."""
    r = rng.random()
    if r < 0.2:
        return float(rng.uniform(0.0005, 0.004))
    if r < 0.85:
        return float(rng.uniform(0.2, 3.0)) * vol
    return float(rng.uniform(0.25, 0.5))


def _entry(rng: np.random.Generator, k: int, s: Series, i: int, capital: int,
           vol: float) -> Entry:
    o, h, lo, c = (int(x) for x in s.ohlc[i])
    buy = bool(rng.random() < 0.5)
    sign = 1 if buy else -1
    kind = TYPES[int(rng.integers(len(TYPES)))]
    frac = float(rng.uniform(0.02, 0.15))
    qty = max(1, int(frac * capital * 100 // max(c, 1)))
    e = Entry(f"e{k}", "buy" if buy else "sell", kind, qty)
    ahead = s.ohlc[i + 1:i + 4]

    def level(toward: int) -> int:
        """A price `toward` (+1 above, -1 below) the close; sometimes a coming bar's extreme."""
        if len(ahead) and rng.random() < 0.15:
            col = 1 if toward > 0 else 2  # exactly a coming high (above) or low (below)
            return int(ahead[int(rng.integers(len(ahead))), col])
        return max(1, round(c * (1 + toward * _distance(rng, vol))))

    if kind == "limit":  # a buy limit below, a sell limit above
        e.limit = level(-sign)
    elif kind == "stop":  # a buy stop above, a sell stop below
        e.stop = level(sign)
    elif kind == "stop_limit":
        e.stop = level(sign)
        r = rng.random()
        off = 0 if r < 0.15 else int(rng.integers(1, max(2, round(e.stop * 2 * vol))))
        if r > 0.85:
            off = -off  # a limit on the near side of the stop
        e.limit = max(1, e.stop + sign * off)
    ref = e.limit if e.limit is not None else e.stop if e.stop is not None else c
    r = rng.random()  # none 20 %, stop-loss 20 %, take-profit 20 %, both 40 %
    want_sl, want_tp = 0.2 <= r < 0.4 or r >= 0.6, r >= 0.4
    if ref > 1:
        below = lambda: max(1, min(ref - 1, round(ref * (1 - _distance(rng, vol)))))  # noqa: E731
        above = lambda: max(ref + 1, round(ref * (1 + _distance(rng, vol))))  # noqa: E731
        if want_sl:
            e.sl = below() if buy else above()
        if want_tp:
            e.tp = above() if buy else below()
    return e


def entry_fill(s: Series, e: Entry, first: int, last: int) -> tuple[int, int] | None:
    """Where a non-market entry fills when bars `first..last` can fill it, by the rules both
    models share (a stop-limit triggered by a gap or with limit == stop is not predicted:
    None): (bar, price in cents)."""
    buy = e.side == "buy"
    j = first
    if e.stop is not None:  # stop, stop-limit: the trigger bar
        while j <= last and not (s.ohlc[j, 1] >= e.stop if buy else s.ohlc[j, 2] <= e.stop):
            j += 1
        if j > last:
            return None
        o = int(s.ohlc[j, 0])
        if e.limit is None:
            return j, max(o, e.stop) if buy else min(o, e.stop)
        if (o > e.stop if buy else o < e.stop) or e.limit == e.stop:
            return None
        if (e.limit > e.stop) if buy else (e.limit < e.stop):
            return j, e.stop
        j += 1  # a limit on the near side: a resting limit from the next bar
    while j <= last:
        o, h, lo = (int(x) for x in s.ohlc[j, :3])
        if (lo <= e.limit) if buy else (h >= e.limit):
            return j, min(o, e.limit) if buy else max(o, e.limit)
        j += 1
    return None


def meets_difference(s: Series, ep: Episode) -> bool:
    """True when the episode may meet a deliberate model difference (compare.
    ORDER_MODEL_DIFFERENCES): a stop-limit triggered by a gap or with limit == stop, or a
    bracket of a non-market entry touched in the entry's bar (but for the case
    backtesting.py re-checks: a stop entry whose TP is hit and SL is not)."""
    e = ep.entry
    if e.order_type == "market":
        return False
    buy = e.side == "buy"
    if e.order_type == "stop_limit":
        j = ep.start + 1
        while j <= ep.end:
            o, h, lo = (int(x) for x in s.ohlc[j, :3])
            if (h >= e.stop) if buy else (lo <= e.stop):
                if ((o > e.stop) if buy else (o < e.stop)) or e.limit == e.stop:
                    return True
                break
            j += 1
    if e.sl is None and e.tp is None:
        return False
    fill = entry_fill(s, e, ep.start + 1, ep.end)
    if fill is None:
        return False
    _, h, lo, _ = (int(x) for x in s.ohlc[fill[0]])
    sl_hit = e.sl is not None and ((lo <= e.sl) if buy else (h >= e.sl))
    tp_hit = e.tp is not None and ((h >= e.tp) if buy else (lo <= e.tp))
    rechecked = e.order_type == "stop" and tp_hit and not sl_hit
    return (sl_hit or tp_hit) and not rechecked


def draw(seed: int) -> OrdersCase:
    rng = np.random.default_rng([seed, 7])
    kind = TIMEFRAMES[int(rng.integers(len(TIMEFRAMES)))]
    n = int(rng.integers(120, 200 if kind == "1mo" else 400))  # monthly bars end before today
    series = generate(10_000 + seed, kind=kind, n=n, spike=False)
    vol = float(np.std(np.diff(np.log(series.ohlc[:, 3].astype(float))))) or 0.01
    commission = "0" if rng.random() < 0.3 else f"{int(rng.integers(1, 201)) / 100_000:.5f}"
    capital = int(rng.choice([10_000, 25_000, 100_000, 1_000_000]))
    # Half the cases are clean: every episode is redrawn until it meets no deliberate model
    # difference, so their statistics and equity are compared with nothing excused.
    case = OrdersCase(seed, series, capital, commission, clean=bool(rng.random() < 0.5))
    i, k = 1 + int(rng.integers(0, 4)), 0
    last = len(series) - 3  # the final close fills on the last bar at the latest
    while True:
        end = i + int(rng.integers(1, 13))
        if end > last:
            break
        ep = Episode(i, end, _entry(rng, k, series, i, capital, vol))
        while case.clean and meets_difference(series, ep):
            ep = Episode(i, end, _entry(rng, k, series, i, capital, vol))
        case.episodes.append(ep)
        k += 1
        i = end + 1 + int(rng.integers(0, 3))  # the close fills at end + 1
    return case


def seeds() -> list[int]:
    if "FIDELITY_ORDER_SEED" in os.environ:
        return [int(os.environ["FIDELITY_ORDER_SEED"])]
    return list(range(int(os.environ.get("FIDELITY_ORDER_CASES", "40"))))
