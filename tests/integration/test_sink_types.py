"""Type fidelity: the full MySQL type matrix, as docs/events.md writes it,
arrives in PostgreSQL through the documented type map (tables created by
the sink from MariaDB's information_schema) with values equal to
MariaDB's: checked value by value and by `cdc-bridge verify`."""

import base64
import struct

import sink_support as ss

DDL = """CREATE TABLE shop.types (
    id INT PRIMARY KEY,
    ti TINYINT, tiu TINYINT UNSIGNED, si SMALLINT, siu SMALLINT UNSIGNED,
    mi MEDIUMINT, i INT, iu INT UNSIGNED, bi BIGINT, biu BIGINT UNSIGNED,
    dec1 DECIMAL(30,10), f FLOAT, d DOUBLE,
    dt DATE, dtt DATETIME(6), ts TIMESTAMP(3) NULL DEFAULT NULL,
    tm TIME(2), y YEAR,
    ch CHAR(5), vc VARCHAR(20), tx TEXT,
    bn BINARY(4), vb VARBINARY(10), bl BLOB,
    js JSON, en ENUM('a','b','c'), st SET('x','y','z'), bt BIT(10),
    g GEOMETRY)"""

WKB = b"\x01\x01\x00\x00\x00" + struct.pack("<dd", 1.0, 2.0)

ROW1 = {
    "id": 1, "ti": -128, "tiu": 255, "si": -32768, "siu": 65535,
    "mi": -8388608, "i": -2147483648, "iu": 4294967295,
    "bi": -9223372036854775808, "biu": 18446744073709551615,
    "dec1": "-12345678901234567890.0123456789", "f": 1.1, "d": 0.1,
    "dt": "2024-02-29", "dtt": "2024-01-02 03:04:05.123456",
    "ts": "2022-04-20T22:18:04.500Z", "tm": "-838:59:59.00", "y": 2006,
    "ch": "ab", "vc": "h\u00e9llo w\u00f6rld \u2713", "tx": "multi\nline",
    "bn": "AQIDBA==", "vb": "AP8=", "bl": "3q2+7w==",
    "js": '{"b":1,"a":[1,2]}', "en": "b", "st": "x,z", "bt": "1000000001",
    "g": {"srid": 0, "wkb": base64.b64encode(WKB).decode()},
}
ROW2 = dict({k: None for k in ROW1}, id=2, dt="0000-00-00",
            dtt="0000-00-00 00:00:00.000000", tm="100:00:00.50", y=0,
            ts="0000-00-00T00:00:00.000Z", ch="", bt="0000000000")
ROW3 = dict({k: None for k in ROW1}, id=3, dt="2020-00-10")

INSERTS = """SET SESSION sql_mode = '';
SET SESSION time_zone = '+00:00';
INSERT INTO shop.types VALUES (1, -128, 255, -32768, 65535, -8388608,
    -2147483648, 4294967295, -9223372036854775808, 18446744073709551615,
    '-12345678901234567890.0123456789', 1.1, 0.1, '2024-02-29',
    '2024-01-02 03:04:05.123456', '2022-04-20 22:18:04.500',
    '-838:59:59.00', 2006, 'ab', 'h\u00e9llo w\u00f6rld \u2713',
    'multi\\nline', x'01020304', x'00ff', x'deadbeef', '{"b":1,"a":[1,2]}',
    'b', 'x,z', b'1000000001', ST_GeomFromText('POINT(1 2)'));
INSERT INTO shop.types (id, dt, dtt, tm, y, ch, bt) VALUES (2,
    '0000-00-00', '0000-00-00 00:00:00', '100:00:00.50', 0, '', b'0');
INSERT INTO shop.types (id, dt) VALUES (3, '2020-00-10');
"""


def test_type_matrix(tmp_path, mariadb, postgres, devkafka):
    mariadb.sql("CREATE DATABASE shop CHARACTER SET utf8mb4")
    mariadb.sql(DDL)
    mariadb.script(INSERTS)
    postgres.create_db("orders")
    env = ss.env_for(devkafka, postgres, mariadb=mariadb,
                     tables="shop.types=public.types", create_tables="yes")
    ev = ss.Events(devkafka)
    for r in (ROW1, ROW2, ROW3):
        ev.insert("types", r)
    ev.flush()

    sink = ss.Sink(tmp_path / "sink", env).start()
    try:
        ss.wait_rows(postgres, "SELECT count(*) FROM public.types", [(3,)],
                     sink=sink)
    finally:
        assert sink.stop() == 0, sink.output()
    assert "0 dead letters" in sink.output(), sink.output()

    types = dict(postgres.sql(
        "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute"
        " WHERE attrelid = 'public.types'::regclass AND attnum > 0",
        db="orders"))
    assert types == {
        "id": "integer", "ti": "smallint", "tiu": "smallint",
        "si": "smallint", "siu": "integer", "mi": "integer",
        "i": "integer", "iu": "bigint", "bi": "bigint",
        "biu": "numeric(20,0)", "dec1": "numeric(30,10)", "f": "real",
        "d": "double precision", "dt": "date",
        "dtt": "timestamp(6) without time zone",
        "ts": "timestamp(3) with time zone", "tm": "interval",
        "y": "smallint", "ch": "character varying(5)",
        "vc": "character varying(20)", "tx": "text", "bn": "bytea",
        "vb": "bytea", "bl": "bytea", "js": "jsonb", "en": "text",
        "st": "text", "bt": "bit varying(10)", "g": "bytea"}, types

    got = postgres.sql("""
        SET TimeZone = 'UTC';
        SELECT tiu, siu, iu, bi::text, biu::text, dec1::text, f::text,
               d::text, dt::text, dtt::text, ts::text, tm::text, y, ch, vc,
               tx, encode(bn, 'hex'), encode(vb, 'hex'), encode(bl, 'hex'),
               js->>'b', en, st, bt::text, encode(g, 'hex')
        FROM public.types WHERE id = 1""", db="orders")
    assert got == [(
        255, 65535, 4294967295, "-9223372036854775808",
        "18446744073709551615", "-12345678901234567890.0123456789", "1.1",
        "0.1", "2024-02-29", "2024-01-02 03:04:05.123456",
        "2022-04-20 22:18:04.5+00", "-838:59:59", 2006, "ab",
        "h\u00e9llo w\u00f6rld \u2713", "multi\nline", "01020304", "00ff",
        "deadbeef", "1", "b", "x,z", "1000000001", WKB.hex())], got

    # zero and partial dates become NULL; TIME beyond 24 h stays
    assert postgres.sql("SELECT id, dt, dtt, ts, tm::text, y, bt::text FROM "
                        "public.types WHERE id > 1 ORDER BY id",
                        db="orders") == [
        (2, None, None, None, "100:00:00.5", 0, "0000000000"),
        (3, None, None, None, None, None, None)]

    rc, out = ss.verify(env)
    assert rc == 0, out
    assert "source 3 rows" in out and "equal" in out, out

    postgres.sql("UPDATE public.types SET tm = '-838:59:58' WHERE id = 1",
                 db="orders")
    rc, out = ss.verify(env)
    assert rc == 1 and "[id=1 .. id=1]" in out, out
