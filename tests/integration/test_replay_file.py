"""`cdc-bridge run --from-file BINLOG --to-stdout`: the file replay path.

1. Real binlogs from tests' shared data (MySQL 5.5-9.x, MariaDB) decode to
   the values their README lists, through the built binary.
2. A binlog written by the local MariaDB with every column type it has
   (GEOMETRY, TIME(6), DATETIME(1..6), DECIMAL(65,30), latin1 text, BIT,
   ENUM/SET, JSON, BLOBs, unsigned extremes, zero dates, NULLs) replays to
   exactly what SELECT shows, in the forms docs/events.md promises.
"""

import base64
import glob
import gzip
import json
import os
import shutil
import struct
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harness  # noqa: E402

BINLOGS = os.path.join(harness.TESTDATA, "binlogs")


def replay(path, tmp_path, prefix="t", expect_rc=0):
    """Runs the ASan binary on one file; returns (messages, stderr)."""
    env = harness.sanitizer_env(None, str(tmp_path))
    env["CDC_SOURCE_TABLES"] = "*.*"
    env["CDC_KAFKA_TOPIC_PREFIX"] = prefix
    p = subprocess.run([harness.bridge_path(), "run", "--from-file", path,
                        "--to-stdout"], capture_output=True, text=True,
                       env=env, cwd=str(tmp_path), timeout=120)
    reports = harness.sanitizer_reports(str(tmp_path))
    assert not reports, "\n".join(reports)
    assert p.returncode == expect_rc, p.stderr
    msgs = [json.loads(line) for line in p.stdout.splitlines()]
    for m in msgs:
        assert set(m) == {"topic", "key", "value"}
    return msgs, p.stderr


def need_testdata():
    if not os.path.isdir(BINLOGS):
        pytest.skip("no shared testdata at " + BINLOGS)


def test_replay_shared_files(tmp_path):
    need_testdata()

    msgs, _ = replay(os.path.join(BINLOGS, "rmc_mysql_type_bit.000001"),
                     tmp_path)
    assert len(msgs) == 1
    m = msgs[0]
    assert m["topic"] == "t.mysql.foo"
    assert m["key"] is None
    assert m["value"]["after"] == {"a": "100", "b": "foo", "c": "00100000"}
    assert m["value"]["op"] == "c"
    src = m["value"]["source"]
    assert src["connector"] == "mysql" and src["name"] == "t"
    assert src["gtid"] == "fbda2ad0-7c46-11ec-ae30-4ef7efc81a2a:3"
    assert src["file"] == "rmc_mysql_type_bit.000001"
    assert src["snapshot"] == "false"

    msgs, _ = replay(os.path.join(BINLOGS,
                                  "gomysql_tcb-eval002c-bin.003320"),
                     tmp_path)
    assert len(msgs) == 17
    assert msgs[0]["value"]["after"]["col_12"] == \
        "-10.5500000000000000000000000"
    assert msgs[16]["value"]["after"]["col_3"] == "-1948"

    msgs, _ = replay(os.path.join(BINLOGS, "rmc_mariadb-bin.000001"),
                     tmp_path, prefix="mono")
    assert [m["key"] for m in msgs] == [{"id": 62}, {"id": 63}]
    assert msgs[0]["topic"] == "mono.toddy_test.outbox"
    assert msgs[0]["value"]["after"]["event_type"] == "JSON"
    assert msgs[1]["value"]["source"]["gtid"] == "0-1-2"


def test_replay_truncated_file_fails_cleanly(tmp_path):
    need_testdata()
    name = "rmc_binlog_truncated_prev_gtid_event.000001"
    msgs, err = replay(os.path.join(BINLOGS, name), tmp_path, expect_rc=1)
    assert msgs == []
    assert name in err and "offset 120" in err and "truncated" in err


def test_replay_sakila(tmp_path):
    need_testdata()
    raw = tmp_path / "sakila.bin"
    with gzip.open(os.path.join(BINLOGS, "osheroff_mysql-bin.sakila.gz")) \
            as src, open(raw, "wb") as dst:
        shutil.copyfileobj(src, dst)
    msgs, err = replay(str(raw), tmp_path)
    assert len(msgs) == 47273
    counts = {}
    for m in msgs:
        counts[m["topic"]] = counts.get(m["topic"], 0) + 1
    assert counts["t.sakila.payment"] == 16049
    assert counts["t.sakila.rental"] == 16044
    assert counts["t.sakila.film_actor"] == 5462
    assert "1462 events" in err


# ---------------------------------------------------------------- MariaDB

DDL = """
CREATE TABLE t (
  id INT PRIMARY KEY,
  ti TINYINT, tiu TINYINT UNSIGNED, si SMALLINT, siu SMALLINT UNSIGNED,
  mi MEDIUMINT, miu MEDIUMINT UNSIGNED, i INT, iu INT UNSIGNED,
  bi BIGINT, biu BIGINT UNSIGNED, bo BOOLEAN,
  d1 DECIMAL(10,2), d2 DECIMAL(65,30), d3 DECIMAL(5,0), d4 DECIMAL(3,3),
  f FLOAT, dbl DOUBLE,
  dt DATE, dtm0 DATETIME, dtm1 DATETIME(1), dtm2 DATETIME(2),
  dtm3 DATETIME(3), dtm4 DATETIME(4), dtm5 DATETIME(5), dtm6 DATETIME(6),
  ts0 TIMESTAMP NULL DEFAULT NULL, ts3 TIMESTAMP(3) NULL DEFAULT NULL,
  ts6 TIMESTAMP(6) NULL DEFAULT NULL,
  tm0 TIME, tm1 TIME(1), tm3 TIME(3), tm6 TIME(6),
  y YEAR,
  c CHAR(10), vc VARCHAR(300), txt TEXT, lt LONGTEXT,
  l1 VARCHAR(50) CHARACTER SET latin1, l1c CHAR(5) CHARACTER SET latin1,
  u8 VARCHAR(20) CHARACTER SET utf8mb3,
  bn BINARY(4), vb VARBINARY(10), bl BLOB, mb MEDIUMBLOB,
  e ENUM('a','b','c'), s SET('x','y','z'),
  b1 BIT(1), b10 BIT(10), b64 BIT(64),
  j JSON,
  g GEOMETRY, pt POINT
) DEFAULT CHARSET=utf8mb4
"""

ROWS = [
    """INSERT INTO t VALUES (1,
      -128, 255, -32768, 65535, -8388608, 16777215, -2147483648,
      4294967295, -9223372036854775808, 18446744073709551615, 1,
      -10.55, 12345678901234567890123456789012345.123456789012345678901234567890,
      -99999, 0.001,
      1.1, 0.1,
      '2024-02-29', '2024-01-02 03:04:05', '2024-01-02 03:04:05.1',
      '2024-01-02 03:04:05.12', '2024-01-02 03:04:05.123',
      '2024-01-02 03:04:05.1234', '2024-01-02 03:04:05.12345',
      '2024-01-02 03:04:05.123456',
      '2009-02-13 23:31:30', '2009-02-13 23:31:30.123',
      '2038-01-19 03:14:07.999999',
      '-838:59:59', '-00:00:01.5', '12:34:56.789', '-123:00:00.000001',
      2155,
      'char', REPEAT('v', 300), 'text\\n"q"\\\\', REPEAT('long ', 1000),
      'caf\xe9 \u20ac', '\xff\xe9', 'utf8 \u4e2d',
      'ab', x'00ff', x'89504e470d0a1a0a', x'',
      'b', 'x,z',
      b'1', b'1010101010', b'1000000000000000000000000000000000000000000000000000000000000001',
      '{"a": [1, 2.5, "x"], "b": null}',
      ST_GeomFromText('POLYGON((0 0,1 0,1 1,0 0))', 4326),
      POINT(1, 2))""",
    """INSERT INTO t (id, dt, dtm0, dtm6, ts0, tm0, y, d1, d2, f, dbl, e, s,
                      l1, bi, biu)
      VALUES (2, '0000-00-00', '0000-00-00 00:00:00',
      '9999-12-31 23:59:59.999999', '0000-00-00 00:00:00', '838:59:59', 0,
      0, 0, -3.4e38, 1e308, '', '', '', 9223372036854775807, 0)""",
    "INSERT INTO t (id) VALUES (3)",
]


def select_rows(m):
    """SELECT * as raw text-protocol values, plus the column types."""
    import pymysql
    conn = pymysql.connect(host="127.0.0.1", port=m.port, user="root",
                           password="", database="d", charset="utf8mb4",
                           conv={})
    try:
        with conn.cursor() as c:
            c.execute("SET time_zone = '+00:00'")
            c.execute("SELECT * FROM t ORDER BY id")
            desc = c.description
            rows = c.fetchall()
    finally:
        conn.close()
    return desc, rows


def expected(desc, row):
    """The documented JSON form of each text-protocol value."""
    out = {}
    for d, v in zip(desc, row):
        name, type_code, display = d[0], d[1], d[3]
        if v is None:
            out[name] = None
            continue
        if isinstance(v, bytes) and type_code not in (16, 252, 253, 254,
                                                      255):
            v = v.decode("ascii")
        if type_code in (1, 2, 3, 8, 9, 13):
            out[name] = int(v)
        elif type_code in (0, 246):
            out[name] = v
        elif type_code == 4:
            out[name] = ("float", float(v))
        elif type_code == 5:
            out[name] = float(v)
        elif type_code == 7:
            out[name] = v.replace(" ", "T") + "Z"
        elif type_code in (10, 11, 12):
            out[name] = v
        elif type_code == 16:
            bits = "".join("{:08b}".format(b) for b in v)
            out[name] = bits[-display:]
        elif type_code == 255:
            out[name] = {"srid": struct.unpack("<I", v[:4])[0],
                         "wkb": base64.b64encode(v[4:]).decode()}
        elif isinstance(v, bytes):
            out[name] = base64.b64encode(v).decode()
        else:
            out[name] = v
    return out


def same(col, want, got):
    if isinstance(want, tuple) and want[0] == "float":
        # FLOAT: the same 32-bit value, whatever digits each side prints
        return struct.pack("<f", want[1]) == struct.pack("<f", float(got))
    if isinstance(want, float):
        return isinstance(got, (int, float)) and float(got) == want
    return want == got


def test_replay_mariadb_type_matrix(mariadb, tmp_path):
    m = mariadb
    m.sql("CREATE DATABASE d")
    conn = m.connect(db="d")
    try:
        with conn.cursor() as c:
            c.execute("SET sql_mode = ''")
            c.execute("SET time_zone = '+00:00'")
            c.execute(DDL)
            for r in ROWS:
                c.execute(r)
            c.execute("UPDATE t SET vc = 'changed', d1 = 1.5 WHERE id = 1")
            c.execute("UPDATE t SET id = 30 WHERE id = 3")
            c.execute("DELETE FROM t WHERE id = 2")
            c.execute("INSERT INTO t (id) VALUES (2)")
            c.execute("FLUSH BINARY LOGS")
    finally:
        conn.close()

    desc, rows = select_rows(m)
    want = {}
    for row in rows:
        e = expected(desc, row)
        want[e["id"]] = e

    files = sorted(glob.glob(os.path.join(m.data, "binlog.[0-9]*")))
    assert files, "no binlog files in " + m.data
    msgs = []
    for f in files:
        got, _ = replay(f, tmp_path, prefix="mono")
        msgs += [x for x in got if x["topic"] == "mono.d.t"]

    ops = [(x["value"]["op"], x["key"]) for x in msgs]
    assert ops == [("c", {"id": 1}), ("c", {"id": 2}), ("c", {"id": 3}),
                   ("u", {"id": 1}),
                   ("d", {"id": 3}), ("c", {"id": 30}),    # key changed
                   ("d", {"id": 2}), ("c", {"id": 2})]

    # every insert's after image equals SELECT, column by column; the row
    # with id 1 changed later: compare its final state with the update
    final = {}
    for x in msgs:
        v = x["value"]
        if v["op"] == "d":
            final.pop(v["before"]["id"], None)
        else:
            final[v["after"]["id"]] = v["after"]
        assert v["source"]["db"] == "d" and v["source"]["table"] == "t"
        assert v["source"]["gtid"].startswith("0-1-")
        assert v["source"]["file"].startswith("binlog.")

    assert sorted(final) == sorted(want)
    bad = []
    for rid, w in want.items():
        g = final[rid]
        assert list(g) == [d[0] for d in desc], "column names/order"
        for col, wv in w.items():
            if not same(col, wv, g[col]):
                bad.append("id %s %s: binlog %r, SELECT %r"
                           % (rid, col, g[col], wv))
    assert not bad, "\n".join(bad)

    # spot checks of the documented forms
    r1 = final[1]
    assert r1["biu"] == 18446744073709551615
    assert r1["d2"] == \
        "12345678901234567890123456789012345.123456789012345678901234567890"
    assert r1["d4"] == "0.001"
    assert r1["dtm3"] == "2024-01-02 03:04:05.123"
    assert r1["ts6"] == "2038-01-19T03:14:07.999999Z"
    assert r1["tm1"] == "-00:00:01.5"
    assert r1["tm6"] == "-123:00:00.000001"
    assert r1["l1"] == "caf\xe9 \u20ac"
    assert r1["bn"] == base64.b64encode(b"ab\0\0").decode()
    assert r1["b10"] == "1010101010"
    assert r1["e"] == "b" and r1["s"] == "x,z"
    assert r1["pt"] == {"srid": 0, "wkb": base64.b64encode(
        struct.pack("<BIdd", 1, 1, 1.0, 2.0)).decode()}
    assert r1["g"]["srid"] == 4326
    assert json.loads(r1["j"]) == {"a": [1, 2.5, "x"], "b": None}
    assert r1["vc"] == "changed" and r1["d1"] == "1.50"
    r2 = final[2]
    assert r2["dt"] is None          # re-inserted with defaults
    before2 = [x for x in msgs if x["value"]["op"] == "d"
               and x["key"] == {"id": 2}][0]["value"]["before"]
    assert before2["dt"] == "0000-00-00"
    assert before2["dtm0"] == "0000-00-00 00:00:00"
    assert before2["ts0"] == "0000-00-00T00:00:00Z"
    assert before2["dtm6"] == "9999-12-31 23:59:59.999999"
    assert before2["tm0"] == "838:59:59"
    assert before2["y"] == 0
    assert before2["bi"] == 9223372036854775807
