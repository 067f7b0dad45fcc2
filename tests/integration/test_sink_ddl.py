"""Schema changes the sink follows, MariaDB -> run -> dev broker -> sink ->
PostgreSQL: TRUNCATE and DROP TABLE empty the target (a truncate event,
op "t", on every partition of the table's topic); a copy of a truncate
event already followed changes nothing; a change from before a truncate
that arrives late on a slower partition is not applied."""

import json
import urllib.request

import harness
import sink_support as ss
import source_lib


def get(port, path):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path),
                                timeout=5) as r:
        return r.read().decode()


def count(postgres, table):
    return postgres.sql("SELECT count(*) FROM %s" % table, db="orders")[0][0]


def test_truncate_and_drop_followed(tmp_path, mariadb, postgres, devkafka):
    mariadb.script("""
        CREATE DATABASE shop;
        CREATE TABLE shop.orders (id BIGINT PRIMARY KEY, n INT);
        CREATE TABLE shop.items (id BIGINT PRIMARY KEY, b VARCHAR(10));
    """)
    mariadb.script("INSERT INTO shop.orders VALUES " +
                   ",".join("(%d, %d)" % (i, i) for i in range(1, 41)) +
                   "; INSERT INTO shop.items VALUES (1, 'a'), (2, 'b');")
    mariadb.cdc_user()
    postgres.create_db("orders")
    port = harness.free_port()
    run = source_lib.Bridge(tmp_path / "run", mariadb, devkafka)
    env = ss.env_for(devkafka, postgres, mariadb=mariadb,
                     create_tables="yes",
                     tables="shop.orders=public.orders "
                     "shop.items=public.items",
                     metrics_listen="127.0.0.1:%d" % port)
    env["CDC_KAFKA_TOPIC_PREFIX"] = "monolith"
    run.start()
    sink = ss.Sink(tmp_path / "sink", env).start()
    try:
        ss.wait_rows(postgres, "SELECT (SELECT count(*) FROM public.orders),"
                     " (SELECT count(*) FROM public.items)", [(40, 2)],
                     sink=sink, timeout=90)
        mariadb.script("""
            TRUNCATE TABLE shop.orders;
            INSERT INTO shop.orders VALUES (100, 1), (101, 2);
            UPDATE shop.orders SET n = 3 WHERE id = 101;
            DROP TABLE shop.items;
        """)
        ss.wait_rows(postgres, "SELECT id, n FROM public.orders ORDER BY id",
                     [(100, 1), (101, 3)], sink=sink)
        ss.wait_rows(postgres, "SELECT count(*) FROM public.items", [(0,)],
                     sink=sink)

        # the table comes back at the source: its rows flow again
        mariadb.script("""
            CREATE TABLE shop.items (id BIGINT PRIMARY KEY, b VARCHAR(10));
            INSERT INTO shop.items VALUES (7, 'new');
        """)
        ss.wait_rows(postgres, "SELECT id, b FROM public.items", [(7, "new")],
                     sink=sink)
        # MariaDB's CREATE OR REPLACE drops the old table and its rows
        mariadb.script("""
            CREATE OR REPLACE TABLE shop.items (id BIGINT PRIMARY KEY,
                b VARCHAR(10));
            INSERT INTO shop.items VALUES (8, 'again');
        """)
        ss.wait_rows(postgres, "SELECT id, b FROM public.items",
                     [(8, "again")], sink=sink)

        # one truncate event per partition of each topic
        events = source_lib.read_all(devkafka, "monolith.shop.orders")
        trunc = [(v, p) for k, v, p in events if v and v["op"] == "t"]
        parts = {p for _k, _v, p in events}
        assert len(trunc) == len({p for _v, p in trunc}) >= len(parts), trunc
        v = trunc[0][0]
        assert v["before"] is None and v["after"] is None, v
        assert v["source"]["table"] == "orders", v
        items = source_lib.read_all(devkafka, "monolith.shop.items")
        assert any(v and v["op"] == "t" for _k, v, _p in items), items

        metrics = get(port, "/metrics")
        for t, n in (("orders", 1), ("items", 2)):
            line = ('cdc_bridge_sink_truncates_total{service="orders",'
                    'table="shop.%s"} %d' % (t, n))
            assert line in metrics, (line, metrics)

        # a copy of the truncate event (a `run` replay) empties nothing
        p = devkafka.producer()
        p.produce("monolith.shop.orders", key=b"null",
                  value=json.dumps(v).encode(), partition=0)
        p.produce("monolith.shop.orders", key=b'{"id":102}',
                  value=json.dumps(
                      {"before": None, "after": {"id": 102, "n": 0},
                       "source": dict(v["source"], pos=v["source"]["pos"]
                                      + 100000),
                       "op": "c", "ts_ms": v["ts_ms"]}).encode())
        assert p.flush(30) == 0
        ss.wait_rows(postgres, "SELECT id FROM public.orders ORDER BY id",
                     [(100,), (101,), (102,)], sink=sink)
        assert run.alive(), run.log()
    finally:
        rc = sink.stop()
        run.stop()
    assert rc == 0, sink.output()
    out = run.log()
    assert "TRUNCATE shop.orders" in out and "DROP TABLE shop.items" in out, \
        out
    assert not sink.problems() and not run.sanitizer_reports()


def test_late_change_from_before_a_truncate(tmp_path, postgres, devkafka):
    """Partition 1 lags: its insert from before the truncate arrives after
    partition 0 brought the truncate and a newer insert."""
    postgres.create_db("orders")
    postgres.sql("CREATE TABLE public.orders (id bigint PRIMARY KEY, "
                 "n integer)", db="orders")
    devkafka.create_topic("mono.shop.orders", 2)
    port = harness.free_port()
    env = ss.env_for(devkafka, postgres,
                     metrics_listen="127.0.0.1:%d" % port)
    p = devkafka.producer()

    def send(part, op, row, pos):
        value = {"before": row if op == "d" else None,
                 "after": None if op in ("d", "t") else row,
                 "source": {"version": "test", "connector": "mysql",
                            "name": "mono", "ts_ms": 1700000000000,
                            "db": "shop", "table": "orders",
                            "server_id": 1, "gtid": None,
                            "file": "binlog.000002", "pos": pos, "row": 0,
                            "snapshot": "false"},
                 "op": op, "ts_ms": 1700000000000}
        key = json.dumps({"id": row["id"]} if row else None).encode()
        p.produce("mono.shop.orders", key=key, value=json.dumps(value)
                  .encode(), partition=part)

    send(0, "c", {"id": 1, "n": 1}, 100)
    send(1, "c", {"id": 2, "n": 2}, 200)
    assert p.flush(30) == 0
    sink = ss.Sink(tmp_path / "sink", env).start()
    try:
        ss.wait_rows(postgres, "SELECT id FROM public.orders ORDER BY id",
                     [(1,), (2,)], sink=sink)
        # partition 0 moves on: an insert, the truncate, an insert
        send(0, "c", {"id": 3, "n": 3}, 300)
        send(0, "t", None, 1000)
        send(0, "c", {"id": 5, "n": 5}, 1100)
        assert p.flush(30) == 0
        ss.wait_rows(postgres, "SELECT id FROM public.orders ORDER BY id",
                     [(5,)], sink=sink)
        # partition 1 catches up: its changes from before the truncate
        # are not applied, the ones after are
        send(1, "c", {"id": 4, "n": 4}, 400)
        send(1, "d", {"id": 2, "n": 2}, 500)
        send(1, "t", None, 1000)
        send(1, "c", {"id": 6, "n": 6}, 1200)
        assert p.flush(30) == 0
        ss.wait_rows(postgres, "SELECT id FROM public.orders ORDER BY id",
                     [(5,), (6,)], sink=sink)
        metrics = get(port, "/metrics")
        assert ('cdc_bridge_sink_skipped_total{service="orders",'
                'table="shop.orders"} 2') in metrics, metrics
        assert ('cdc_bridge_sink_truncates_total{service="orders",'
                'table="shop.orders"} 1') in metrics, metrics
    finally:
        assert sink.stop() == 0, sink.output()

    # a restart remembers the truncate: a late change is still refused
    send(1, "c", {"id": 7, "n": 7}, 700)
    assert p.flush(30) == 0
    sink = ss.Sink(tmp_path / "sink2", env).start()
    try:
        send(0, "c", {"id": 8, "n": 8}, 1300)
        assert p.flush(30) == 0
        ss.wait_rows(postgres, "SELECT id FROM public.orders ORDER BY id",
                     [(5,), (6,), (8,)], sink=sink)
    finally:
        assert sink.stop() == 0, sink.output()
    assert not sink.problems()


def test_add_column_default_widen_and_dropped_column(tmp_path, mariadb,
                                                     postgres, devkafka):
    """ADD COLUMN … DEFAULT gives the target's old rows the default;
    INT -> BIGINT and VARCHAR(10) -> VARCHAR(100) widen the target instead
    of dead-lettering; a column added and dropped again while the sink
    was away is left out instead of dead-lettering its rows."""
    mariadb.script("""
        CREATE DATABASE shop;
        CREATE TABLE shop.orders (id BIGINT PRIMARY KEY, a INT,
            b VARCHAR(10));
        INSERT INTO shop.orders VALUES (1, 1, 'one'), (2, 2, 'two');
    """)
    mariadb.cdc_user()
    postgres.create_db("orders")
    port = harness.free_port()
    run = source_lib.Bridge(tmp_path / "run", mariadb, devkafka)
    env = ss.env_for(devkafka, postgres, mariadb=mariadb,
                     create_tables="yes",
                     metrics_listen="127.0.0.1:%d" % port)
    env["CDC_KAFKA_TOPIC_PREFIX"] = "monolith"
    run.start()
    sink = ss.Sink(tmp_path / "sink", env).start()
    try:
        ss.wait_rows(postgres, "SELECT count(*) FROM public.orders", [(2,)],
                     sink=sink, timeout=90)
        mariadb.script("""
            ALTER TABLE shop.orders ADD COLUMN c INT DEFAULT 7,
                ADD COLUMN s VARCHAR(8) DEFAULT 'it''s';
            INSERT INTO shop.orders VALUES (3, 3, 'three', 8, 'x');
        """)
        ss.wait_rows(postgres, "SELECT id, c, s FROM public.orders "
                     "ORDER BY id", [(1, 7, "it's"), (2, 7, "it's"),
                                     (3, 8, "x")], sink=sink)

        mariadb.script("""
            ALTER TABLE shop.orders MODIFY a BIGINT, MODIFY b VARCHAR(100);
            INSERT INTO shop.orders VALUES
                (4, 5000000000, 'a string longer than ten', 1, 'y');
            UPDATE shop.orders SET a = -5000000000 WHERE id = 1;
        """)
        ss.wait_rows(postgres, "SELECT id, a, b FROM public.orders "
                     "WHERE id IN (1, 4) ORDER BY id",
                     [(1, -5000000000, "one"),
                      (4, 5000000000, "a string longer than ten")],
                     sink=sink)
        types = postgres.sql(
            "SELECT attname, format_type(atttypid, atttypmod) FROM "
            "pg_attribute WHERE attrelid = 'public.orders'::regclass AND "
            "attname IN ('a', 'b') ORDER BY 1", db="orders")
        assert types == [("a", "bigint"), ("b", "character varying(100)")], \
            types
    finally:
        assert sink.stop() == 0, sink.output()
    out = sink.output()
    assert 'ALTER COLUMN "a" TYPE bigint' in out, out
    assert "DEFAULT '7'" in out, out

    # the sink is away: a column comes and goes
    mariadb.script("""
        ALTER TABLE shop.orders ADD COLUMN tmp INT;
        INSERT INTO shop.orders (id, a, b, tmp) VALUES (5, 5, 'five', 55);
        UPDATE shop.orders SET tmp = 22, b = 'deux' WHERE id = 2;
        ALTER TABLE shop.orders DROP COLUMN tmp;
        INSERT INTO shop.orders (id, a, b) VALUES (6, 6, 'six');
    """)
    sink = ss.Sink(tmp_path / "sink2", env).start()
    try:
        ss.wait_rows(postgres, "SELECT id, b FROM public.orders WHERE id IN "
                     "(2, 5, 6) ORDER BY id",
                     [(2, "deux"), (5, "five"), (6, "six")], sink=sink)
        metrics = get(port, "/metrics")
        assert ('cdc_bridge_sink_dead_letters_total{service="orders",'
                'table="shop.orders"} 0') in metrics, metrics
        assert run.alive(), run.log()
    finally:
        rc = sink.stop()
        run.stop()
    assert rc == 0, sink.output()
    cols = postgres.sql("SELECT attname FROM pg_attribute WHERE attrelid = "
                        "'public.orders'::regclass AND attnum > 0 AND NOT "
                        "attisdropped ORDER BY attnum", db="orders")
    assert cols == [("id",), ("a",), ("b",), ("c",), ("s",)], cols
    out = sink.output()
    assert "no longer in the source table" in out, out
    rc, out = ss.verify(env)
    assert rc == 0, out


def test_narrower_target_without_create_tables(tmp_path, mariadb, postgres,
                                               devkafka):
    """create_tables off: a value the target column is too narrow for is
    dead-lettered with the column, both types and the ALTER to run; after
    it, a replay applies it."""
    mariadb.script("""
        CREATE DATABASE shop;
        CREATE TABLE shop.orders (id BIGINT PRIMARY KEY, a BIGINT,
            b VARCHAR(100));
    """)
    postgres.create_db("orders")
    postgres.sql("CREATE TABLE public.orders (id bigint PRIMARY KEY, "
                 "a integer, b varchar(100))", db="orders")
    env = ss.env_for(devkafka, postgres, mariadb=mariadb)
    ev = ss.Events(devkafka)
    ev.insert("orders", {"id": 1, "a": 1, "b": "x"})
    ev.insert("orders", {"id": 2, "a": 5000000000, "b": "y"})
    ev.flush()
    sink = ss.Sink(tmp_path / "sink", env).start()
    try:
        ss.wait_rows(postgres, "SELECT id FROM public.orders", [(1,)],
                     sink=sink)
        dead = devkafka.read_topic("mono.dlq.orders", expect=1, timeout=30)
        assert len(dead) == 1, dead
    finally:
        assert sink.stop() == 0, sink.output()
    out = sink.output()
    assert ('column "a" is bigint at the source (bigint(20)) but integer in '
            'target "public"."orders": ALTER TABLE "public"."orders" ALTER '
            'COLUMN "a" TYPE bigint') in out, out
    assert postgres.sql("SELECT format_type(atttypid, atttypmod) FROM "
                        "pg_attribute WHERE attrelid = 'public.orders'"
                        "::regclass AND attname = 'a'",
                        db="orders") == [("integer",)]

    postgres.sql("ALTER TABLE public.orders ALTER COLUMN a TYPE bigint",
                 db="orders")
    rc, out = ss.Sink(tmp_path / "replay", env).run("--replay-dead-letters")
    assert rc == 0, out
    assert postgres.sql("SELECT id, a FROM public.orders ORDER BY id",
                        db="orders") == [(1, 1), (2, 5000000000)]
