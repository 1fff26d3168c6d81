#!/usr/bin/env bash
# The daemon's resident memory (VmRSS) while one client has sent 40 `get_results` for a 1M-bar
# session and reads none of the replies: once with today's bounded outbound queue (the
# defaults), once with the byte bound lifted (`outbound_queue_bytes` at its maximum and no
# slow-consumer close in the window), which is the queue bounded by 64 frames only as it was
# before. Uses the debug build unless PROFILE=release. Figures: docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
profile="${PROFILE:-debug}"
flag=()
[ "$profile" = release ] && flag=(--release)
cargo build "${flag[@]}" -p simutrador-server -p simutrador-e2e --bin simutrador-server --bin unread_replies
bin="target/$profile/unread_replies"
echo "== bounded (defaults)"
UNREAD_CONNECTIONS="" "$bin"
echo "== bounded by frames only (as before)"
UNREAD_CONNECTIONS="outbound_queue_bytes = 4294967295;slow_consumer_timeout_seconds = 3600" "$bin"
