"""Schema evolution: a column added at the source reaches the target as
ALTER TABLE … ADD COLUMN with the mapped type when create_tables is on;
with it off, that table's changes are dead-lettered with a clear error
(SQLSTATE 42703) while other tables keep flowing, and a replay after
adding the column by hand applies them."""

import sink_support as ss


def test_add_column_on_and_off(tmp_path, mariadb, postgres, devkafka):
    mariadb.sql("CREATE DATABASE shop")
    mariadb.sql("CREATE TABLE shop.orders (id BIGINT PRIMARY KEY, a INT)")
    mariadb.sql("CREATE TABLE shop.items (id BIGINT PRIMARY KEY, b INT)")
    postgres.create_db("orders")
    postgres.create_db("legacy")
    postgres.sql("CREATE TABLE public.orders (id bigint PRIMARY KEY, a int);"
                 "CREATE TABLE public.items (id bigint PRIMARY KEY, b int)",
                 db="legacy")
    tables = "shop.orders=public.orders shop.items=public.items"
    env = ss.env_for(devkafka, postgres, mariadb=mariadb, tables=tables,
                     create_tables="yes")
    env.update(ss.env_for(devkafka, postgres, db="legacy", service="legacy",
                          mariadb=mariadb, tables=tables))
    ev = ss.Events(devkafka)
    for i in (1, 2):
        ev.insert("orders", {"id": i, "a": i})
        ev.insert("items", {"id": i, "b": i})
    ev.flush()

    on = ss.Sink(tmp_path / "on", env).start()
    off = ss.Sink(tmp_path / "off", env, service="legacy").start()
    try:
        for db, s in (("orders", on), ("legacy", off)):
            ss.wait_rows(postgres, "SELECT (SELECT count(*) FROM "
                         "public.orders), (SELECT count(*) FROM "
                         "public.items)", [(2, 2)], db=db, sink=s)

        mariadb.sql("ALTER TABLE shop.orders ADD COLUMN c VARCHAR(10), "
                    "ADD COLUMN d DECIMAL(30,10)")
        big = "12345678901234567890.0123456789"
        ev.insert("orders", {"id": 3, "a": 3, "c": "x", "d": big})
        ev.update("orders", {"id": 1, "a": 1, "c": None, "d": None},
                  {"id": 1, "a": 10, "c": "y", "d": "1.5000000000"})
        ev.insert("items", {"id": 3, "b": 3})
        ev.flush()

        ss.wait_rows(postgres, "SELECT id, a, c, d::text FROM public.orders "
                     "ORDER BY id", [(1, 10, "y", "1.5000000000"),
                                     (2, 2, None, None), (3, 3, "x", big)],
                     sink=on)
        types = postgres.sql(
            "SELECT column_name, format_type(atttypid, atttypmod) FROM "
            "information_schema.columns c JOIN pg_attribute a ON "
            "a.attrelid = 'public.orders'::regclass AND a.attname = "
            "c.column_name WHERE table_name = 'orders' AND column_name IN "
            "('c', 'd') ORDER BY 1", db="orders")
        assert types == [("c", "character varying(10)"),
                         ("d", "numeric(30,10)")], types

        # create_tables off: orders' changes go to the dead-letter topic,
        # items keep flowing
        ss.wait_rows(postgres, "SELECT count(*) FROM public.items",
                     [(3,)], db="legacy", sink=off)
        dead = devkafka.read_topic("mono.dlq.legacy", expect=2, timeout=30)
        assert len(dead) == 2, dead
        assert postgres.sql("SELECT id, a FROM public.orders ORDER BY id",
                            db="legacy") == [(1, 1), (2, 2)]
    finally:
        assert on.stop() == 0, on.output()
        assert off.stop() == 0, off.output()
    out = off.output()
    assert "SQLSTATE 42703" in out and "create_tables is off" in out, out

    postgres.sql("ALTER TABLE public.orders ADD COLUMN c text, "
                 "ADD COLUMN d numeric", db="legacy")
    replay = ss.Sink(tmp_path / "replay", env, service="legacy")
    rc, out = replay.run("--replay-dead-letters")
    assert rc == 0, out
    assert postgres.sql("SELECT id, a, c FROM public.orders ORDER BY id",
                        db="legacy") == [(1, 10, "y"), (2, 2, None),
                                         (3, 3, "x")]
    assert not on.problems() and not off.problems()
