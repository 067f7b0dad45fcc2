#!/bin/bash
# End-to-end lag at 10,000 changes/s (issue 4): MariaDB -> cdc-bridge run
# -> dev broker -> cdc-bridge sink -> PostgreSQL, release builds
# (build/cdc-bridge), everything on 127.0.0.1 in a temporary directory.
#
#   A writer drives BENCH_RATE row changes/s (default 10000): multi-row
#   INSERTs and UPDATEs of BENCH_ROWS_PER_STMT rows (default 200) paced by
#   the wall clock, each row carrying written_ms (writer's clock).  After
#   BENCH_WARMUP s (default 5) the lag is sampled every 100 ms for
#   BENCH_SECONDS s (default 30): now - max(written_ms) in PostgreSQL (per
#   row, precise) and the sink's lag file lag_ms (1 s binlog resolution).
#
#   BATCH=N, BATCH_TIME=D   the sink's batch_size / batch_time
#                           (default 1000, 50ms)
#   BENCH_KEEP=1            keep the work directory (logs)
#
# Prints p50/p90/p99/max of both, the rate achieved, and p99 against the
# 0.5 s target; exits 1 when the target is not met.
cd "$(dirname "$0")/../.." || exit 1
if [ ! -x build/cdc-bridge ]; then
    echo "bench_e2e_lag: build/cdc-bridge is missing: run make" >&2
    exit 1
fi
/usr/bin/python3 tests/bench/bench_e2e_lag.py "$@" &
child=$!
trap 'kill -TERM $child 2>/dev/null; wait $child' INT TERM
wait $child
