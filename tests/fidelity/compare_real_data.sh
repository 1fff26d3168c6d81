#!/usr/bin/env bash
# Statistics of SimuTrador vs backtesting.py 0.6.6 on the real samples in ../shared/data
# (GOOG daily, BTCUSD monthly, EURUSD hourly): imports them into a throwaway daemon, runs
# sma-cross through the CLI, and prints our metrics and backtesting.py's `stats` side by side
# (one JSON line each). Not a test: the sample files are not part of the repository.
#
# usage: tests/fidelity/compare_real_data.sh [DATA_DIR]    (default: ../shared/data)
# Needs python3 with venv; installs backtesting==0.6.6 into target/fidelity-venv once.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DATA=${1:-$ROOT/../shared/data}
VENV=$ROOT/target/fidelity-venv
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -c 'import backtesting' 2>/dev/null || "$VENV/bin/python" -m pip install -q backtesting==0.6.6
cargo build -q -p simutrador-server -p simutrador-client --manifest-path "$ROOT/Cargo.toml"
BIN=$ROOT/target/debug; S=$BIN/simutrador-server; C=$BIN/simutrador-client
W=$(mktemp -d); mkdir -p "$W/home" "$W/data"
export HOME=$W/home   # the daemon's first-start key and the client's auto-login live here
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
$S data import "$DATA/GOOG.csv" --symbol GOOG --timeframe 1d --data-dir "$W/data" >/dev/null
$S data import "$DATA/BTCUSD.csv" --symbol BTCUSD --timeframe 1mo --data-dir "$W/data" >/dev/null
$S data import "$DATA/EURUSD.csv" --symbol EURUSD --timeframe 1h --asset-class equity --data-dir "$W/data" >/dev/null
$S serve --bind "127.0.0.1:$PORT" --data-dir "$W/data" >"$W/daemon.log" 2>&1 &
PID=$!
trap 'kill $PID; rm -rf "$W"' EXIT
export SIMUTRADOR_URL=ws://127.0.0.1:$PORT
for _ in $(seq 100); do $C health >/dev/null 2>&1 && break; sleep 0.1; done

run() { # SYMBOL TIMEFRAME START END FAST SLOW SHORT COMMISSION
  local id
  id=$($C --json session create "$1" --timeframe "$2" --start "$3" --end "$4" --capital 10000 \
        --commission-rate "$8" --max-duration 1h | python3 -c 'import json,sys; print(json.load(sys.stdin)["session_id"])')
  $C session run "$id" --strategy sma-cross -p fast="$5" -p slow="$6" -p short="$7" >/dev/null
  $C --json session results "$id" | python3 -c '
import json, sys
m = json.load(sys.stdin)
m = m.get("metrics", m.get("results", {}).get("metrics", m))
ks = ["equity_final", "exposure_time_pct", "commissions", "buy_and_hold_return_pct", "return_pct",
      "return_ann_pct", "volatility_ann_pct", "cagr_pct", "sharpe_ratio", "sortino_ratio",
      "calmar_ratio", "max_drawdown_pct", "avg_drawdown_pct", "num_trades", "win_rate_pct", "sqn"]
print("simutrador      ", json.dumps({k: m.get(k) for k in ks}))'
  echo -n "backtesting.py  "
  "$VENV/bin/python" "$ROOT/tests/fidelity/bt_stats.py" "$DATA/$1.csv" "$5" "$6" "$7" "$8"
}
echo "== GOOG 1d, sma-cross 10/20 long/short, commission 0.2 %"
run GOOG 1d 2004-08-19 2013-03-01 10 20 true 0.002
echo "== BTCUSD 1mo, sma-cross 3/6 long-only, no commission"
run BTCUSD 1mo 2012-01-31 2024-12-31 3 6 false 0
echo "== EURUSD 1h, sma-cross 10/20 long/short, no commission"
run EURUSD 1h 2017-04-19 2018-02-07 10 20 true 0
