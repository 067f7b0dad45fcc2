#!/bin/bash
# Sink wing: Kafka -> PostgreSQL apply throughput of the release build
# (build/cdc-bridge sink), against `psql \copy` of the same rows into an
# empty table of the same shape, in the same run, on the same PostgreSQL.
#
#   200,000 change events (150,000 inserts, then 50,000 updates of other
#   keys) are written to the dev broker first (32 partitions), then the
#   sink is started; the clock runs from its partition assignment (its log
#   line) to the moment strangler_cdc.offsets covers every event.
#
#   BENCH_ROWS=N      change events (default 200000)
#   BENCH_DOC=FILE    append the figures as a markdown section to FILE
#   BATCH=N           the sink's batch_size (default 5000)
#
# Prints rows/s for both and the ratio (targets: >= 50,000 rows/s and
# >= 0.3 x COPY).
cd "$(dirname "$0")/../.." || exit 1
exec /usr/bin/python3 - "$@" <<'EOF'
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, "tests/lib")
sys.path.insert(0, "tests/integration")
import harness  # noqa: E402

ROWS = int(os.environ.get("BENCH_ROWS", "200000"))
BATCH = int(os.environ.get("BATCH", "5000"))
INSERTS = ROWS * 3 // 4
bridge = harness.bridge_path(False)
if not os.path.exists(bridge):
    sys.exit("bench_sink: %s is missing: run make bridge" % bridge)

work = tempfile.mkdtemp(prefix="bench-sink-")
pg = harness.Postgres(os.path.join(work, "pg"))
kafka = harness.DevKafka(os.path.join(work, "kafka"))
sink = None
try:
    pg.create_db("bench")
    if os.environ.get("PGSLOW"):
        pg.sql("ALTER DATABASE bench SET log_min_duration_statement = %s" % os.environ["PGSLOW"])
    shape = ("(id bigint PRIMARY KEY, customer text, amount numeric(12,2), "
             "status text, created timestamp(3), note text)")
    pg.sql("CREATE TABLE public.orders " + shape, db="bench")
    pg.sql("CREATE TABLE public.copied " + shape, db="bench")
    assert kafka.command("create-topic mono.shop.orders 32").startswith("ok")

    import sink_support as ss
    ev = ss.Events(kafka)
    # big message sets: the mock broker serves one set per partition and
    # fetch, so small sets would measure the mock, not the sink
    ev.p = kafka.producer(**{"linger.ms": 1000, "batch.num.messages": 10000,
                             "batch.size": 16 * 1024 * 1024,
                             "queue.buffering.max.messages": 1000000})
    t0 = time.time()

    def row(i, status):
        return {"id": i, "customer": "customer-%d" % (i % 977),
                "amount": "%d.%02d" % (i % 10000, i % 100),
                "status": status,
                "created": "2024-05-%02d 10:%02d:%02d.123"
                % (i % 28 + 1, i % 60, i % 60),
                "note": "order %d from the monolith" % i}
    for i in range(1, INSERTS + 1):
        ev.insert("orders", row(i, "new"))
    for n in range(ROWS - INSERTS):
        i = (n * 7919) % INSERTS + 1
        ev.update("orders", row(i, "new"), row(i, "paid"))
    ev.flush()
    print("produced %d events in %.1f s" % (ROWS, time.time() - t0))

    mport = harness.free_port()
    env = ss.env_for(kafka, pg, db="bench", service="bench",
                     batch_size=BATCH, batch_time="100ms",
                     metrics_listen="127.0.0.1:%d" % mport)
    env["CDC_LOG_LEVEL"] = os.environ.get("LOG_LEVEL", "info")
    log = open(os.path.join(work, "sink.log"), "wb")
    sink = subprocess.Popen([bridge, "sink", "--service", "bench"],
                            stdout=log, stderr=log, env=env)

    def assigned():
        with open(os.path.join(work, "sink.log")) as f:
            for line in f:
                if "from offset" in line:
                    return line
        return None
    line = harness.wait_for(assigned, timeout=120, interval=0.01,
                            what="assignment")
    start = (time.mktime(time.strptime(line[:19], "%Y-%m-%dT%H:%M:%S"))
             - time.timezone + float("0." + line[20:23]))
    conn = pg.connect("bench")
    cur = conn.cursor()
    while True:
        cur.execute("SELECT coalesce(sum(next_offset), 0) FROM "
                    "strangler_cdc.offsets")
        if cur.fetchone()[0] >= ROWS:
            break
        if sink.poll() is not None:
            sys.exit("bench_sink: the sink exited")
        time.sleep(0.02)
    done = time.time()
    sink_s = done - start
    # the sink's own account of its PostgreSQL transactions (decoding the
    # next batch overlaps them)
    import urllib.request
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % mport,
                                timeout=5) as r:
        metrics = r.read().decode()
    busy_s = sum(float(ln.split()[-1]) for ln in metrics.splitlines()
                 if ln.startswith("cdc_bridge_sink_batch_duration_"
                                  "seconds_sum"))
    cur.execute("SELECT count(*), count(*) FILTER (WHERE status = 'paid') "
                "FROM public.orders")
    n, paid = cur.fetchone()
    assert n == INSERTS, n

    # COPY baseline: the same final rows, as CSV, into an empty table
    csv = os.path.join(work, "rows.csv")
    with open(csv, "w") as f:
        cur.copy_expert("COPY public.orders TO STDOUT WITH (FORMAT csv)", f)
    t0 = time.time()
    subprocess.run(["psql", "-q", "-h", "127.0.0.1", "-p", str(pg.port),
                    "-U", "postgres", "-d", "bench", "-c",
                    "\\copy public.copied FROM '%s' WITH (FORMAT csv)" % csv],
                   check=True)
    copy_s = time.time() - t0
    cur.execute("SELECT count(*) FROM public.copied")
    assert cur.fetchone()[0] == INSERTS

    sink_rate = ROWS / sink_s
    copy_rate = INSERTS / copy_s
    ratio = sink_rate / copy_rate
    lines = [
        "sink:  %d change events (%d inserts, %d updates) applied in "
        "%.2f s: %.0f rows/s (batch_size %d)"
        % (ROWS, INSERTS, ROWS - INSERTS, sink_s, sink_rate, BATCH),
        "sink:  in PostgreSQL transactions %.2f s: %.0f rows/s"
        % (busy_s, ROWS / busy_s),
        "copy:  %d rows with psql \\copy in %.2f s: %.0f rows/s"
        % (INSERTS, copy_s, copy_rate),
        "ratio: sink / copy = %.2f (targets: >= 50,000 rows/s %s, "
        ">= 0.3 x COPY %s)" % (ratio, "met" if sink_rate >= 50000
                               else "NOT met",
                               "met" if ratio >= 0.3 else "NOT met"),
    ]
    for ln in lines:
        print(ln)
    doc = os.environ.get("BENCH_DOC")
    if doc:
        with open(doc, "a") as f:
            f.write("\n## Sink (Kafka \u2192 PostgreSQL)\n\n"
                    "`tests/bench/bench_sink.sh` (release build, dev "
                    "broker, PostgreSQL 15 with fsync off, 2 shared "
                    "cores, %s):\n\n" % time.strftime("%Y-%m-%d"))
            for ln in lines:
                f.write("    " + ln + "\n")
finally:
    if sink is not None and sink.poll() is None:
        sink.terminate()
        sink.wait()
    kafka.stop()
    pg.stop()
    if os.environ.get("KEEP"):
        print("kept", work)
    else:
        subprocess.run(["rm", "-rf", work])
EOF
