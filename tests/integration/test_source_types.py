"""Every MariaDB column type, edge values included, arrives in Kafka in
the documented JSON form (docs/events.md) and equal to what SELECT
returns: through the snapshot (op "r", text protocol) and through the
binlog (op "c"), which must also agree with each other."""

import base64
import decimal
import json
import math
import struct

from source_lib import Bridge, read_all, setup_source

DDL = """
CREATE TABLE types (
  id INT PRIMARY KEY,
  ti TINYINT, tiu TINYINT UNSIGNED, si SMALLINT, siu SMALLINT UNSIGNED,
  mi MEDIUMINT, miu MEDIUMINT UNSIGNED, i INT, iu INT UNSIGNED,
  bi BIGINT, biu BIGINT UNSIGNED,
  d1 DECIMAL(65,30), d2 DECIMAL(10,2), d3 DECIMAL(5,0),
  f FLOAT, dbl DOUBLE,
  dt DATE, dtm0 DATETIME, dtm1 DATETIME(1), dtm3 DATETIME(3),
  dtm6 DATETIME(6),
  ts0 TIMESTAMP NULL DEFAULT NULL, ts2 TIMESTAMP(2) NULL DEFAULT NULL,
  ts6 TIMESTAMP(6) NULL DEFAULT NULL,
  tm0 TIME, tm4 TIME(4), tm6 TIME(6), yr YEAR,
  c CHAR(10) CHARACTER SET utf8mb4, vc VARCHAR(100) CHARACTER SET utf8mb4,
  tx TEXT CHARACTER SET utf8mb4, mt MEDIUMTEXT CHARACTER SET utf8mb4,
  cl1 VARCHAR(50) CHARACTER SET latin1, tl1 TEXT CHARACTER SET latin1,
  bn BINARY(4), vb VARBINARY(20), bl BLOB, lb LONGBLOB,
  js JSON, en ENUM('a','b','c'), st SET('x','y','z'),
  b1 BIT(1), b12 BIT(12), b64 BIT(64), g GEOMETRY
) ENGINE=InnoDB;
"""

COLS = ["ti", "tiu", "si", "siu", "mi", "miu", "i", "iu", "bi", "biu",
        "d1", "d2", "d3", "f", "dbl", "dt", "dtm0", "dtm1", "dtm3", "dtm6",
        "ts0", "ts2", "ts6", "tm0", "tm4", "tm6", "yr", "c", "vc", "tx",
        "mt", "cl1", "tl1", "bn", "vb", "bl", "lb", "js", "en", "st", "b1",
        "b12", "b64", "g"]

INTS = {"ti", "tiu", "si", "siu", "mi", "miu", "i", "iu", "bi", "biu",
        "yr"}
DECIMALS = {"d1", "d2", "d3"}
TEXTUAL = {"dt", "dtm0", "dtm1", "dtm3", "dtm6", "tm0", "tm4", "tm6"}
TIMESTAMPS = {"ts0", "ts2", "ts6"}
BINARY = {"bn", "vb", "bl", "lb"}
BITS = {"b1": 1, "b12": 12, "b64": 64}

ROWS = [
    # all NULL
    "(1" + ", NULL" * len(COLS) + ")",
    # minimums
    """(2, -128, 0, -32768, 0, -8388608, 0, -2147483648, 0,
        -9223372036854775808, 0,
        '-99999999999999999999999999999999999.999999999999999999999999999999',
        -99999999.99, -99999, -3.40282e38, -1.7976931348623157e308,
        '1000-01-01', '1000-01-01 00:00:00', '1000-01-01 00:00:00.0',
        '1000-01-01 00:00:00.000', '1000-01-01 00:00:00.000000',
        '1970-01-01 00:00:01', '1970-01-01 00:00:01.00',
        '1970-01-01 00:00:01.000000',
        '-838:59:59', '-838:59:59.0000', '-838:59:59.000000', 1901,
        '', '', '', '', '', '', x'00000000', x'', x'', x'',
        '[]', 'a', '', b'0', b'000000000000', 0,
        ST_GeomFromText('POINT(0 0)'))""",
    # maximums
    """(3, 127, 255, 32767, 65535, 8388607, 16777215, 2147483647,
        4294967295, 9223372036854775807, 18446744073709551615,
        '99999999999999999999999999999999999.999999999999999999999999999999',
        99999999.99, 99999, 3.40282e38, 1.7976931348623157e308,
        '9999-12-31', '9999-12-31 23:59:59', '9999-12-31 23:59:59.9',
        '9999-12-31 23:59:59.999', '9999-12-31 23:59:59.999999',
        '2038-01-19 03:14:07', '2038-01-19 03:14:07.99',
        '2038-01-19 03:14:07.999999',
        '838:59:59', '838:59:59.9999', '838:59:59.999999', 2155,
        'ten chars!', REPEAT('v', 100), REPEAT('t', 1000),
        REPEAT('m', 70000), 'latin', 'latin text',
        x'ffffffff', x'ff00ff00ff', REPEAT(x'ab', 300),
        REPEAT(x'cd', 100000),
        '{"k": [1, 2.5, "s", null, true], "n": {"x": -1}}', 'c', 'x,y,z',
        b'1', b'111111111111', 18446744073709551615,
        ST_GeomFromText('LINESTRING(0 0, 1 1, 2 3)'))""",
    # everyday values, fractions, zero dates, character sets
    """(4, -1, 1, -2, 2, -3, 3, -4, 4, -5, 5,
        '-0.000000000000000000000000000001', -0.5, 0, 0.1, 0.1,
        '0000-00-00', '0000-00-00 00:00:00', '2024-02-29 12:34:56.7',
        '2024-02-29 12:34:56.789', '2024-02-29 12:34:56.000001',
        '2024-02-29 12:34:56', '2024-02-29 12:34:56.5',
        '2024-02-29 12:34:56.123456',
        '-00:00:01', '12:00:00.5', '-01:02:03.000004', 2000,
        'é😀', 'naïve 😀 日本語 "quoted" \\\\ back\\nslash', 'tab\\there',
        'mediumtext', 'café ÿ', 'Grüße, ½ £',
        x'00ff0a0d', x'', x'00', x'0102',
        '"just a string"', 'b', 'y',
        b'1', b'101010101010', 1234567890123,
        ST_GeomFromText('POLYGON((0 0, 10 0, 10 10, 0 10, 0 0))', 4326))""",
]


def expected_rows(mariadb):
    """{id: {col: documented JSON form}} from SELECT."""
    sel = ["id"]
    for c in COLS:
        if c in DECIMALS or c in TEXTUAL or c in TIMESTAMPS:
            sel.append("CAST(%s AS CHAR)" % c)
        elif c in BITS:
            sel.append("BIN(%s)" % c)
        elif c == "g":
            sel.append("ST_SRID(g)")
            sel.append("ST_AsBinary(g)")
        else:
            sel.append(c)
    conn = mariadb.connect(db="shop")
    out = {}
    try:
        with conn.cursor() as cur:
            cur.execute("SET time_zone = '+00:00'")
            cur.execute("SELECT %s FROM types ORDER BY id" % ", ".join(sel))
            for row in cur.fetchall():
                vals = list(row)
                rid = vals.pop(0)
                doc = {"id": rid}
                for c in COLS:
                    v = vals.pop(0)
                    if c == "g":
                        wkb = vals.pop(0)
                        doc[c] = None if wkb is None else {
                            "srid": v, "wkb": base64.b64encode(wkb).decode()}
                    elif v is None:
                        doc[c] = None
                    elif c in BITS:
                        doc[c] = v.rjust(BITS[c], "0")
                    elif c in TIMESTAMPS:
                        doc[c] = v.replace(" ", "T") + "Z"
                    elif c in BINARY:
                        doc[c] = base64.b64encode(v).decode()
                    else:
                        doc[c] = v
                out[rid] = doc
    finally:
        conn.close()
    return out


def same(col, got, want):
    if want is None or got is None:
        return got is want
    if col == "f":
        return math.isclose(float(got), float(want), rel_tol=1e-6)
    if col == "dbl":
        return float(got) == float(want)
    if col in DECIMALS:
        return decimal.Decimal(got) == decimal.Decimal(want) and got == want
    if isinstance(want, float):
        return float(got) == want
    return got == want


def test_type_matrix(mariadb, devkafka, tmp_path):
    setup_source(mariadb, DDL)
    conn = mariadb.connect(db="shop")
    with conn.cursor() as cur:
        cur.execute("SET time_zone = '+00:00', sql_mode = ''")
        for r in ROWS:
            cur.execute("INSERT INTO types VALUES " + r)
    conn.close()

    b = Bridge(tmp_path / "bridge", mariadb, devkafka).start()
    try:
        b.wait_status(lambda s: s.get("phase") == "streaming", timeout=60,
                      what="snapshot done")
        # the same rows again, through the binlog this time
        mariadb.sql("INSERT INTO shop.types SELECT id + 100, %s FROM "
                    "shop.types" % ", ".join(COLS))
        events = read_all(devkafka, "monolith.shop.types", expect=8)
    finally:
        assert b.stop() == 0, b.log()
    assert not b.sanitizer_reports()

    want = expected_rows(mariadb)
    by_id = {}
    for k, v, _p in events:
        assert k == {"id": v["after"]["id"]}
        by_id[v["after"]["id"]] = v
    assert sorted(by_id) == [1, 2, 3, 4, 101, 102, 103, 104], sorted(by_id)

    problems = []
    for rid in (1, 2, 3, 4):
        snap, live = by_id[rid], by_id[rid + 100]
        assert snap["op"] == "r" and live["op"] == "c"
        assert snap["before"] is None and live["before"] is None
        for c in COLS:
            for ev, src in ((snap, "snapshot"), (live, "binlog")):
                got = ev["after"][c]
                w = want[ev["after"]["id"]][c]
                if not same(c, got, w):
                    problems.append("row %d %s %s: got %s want %s"
                                    % (rid, src, c, json.dumps(got)[:120],
                                       json.dumps(w)[:120]))
            if snap["after"][c] != live["after"][c]:
                problems.append("row %d %s: snapshot %s != binlog %s"
                                % (rid, c, json.dumps(snap["after"][c])[:80],
                                   json.dumps(live["after"][c])[:80]))
    assert not problems, "\n".join(problems)


# Values the text protocol shows differently from the binlog: FLOAT beyond
# 6 digits, YEAR 0 ("0000"), MariaDB's UUID/INET4/INET6 (text in SELECT,
# BINARY(16)/(4) in the binlog) and an INVISIBLE column (not in SELECT *).
EXTRA_DDL = """,
  f2 FLOAT, yr0 YEAR, u UUID, i4 INET4, i6 INET6, i6b INET6,
  inv INT INVISIBLE
) ENGINE=InnoDB;"""
EXTRA_COLS = ["f2", "yr0", "u", "i4", "i6", "i6b", "inv"]
EXTRA_ROWS = [
    ", NULL, NULL, NULL, NULL, NULL, NULL, NULL",
    ", 16777217, 0, '6ccd780c-baba-1026-9564-000000000000', '0.0.0.0',"
    " '::', '::1', -1",
    ", 1.2345678, 1901, 'ffffffff-ffff-ffff-ffff-ffffffffffff',"
    " '255.255.255.255', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',"
    " '::ffff:1.2.3.4', 7",
    ", 1e-45, 2155, '6ccd780c-baba-1026-9564-5b8c656024db', '10.1.2.3',"
    " '2001:db8::ff00:42:8329', 'fe80::1:0:0:1', 0",
]


def f32(x):
    return struct.unpack("<f", struct.pack("<f", float(x)))[0]


def test_snapshot_events_equal_stream_events(mariadb, devkafka, tmp_path):
    """Every column of the type matrix and the values above, read by the
    snapshot and then written again through the binlog, give the same
    events: the same key and the same row, field for field."""
    ddl = DDL.replace("CREATE TABLE types (", "CREATE TABLE types2 (")
    ddl = ddl.replace("\n) ENGINE=InnoDB;", EXTRA_DDL)
    setup_source(mariadb, ddl)
    allcols = ["id"] + COLS + EXTRA_COLS
    conn = mariadb.connect(db="shop")
    with conn.cursor() as cur:
        cur.execute("SET time_zone = '+00:00', sql_mode = ''")
        for r, extra in zip(ROWS, EXTRA_ROWS):
            cur.execute("INSERT INTO types2 (%s) VALUES %s"
                        % (", ".join(allcols), r.rstrip()[:-1] + extra + ")"))
    conn.close()

    b = Bridge(tmp_path / "bridge", mariadb, devkafka).start()
    try:
        b.wait_status(lambda s: s.get("phase") == "streaming", timeout=60,
                      what="snapshot done")
        mariadb.sql("INSERT INTO shop.types2 (%s) SELECT id + 100, %s FROM "
                    "shop.types2" % (", ".join(allcols),
                                     ", ".join(allcols[1:])))
        events = read_all(devkafka, "monolith.shop.types2", expect=8)
    finally:
        assert b.stop() == 0, b.log()
    assert not b.sanitizer_reports()

    by_id = {v["after"]["id"]: (k, v) for k, v, _p in events}
    assert sorted(by_id) == [1, 2, 3, 4, 101, 102, 103, 104], sorted(by_id)

    # what SELECT shows, as the events must write it
    sel = mariadb.sql("SELECT id, CAST(f2 AS DOUBLE), yr0, CAST(u AS CHAR),"
                      " CAST(i4 AS CHAR), CAST(i6 AS CHAR), CAST(i6b AS "
                      "CHAR), inv FROM shop.types2 WHERE id < 100")
    want = {r[0]: dict(zip(EXTRA_COLS, r[1:])) for r in sel}

    problems = []
    for rid in (1, 2, 3, 4):
        (sk, snap), (lk, live) = by_id[rid], by_id[rid + 100]
        assert snap["op"] == "r" and live["op"] == "c"
        assert sk == {"id": rid} and lk == {"id": rid + 100}
        assert list(snap["after"]) == allcols, list(snap["after"])
        s = dict(snap["after"], id=None)
        l_ = dict(live["after"], id=None)
        for c in allcols:
            if s[c] != l_[c] or type(s[c]) is not type(l_[c]):
                problems.append("row %d %s: snapshot %s != binlog %s"
                                % (rid, c, json.dumps(s[c])[:80],
                                   json.dumps(l_[c])[:80]))
        for c in EXTRA_COLS:
            w = want[rid][c]
            if c == "yr0" and w is not None:
                w = int(w)
            if c == "f2" and w is not None:
                # the same 32-bit float
                ok = isinstance(s[c], (int, float)) and f32(s[c]) == f32(w)
            else:
                ok = s[c] == w
            if not ok:
                problems.append("row %d %s: %s, SELECT shows %s"
                                % (rid, c, json.dumps(s[c]), w))
    assert not problems, "\n".join(problems)
    assert by_id[2][1]["after"]["f2"] == 16777216
    assert by_id[2][1]["after"]["yr0"] == 0


def test_unique_key_tables_keyed_alike(mariadb, devkafka, tmp_path):
    """Without a PRIMARY KEY the binlog keys a table by its first UNIQUE
    key of NOT NULL columns: the snapshot must key it the same way (the
    same key is the same partition, so a row's update never overtakes its
    snapshot read)."""
    setup_source(mariadb, """
        CREATE TABLE uq (a INT NULL, n INT NOT NULL, u INT NOT NULL,
                         v VARCHAR(10), UNIQUE KEY ua (a), UNIQUE KEY uu (u),
                         UNIQUE KEY un (n, v)) ENGINE=InnoDB;
        CREATE TABLE lu (t TEXT NOT NULL, UNIQUE KEY (t)) ENGINE=InnoDB;
        CREATE TABLE pre (s VARCHAR(20) NOT NULL, UNIQUE KEY (s(4)))
            ENGINE=InnoDB;
        INSERT INTO uq VALUES (1, 10, 100, 'x'), (2, 20, 200, 'y');
        INSERT INTO lu VALUES ('one');
        INSERT INTO pre VALUES ('prefix1');
        CREATE TABLE uk (u UUID NOT NULL, n INT, UNIQUE KEY (u))
            ENGINE=InnoDB;
        CREATE TABLE mem (a INT NOT NULL, n INT, UNIQUE KEY (a))
            ENGINE=MEMORY;
        INSERT INTO mem VALUES (5, 0);
        INSERT INTO uk VALUES ('6ccd780c-baba-1026-9564-5b8c656024db', 1),
            ('123e4567-e89b-42d3-a456-556642440000', 2),
            ('ffffffff-0000-1000-8000-000000000001', 3),
            ('00000000-0000-1000-8000-ffffffffffff', 4),
            ('6ccd780c-baba-1026-9564-5b8c656024dc', 5);
    """)
    # chunks of 2: the snapshot pages over each key, a UUID one too
    b = Bridge(tmp_path / "bridge", mariadb, devkafka,
               source_snapshot_chunk=2).start()
    try:
        b.wait_status(lambda s: s.get("phase") == "streaming", timeout=60,
                      what="snapshot done")
        mariadb.script("""
            UPDATE uq SET v = 'z' WHERE u = 100;
            INSERT INTO uq VALUES (3, 30, 300, 'w');
            UPDATE lu SET t = 'two';
            UPDATE pre SET s = 'prefix2';
            UPDATE mem SET n = 1;
        """, db="shop")
        uq = read_all(devkafka, "monolith.shop.uq", expect=4)
        lu = read_all(devkafka, "monolith.shop.lu", expect=2)
        pre = read_all(devkafka, "monolith.shop.pre", expect=2)
        uk = read_all(devkafka, "monolith.shop.uk", expect=5)
        mem = read_all(devkafka, "monolith.shop.mem", expect=2)
    finally:
        assert b.stop() == 0, b.log()

    got = [(v["op"], k) for k, v, _p in uq]
    assert sorted(got, key=json.dumps) == sorted(
        [("r", {"u": 100}), ("r", {"u": 200}), ("u", {"u": 100}),
         ("c", {"u": 300})], key=json.dumps), got
    # the snapshot read and the update of a row share a partition
    part = {(v["op"], json.dumps(k)): p for k, v, p in uq}
    assert part[("r", '{"u": 100}')] == part[("u", '{"u": 100}')]
    # a long unique (hash) key and a prefix key are no key, on both paths
    assert [(v["op"], k) for k, v, _p in lu] == [("r", None), ("u", None)]
    assert [(v["op"], k) for k, v, _p in pre] == [("r", None), ("u", None)]
    # a MEMORY table's unique keys are HASH keys, and usable
    assert [(v["op"], k) for k, v, _p in mem] == [("r", {"a": 5}),
                                                  ("u", {"a": 5})]
    assert sorted((k["u"], v["after"]["n"]) for k, v, _p in uk) == sorted(
        mariadb.sql("SELECT CAST(u AS CHAR), n FROM shop.uk")), uk


def test_year_before_signed_numbers(mariadb, devkafka, tmp_path):
    """MariaDB's SIGNEDNESS metadata has a bit for YEAR (MySQL's has not):
    a signed number after a YEAR column keeps its sign (it came out
    unsigned, 4294967291 for -5, until the decoder counted YEAR)."""
    setup_source(mariadb, """
        CREATE TABLE y (id INT PRIMARY KEY, yr YEAR, i INT, ti TINYINT,
            bi BIGINT, iu INT UNSIGNED, d DECIMAL(5,2), f DOUBLE);""")
    b = Bridge(tmp_path / "bridge", mariadb, devkafka).start()
    try:
        b.wait_status(lambda s: s.get("phase") == "streaming", timeout=60,
                      what="streaming")
        mariadb.sql("INSERT INTO shop.y VALUES (1, 2001, -5, -7, -9, "
                    "4294967295, -1.50, -2.5)")
        events = read_all(devkafka, "monolith.shop.y", expect=1)
    finally:
        assert b.stop() == 0, b.log()
    assert not b.sanitizer_reports()
    assert events[0][1]["after"] == {
        "id": 1, "yr": 2001, "i": -5, "ti": -7, "bi": -9, "iu": 4294967295,
        "d": "-1.50", "f": -2.5}, events
