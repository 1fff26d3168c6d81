"""The cases of the differential suite, each drawn from its seed.

A case is a series (series.generate(seed)) and a run: a built-in strategy with drawn
parameters, a commission rate from 0 to 0.2 %, long/short or long-only, a capital, and trades
finalized or not (`--close-at-end` on our side, `finalize_trades=True` on backtesting.py's).

Knobs (environment): `FIDELITY_CASES` (default 200) seeds 0..N-1; `FIDELITY_SEED=S` only
seed S (what a failing case prints to reproduce itself).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from series import Series, generate


@dataclass
class Case:
    seed: int
    series: Series
    strategy: str
    params: dict
    capital: int
    commission: str  # exact decimal text, the same on both sides
    allow_short: bool
    close_at_end: bool

    @property
    def symbol(self) -> str:
        return f"F{self.seed}"

    def cli_params(self) -> list[str]:
        out = []
        for k, v in self.params.items():
            out += ["-p", f"{k}={str(v).lower() if isinstance(v, bool) else v}"]
        return out

    def describe(self) -> str:
        p = " ".join(f"{k}={v}" for k, v in self.params.items())
        return (f"case {self.seed}: {'/'.join(self.series.features)} {len(self.series)} bars, "
                f"{self.strategy} {p}, commission {self.commission}, capital {self.capital}, "
                f"{'close-at-end' if self.close_at_end else 'trades left open'}")

    def repro(self) -> str:
        return (f"FIDELITY_SEED={self.seed} target/fidelity-venv/bin/python -m pytest "
                f"tests/fidelity -k case_{self.seed}")


def draw(seed: int, series: Series | None = None) -> Case:
    """The case of `seed` (on `series` when given, e.g. by hypothesis)."""
    series = series if series is not None else generate(seed)
    rng = np.random.default_rng([seed, 1])
    n = len(series)
    r = rng.random()
    if r < 0.6:
        strategy = "sma-cross"
        fast = int(rng.integers(1, 16))
        slow = int(rng.integers(fast + 1, min(fast + 40, max(fast + 2, n // 3))))
        short = bool(rng.random() < 0.6)
        params = dict(fast=fast, slow=slow, short=short)
    elif r < 0.9:
        strategy = "rsi-reversion"
        lower = int(rng.integers(10, 46)) + float(rng.choice([0, 0.5]))
        upper = int(rng.integers(55, 91)) + float(rng.choice([0, 0.25]))
        params = dict(period=int(rng.integers(2, 21)), lower=lower, upper=upper)
    else:
        strategy, params = "buy-and-hold", {}
    commission = "0" if rng.random() < 0.3 else f"{int(rng.integers(1, 201)) / 100_000:.5f}"
    capital = int(rng.choice([1_000, 10_000, 25_000, 100_000, 1_000_000]))
    # Long-only strategies run now and then in a session that forbids shorts.
    allow_short = params.get("short", True) or bool(rng.random() < 0.5)
    return Case(seed, series, strategy, params, capital, commission, allow_short,
                close_at_end=bool(rng.random() < 0.5))


def seeds() -> list[int]:
    if "FIDELITY_SEED" in os.environ:
        return [int(os.environ["FIDELITY_SEED"])]
    return list(range(int(os.environ.get("FIDELITY_CASES", "200"))))
