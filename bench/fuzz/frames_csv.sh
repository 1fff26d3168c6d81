#!/usr/bin/env bash
# Fuzz frame decoding and the CSV importer longer than the normal test suite does.
#
#   bench/fuzz/frames_csv.sh            # 20,000 cases per property
#   PROPTEST_CASES=200000 bench/fuzz/frames_csv.sh
#
# Runs the proptest targets (debug build, no release build needed):
#   shared-models/tests/fuzz_frames.rs                 decode_client_message
#   simutrador-server/src/market_data/fuzz_tests.rs    parse_csv, write_csv, data import
# A failure prints the minimal input; proptest also saves it in a *.proptest-regressions file
# next to the test, which is replayed first on every later run. Turn each crash into a named
# case of the target's `regressions_stay_fixed` test (or a unit test) when you fix it.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PROPTEST_CASES="${PROPTEST_CASES:-20000}"
echo "PROPTEST_CASES=$PROPTEST_CASES"
start=$(date +%s)
cargo test -p shared-models --test fuzz_frames -- --test-threads 2
cargo test -p simutrador-server --lib market_data::fuzz_tests -- --test-threads 2
echo "fuzzed frames and CSV for $(( $(date +%s) - start )) s, no failure"
