#!/bin/sh
# Fuzz journal recovery longer than the test suite does: the proptest targets of
# simutrador-server/src/session/store/fuzz_tests.rs with PROPTEST_CASES cases each
# (default 20000). A failure prints the minimal input; turn it into a regression test in
# fuzz_tests.rs or frame_tests.rs.
#   bench/fuzz/run.sh            # 20000 cases per target
#   PROPTEST_CASES=200000 bench/fuzz/run.sh
set -eu
cd "$(dirname "$0")/../.."
PROPTEST_CASES="${PROPTEST_CASES:-20000}" exec cargo test -p simutrador-server --lib \
    session::store::file::fuzz_tests -- --nocapture
