#!/usr/bin/env bash
# Memory of finished sessions: the daemon's resident memory (VmRSS) as it accumulates
# finished 1M-bar sessions that it keeps for the retention period.
#
#   bench/memory/finished_sessions.sh [SESSIONS] [BARS]   (default 100 sessions of 1,000,000 bars)
#
# Each session is `session create` + `session run --strategy sma-cross` (10/20, short) on the
# same one-minute CSV (bench/backtesting-py/gen_bars.py), one after the other, through the
# release CLI against one release daemon. Prints VmRSS before any session, after the first
# run (data loaded, allocator warmed up), after the second, every 10 runs and after the last;
# then the cost per finished session three ways, because constants divided by few sessions
# inflate it: (last - before) / N, (last - after 1) / (N - 1), and the steady slope
# (last - after 10) / (N - 10), once the results cache (2 entries) and the allocator's arenas
# are warm. Then VmRSS once the results cache has forgotten the last results (30 s idle + one
# cleanup interval), after fetching one session's whole results through the paged
# `get_results` (`session results --json`), and again once idle.
#
# Environment: BIN_DIR=DIR other binaries than target/release (e.g. a build of an older commit,
# for before/after); RUN_DIR=DIR another work dir (default target/bench-memory/run/);
# MAX_SECONDS=S stop starting sessions after S seconds (the figures then cover the sessions
# run; the count is printed); WRAP="heaptrack -o FILE" (or another command) runs the daemon
# under it. VmRSS after every session goes to RUN_DIR/rss.tsv. The state, log and outputs stay
# there until the next run. Figures: docs/benchmarks.md, "Finished sessions in memory".
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
sessions=${1:-100}
bars=${2:-1000000}
work=$root/target/bench-memory
bin=${BIN_DIR:-$root/target/release}
csv=$work/bars-$bars.csv
mkdir -p "$work"

if [[ ! -f $csv ]]; then
    echo "generating $csv ($bars one-minute bars) ..."
    python3 "$root/bench/backtesting-py/gen_bars.py" "$csv.tmp" "$bars" && mv "$csv.tmp" "$csv"
fi
first=$(sed -n 2p "$csv" | cut -c1-10)
last=$(tail -1 "$csv" | cut -c1-10)

if [[ ! -x $bin/simutrador-server || ! -x $bin/simutrador-client ]]; then
    (cd "$root" && cargo build --release -p simutrador-server -p simutrador-client)
fi

run=${RUN_DIR:-$work/run}
rm -rf "$run"
mkdir -p "$run/client"
printf '[limits]\nmax_sessions_per_user = %d\ncleanup_interval_seconds = 5\n' "$((sessions + 1))" >"$run/server.toml"
"$bin/simutrador-server" data import "$csv" --symbol BENCH --timeframe 1m \
    --asset-class equity --data-dir "$run/data" >/dev/null
if [[ -n ${WRAP:-} && -z ${GLIBC_TUNABLES:-} ]]; then
    # `serve` would execute itself again to set this (simutrador-server/src/cli/allocator.rs),
    # leaving the wrapper behind; set it here so the wrapped daemon runs as the plain one does.
    export GLIBC_TUNABLES=glibc.malloc.mmap_threshold=1048576
fi
# shellcheck disable=SC2086 # WRAP is a command line
SIMUTRADOR_CONFIG=$run/server.toml ${WRAP:-} "$bin/simutrador-server" serve --bind 127.0.0.1:0 \
    --data-dir "$run/data" --state-dir "$run/state" >"$run/daemon.out" 2>"$run/daemon.log" &
daemon=$!
trap 'kill "$daemon" 2>/dev/null || true; wait "$daemon" 2>/dev/null || true' EXIT
if [[ -n ${WRAP:-} ]]; then
    # The daemon is the wrapper's child: measure it, not the wrapper.
    for _ in $(seq 600); do
        pid=$(pgrep -n -f "$bin/simutrador-server serve" || true)
        [[ -n $pid && $pid != "$daemon" ]] && break
        sleep 0.1
    done
    daemon=$pid
fi
# Loading 1M bars takes a while in a debug build on a busy machine: wait up to 10 minutes.
for _ in $(seq 6000); do
    grep -q 'listening on http://' "$run/daemon.out" 2>/dev/null && break
    kill -0 "$daemon" 2>/dev/null || { cat "$run/daemon.log"; exit 1; }
    sleep 0.1
done
grep -q 'listening on http://' "$run/daemon.out" || { echo "the daemon did not start listening" >&2; exit 1; }
addr=$(grep -o 'listening on http://[^ ]*' "$run/daemon.out" | sed 's|.*http://||')
export SIMUTRADOR_URL=ws://$addr SIMUTRADOR_STATE_DIR=$run/state SIMUTRADOR_CONFIG_DIR=$run/client
client=$bin/simutrador-client
"$client" health >/dev/null

# Resident and peak memory of the daemon, MB.
mem() { awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$daemon/status"; }
peak() { awk '/^VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$daemon/status"; }

before=$(mem)
echo "daemon on $addr: $before MB resident before any session; $sessions sessions of $bars bars ($first .. $last)"
base=
tenth=
id=
t0=$(date +%s)
printf 'session\tvmrss_mb\tseconds\n' >"$run/rss.tsv"
done_runs=0
for i in $(seq "$sessions"); do
    if [[ -n ${MAX_SECONDS:-} ]] && (($(date +%s) - t0 >= MAX_SECONDS)); then
        echo "  stopped after $((i - 1)) sessions: MAX_SECONDS=$MAX_SECONDS reached"
        break
    fi
    "$client" session create BENCH --timeframe 1m --start "$first" --end "$last" \
        --capital 100000 >"$run/create.out"
    id=$(sed -n 's/^Created session \([^ ]*\) .*/\1/p' "$run/create.out")
    "$client" session run "$id" --strategy sma-cross -p fast=10 -p slow=20 -p short=true \
        >"$run/run.out" 2>"$run/run.err"
    done_runs=$i
    now=$(mem)
    printf '%d\t%s\t%d\n' "$i" "$now" "$(($(date +%s) - t0))" >>"$run/rss.tsv"
    if [[ $i -eq 1 ]]; then
        base=$now
        echo "  after 1 finished session: $base MB (peak so far $(peak) MB)"
    elif [[ $i -eq 2 ]] || ((i % 10 == 0)) || [[ $i -eq $sessions ]]; then
        echo "  after $i finished sessions: $now MB ($(($(date +%s) - t0)) s so far)"
    fi
    [[ $i -eq 10 ]] && tenth=$now
done
n=$done_runs
end=$(mem)
echo "$n finished sessions: $end MB resident, peak $(peak) MB"
per() { printf '  %-26s %.3f MB  ((%s - %s) / %d)\n' "$1" "$(echo "($end - $2) / $3" | bc -l)" "$end" "$2" "$3"; }
echo "per finished session:"
per "(last - before) / N" "$before" "$n"
((n > 1)) && per "(last - after 1) / (N - 1)" "$base" "$((n - 1))"
((n > 10)) && per "(last - after 10) / (N - 10)" "$tenth" "$((n - 10))"
echo "journals: $(du -sh "$run/state/sessions" | cut -f1) in $run/state/sessions"

sleep 40
echo "40 s later (results cache idle): $(mem) MB"
/usr/bin/time -f '%e' -o "$run/results.time" "$client" --json session results "$id" >"$run/results.json"
points=$(python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print(len(r['equity_curve']), 'points,', len(r['trades']), 'trades')" "$run/results.json")
echo "after fetching one session's whole results ($points, $(cat "$run/results.time") s): $(mem) MB"
sleep 40
echo "40 s later (results cache idle): $(mem) MB"
