"""Source benchmark (run by bench_source.sh): 200,000 inserted rows
(batches of 1,000) from the binlog to "every event acknowledged by the dev
broker", timed for the release build of `cdc-bridge run`; in the same run,
two baselines over the same range: `mariadb-binlog
--read-from-remote-server --base64-output=decode-rows -v` (decoding only)
and `kcat -P` producing the same number of messages of the same size
(producing only).  Prints events/s and both ratios; target >= 150,000
events/s."""

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import harness  # noqa: E402
from source_lib import CONF, bridge_env, setup_source  # noqa: E402

ROWS = int(os.environ.get("BENCH_ROWS", "200000"))
BATCH = 1000
TARGET = 150000


def status(url):
    with urllib.request.urlopen(url + "/status", timeout=5) as r:
        return json.loads(r.read())


def main():
    work = tempfile.mkdtemp(prefix="bench-source-")
    m = harness.MariaDB(os.path.join(work, "mariadb"))
    k = harness.DevKafka(os.path.join(work, "kafka"))
    try:
        setup_source(m, "CREATE TABLE orders (id INT PRIMARY KEY, "
                        "customer INT, status VARCHAR(16), total "
                        "DECIMAL(10,2), created DATETIME(3), note "
                        "VARCHAR(64));")
        k.command("create-topic monolith.shop.orders 32")
        k.command("create-topic kcat.baseline 32")
        f0, p0 = m.sql("SHOW MASTER STATUS")[0][:2]
        conn = m.connect(db="shop")
        with conn.cursor() as cur:
            for start in range(0, ROWS, BATCH):
                cur.execute(
                    "INSERT INTO orders SELECT seq, seq %% 977, 'new', "
                    "seq / 100, '2026-11-22 10:00:00.123', "
                    "CONCAT('order note ', seq) FROM seq_%d_to_%d"
                    % (start + 1, start + BATCH))
        conn.close()
        f1, p1 = m.sql("SHOW MASTER STATUS")[0][:2]
        assert f0 == f1, "the load spans binlog files"

        # 1. the bridge, release build
        env = bridge_env(m, k, os.path.join(work, "ck"),
                         CDC_SOURCE_SNAPSHOT="no", CDC_LOG_LEVEL="warn")
        url = "http://" + env["CDC_METRICS_LISTEN"]
        t0 = time.time()
        cmd = [harness.bridge_path(False), "run", "-c", CONF,
               "--start", "%s:%s" % (f0, p0)]
        if os.environ.get("BENCH_PERF"):
            cmd = ["perf", "record", "-g", "-o",
                   os.environ["BENCH_PERF"], "--"] + cmd
        p = subprocess.Popen(cmd, env=env)
        trace = []
        while True:
            try:
                st = status(url)
                trace.append((time.time() - t0, st["events_delivered"],
                              st["events_produced"]))
                if st["events_delivered"] >= ROWS:
                    break
            except OSError:
                pass
            if p.poll() is not None:
                raise SystemExit("bridge exited %s" % p.returncode)
            time.sleep(0.02)
        t_bridge = time.time() - t0
        if os.environ.get("BENCH_TRACE"):
            for i in range(0, len(trace), max(1, len(trace) // 20)):
                print("  %.3f s delivered %d produced %d" % trace[i])
        p.send_signal(2)
        p.wait()
        if st["events_delivered"] != ROWS:
            raise SystemExit("delivered %d, want %d"
                             % (st["events_delivered"], ROWS))

        # message size of what the bridge produced
        sample = k.read_topic("monolith.shop.orders", expect=200)
        size = sum(len(v) for _k, v, _p, _o in sample) // len(sample)
        ksize = sum(len(kk) for kk, _v, _p, _o in sample) // len(sample)

        # 2. mariadb-binlog decoding the same range
        t0 = time.time()
        subprocess.run(["mariadb-binlog", "--no-defaults",
                        "--read-from-remote-server", "-h127.0.0.1",
                        "-P%d" % m.port, "-uroot",
                        "--base64-output=decode-rows", "-v",
                        "--start-position=%s" % p0,
                        "--stop-position=%s" % p1, f0],
                       stdout=subprocess.DEVNULL, check=True)
        t_decode = time.time() - t0

        # 3. kcat producing ROWS messages of that size
        data = os.path.join(work, "kcat.txt")
        with open(data, "w") as f:
            for i in range(ROWS):
                key = ('{"id":%d}' % i).ljust(ksize, " ")
                f.write(key + "\t" + "v" * (size - 1) + "\n")
        t0 = time.time()
        subprocess.run(["kcat", "-P", "-b", k.bootstrap, "-t",
                        "kcat.baseline", "-K", "\t", "-l", data,
                        "-X", "linger.ms=5", "-X", "compression.type=lz4",
                        "-X", "enable.idempotence=true"],
                       check=True, stdout=subprocess.DEVNULL)
        t_kcat = time.time() - t0
    finally:
        k.stop()
        m.stop()

    eps = ROWS / t_bridge
    lines = [
        "rows: %d (%d per transaction), message %d bytes (key %d)"
        % (ROWS, BATCH, size, ksize),
        "cdc-bridge run:   %.2f s  %8.0f events/s  (target %d: %s)"
        % (t_bridge, eps, TARGET, "met" if eps >= TARGET else "NOT met"),
        "mariadb-binlog -v: %.2f s  %8.0f rows/s   bridge/decode-only "
        "ratio %.2f" % (t_decode, ROWS / t_decode, t_decode / t_bridge),
        "kcat -P:          %.2f s  %8.0f msgs/s   bridge/produce-only "
        "ratio %.2f" % (t_kcat, ROWS / t_kcat, t_kcat / t_bridge),
    ]
    for ln in lines:
        print(ln)
    out = os.environ.get("BENCH_DOC")
    if out:
        with open(out, "a") as f:
            f.write("\n## Source (binlog → Kafka)\n\n"
                    "`tests/bench/bench_source.sh`, %s, 2 shared cores, "
                    "release build, dev broker (librdkafka mock), from "
                    "process start (server checks included) to the last "
                    "acknowledgement. Ratio = baseline time / bridge time "
                    "(> 1: the bridge is faster than the baseline alone).\n"
                    "\n```\n%s\n```\n"
                    % (time.strftime("%Y-%m-%d"), "\n".join(lines)))


if __name__ == "__main__":
    main()
