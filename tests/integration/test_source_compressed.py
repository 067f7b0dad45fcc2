"""MariaDB with log_bin_compress=ON writes QUERY_COMPRESSED and
WRITE/UPDATE/DELETE_ROWS_COMPRESSED_V1 events: the same workload run with
compression off (table plain) and on (table comp) gives the same changes
in Kafka, row for row, small rows and large ones, and the same rows in
PostgreSQL behind `cdc-bridge sink`."""

import os
import random
import struct
import time

import harness
import sink_support as ss
from source_lib import Bridge, read_all, setup_source

TABLE = """CREATE TABLE {t} (id INT PRIMARY KEY, name VARCHAR(40),
           body LONGTEXT, data MEDIUMBLOB, n DECIMAL(20,6), j JSON)"""


def workload(mariadb, t, rnd):
    """Inserts, updates, deletes of rows from a few bytes to 150 KB, and a
    long ALTER TABLE; returns how many changes it made."""
    conn = mariadb.connect(db="shop")
    changes = 0
    with conn.cursor() as c:
        # a first row under log_bin_compress_min_len: not compressed
        c.execute("INSERT INTO %s (id) VALUES (1)" % t)
        # many small rows in one event, the first one large enough
        rows = [(i, "name-%d" % i, "b" * (i % 7), None, "%d.5" % i,
                 '{"k": %d}' % i) for i in range(2, 60)]
        c.executemany("INSERT INTO %s VALUES (%%s, %%s, %%s, %%s, %%s, %%s)"
                      % t, rows)
        changes += 1 + len(rows)
        # large rows: repetitive text and random bytes
        for i in range(100, 106):
            body = ("lorem ipsum %d " % i) * rnd.randint(1000, 8000)
            data = bytes(rnd.getrandbits(8) for _ in range(
                rnd.randint(1, 30000)))
            c.execute("INSERT INTO %s VALUES (%%s, %%s, %%s, %%s, %%s, %%s)"
                      % t, (i, "big", body, data, "1.000001", None))
            changes += 1
        # updates: small fields, large fields, many rows at once
        c.execute("UPDATE %s SET name = 'renamed' WHERE id = 3" % t)
        c.execute("UPDATE %s SET body = REPEAT('u', 150000) WHERE id = 100"
                  % t)
        c.execute("UPDATE %s SET n = n * 2, j = JSON_SET(COALESCE(j, '{}'),"
                  " '$.u', id) WHERE id BETWEEN 10 AND 40" % t)
        changes += 1 + 1 + 31
        # deletes: one small, one large, several
        c.execute("DELETE FROM %s WHERE id = 2" % t)
        c.execute("DELETE FROM %s WHERE id = 101" % t)
        c.execute("DELETE FROM %s WHERE id BETWEEN 50 AND 59" % t)
        changes += 1 + 1 + 10
        # a DDL long enough to be compressed, then rows of the new shape
        c.execute("ALTER TABLE %s ADD COLUMN extra VARCHAR(100) NOT NULL "
                  "DEFAULT 'a default long enough to compress the query'"
                  % t)
        c.execute("UPDATE %s SET extra = 'x' WHERE id IN (1, 3, 104)" % t)
        c.execute("INSERT INTO %s (id, extra) VALUES (200, REPEAT('e', 90))"
                  % t)
        changes += 3 + 1
    conn.close()
    return changes


def per_key(events):
    """{id: [(op, before, after)]} in Kafka order"""
    out = {}
    for k, v, _p in events:
        out.setdefault(k["id"], []).append((v["op"], v["before"],
                                            v["after"]))
    return out


def binlog_types(mariadb):
    """the event type numbers in the server's binlog files"""
    types = set()
    for (name, _size) in mariadb.sql("SHOW BINARY LOGS"):
        with open(os.path.join(mariadb.data, name), "rb") as f:
            data = f.read()
        off = 4
        while off + 19 <= len(data):
            size = struct.unpack_from("<I", data, off + 9)[0]
            if size < 19:
                break
            types.add(data[off + 4])
            off += size
    return types


def pg_rows(postgres, t):
    return postgres.sql("SELECT id, name, body, data, n::text, j::text, "
                        "extra FROM public.%s ORDER BY id" % t, db="orders")


def test_compressed_binlog_streams_like_plain(devkafka, postgres, tmp_path):
    m = harness.MariaDB(tmp_path / "mariadb", extra_args=[
        "--log-bin-compress=OFF", "--log-bin-compress-min-len=10"])
    sink = None
    try:
        setup_source(m, TABLE.format(t="plain") + ";"
                     + TABLE.format(t="comp") + ";")
        postgres.create_db("orders")
        env = ss.env_for(devkafka, postgres, mariadb=m, create_tables="yes",
                         tables="shop.plain=public.plain "
                                "shop.comp=public.comp")
        env["CDC_KAFKA_TOPIC_PREFIX"] = "monolith"
        b = Bridge(tmp_path / "bridge", m, devkafka,
                   CDC_SOURCE_SNAPSHOT="no").start()
        try:
            b.wait_status(lambda s: s.get("phase") == "streaming")
            time.sleep(0.5)
            n = workload(m, "plain", random.Random(7))
            m.sql("SET GLOBAL log_bin_compress = ON")
            assert workload(m, "comp", random.Random(7)) == n
            plain = read_all(devkafka, "monolith.shop.plain", expect=n)
            comp = read_all(devkafka, "monolith.shop.comp", expect=n)
            types = binlog_types(m)
            count = m.sql("SELECT COUNT(*) FROM shop.comp")[0][0]

            sink = ss.Sink(tmp_path / "sink", env).start()
            harness.wait_for(lambda: ss.wait_rows(
                postgres, "SELECT COUNT(*) FROM public.comp",
                [(count,)], sink=sink, timeout=90), timeout=100)
            ss.wait_rows(postgres, "SELECT COUNT(*) FROM public.plain",
                         [(count,)], sink=sink, timeout=60)
            assert pg_rows(postgres, "comp") == pg_rows(postgres, "plain")
            assert len(pg_rows(postgres, "comp")) == count
        finally:
            if sink is not None:
                assert sink.stop() == 0, sink.output()[-3000:]
            assert b.stop() == 0, b.log()[-3000:]
        assert not b.sanitizer_reports() and not sink.problems()
    finally:
        m.stop()

    # the server did compress: QUERY_COMPRESSED, WRITE/UPDATE/DELETE_ROWS
    # _COMPRESSED_V1, and plain WRITE_ROWS_V1 for the row under the minimum
    for t in (165, 166, 167, 168, 23):
        assert t in types, (t, types)

    assert len(plain) == len(comp) == n
    p, c = per_key(plain), per_key(comp)
    assert sorted(p) == sorted(c)
    for key in p:
        assert p[key] == c[key], key
    # large values came through whole
    assert any(a and a["body"] == "u" * 150000 for _o, _b, a in c[100])
    assert "ddl in shop" in b.log() and "ALTER TABLE comp" in b.log()
