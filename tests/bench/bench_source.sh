#!/bin/bash
# Source wing: binlog -> Kafka throughput of the release build against the
# dev broker, with mariadb-binlog (decode only) and kcat -P (produce only)
# over the same range as baselines.  See bench_source.py.
#   BENCH_ROWS=N        rows to insert (default 200000)
#   BENCH_DOC=FILE      append the figures as a markdown section to FILE
cd "$(dirname "$0")" || exit 1
exec /usr/bin/python3 ./bench_source.py "$@"
