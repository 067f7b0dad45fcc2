"""cdc-bridge verify: equal tables say equal (exit 0); a target row changed
or deleted by hand is reported with its key range (exit 1).  The target
table is created by the sink from MariaDB's information_schema
(create_tables)."""

import sink_support as ss
import source_lib


def test_verify_equal_then_differ(tmp_path, mariadb, postgres, devkafka):
    mariadb.sql("CREATE DATABASE shop")
    mariadb.sql("CREATE TABLE shop.orders (id BIGINT PRIMARY KEY, "
                "customer VARCHAR(40), amount DECIMAL(10,2), n INT, "
                "at DATETIME(3))")
    ev = ss.Events(devkafka)
    for i in range(1, 41):
        row = {"id": i, "customer": "c%d" % i, "amount": "%d.25" % i,
               "n": i * 3, "at": "2024-05-0%d 10:00:00.%03d" % (i % 9 + 1,
                                                               i)}
        mariadb.sql("INSERT INTO shop.orders VALUES (%s, %s, %s, %s, %s)",
                    (row["id"], row["customer"], row["amount"], row["n"],
                     row["at"]))
        ev.insert("orders", row)
    ev.flush()

    postgres.create_db("orders")
    env = ss.env_for(devkafka, postgres, mariadb=mariadb, create_tables="yes")
    sink = ss.Sink(tmp_path / "sink", env).start()
    try:
        ss.wait_rows(postgres, "SELECT count(*) FROM public.orders", [(40,)],
                     sink=sink)
    finally:
        assert sink.stop() == 0, sink.output()
    types = postgres.sql(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_name = 'orders' ORDER BY ordinal_position", db="orders")
    assert types == [("id", "bigint"), ("customer", "character varying"),
                     ("amount", "numeric"), ("n", "integer"),
                     ("at", "timestamp without time zone")]

    rc, out = ss.verify(env, args=["--chunk", "7"])
    assert rc == 0, out
    assert "source 40 rows" in out and "target 40 rows" in out, out
    assert "equal" in out, out

    postgres.sql("UPDATE public.orders SET amount = 0 WHERE id BETWEEN 10 "
                 "AND 12", db="orders")
    postgres.sql("DELETE FROM public.orders WHERE id = 20", db="orders")
    postgres.sql("INSERT INTO public.orders (id, n) VALUES (99, 1)",
                 db="orders")
    rc, out = ss.verify(env, args=["--chunk", "7"])
    assert rc == 1, out
    assert "[id=10 .. id=12] (3 rows)" in out, out
    assert "[id=20 .. id=20] (1 row)" in out, out
    assert "[id=99 .. id=99] (1 row)" in out, out
    assert "1 missing in target, 1 extra in target, 3 different" in out, out
    assert "NOT EQUAL" in out, out


# One table per primary-key type, with values whose order differs between
# text, numeric and byte-wise comparison, so chunk bounds fall between them.
KEY_TABLES = {
    "k_int": ("id INT", ["-100", "-2", "0", "3", "10", "25", "1000",
                         "99999"]),
    "k_ubig": ("id BIGINT UNSIGNED",
               ["0", "9", "10", "100", "9223372036854775807",
                "9223372036854775808", "18446744073709551614",
                "18446744073709551615"]),
    "k_dec": ("id DECIMAL(30,5)",
              ["-1.5", "0", "0.00001", "2", "10",
               "1234567890123456789012345", "1234567890123456789012345.00001",
               "1234567890123456789012345.1"]),
    "k_year": ("id YEAR", ["1901", "1999", "2000", "2155"]),
    "k_char": ("id CHAR(10)", ["'B'", "'a'", "'Z'", "'_x'", "'é'", "'ñ'",
                               "'10'", "'9'", "'a b'"]),
    "k_varchar": ("id VARCHAR(20) COLLATE utf8mb4_bin", ["'😀'", "'z'", "'ż'", "'A'", "'aa'",
                                     "'a'", "'€'", "''"]),
    "k_latin1": ("id VARCHAR(10) CHARACTER SET latin1",
                 ["'€'", "'é'", "'z'", "'a'", "'ÿ'", "'Œ'"]),
    "k_date": ("id DATE", ["'1000-01-01'", "'1999-12-31'", "'2024-02-29'",
                           "'2024-10-01'", "'2024-09-30'", "'9999-12-31'"]),
    "k_datetime": ("id DATETIME(6)",
                   ["'2024-01-01 00:00:00'", "'2024-01-01 00:00:00.5'",
                    "'2024-01-01 00:00:00.000001'",
                    "'2024-01-01 00:00:00.123'", "'1000-01-01 00:00:00'",
                    "'2024-01-01 00:00:09'", "'2024-01-01 00:00:10'"]),
    "k_ts": ("id TIMESTAMP(3)",
             ["'1970-01-01 05:00:01'", "'2024-03-31 01:30:00'",
              "'2024-03-31 01:30:00.5'", "'2038-01-19 03:14:07.999'",
              "'2001-09-09 01:46:40'", "'2024-10-27 00:59:59'"]),
    "k_time": ("id TIME(6)",
               ["'-838:59:59'", "'-00:00:01'", "'00:00:00'", "'00:00:00.5'",
                "'10:00:00'", "'100:00:00'", "'838:59:59'",
                "'-01:00:00.25'", "'09:00:00'", "'-02:00:00'"]),
    "k_bin": ("id BINARY(4)", ["x'00000000'", "x'ff000000'", "x'7f000000'",
                               "x'80000000'", "x'00000001'", "x'0a0b0c0d'"]),
    "k_varbin": ("id VARBINARY(8)", ["x''", "x'00'", "x'0000'", "x'ff'",
                                     "x'7f'", "x'8001'", "x'01'",
                                     "x'0a'"]),
    "k_bit": ("id BIT(10)", ["b'0'", "b'1'", "b'1111111111'",
                             "b'1000000000'", "b'0111111111'", "b'10'",
                             "b'11'"]),
    "k_enum": ("id ENUM('zebra','apple','Mango','banana','10','9')",
               ["'zebra'", "'apple'", "'Mango'", "'banana'", "'10'",
                "'9'"]),
}

# JSON documents PostgreSQL stores (jsonb) in a normal form of their own.
JSON_DOCS = [
    '{"big":18446744073709551616}',
    '{"neg": -18446744073709551617, "dec": 12345678901234567890.125}',
    '{"e": 1.5e300}',
    '{"z": -0.0}',
    '[1.0, 1e2, 0.1, 1E-7, 2.50]',
    '{"b": 1, "a": {"yy": 2, "x": [1, 2, {"k": "\\u00e9\\t\\"q\\""}]}}',
    '"text"',
    'null',
    '{"dup": 1, "dup": 2}',
    '{"long key": true, "k": false, "": []}',
]


def key_schema():
    sql = ["SET NAMES utf8mb4;", "CREATE DATABASE shop CHARACTER SET utf8mb4;",
           "SET time_zone = '+05:00';"]
    for name, (col, vals) in KEY_TABLES.items():
        sql.append("CREATE TABLE shop.%s (%s PRIMARY KEY, n INT);"
                   % (name, col))
        sql.append("INSERT INTO shop.%s VALUES %s;" % (name, ", ".join(
            "(%s, %d)" % (v, i) for i, v in enumerate(vals))))
    sql.append("CREATE TABLE shop.k_comp (a INT, b VARCHAR(10), c DATE, "
               "n INT, PRIMARY KEY (a, b, c));")
    sql.append("INSERT INTO shop.k_comp VALUES " + ", ".join(
        "(%d, '%s', '2024-01-%02d', %d)" % (a, b, c, a * 100 + c)
        for a in (2, 10, -1) for b in ("x", "B", "é") for c in (9, 10, 1)) +
        ";")
    sql.append("CREATE TABLE shop.docs (id INT PRIMARY KEY, doc JSON);")
    for i, d in enumerate(JSON_DOCS):
        sql.append("INSERT INTO shop.docs VALUES (%d, '%s');"
                   % (i, d.replace("\\", "\\\\")))
    return "\n".join(sql)


def test_verify_every_key_type_and_json(tmp_path, mariadb, postgres,
                                        devkafka):
    """verify pages every key type in chunks, MySQL and PostgreSQL in the
    same order (a DATE key once failed with SQLSTATE 42804), and compares
    JSON as jsonb stores it (integers past int64, 1.5e300, -0.0)."""
    mariadb.script(key_schema())
    mariadb.cdc_user()
    postgres.create_db("orders")
    names = list(KEY_TABLES) + ["k_comp", "docs"]
    run = source_lib.Bridge(tmp_path / "run", mariadb, devkafka)
    env = ss.env_for(devkafka, postgres, mariadb=mariadb,
                     create_tables="yes", tables=" ".join(
                         "shop.%s=public.%s" % (n, n) for n in names))
    env["CDC_KAFKA_TOPIC_PREFIX"] = "monolith"
    total = sum(len(v) for _, v in KEY_TABLES.values()) + 27 + len(JSON_DOCS)
    run.start()
    sink = ss.Sink(tmp_path / "sink", env).start()
    try:
        ss.wait_rows(postgres, "SELECT " + " + ".join(
            "(SELECT count(*) FROM public.%s)" % n for n in names),
                     [(total,)], sink=sink, timeout=120)
    finally:
        rc = sink.stop()
        run.stop()
    assert rc == 0, sink.output()

    for chunk in ("1", "3", "10000"):
        rc, out = ss.verify(env, args=["--chunk", chunk])
        assert rc == 0, out
        assert "service orders: equal" in out, out
        for n, (_, vals) in KEY_TABLES.items():
            assert 'shop.%s -> "public"."%s": source %d rows' % (
                n, n, len(vals)) in out, out
            assert "target %d rows" % len(vals) in out, out
        assert "source 27 rows" in out and "source 10 rows" in out, out

    # a changed, a missing and an extra row are found in the right place
    postgres.sql("UPDATE public.k_time SET n = 77 WHERE id = "
                 "'-00:00:01'::interval", db="orders")
    postgres.sql("DELETE FROM public.k_date WHERE id = '2024-09-30'",
                 db="orders")
    postgres.sql("INSERT INTO public.k_bin VALUES ('\\x00000002', 0)",
                 db="orders")
    postgres.sql("UPDATE public.docs SET doc = '{\"e\": 1.5e299}' "
                 "WHERE id = 2", db="orders")
    rc, out = ss.verify(env, args=["--chunk", "2"])
    assert rc == 1, out
    assert "row id=-1000000 column n" in out, out
    assert "[id=2024-09-30 .. id=2024-09-30] (1 row)" in out, out
    assert "[id=00000002 .. id=00000002] (1 row)" in out, out
    assert "row id=2 column doc" in out, out
    assert out.count("DIFFER") == 4, out
    assert not sink.problems() and not run.sanitizer_reports()
