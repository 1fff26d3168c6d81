#!/usr/bin/env bash
# Side by side: `simutrador-client session run` (release CLI against a running release daemon,
# human output) vs backtesting.py 0.6.6 in process, SmaCross 10/20 on the same 1M-bar CSV.
#
#   bench/backtesting-py/run.sh [ROUNDS]        (default 3; prints medians, bests, the ratio)
#
# Environment: BARS_CSV=FILE another CSV (canonical columns); BIN_DIR=DIR other binaries than
# target/release (e.g. a copy of an older build, for before/after); RUN_ARGS="--window N" more
# flags for `session run`; SKIP_BT=1 times only SimuTrador. The daemon's state, log and each
# round's output stay in target/bench-backtesting-py/run/ until the next run. See README.md.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
rounds=${1:-3}
work=$root/target/bench-backtesting-py
bin=${BIN_DIR:-$root/target/release}
csv=${BARS_CSV:-$work/bars-1m.csv}
mkdir -p "$work"

load() { cut -d' ' -f1-3 /proc/loadavg; }
# CPU seconds (user + system) a process has used so far.
cpu_of() { awk '{ printf "%.2f", ($14 + $15) / 100 }' "/proc/$1/stat"; }
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
best() { sort -g | head -1; }

# 1. The data: deterministic, generated once.
if [[ ! -f $csv ]]; then
    echo "generating $csv (1,000,000 one-minute bars) ..."
    python3 "$here/gen_bars.py" "$csv.tmp" 1000000 && mv "$csv.tmp" "$csv"
fi
bars=$(($(wc -l <"$csv") - 1))
first=$(sed -n 2p "$csv" | cut -c1-10)
last=$(tail -1 "$csv" | cut -c1-10)

# 2. backtesting.py 0.6.6 in a venv under target/.
venv=$work/venv
if [[ -z ${SKIP_BT:-} ]] && ! "$venv/bin/python" -c 'import backtesting' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q backtesting==0.6.6
fi

# 3. The release binaries.
if [[ ! -x $bin/simutrador-server || ! -x $bin/simutrador-client ]]; then
    (cd "$root" && cargo build --release -p simutrador-server -p simutrador-client)
fi

# 4. A fresh daemon: import the CSV, serve on a free loopback port.
run=$work/run
rm -rf "$run"
mkdir -p "$run/client"
printf '[limits]\nmax_sessions_per_user = 100\n' >"$run/server.toml"
"$bin/simutrador-server" data import "$csv" --symbol BENCH --timeframe 1m \
    --asset-class equity --data-dir "$run/data" >/dev/null
SIMUTRADOR_CONFIG=$run/server.toml "$bin/simutrador-server" serve --bind 127.0.0.1:0 \
    --data-dir "$run/data" --state-dir "$run/state" >"$run/daemon.out" 2>"$run/daemon.log" &
daemon=$!
trap 'kill "$daemon" 2>/dev/null || true; wait "$daemon" 2>/dev/null || true' EXIT
for _ in $(seq 600); do
    grep -q 'listening on http://' "$run/daemon.out" 2>/dev/null && break
    kill -0 "$daemon" 2>/dev/null || { cat "$run/daemon.log"; exit 1; }
    sleep 0.1
done
addr=$(grep -o 'listening on http://[^ ]*' "$run/daemon.out" | sed 's|.*http://||')
export SIMUTRADOR_URL=ws://$addr SIMUTRADOR_STATE_DIR=$run/state SIMUTRADOR_CONFIG_DIR=$run/client
client=$bin/simutrador-client
# Log in once, as a user's first command would; later commands reuse the stored token.
"$client" health >/dev/null

# 5. SimuTrador: time `session create` and `session run` as a user would (wall clock of the
# CLI process, human output to a file), ROUNDS times; the daemon's CPU is read from /proc.
echo "SimuTrador: $bars bars $first .. $last, $rounds rounds, daemon on $addr"
: >"$run/times"
for r in $(seq "$rounds"); do
    l=$(load)
    /usr/bin/time -f '%e %U %S' -o "$run/create.time" "$client" session create BENCH \
        --timeframe 1m --start "$first" --end "$last" --capital 100000 >"$run/create.out"
    id=$(sed -n 's/^Created session \([^ ]*\) .*/\1/p' "$run/create.out")
    d0=$(cpu_of "$daemon")
    /usr/bin/time -f '%e %U %S' -o "$run/run.$r.time" "$client" session run "$id" \
        --strategy sma-cross -p fast=10 -p slow=20 -p short=true ${RUN_ARGS:-} \
        >"$run/run.$r.out" 2>"$run/run.$r.err"
    d1=$(cpu_of "$daemon")
    read -r cw _ _ <"$run/create.time"
    read -r rw ru rs <"$run/run.$r.time"
    trades=$(grep '# Trades' "$run/run.$r.out" | grep -o '[0-9][0-9]*' | tail -1)
    printf '%s %s %s %s %s\n' "$cw" "$rw" "$(echo "$ru + $rs" | bc)" "$(echo "$d1 - $d0" | bc)" "$trades" >>"$run/times"
    printf '  round %d: create %.3f s, run %.3f s (CLI CPU %.2f s, daemon CPU %.2f s), %s trades, load %s\n' \
        "$r" "$cw" "$rw" "$(echo "$ru + $rs" | bc)" "$(echo "$d1 - $d0" | bc)" "$trades" "$l"
done
run_med=$(cut -d' ' -f2 "$run/times" | median)
run_best=$(cut -d' ' -f2 "$run/times" | best)
both_med=$(awk '{ print $1 + $2 }' "$run/times" | median)
ours_trades=$(tail -1 "$run/times" | cut -d' ' -f5)
echo "  session run: median $run_med s, best $run_best s; create + run: median $both_med s"

[[ -n ${SKIP_BT:-} ]] && exit 0

# 6. backtesting.py in process, Backtest(...).run() only.
echo "backtesting.py 0.6.6: $rounds rounds (load $(load))"
bt=$("$venv/bin/python" -W ignore "$here/bt_smacross.py" "$csv" "$rounds")
echo "  $bt"
bt_med=$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['median'])" "$bt")
bt_best=$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['best'])" "$bt")
bt_trades=$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['trades'])" "$bt")

echo
printf 'backtesting.py   median %.3f s  best %.3f s  trades %s\n' "$bt_med" "$bt_best" "$bt_trades"
printf 'session run      median %.3f s  best %.3f s  trades %s\n' "$run_med" "$run_best" "$ours_trades"
printf 'ratio (medians)  %.1fx  (best: %.1fx; create + run: %.1fx)   load %s\n' \
    "$(echo "$bt_med / $run_med" | bc -l)" "$(echo "$bt_best / $run_best" | bc -l)" \
    "$(echo "$bt_med / $both_med" | bc -l)" "$(load)"
if [[ $bt_trades != "$ours_trades" ]]; then
    echo "TRADE COUNTS DIFFER: backtesting.py $bt_trades, SimuTrador $ours_trades" >&2
    exit 1
fi
