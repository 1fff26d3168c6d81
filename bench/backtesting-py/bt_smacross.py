"""backtesting.py's side of the comparison: SmaCross 10/20 with SimuTrador's `sma-cross` rules.

Usage: python bt_smacross.py BARS.csv [ROUNDS] [CASH]   (defaults: 3 rounds, cash 100000)

Only `Backtest(...).run()` is timed (the CSV is read once, before). Prints one JSON line:
every round's seconds, their median and best, the closed-trade count and the final equity.

The rules are SimuTrador's `sma-cross` (docs/strategies.md) with short=true, which is the
classic backtesting.py SmaCross: on a golden cross close any short and buy, on a death cross
close any long and sell, orders filled at the next bar's open, no commission. One detail is
made exact on purpose: SimuTrador compares the two averages exactly (`sum_fast * slow` vs
`sum_slow * fast` on the decimal prices), while `pandas.rolling().mean()` is floating point
and can see a cross where the averages are exactly equal. So the two indicators here are those
integer products of the prices in cents (exact in float64 below 2**53); `crossover` then
applies the same strict rule (below on the previous bar, above on this one). It costs
backtesting.py the same as two rolling means.

A second golden cross while already long is possible (the averages were exactly equal in
between, and equal → below is no cross). `sma-cross` then closes nothing and buys 100 % of
the equity again, which adds the few shares the leftover cash buys to the open position (one
position, one trade). The classic SmaCross calls `position.close()` unconditionally and so
closes and reopens the long (a new trade); and backtesting.py books an added buy as a trade
of its own. Either way it counted ~2 % more trades. So here the close is guarded by
`position.is_short` / `is_long` and a cross in the direction already held does nothing: the
trades are then the same, entry and exit, and only the final equity differs a little (the
added shares, and backtesting.py's default `size=0.9999`).
"""

import json
import statistics
import sys
import time

import numpy as np
import pandas as pd
from backtesting import Backtest, Strategy
from backtesting.lib import crossover

FAST, SLOW = 10, 20


def scaled_sum(close, n, other):
    """`other * (sum of the last n closes in cents)`, NaN until n closes exist."""
    cents = np.rint(np.asarray(close, dtype=float) * 100).astype(np.int64)
    sums = pd.Series(cents).rolling(n).sum().to_numpy()
    return sums * other


class SmaCross(Strategy):
    def init(self):
        # fast average above slow  <=>  sum_fast * SLOW > sum_slow * FAST
        self.fast = self.I(scaled_sum, self.data.Close, FAST, SLOW, name="fast")
        self.slow = self.I(scaled_sum, self.data.Close, SLOW, FAST, name="slow")

    def next(self):
        if crossover(self.fast, self.slow):
            if self.position.is_short:
                self.position.close()
            if not self.position.is_long:
                self.buy()
        elif crossover(self.slow, self.fast):
            if self.position.is_long:
                self.position.close()
            if not self.position.is_short:
                self.sell()


def main():
    path = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    cash = float(sys.argv[3]) if len(sys.argv) > 3 else 100_000
    data = pd.read_csv(path, index_col=0, parse_dates=True)
    data.columns = [c.capitalize() for c in data.columns]
    times, stats = [], None
    for _ in range(rounds):
        t = time.perf_counter()
        stats = Backtest(data, SmaCross, cash=cash, commission=0).run()
        times.append(time.perf_counter() - t)
    print(
        json.dumps(
            {
                "bars": len(data),
                "seconds": times,
                "median": statistics.median(times),
                "best": min(times),
                "trades": int(stats["# Trades"]),
                "equity_final": float(stats["Equity Final [$]"]),
            }
        )
    )


if __name__ == "__main__":
    main()
