"""The service's watermark is the minimum over its partitions, kept in
PostgreSQL beside the offsets (strangler_cdc.offsets), with `run`'s
progress markers carrying idle partitions forward (docs/routing.md, "Lag
is the slowest partition's").

* A slow partition leader (dev-kafka --brokers 3, `rtt 2 3000`): lag_ms
  grows in the lag file and /status while its partitions are stuck, and
  the lag file never claims a source time whose rows are not in
  PostgreSQL yet (checked for every one of a few hundred writes with
  distinct keys).
* Two `sink --service orders` instances in one consumer group: each
  computes the same watermark from the table, over all the service's
  partitions; one instance stopped holds the other's figure back.
"""

import json
import os
import signal
import subprocess
import threading
import time
import urllib.request

import pytest

import harness
import sink_support as ss
import source_lib

pytestmark = pytest.mark.timeout(420)

SCHEMA = """
CREATE DATABASE shop;
CREATE TABLE shop.orders (id INT UNSIGNED NOT NULL PRIMARY KEY,
    n INT NOT NULL) ENGINE=InnoDB;
CREATE TABLE shop.cdc_heartbeat (id INT UNSIGNED NOT NULL PRIMARY KEY,
    beat_ms BIGINT NOT NULL, beat_at TIMESTAMP(3) NOT NULL);
-- config/cdc-bridge.conf's service maps it too; [source] tables must match
CREATE TABLE shop.order_items (id INT UNSIGNED NOT NULL PRIMARY KEY);
"""

HB = {"CDC_SOURCE_HEARTBEAT_TABLE": "shop.cdc_heartbeat",
      "CDC_SOURCE_HEARTBEAT_INTERVAL": "200ms"}


def status(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/status" % port,
                                timeout=10) as r:
        return json.loads(r.read())


class Pipeline:
    """MariaDB -> run -> dev-kafka (N brokers) -> sinks -> PostgreSQL."""

    def __init__(self, tmp, brokers):
        self.tmp = str(tmp)
        self.parts = []
        self.sinks = []
        self.mariadb = harness.MariaDB(os.path.join(self.tmp, "mariadb"))
        self.parts.append(self.mariadb)
        self.mariadb.script(SCHEMA)
        self.mariadb.cdc_user()
        self.mariadb.sql("GRANT INSERT, UPDATE ON shop.cdc_heartbeat TO "
                         "'cdc'@'%'")
        self.postgres = harness.Postgres(os.path.join(self.tmp, "pg"))
        self.parts.append(self.postgres)
        self.postgres.create_db("orders")
        self.postgres.sql("CREATE TABLE public.orders (id bigint PRIMARY "
                          "KEY, n integer)", db="orders")
        self.kafka = harness.DevKafka(os.path.join(self.tmp, "kafka"),
                                      brokers=brokers)
        self.parts.append(self.kafka)
        self.kafka.create_topic("monolith.shop.orders", 6)
        self.kafka.create_topic("monolith.shop.cdc_heartbeat", 3)

        self.run = source_lib.Bridge(os.path.join(self.tmp, "run"),
                                     self.mariadb, self.kafka,
                                     tables="shop.orders shop.order_items",
                                     **HB)
        self.run.start()
        self.parts.append(self.run)

    def sink(self, name, *args):
        lagfile = os.path.join(self.tmp, name + ".lag")
        port = harness.free_port()
        env = ss.env_for(self.kafka, self.postgres, mariadb=self.mariadb,
                         lag_file=lagfile,
                         metrics_listen="127.0.0.1:%d" % port)
        env["CDC_KAFKA_TOPIC_PREFIX"] = "monolith"
        env.update(HB)
        s = ss.Sink(os.path.join(self.tmp, name), env, args=args).start()
        s.lagfile = lagfile
        s.port = port
        self.sinks.append(s)
        self.parts.append(s)
        return s

    def stop(self):
        for s in self.sinks:
            if s.alive():
                os.kill(s.proc.pid, signal.SIGCONT)
        for p in reversed(self.parts):
            try:
                p.stop()
            except Exception as e:  # keep stopping the others
                print("stopping %r: %s" % (p, e))


@pytest.fixture
def pipeline(tmp_path):
    made = []

    def make(brokers=1):
        p = Pipeline(tmp_path, brokers)
        made.append(p)
        return p
    yield make
    for p in made:
        p.stop()


def lag_of(path):
    try:
        return ss.read_lagfile(path)
    except (OSError, ValueError):
        return None


def fresh(sink, limit_ms=1000):
    lag = lag_of(sink.lagfile)
    return (lag is not None and 0 <= lag["lag_ms"] <= limit_ms
            and time.time() * 1000 - lag["updated_ms"] < 1000)


def test_slow_partition_leader_holds_the_watermark(pipeline):
    p = pipeline(brokers=3)
    sink = p.sink("sink")
    harness.wait_for(lambda: fresh(sink), timeout=90,
                     what="a fresh lag file with lag under 1 s")

    # every partition has its applied time and position in the table
    rows = p.postgres.sql(
        "SELECT topic, partition, source_ts_ms IS NOT NULL, file IS NOT "
        "NULL, pos IS NOT NULL FROM strangler_cdc.offsets WHERE service = "
        "'orders' ORDER BY 1, 2", db="orders")
    assert len(rows) == 9 and all(r[2] and r[3] and r[4] for r in rows), rows

    written = []                      # (id, ms after its commit returned)
    lock = threading.Lock()
    early = []
    checks = [0]
    max_lag = {"file": 0, "status": 0}
    done = threading.Event()

    def writer():
        conn = p.mariadb.connect(db="shop")
        with conn.cursor() as c:
            for i in range(1, 601):
                c.execute("INSERT INTO orders (id, n) VALUES (%s, %s)",
                          (i, i))
                with lock:
                    written.append((i, int(time.time() * 1000)))
                time.sleep(0.01)
        conn.close()

    def checker():
        while not done.is_set():
            lag = lag_of(sink.lagfile)
            if lag is None:
                continue
            present = {r[0] for r in p.postgres.sql(
                "SELECT id FROM public.orders", db="orders")}
            with lock:
                claimed = [i for i, t in written
                           if t <= lag["watermark_ms"]]
            checks[0] += 1
            missing = [i for i in claimed if i not in present]
            if missing:
                early.append((lag, missing[:10]))
            max_lag["file"] = max(max_lag["file"], lag["lag_ms"])
            try:
                max_lag["status"] = max(max_lag["status"],
                                        status(sink.port)["lag_ms"])
            except OSError:
                pass
            time.sleep(0.02)

    assert p.kafka.command("rtt 2 3000").startswith("ok")
    ck = threading.Thread(target=checker)
    ck.start()
    w = threading.Thread(target=writer)
    w.start()
    try:
        w.join(timeout=120)
        # the slow partitions catch up, 3 s per fetch
        ss.wait_rows(p.postgres, "SELECT count(*) FROM public.orders",
                     [(600,)], sink=sink, timeout=120)
        time.sleep(1)
    finally:
        done.set()
        ck.join(timeout=30)
        p.kafka.command("rtt 2 0")

    print("checks %d, max lag_ms %r" % (checks[0], max_lag))
    assert len(written) == 600
    assert checks[0] > 50, checks
    assert early == [], "the watermark claimed rows not applied: %r" % (
        early[:3],)
    # one stuck partition shows: 3 s per fetch on broker 2
    assert max_lag["file"] > 2000, max_lag
    assert max_lag["status"] > 2000, max_lag
    harness.wait_for(lambda: fresh(sink), timeout=30,
                     what="lag back under 1 s")
    assert not sink.problems()


def assigned(sink):
    try:
        return [x for x in status(sink.port)["partitions"]
                if x["assigned"]]
    except OSError:
        return []


def test_two_sinks_one_watermark(pipeline):
    p = pipeline()
    a = p.sink("a", "--instance", "a")
    harness.wait_for(lambda: fresh(a), timeout=90, what="sink a caught up")
    b = p.sink("b", "--instance", "b")
    # the mock cluster's rebalance takes 5-11 s
    harness.wait_for(lambda: assigned(a) and assigned(b), timeout=60,
                     what="both instances hold partitions")
    harness.wait_for(lambda: fresh(a) and fresh(b), timeout=30,
                     what="both lag files fresh")

    conn = p.mariadb.connect(db="shop")
    with conn.cursor() as c:
        for i in range(1, 101):
            c.execute("INSERT INTO orders (id, n) VALUES (%s, %s)", (i, i))
    ss.wait_rows(p.postgres, "SELECT count(*) FROM public.orders",
                 [(100,)], timeout=60)

    # one figure: both read the same rows, over every partition
    for _ in range(10):
        la, lb = lag_of(a.lagfile), lag_of(b.lagfile)
        sa, sb = status(a.port), status(b.port)
        assert len(sa["partitions"]) == len(sb["partitions"]) == 9, sa
        assert abs(la["watermark_ms"] - lb["watermark_ms"]) < 600, (la, lb)
        assert abs(sa["watermark_ms"] - sb["watermark_ms"]) < 600, (sa, sb)
        time.sleep(0.1)

    # b stops applying (before the group notices, ~6 s): its partitions
    # hold a's figure back, although a's own partitions are current
    os.kill(b.proc.pid, signal.SIGSTOP)
    try:
        time.sleep(3.5)
        la = lag_of(a.lagfile)
        sa = status(a.port)
        assert la["lag_ms"] > 2500 and sa["lag_ms"] > 2500, (la, sa)
        assert time.time() * 1000 - la["updated_ms"] < 1000, la
    finally:
        os.kill(b.proc.pid, signal.SIGCONT)

    harness.wait_for(lambda: fresh(a) and fresh(b), timeout=60,
                     what="both back under 1 s")
    for c in (a, b):
        assert c.stop() == 0, c.output()
        assert not c.problems()


def test_instance_id_is_checked():
    r = subprocess.run([harness.bridge_path(), "sink", "--service", "orders",
                        "--instance", "a b"], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 2, r
    assert '--instance "a b": expected 1 to 64 letters' in r.stderr, r.stderr
