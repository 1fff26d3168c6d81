"""Write a deterministic CSV of one-minute OHLCV bars (a random walk in cents).

Usage: python3 gen_bars.py OUT.csv [BARS]   (default 1,000,000 bars from 2020-01-01T00:00:00Z)

Standard library only, so the same file comes out whatever is installed: a xorshift64*
generator with a fixed seed drives the walk; prices are written with two decimals, exactly
as SimuTrador stores them, in the canonical `timestamp,open,high,low,close,volume` shape
that both `simutrador-server data import` and `pandas.read_csv` read.
"""

import datetime as dt
import sys

MASK = (1 << 64) - 1


def bars(n, seed=0x9E3779B97F4A7C15):
    state = seed
    close = 10_000  # cents
    for _ in range(n):
        out = []
        for _ in range(4):
            state ^= state >> 12
            state ^= (state << 25) & MASK
            state ^= state >> 27
            out.append(((state * 0x2545F4914F6CDD1D) & MASK) >> 33)
        o = close
        c = max(1_000, o + out[0] % 41 - 20)
        h = max(o, c) + out[1] % 11
        lo = max(1, min(o, c) - out[2] % 11)
        v = 100 + out[3] % 9_901
        close = c
        yield o, h, lo, c, v


def cents(x):
    return f"{x // 100}.{x % 100:02d}"


def main():
    path = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
    t = dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)
    minute = dt.timedelta(minutes=1)
    with open(path, "w", newline="\n") as f:
        f.write("timestamp,open,high,low,close,volume\n")
        for o, h, lo, c, v in bars(n):
            f.write(f"{t:%Y-%m-%dT%H:%M:%SZ},{cents(o)},{cents(h)},{cents(lo)},{cents(c)},{v}\n")
            t += minute


if __name__ == "__main__":
    main()
