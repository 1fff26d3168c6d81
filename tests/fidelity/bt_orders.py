"""backtesting.py's side of the order cases: the plan of `orders_plan.py` played by a Strategy.

At an episode's start bar `next` places the entry with `buy/sell(size=units, limit=…,
stop=…, sl=…, tp=…)` (prices `cents / 100`, the floats the daemon's decimals convert to); at
its end bar it cancels the entry if it is still working and calls `position.close()`, whose
close order goes ahead of the bracket orders, so the next open closes the trade and removes
them — as our plan's cancels (applied before orders) and market close do. Defaults otherwise:
no spread, margin 1, no hedging, `trade_on_close=False`, trades not finalized (every plan ends
flat before the last bar).
"""

from __future__ import annotations

import warnings

from backtesting import Backtest, Strategy

from orders_plan import OrdersCase

warnings.filterwarnings("ignore")


def _price(c: int | None) -> float | None:
    return None if c is None else c / 100


class Player(Strategy):
    case: OrdersCase = None  # set per case

    def init(self):
        self.starts = {ep.start: ep for ep in self.case.episodes}
        self.ends = {ep.end: ep for ep in self.case.episodes}
        self.placed = {}

    def next(self):
        i = len(self.data) - 1
        ep = self.ends.get(i)
        if ep is not None:
            order = self.placed.get(ep.entry.order_id)
            if order is not None and order in self.orders:
                order.cancel()
            self.position.close()
        ep = self.starts.get(i)
        if ep is not None:
            e = ep.entry
            place = self.buy if e.side == "buy" else self.sell
            self.placed[e.order_id] = place(size=e.quantity, limit=_price(e.limit),
                                            stop=_price(e.stop), sl=_price(e.sl), tp=_price(e.tp))


def run(case: OrdersCase):
    """backtesting.py 0.6.6's stats of the case."""
    cls = type("OrdersCase", (Player,), dict(case=case))
    bt = Backtest(case.series.frame(), cls, cash=case.capital, commission=float(case.commission))
    return bt.run()
