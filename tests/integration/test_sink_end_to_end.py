"""End to end: MariaDB -> `cdc-bridge run` -> Kafka -> `cdc-bridge sink` ->
PostgreSQL.  A snapshot, then inserts, updates, deletes and a primary-key
change appear in the target; verify says equal, and not equal (with the
key range) once a target row is changed by hand."""

import sink_support as ss
import source_lib


def test_end_to_end(tmp_path, mariadb, postgres, devkafka):
    mariadb.script("""
        CREATE DATABASE shop CHARACTER SET utf8mb4;
        CREATE TABLE shop.orders (id BIGINT PRIMARY KEY,
            customer VARCHAR(40), amount DECIMAL(10,2), at DATETIME(3),
            flags BIT(3), data JSON);
        INSERT INTO shop.orders VALUES
            (1, 'ann', 10.50, '2024-01-01 10:00:00.125', b'101', '{"a":1}'),
            (2, 'bob', 20.00, '2024-01-02 11:00:00', b'000', NULL);
    """)
    mariadb.cdc_user()
    postgres.create_db("orders")
    run = source_lib.Bridge(tmp_path / "run", mariadb, devkafka)
    env = ss.env_for(devkafka, postgres, mariadb=mariadb,
                     create_tables="yes")
    env["CDC_KAFKA_TOPIC_PREFIX"] = "monolith"
    run.start()
    sink = ss.Sink(tmp_path / "sink", env).start()
    try:
        ss.wait_rows(postgres, "SELECT id, customer, amount::text FROM "
                     "public.orders ORDER BY id",
                     [(1, "ann", "10.50"), (2, "bob", "20.00")], sink=sink,
                     timeout=90)
        mariadb.script("""
            INSERT INTO shop.orders VALUES (3, 'cid', 30.25,
                '2024-01-03 12:00:00.5', b'111', '[1,2]');
            UPDATE shop.orders SET amount = 11.75, data = '{"a":2}'
                WHERE id = 1;
            DELETE FROM shop.orders WHERE id = 2;
            UPDATE shop.orders SET id = 30 WHERE id = 3;
            INSERT INTO shop.orders (id, customer) VALUES (4, 'dan');
        """)
        ss.wait_rows(postgres, "SELECT id, customer, amount::text, "
                     "flags::text, data::text FROM public.orders "
                     "ORDER BY id",
                     [(1, "ann", "11.75", "101", '{"a": 2}'),
                      (4, "dan", None, None, None),
                      (30, "cid", "30.25", "111", "[1, 2]")], sink=sink,
                     timeout=60)
        assert run.alive(), run.log()
    finally:
        rc = sink.stop()
        run.stop()
    assert rc == 0, sink.output()

    rc, out = ss.verify(env)
    assert rc == 0, out
    assert "source 3 rows" in out and "equal" in out, out

    postgres.sql("UPDATE public.orders SET customer = 'eve' WHERE id = 4",
                 db="orders")
    rc, out = ss.verify(env)
    assert rc == 1, out
    assert "[id=4 .. id=4] (1 row)" in out, out
    assert 'column customer: source "dan", target "eve"' in out, out
    assert not sink.problems() and not run.sanitizer_reports()
