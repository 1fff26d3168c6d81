"""Seeded generated bar series: every timeframe, gaps, flat stretches, spikes that bankrupt.

A `Series` holds whole cents (exactly what the daemon stores) and UTC times; `write_csv` gives
the canonical `timestamp,open,high,low,close,volume` file for `data import`, `frame()` the
pandas frame backtesting.py reads (a naive UTC index, prices as `cents / 100`, which is the
float the daemon's `Decimal::to_f64` gives).

Features, each drawn from the seed:
- timeframes `1m`, `1h`, `4h` (around the clock, weekends included), `1d` with or without
  weekends, `1w` (Mondays), `1mo` (first of the month);
- gaps: stretches of missing bars;
- flat stretches: open = high = low = close for several bars, so both moving averages become
  exactly equal (the ties `sma-cross` must not read as crosses);
- a bankrupting spike: a slide (a death cross, a short) and then a gap up to 3-6x.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

TIMEFRAMES = ["1m", "1h", "4h", "1d", "1d-weekends", "1w", "1mo"]
_STEP = {"1m": dt.timedelta(minutes=1), "1h": dt.timedelta(hours=1), "4h": dt.timedelta(hours=4),
         "1d": dt.timedelta(days=1), "1d-weekends": dt.timedelta(days=1), "1w": dt.timedelta(weeks=1)}
_LENGTH = {"1m": (300, 2000), "1h": (300, 1500), "4h": (300, 1000), "1d": (250, 1000),
           "1d-weekends": (250, 1000), "1w": (150, 500), "1mo": (80, 200)}


@dataclass
class Series:
    """OHLCV bars in cents at UTC times."""
    timeframe: str  # the daemon's timeframe (`1d` for both daily kinds)
    times: list[dt.datetime]
    ohlc: np.ndarray  # int64, shape (n, 4): open, high, low, close in cents
    volume: np.ndarray
    features: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.times)

    def write_csv(self, path: Path) -> None:
        with open(path, "w", newline="\n") as f:
            f.write("timestamp,open,high,low,close,volume\n")
            for t, row, v in zip(self.times, self.ohlc, self.volume):
                o, h, lo, c = (f"{x // 100}.{x % 100:02d}" for x in row)
                f.write(f"{t:%Y-%m-%dT%H:%M:%SZ},{o},{h},{lo},{c},{v}\n")

    def frame(self) -> pd.DataFrame:
        idx = pd.DatetimeIndex(self.times)
        df = pd.DataFrame(self.ohlc / 100.0, index=idx, columns=["Open", "High", "Low", "Close"])
        df["Volume"] = self.volume.astype(float)
        return df

    def closes_cents(self) -> list[int]:
        return [int(c) for c in self.ohlc[:, 3]]


def _times(kind: str, n: int, rng: np.random.Generator) -> list[dt.datetime]:
    if kind == "1mo":
        y, m = int(rng.integers(1995, 2005)), 1
        out = []
        for _ in range(n):
            out.append(dt.datetime(y, m, 1))
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return out
    start = dt.datetime(2012, 1, 2) + dt.timedelta(days=int(rng.integers(0, 300)))  # a day
    if kind == "1w":
        start -= dt.timedelta(days=start.weekday())  # Mondays
    out, t = [], start
    while len(out) < n:
        if kind != "1d" or t.weekday() < 5:
            out.append(t)
        t += _STEP[kind]
    return out


def generate(seed: int, kind: str | None = None, n: int | None = None,
             gaps: bool | None = None, flats: bool | None = None,
             spike: bool | None = None) -> Series:
    """The series of `seed`; any feature not given is drawn from it."""
    rng = np.random.default_rng(seed)
    kind = kind or TIMEFRAMES[int(rng.integers(len(TIMEFRAMES)))]
    lo_n, hi_n = _LENGTH[kind]
    n = n or int(rng.integers(lo_n, hi_n + 1))
    gaps = bool(rng.random() < 0.5) if gaps is None else gaps
    flats = bool(rng.random() < 0.5) if flats is None else flats
    spike = bool(rng.random() < 0.3) if spike is None else spike
    features = [kind] + [name for name, on in (("gaps", gaps), ("flats", flats), ("spike", spike)) if on]

    extra = int(n * 0.15) if gaps else 0
    times = _times(kind, n + extra, rng)
    if gaps:  # drop a few stretches of bars
        keep = np.ones(len(times), bool)
        for _ in range(int(rng.integers(1, 6))):
            at = int(rng.integers(1, len(times) - 1))
            keep[at:at + int(rng.integers(1, max(2, extra // 3)))] = False
        times = [t for t, k in zip(times, keep) if k][:n]
    n = len(times)

    price = float(rng.choice([3.5, 12.0, 47.0, 100.0, 480.0, 2600.0]))
    vol = float(rng.uniform(0.003, 0.03))
    drift = float(rng.normal(0, vol / 10))
    rets = rng.normal(drift, vol, n)
    flat = np.zeros(n, bool)
    if flats:
        for _ in range(int(rng.integers(1, 5))):
            at = int(rng.integers(0, n - 5))
            flat[at:at + int(rng.integers(5, 45))] = True
    spike_at = -1
    if spike:  # a slide of ~40 bars, then a gap up
        spike_at = int(rng.integers(n // 3, n - 5))
        rets[max(0, spike_at - 40):spike_at] = -abs(vol) * 1.2
        rets[spike_at] = np.log(float(rng.uniform(3, 6)))

    ohlc = np.zeros((n, 4), np.int64)
    close = max(100, round(price * 100))
    for i in range(n):
        if flat[i] and i != spike_at:
            ohlc[i] = close
            continue
        o = close if rng.random() < 0.7 else max(1, round(close * np.exp(rng.normal(0, vol / 3))))
        if i == spike_at:
            o = max(1, round(close * np.exp(rets[i])))
        c = max(100, round(o * np.exp(rets[i] if i != spike_at else rng.normal(0, vol))))
        h = max(o, c) + int(abs(rng.normal(0, vol)) * c)
        lo = max(1, min(o, c) - int(abs(rng.normal(0, vol)) * c))
        ohlc[i] = (o, h, lo, c)
        close = c
    volume = rng.integers(100, 10_000, n)
    return Series("1d" if kind == "1d-weekends" else kind, times, ohlc, volume, features)
