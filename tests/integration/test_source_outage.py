"""Outages: a MariaDB restart is survived by reconnecting, with nothing
lost; with every broker down for 10 s the bridge holds back (memory
bounded, even through one 100,000-row transaction) and delivers
everything once the brokers are back."""

import os
import threading
import time
import urllib.error
import urllib.request

import harness
import pytest
from source_lib import Bridge, TopicReader, read_all, setup_source


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def test_mariadb_restart(mariadb, devkafka, tmp_path):
    setup_source(mariadb, "CREATE TABLE t (id INT PRIMARY KEY);")
    reader = TopicReader(devkafka, ["monolith.shop.t"])
    b = Bridge(tmp_path / "bridge", mariadb, devkafka,
               CDC_SOURCE_SNAPSHOT="no").start()
    try:
        b.wait_status(lambda s: s.get("phase") == "streaming")
        for i in range(1, 301):
            mariadb.sql("INSERT INTO shop.t VALUES (%d)" % i)
        mariadb.restart()
        for i in range(301, 601):
            mariadb.sql("INSERT INTO shop.t VALUES (%d)" % i)
        reader.until(lambda m: len({e[0]["id"] for e in reader.events()})
                     == 600, timeout=60, what="600 rows")
        st = b.wait_status(lambda s: s["reconnects"] >= 1)
        assert b.alive()
    finally:
        rc = b.stop()
        reader.close()
    assert rc == 0, b.log()
    assert not b.sanitizer_reports()
    assert "replication connection lost" in b.log()
    assert st["reconnects"] >= 1


def test_brokers_down_10s(mariadb, devkafka, tmp_path):
    setup_source(mariadb, "CREATE TABLE t (id INT PRIMARY KEY, "
                          "pad VARCHAR(200));")
    assert devkafka.command("create-topic monolith.shop.t 32") \
        .startswith("ok")
    # the release build: RSS is the point, and ASan's quarantine is not
    b = Bridge(tmp_path / "bridge", mariadb, devkafka, asan=False,
               CDC_SOURCE_SNAPSHOT="no", CDC_KAFKA_MAX_INFLIGHT="4m")
    b.start()
    b.wait_status(lambda s: s.get("phase") == "streaming")
    samples = []
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            try:
                samples.append(rss_kb(b.proc.pid))
            except OSError:
                pass
            time.sleep(0.1)
    th = threading.Thread(target=sample)
    th.start()
    reader = None
    try:
        time.sleep(0.5)
        base = rss_kb(b.proc.pid)
        assert devkafka.command("down-all").startswith("ok")
        down_at = time.time()
        # 20,000 small transactions, then one of 100,000 rows
        conn = mariadb.connect(db="shop")
        with conn.cursor() as cur:
            for start in range(0, 20000, 500):
                cur.executemany("INSERT INTO t VALUES (%s, REPEAT('x', 150))",
                                [(i,) for i in range(start, start + 500)])
            cur.execute("INSERT INTO t SELECT seq, REPEAT('y', 150) FROM "
                        "seq_20000_to_119999")
        conn.close()
        time.sleep(max(0, 10 - (time.time() - down_at)))
        st = b.status()
        peak_down = max(samples)
        assert st["in_flight"] > 0
        assert devkafka.command("up-all").startswith("ok")

        reader = TopicReader(devkafka, ["monolith.shop.t"])
        want = set(range(120000))
        seen = set()
        parsed = [0]

        def complete(msgs):
            for k, _v, _p, _o, _t in reader.events()[parsed[0]:]:
                seen.add(k["id"])
            parsed[0] = len(msgs)
            return seen >= want
        reader.until(complete, timeout=240, what="120,000 rows")
    finally:
        stop.set()
        th.join()
        rc = b.stop()
        if reader:
            reader.close()
    assert rc == 0, b.log()[-3000:]
    peak = max(samples)
    print("RSS: %d MiB at start, %d MiB peak while brokers were down, "
          "%d MiB peak overall" % (base // 1024, peak_down // 1024,
                                   peak // 1024))
    # while Kafka is away: bounded by the 4 MiB producer queue, not by
    # the 120,000 rows (~55 MiB of JSON) that arrive meanwhile
    assert peak_down - base < 24 * 1024, (base, peak_down)
    # catching up adds librdkafka's per-partition batch buffers (32 here)
    assert peak - base < 64 * 1024, (base, peak)


def test_checkpoint_write_failure_holds_back(mariadb, devkafka, tmp_path):
    setup_source(mariadb, "CREATE TABLE t (id INT PRIMARY KEY);")
    b = Bridge(tmp_path / "bridge", mariadb, devkafka,
               CDC_SOURCE_SNAPSHOT="no").start()
    blocker = os.path.join(b.ckdir, "checkpoint.json.tmp")
    try:
        b.wait_status(lambda s: s.get("phase") == "streaming")
        mariadb.sql("INSERT INTO shop.t VALUES (1)")
        st = b.wait_status(lambda s: s["checkpoint"]["pos"] > 4
                           and s["in_flight"] == 0)
        # root ignores permissions: a directory where the temporary file
        # goes makes every checkpoint write fail
        # the bridge may be writing that file this instant: it renames it
        # away at once, so try again
        for _ in range(500):
            try:
                os.mkdir(blocker)
                break
            except FileExistsError:
                time.sleep(0.01)
        else:
            raise AssertionError(blocker + " stayed a file")
        mariadb.sql("INSERT INTO shop.t VALUES (2)")
        st = b.wait_status(lambda s: s["checkpoint_error"] is not None,
                           what="checkpoint error reported")
        assert "checkpoint.json.tmp" in st["checkpoint_error"]
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(b.metrics_url + "/healthz", timeout=5)
        assert e.value.code == 503
        held = st["position"]["pos"]
        for i in range(3, 50):
            mariadb.sql("INSERT INTO shop.t VALUES (%d)" % i)
        time.sleep(1.5)
        st = b.status()
        # nothing read past the last durable checkpoint while it fails
        assert st["position"]["pos"] == held, st
        assert st["tables"]["shop.t"]["c"] <= 2
        os.rmdir(blocker)
        st = b.wait_status(lambda s: s["checkpoint_error"] is None
                           and s["tables"]["shop.t"]["c"] == 49,
                           what="recovery")
    finally:
        if os.path.isdir(blocker):
            os.rmdir(blocker)
        rc = b.stop()
    assert rc == 0, b.log()
    assert "checkpoint write failed" in b.log()
    assert "checkpoint writes work again" in b.log()
    ids = sorted(v["after"]["id"] for _k, v, _p in
                 read_all(devkafka, "monolith.shop.t", expect=49))
    assert ids == list(range(1, 50))


def test_delivery_failure_is_fatal(mariadb, devkafka, tmp_path):
    setup_source(mariadb, "CREATE TABLE t (id INT PRIMARY KEY);")
    b = Bridge(tmp_path / "bridge", mariadb, devkafka,
               CDC_SOURCE_SNAPSHOT="no").start()
    try:
        b.wait_status(lambda s: s.get("phase") == "streaming")
        mariadb.sql("INSERT INTO shop.t VALUES (1)")
        st = b.wait_status(lambda s: s["events_delivered"] == 1
                           and s["checkpoint"]["pos"]
                           >= s["handed_to_kafka"]["pos"] > 4)
        good = st["checkpoint"]
        # one permanent error: TOPIC_AUTHORIZATION_FAILED, never retried
        assert devkafka.command("push-errors Produce 29").startswith("ok")
        mariadb.sql("INSERT INTO shop.t VALUES (2)")
        harness.wait_for(lambda: not b.alive(), timeout=60,
                         what="the bridge to stop")
    finally:
        rc = b.stop()
    assert rc != 0, b.log()
    assert "delivery failed" in b.log() or "producer failed" in b.log()
    # nothing past the failed event became durable
    assert b.checkpoint()["position"]["pos"] == good["pos"]

    # once Kafka accepts again, a restart delivers what failed
    b.start()
    try:
        ids = harness.wait_for(
            lambda: sorted({v["after"]["id"] for _k, v, _p in
                            read_all(devkafka, "monolith.shop.t",
                                     timeout=5)}) == [1, 2],
            timeout=60, what="row 2 after the restart")
        assert ids
    finally:
        assert b.stop() == 0, b.log()


def test_million_row_transaction_bounded_rss(mariadb, devkafka, tmp_path):
    """One transaction of 1,000,000 rows streams through in pieces: the
    bridge's memory follows the producer queue, not the transaction."""
    setup_source(mariadb, "CREATE TABLE big (id INT PRIMARY KEY, v INT);")
    assert devkafka.command("create-topic monolith.shop.big 32") \
        .startswith("ok")
    b = Bridge(tmp_path / "bridge", mariadb, devkafka, asan=False,
               CDC_SOURCE_SNAPSHOT="no", CDC_KAFKA_MAX_INFLIGHT="8m")
    b.start()
    b.wait_status(lambda s: s.get("phase") == "streaming")
    time.sleep(0.3)
    base = rss_kb(b.proc.pid)
    samples = []
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            try:
                samples.append(rss_kb(b.proc.pid))
            except OSError:
                pass
            time.sleep(0.05)
    th = threading.Thread(target=sample)
    th.start()
    try:
        mariadb.sql("INSERT INTO big SELECT seq, seq FROM "
                    "seq_1_to_1000000", db="shop")
        st = b.wait_status(lambda s: s["events_delivered"] >= 1000000,
                           timeout=180, what="1,000,000 events delivered")
    finally:
        stop.set()
        th.join()
        rc = b.stop()
    assert rc == 0, b.log()[-3000:]
    assert st["tables"]["shop.big"]["c"] == 1000000
    assert st["events_delivered"] == 1000000
    peak = max(samples)
    print("1,000,000-row transaction: RSS %d MiB before, peak %d MiB"
          % (base // 1024, peak // 1024))
    # ~200 MiB of JSON went through; memory stays near the 8 MiB queue
    # plus librdkafka's batch buffers
    assert peak - base < 64 * 1024, (base, peak)
