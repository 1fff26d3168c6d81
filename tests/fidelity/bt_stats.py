"""backtesting.py 0.6.6's statistics for an sma-cross run, as one JSON line.

usage: bt_stats.py CSV FAST SLOW SHORT(true|false) COMMISSION
The strategy is SimuTrador's `sma-cross`: on a golden cross close and buy, on a death cross
close and (with SHORT) sell; cash 10 000; trades not finalized (backtesting.py's default).
"""
import sys, json, warnings
warnings.filterwarnings("ignore")
import pandas as pd
from backtesting import Backtest, Strategy
from backtesting.lib import crossover
from backtesting.test import SMA
csv, fast, slow, short, comm = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "true", float(sys.argv[5])
df = pd.read_csv(csv, index_col=0, parse_dates=True)
class S(Strategy):
    def init(self):
        self.a = self.I(SMA, self.data.Close, fast)
        self.b = self.I(SMA, self.data.Close, slow)
    def next(self):
        if crossover(self.a, self.b):
            self.position.close(); self.buy()
        elif crossover(self.b, self.a):
            self.position.close()
            if short: self.sell()
st = Backtest(df, S, cash=10_000, commission=comm).run()
keys = ["Equity Final [$]","Exposure Time [%]","Commissions [$]","Buy & Hold Return [%]","Return [%]","Return (Ann.) [%]","Volatility (Ann.) [%]","CAGR [%]","Sharpe Ratio","Sortino Ratio","Calmar Ratio","Max. Drawdown [%]","Avg. Drawdown [%]","# Trades","Win Rate [%]","SQN"]
print(json.dumps({k: (float(st[k]) if k in st else None) for k in keys}))
