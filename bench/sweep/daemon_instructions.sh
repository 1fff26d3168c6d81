#!/usr/bin/env bash
# Instructions the daemon executes for a parameter sweep, counted by callgrind: a figure that,
# unlike wall time, does not move with the load of this shared 2-core VM, so two builds can
# be compared (issue 11: "the 1,000-run sweep must not regress").
#
#   bench/sweep/daemon_instructions.sh [BIN_DIR] [LABEL]
#
# BIN_DIR holds simutrador-server and simutrador-client (default target/release; for "before",
# the release build of an older commit in a worktree). The daemon runs under
# `valgrind --tool=callgrind` with its message rate raised; the release CLI runs
# bench/sweep/sweep-200.toml (sma-cross, fast 1..8 x slow 41..65 = 200 runs over ~2,600 daily
# ACME bars, 5 at a time); then SIGTERM, and the daemon's total instruction count is printed
# (start-up and the catalog load included, the same for both builds). Work dir:
# target/bench-sweep/LABEL. Figures: docs/benchmarks.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=$(cd "${1:-$root/target/release}" && pwd)
label=${2:-current}
work=$root/target/bench-sweep/$label
rm -rf "$work" && mkdir -p "$work"
export XDG_CONFIG_HOME=$work/cfg XDG_DATA_HOME=$work/data XDG_STATE_HOME=$work/xstate
# valgrind does not follow the daemon's re-exec that sets this (simutrador-server/src/cli/allocator.rs).
export GLIBC_TUNABLES=${GLIBC_TUNABLES:-glibc.malloc.mmap_threshold=1048576}
key=$("$bin/simutrador-server" keys add --user bench --state-dir "$work/state" 2>/dev/null |
    grep -o 'stk_[A-Za-z0-9_-]*' | head -1)
printf '[rate_limits]\nmessages_per_second = 1000000\nmessage_burst = 1000000\n' >"$work/server.toml"
valgrind --tool=callgrind --callgrind-out-file="$work/callgrind.out" "$bin/simutrador-server" serve \
    --bind 127.0.0.1:0 --state-dir "$work/state" --config "$work/server.toml" \
    >"$work/daemon.out" 2>"$work/daemon.log" &
daemon=$!
trap 'kill "$daemon" 2>/dev/null || true' EXIT
for _ in $(seq 600); do grep -q "listening on" "$work/daemon.out" && break; sleep 0.5; done
addr=$(grep -o 'listening on http://[0-9.:]*' "$work/daemon.out" | sed 's|.*http://||')
(cd "$work" && SIMUTRADOR_API_KEY=$key "$bin/simutrador-client" --url "ws://$addr" \
    batch run "$here/sweep-200.toml" --out "$work/results" >"$work/client.log" 2>&1)
grep "succeeded" "$work/client.log" | tail -1
kill -TERM "$daemon" && wait "$daemon" || true
trap - EXIT
total=$(callgrind_annotate "$work/callgrind.out" 2>/dev/null | grep "PROGRAM TOTALS" | awk '{print $1}')
echo "$label: daemon instructions for the 200-run sweep: $total"
