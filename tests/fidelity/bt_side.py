"""backtesting.py 0.6.6's side: SimuTrador's built-in strategies written exactly, and the run.

The rules are those of `simutrador-engine/src/signals/` and `docs/execution-model.md`, made
exact where the two libraries differ by construction (see bench/backtesting-py/README.md):

- **Sizing with all the equity, whole units.** SimuTrador sizes a `percent_of_equity = 1`
  order at fill time: the largest whole `u` with `u * price + commission <= buying power`,
  in decimals. backtesting.py's default `size=0.9999` would buy one unit less now and then,
  so each order here gets that `u` as an explicit size, computed by `Shadow` (an exact
  decimal copy of SimuTrador's cash and position) from the next bar's open, which is the fill
  price of a market order. The harness knows the next open; the strategy's decision does not
  use it.
- **Exact averages.** `sma-cross` compares `sum_fast * slow` with `sum_slow * fast` on the
  prices in cents (Python integers); the indicators handed to `self.I` are only there so
  backtesting.py knows the warm-up (its `Buy & Hold` and first `next` depend on it).
- **RSI** in floats with the very operations of `simutrador-engine/src/indicators/rsi.rs`.
- **Close, then open**: `position.close()` then `buy/sell(size=u)` in one `next`, as the
  built-ins send both orders in one acknowledgement.
- **buy-and-hold** buys in `init` (our decision at the first tick fills at the second bar's
  open; backtesting.py's first `next` comes one bar later).
- A cross in the direction already held: SimuTrador adds what the leftover cash buys to the
  open position (one trade at the average price); here the same units are bought, and
  backtesting.py books them as a trade of their own. `Shadow.added` counts these fills so the
  comparison can say so (see compare.KNOWN_DIFFERENCES).
"""

from __future__ import annotations

import warnings
from decimal import ROUND_FLOOR, Decimal, getcontext

import numpy as np
import pandas as pd
from backtesting import Backtest, Strategy

getcontext().prec = 60
warnings.filterwarnings("ignore")


def rsi_values(closes: list[float], period: int) -> np.ndarray:
    """Wilder's RSI as `simutrador-engine`'s `Rsi` computes it (NaN before it is defined)."""
    out = np.full(len(closes), np.nan)
    n = float(period)
    gain = loss = 0.0
    changes = 0
    for i in range(1, len(closes)):
        change = closes[i] - closes[i - 1]
        up, down = max(change, 0.0), max(-change, 0.0)
        if changes < period:
            gain += up / n
            loss += down / n
            changes += 1
        else:
            gain = (gain * (n - 1.0) + up) / n
            loss = (loss * (n - 1.0) + down) / n
        if changes >= period:
            out[i] = (50.0 if gain == 0.0 else 100.0) if loss == 0.0 else 100.0 - 100.0 / (1.0 + gain / loss)
    return out


def sma_relation(cents: list[int], fast: int, slow: int) -> list[int | None]:
    """-1, 0, 1: fast vs slow average (exact), None until both are defined."""
    out: list[int | None] = [None] * len(cents)
    for i in range(slow - 1, len(cents)):
        a = sum(cents[i - fast + 1:i + 1]) * slow
        b = sum(cents[i - slow + 1:i + 1]) * fast
        out[i] = (a > b) - (a < b)
    return out


class Shadow:
    """SimuTrador's books in exact decimals (cash, signed units), for sizing."""

    def __init__(self, capital: Decimal, rate: Decimal):
        self.cash, self.rate, self.qty = capital, rate, 0
        self.added = 0

    def commission(self, units: int, price: Decimal) -> Decimal:
        return abs(units) * price * self.rate

    def close(self, price: Decimal) -> None:
        self.cash += self.qty * price - self.commission(self.qty, price)
        self.qty = 0

    def size(self, price: Decimal, last_close: Decimal) -> int:
        """Largest whole u with u * price + commission <= buying power (factor 1 both ways)."""
        bp = self.cash - 2 * abs(min(self.qty, 0)) * last_close
        if bp <= 0:
            return 0
        u = int((bp / (price * (1 + self.rate))).to_integral_value(ROUND_FLOOR))
        while u > 0 and u * price + self.commission(u, price) > bp:
            u -= 1
        while (u + 1) * price + self.commission(u + 1, price) <= bp:
            u += 1
        # SimuTrador's fill check then values the whole short (the one held and the new
        # units) at the fill price, not at the last close; if that fails the order is rejected
        # (not resized). Only an addition to a short can fail it.
        if self.qty < 0 and u:
            after = self.cash + u * price - self.commission(u, price) - 2 * (u - self.qty) * price
            if after < 0:
                return 0
        return u

    def fill(self, units: int, price: Decimal) -> None:
        if units and self.qty and (units > 0) == (self.qty > 0):
            self.added += 1
        self.cash -= units * price + self.commission(units, price)
        self.qty += units


class Builtin(Strategy):
    """One class for the three built-ins; the parameters arrive as class attributes."""
    name = "sma-cross"
    params: dict = {}
    cents: list[int] = []
    capital = Decimal(10_000)
    rate = Decimal(0)

    def init(self):
        self.shadow = Shadow(self.capital, self.rate)
        self.opens = [Decimal(int(round(o * 100))) / 100 for o in self.data.df.Open]
        self.closes = [Decimal(c) / 100 for c in self.cents]
        p = self.params
        if self.name == "sma-cross":
            self.rel = sma_relation(self.cents, p["fast"], p["slow"])
            nan = [np.nan if r is None else float(r) for r in self.rel]
            # Assigned, as a backtesting.py user writes `self.sma = self.I(...)`: only attributes
            # count in `_indicator_warmup_nbars` (Buy & Hold and the first `next`).
            self.relation = self.I(lambda: np.array(nan), name="relation")
        elif self.name == "rsi-reversion":
            self.rsi = self.I(lambda: rsi_values([c / 100 for c in self.cents], p["period"]),
                              name="rsi")
            self.rsi_all = np.asarray(self.rsi)
        else:  # buy-and-hold: decided at the first bar
            self._decide(0, close=False, enter=1)

    def _decide(self, i: int, close: bool, enter: int) -> None:
        """Orders decided at bar i: fill at bar i + 1's open (nothing without one)."""
        if i + 1 >= len(self.opens):
            return
        price, sh = self.opens[i + 1], self.shadow
        if close and sh.qty:
            self.position.close()
            sh.close(price)
        if enter:
            u = sh.size(price, self.closes[i])
            if u:
                (self.buy if enter > 0 else self.sell)(size=u)
                sh.fill(enter * u, price)

    def next(self):
        i = len(self.data) - 1
        held = self.shadow.qty
        if self.name == "sma-cross":
            prev, now = self.rel[i - 1], self.rel[i]
            if prev is None or now is None:
                return
            if prev == -1 and now == 1:
                self._decide(i, close=held < 0, enter=1)
            elif prev == 1 and now == -1:
                self._decide(i, close=held > 0, enter=-1 if self.params["short"] else 0)
        elif self.name == "rsi-reversion":
            prev, now = self.rsi_all[i - 1], self.rsi_all[i]
            if np.isnan(prev) or np.isnan(now):
                return
            lo, up = self.params["lower"], self.params["upper"]
            if prev < lo <= now and held == 0:
                self._decide(i, close=False, enter=1)
            elif prev < up <= now and held > 0:
                self._decide(i, close=True, enter=0)


def run(frame: pd.DataFrame, cents: list[int], strategy: str, params: dict, capital: int,
        commission: str, finalize: bool):
    """backtesting.py's stats, the number of fills that added to a position, and whether
    `finalize_trades` had a position to close (open at the end, not bankrupt)."""
    cls = type("Case", (Builtin,), dict(name=strategy, params=params, cents=cents,
                                        capital=Decimal(capital), rate=Decimal(commission)))
    bt = Backtest(frame, cls, cash=capital, commission=float(commission),
                  finalize_trades=finalize)
    stats = bt.run()
    shadow = stats._strategy.shadow
    bankrupt = stats["Equity Final [$]"] <= 0
    return stats, shadow.added, finalize and shadow.qty != 0 and not bankrupt
