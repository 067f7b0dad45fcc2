"""cdc-bridge verify: equal tables say equal (exit 0); a target row changed
or deleted by hand is reported with its key range (exit 1).  The target
table is created by the sink from MariaDB's information_schema
(create_tables)."""

import sink_support as ss


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
