"""A row bigger than Kafka takes: `run` stops naming its size, table, key
and binlog position, checkpoints nothing past it (every restart stops
there again, nothing is skipped), and goes on once [kafka]
max_message_bytes allows it, through `sink` too.  The dev broker (librdkafka's mock cluster)
takes such messages: the limit that bites first is the producer's
message.max.bytes, librdkafka's default 1,000,000 bytes, hit by rows of
about 730 KB of BLOB (base64 in the JSON makes them a third bigger)."""

import base64
import hashlib
import os
import re

import sink_support as ss
from source_lib import Bridge, read_all, setup_source

BIG = 800 * 1024


def test_big_row_stops_with_its_name_then_passes_when_allowed(
        mariadb, devkafka, postgres, tmp_path):
    setup_source(mariadb, "CREATE TABLE big (id INT PRIMARY KEY, "
                          "b LONGBLOB);")
    b = Bridge(tmp_path / "run", mariadb, devkafka)
    b.start()
    try:
        b.wait_status(lambda s: s["phase"] == "streaming")
        blob = os.urandom(BIG)
        mariadb.sql("INSERT INTO shop.big VALUES (1, 'small')")
        mariadb.sql("INSERT INTO shop.big VALUES (2, %s)", (blob,))
        mariadb.sql("INSERT INTO shop.big VALUES (3, 'after')")
        b.proc.wait(timeout=60)
    finally:
        b.stop()
    assert b.proc.returncode == 1, b.log()
    log = b.log()
    m = re.search(r"event too big for Kafka, refused by the producer: "
                  r"table shop\.big, key \{\"id\":2\}, (\d+) bytes .*"
                  r"binlog (binlog\.\d+):(\d+)", log)
    assert m, log[-3000:]
    assert int(m.group(1)) > 1000000
    assert "max_message_bytes (now 1000000)" in log
    assert "max.message.bytes" in log
    # never the doubled "produce to X: … produce to X"
    assert log.count("produce to monolith.shop.big") <= 1, log

    # nothing past the big row was checkpointed: a restart stops again
    rc, out = b.run([], timeout=60)
    assert rc == 1, out
    assert "key {\"id\":2}" in out and "event too big" in out, out
    got = read_all(devkafka, "monolith.shop.big", timeout=10)
    assert [v["after"]["id"] for _k, v, _p in got] == [1], got

    # allowed: it goes through whole, and the rows after it
    b.env["CDC_KAFKA_MAX_MESSAGE_BYTES"] = "4m"
    b.start()
    try:
        got = read_all(devkafka, "monolith.shop.big", expect=3, timeout=60)
        b.wait_status(lambda s: s["checkpoint"]["pos"] > 4)
    finally:
        assert b.stop() == 0, b.log()
    after = {v["after"]["id"]: v["after"]["b"] for _k, v, _p in got}
    assert sorted(after) == [1, 2, 3], got
    assert base64.b64decode(after[2]) == blob
    assert not b.sanitizer_reports()

    # the sink's consumer takes the same limit: the row lands whole
    postgres.create_db("orders")
    env = ss.env_for(devkafka, postgres, mariadb=mariadb,
                     tables="shop.big=public.big", create_tables="yes",
                     lag_file=str(tmp_path / "lag"))
    env["CDC_KAFKA_TOPIC_PREFIX"] = "monolith"
    env["CDC_KAFKA_MAX_MESSAGE_BYTES"] = "4m"
    sink = ss.Sink(tmp_path / "sink", env).start()
    try:
        ss.wait_rows(postgres, "SELECT id, length(b), md5(b) FROM "
                     "public.big ORDER BY id",
                     [(1, 5, hashlib.md5(b"small").hexdigest()),
                      (2, BIG, hashlib.md5(blob).hexdigest()),
                      (3, 5, hashlib.md5(b"after").hexdigest())],
                     sink=sink, timeout=90)
    finally:
        assert sink.stop() == 0, sink.output()


def test_check_config_prints_max_message_bytes(tmp_path):
    import subprocess
    import harness
    from source_lib import CONF
    env = dict(os.environ, CDC_SOURCE_TABLES="shop.*",
               CDC_KAFKA_MAX_MESSAGE_BYTES="4m")
    p = subprocess.run([harness.bridge_path(), "check-config", "-c", CONF],
                       env=env, capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    line = [x for x in p.stdout.splitlines() if "max_message_bytes" in x]
    assert line and "4m" in line[0] and \
        "CDC_KAFKA_MAX_MESSAGE_BYTES" in line[0], p.stdout
    env["CDC_KAFKA_MAX_MESSAGE_BYTES"] = "999"
    p = subprocess.run([harness.bridge_path(), "check-config", "-c", CONF],
                       env=env, capture_output=True, text=True, timeout=30)
    assert p.returncode == 1 and '"999"' in p.stderr, p.stderr


def test_broker_refusal_is_named_and_nothing_is_lost(mariadb, devkafka,
                                                      tmp_path):
    """A broker whose message.max.bytes is lower refuses the message in
    its answer: the delivery report names the same things.  The dev broker
    has no size limit, so its answer is injected (push-errors)."""
    setup_source(mariadb, "CREATE TABLE big (id INT PRIMARY KEY, "
                          "b LONGBLOB);")
    b = Bridge(tmp_path / "run", mariadb, devkafka)
    b.start()
    try:
        b.wait_status(lambda s: s["phase"] == "streaming")
        mariadb.sql("INSERT INTO shop.big VALUES (1, 'a')")
        read_all(devkafka, "monolith.shop.big", expect=1)
        assert devkafka.command("push-errors Produce "
                                "MSG_SIZE_TOO_LARGE").startswith("ok")
        mariadb.sql("INSERT INTO shop.big VALUES (2, 'b')")
        b.proc.wait(timeout=60)
    finally:
        b.stop()
    assert b.proc.returncode == 1, b.log()
    assert re.search(r"event too big for Kafka, refused by the broker: "
                     r"table shop\.big, key \{\"id\":2\}, \d+ bytes .*"
                     r"binlog binlog\.\d+:\d+", b.log()), b.log()

    # the row was not checkpointed past: the next start sends it
    b.start()
    try:
        got = read_all(devkafka, "monolith.shop.big", expect=2)
    finally:
        assert b.stop() == 0, b.log()
    assert sorted(v["after"]["id"] for _k, v, _p in got) == [1, 2]
