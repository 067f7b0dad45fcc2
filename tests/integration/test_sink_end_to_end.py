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


def test_native_types_float_and_unique_keys(tmp_path, mariadb, postgres,
                                            devkafka):
    """MariaDB's UUID/INET4/INET6 reach PostgreSQL's uuid/inet (no dead
    letters) by snapshot and by stream; FLOAT keeps every digit; a table
    keyed only by a UNIQUE NOT NULL column gets that key in the target;
    verify compares these exactly (a FLOAT that differs in the 8th digit
    differs, ::ffff:1.2.3.4/128 equals ::ffff:1.2.3.4)."""
    mariadb.script("""
        CREATE DATABASE shop CHARACTER SET utf8mb4;
        CREATE TABLE shop.orders (id INT PRIMARY KEY, u UUID, a4 INET4,
            a6 INET6, f FLOAT);
        CREATE TABLE shop.codes (code INT NOT NULL, note VARCHAR(20),
            UNIQUE KEY (code));
        INSERT INTO shop.orders VALUES
            (1, '6ccd780c-baba-1026-9564-5b8c656024db', '10.1.2.3', '::1',
             16777217),
            (2, NULL, NULL, NULL, NULL);
        INSERT INTO shop.codes VALUES (7, 'seven');
        CREATE TABLE shop.ukeys (u UUID PRIMARY KEY, n INT);
        INSERT INTO shop.ukeys VALUES
            ('6ccd780c-baba-1026-9564-5b8c656024db', 1),
            ('123e4567-e89b-42d3-a456-556642440000', 2),
            ('ffffffff-0000-1000-8000-000000000001', 3),
            ('00000000-0000-1000-8000-ffffffffffff', 4),
            ('6ccd780c-baba-1026-9564-5b8c656024dc', 5);
    """)
    mariadb.cdc_user()
    postgres.create_db("orders")
    run = source_lib.Bridge(tmp_path / "run", mariadb, devkafka)
    env = ss.env_for(devkafka, postgres, mariadb=mariadb,
                     tables="shop.orders=public.orders,"
                            "shop.codes=public.codes,shop.ukeys=public.ukeys",
                     create_tables="yes")
    env["CDC_KAFKA_TOPIC_PREFIX"] = "monolith"
    run.start()
    sink = ss.Sink(tmp_path / "sink", env).start()
    try:
        ss.wait_rows(postgres, "SELECT count(*) FROM public.orders",
                     [(2,)], sink=sink, timeout=90)
        mariadb.script("""
            INSERT INTO shop.orders VALUES (3,
                '123e4567-e89b-42d3-a456-556642440000', '255.255.255.255',
                '::ffff:1.2.3.4', 1.2345678);
            UPDATE shop.orders SET a6 = '2001:db8::ff00:42:8329' WHERE id = 1;
            UPDATE shop.codes SET note = 'SEVEN' WHERE code = 7;
            INSERT INTO shop.codes VALUES (8, 'eight');
        """)
        ss.wait_rows(postgres, "SELECT id, u::text, host(a4), host(a6), "
                     "f::text FROM public.orders ORDER BY id",
                     [(1, "6ccd780c-baba-1026-9564-5b8c656024db",
                       "10.1.2.3", "2001:db8::ff00:42:8329", "1.6777216e+07"),
                      (2, None, None, None, None),
                      (3, "123e4567-e89b-42d3-a456-556642440000",
                       "255.255.255.255", "::ffff:1.2.3.4", "1.2345678")],
                     sink=sink, timeout=60)
        ss.wait_rows(postgres, "SELECT code, note FROM public.codes "
                     "ORDER BY code", [(7, "SEVEN"), (8, "eight")],
                     sink=sink, timeout=60)
        ss.wait_rows(postgres, "SELECT count(*) FROM public.ukeys", [(5,)],
                     sink=sink, timeout=60)
    finally:
        rc = sink.stop()
        run.stop()
    assert rc == 0, sink.output()
    assert "0 dead letters" in sink.output(), sink.output()

    types = dict(postgres.sql(
        "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute"
        " WHERE attrelid = 'public.orders'::regclass AND attnum > 0",
        db="orders"))
    assert (types["u"], types["a4"], types["a6"]) == ("uuid", "inet",
                                                      "inet"), types
    # the unique key is the target's primary key, as it is the events' key
    assert postgres.sql("SELECT a.attname FROM pg_index i JOIN pg_attribute"
                        " a ON a.attrelid = i.indrelid AND a.attnum = ANY"
                        "(i.indkey) WHERE i.indrelid = 'public.codes'::"
                        "regclass AND i.indisprimary", db="orders") == [
        ("code",)]

    rc, out = ss.verify(env)
    assert rc == 0, out
    # a UUID key pages in chunks on both sides alike
    rc, out = ss.verify(env, args=("--chunk", "2"))
    assert rc == 0, out
    assert "source 5 rows" in out, out
    postgres.sql("DELETE FROM public.ukeys WHERE n = 3", db="orders")
    rc, out = ss.verify(env, args=("--chunk", "2"))
    assert rc == 1 and "1 missing in target" in out, out
    assert "ffffffff-0000-1000-8000-000000000001" in out, out
    postgres.sql("INSERT INTO public.ukeys VALUES "
                 "('ffffffff-0000-1000-8000-000000000001', 3)", db="orders")

    # an address with its full mask is the address
    postgres.sql("UPDATE public.orders SET a6 = '::ffff:1.2.3.4/128', "
                 "a4 = '255.255.255.255/32' WHERE id = 3", db="orders")
    rc, out = ss.verify(env)
    assert rc == 0, out

    # a float off in its 8th digit is a difference
    postgres.sql("UPDATE public.orders SET f = 16777218 WHERE id = 1",
                 db="orders")
    rc, out = ss.verify(env)
    assert rc == 1, out
    assert 'column f: source "16777216", target "16777218"' in out, out
    assert "column a" not in out, out
    assert not sink.problems() and not run.sanitizer_reports()


def test_restart_replay_and_keyless_tables(tmp_path, mariadb, postgres,
                                           devkafka):
    """`run` started again from before its last changes (as after a kill -9
    before its checkpoint recorded them) sends them again.  Keyed tables (a PRIMARY KEY or only a
    UNIQUE NOT NULL key) absorb the replay; a table without a key would get
    the replayed inserts twice, so the sink refuses it, naming the table
    and the fixes, unless allow_keyless_tables = yes."""
    mariadb.script("""
        CREATE DATABASE shop CHARACTER SET utf8mb4;
        CREATE TABLE shop.orders (id INT PRIMARY KEY, n INT);
        CREATE TABLE shop.codes (code INT NOT NULL, n INT,
            UNIQUE KEY (code));
        CREATE TABLE shop.events (n INT, note VARCHAR(20));
        INSERT INTO shop.orders VALUES (1, 0);
        INSERT INTO shop.codes VALUES (1, 0);
    """)
    mariadb.cdc_user()
    postgres.create_db("orders")
    run = source_lib.Bridge(tmp_path / "run", mariadb, devkafka)
    run.start()
    run.wait_status(lambda s: s.get("phase") == "streaming", timeout=60,
                    what="snapshot done")
    mariadb.script("""
        INSERT INTO shop.orders VALUES (2, 0), (3, 0);
        UPDATE shop.orders SET n = n + 1;
        INSERT INTO shop.codes VALUES (2, 0), (3, 0);
        UPDATE shop.codes SET n = n + 1;
        INSERT INTO shop.events VALUES (1, 'x'), (1, 'x');
    """)
    source_lib.read_all(devkafka, "monolith.shop.events", expect=2)
    run.kill9()
    # the checkpoint writer may have recorded the changes already (its
    # first write is not held back by the interval): start again from the
    # snapshot's position, which is what a kill before the checkpoint did
    again = run.checkpoint()["snapshot"]["position"]["gtid"]
    run.start(args=["--start", again])
    try:
        # the replay: the events' inserts are in Kafka twice now
        got = source_lib.read_all(devkafka, "monolith.shop.events",
                                  expect=4)
        assert len(got) == 4, got
        codes = source_lib.read_all(devkafka, "monolith.shop.codes",
                                    expect=11)
        assert len(codes) == 11, codes
    finally:
        assert run.stop() == 0, run.log()

    tables = ("shop.orders=public.orders,shop.codes=public.codes,"
              "shop.events=public.events")
    env = ss.env_for(devkafka, postgres, mariadb=mariadb, tables=tables,
                     create_tables="yes")
    env["CDC_KAFKA_TOPIC_PREFIX"] = "monolith"
    rc, out = ss.Sink(tmp_path / "refused", env).run(timeout=60)
    assert rc != 0, out
    assert ("target table public.events (for shop.events) has no primary "
            "key: a replay after `cdc-bridge run` restarts would insert its "
            "rows again") in out, out
    assert "allow_keyless_tables = yes" in out, out

    env = ss.env_for(devkafka, postgres, mariadb=mariadb,
                     tables="shop.orders=public.orders,"
                            "shop.codes=public.codes",
                     create_tables="yes")
    env["CDC_KAFKA_TOPIC_PREFIX"] = "monolith"
    sink = ss.Sink(tmp_path / "sink", env).start()
    try:
        ss.wait_rows(postgres, "SELECT 'o', id, n FROM public.orders UNION "
                     "ALL SELECT 'c', code, n FROM public.codes ORDER BY 1, "
                     "2", [("c", 1, 1), ("c", 2, 1), ("c", 3, 1),
                           ("o", 1, 1), ("o", 2, 1), ("o", 3, 1)],
                     sink=sink, timeout=60)
    finally:
        assert sink.stop() == 0, sink.output()
    rc, out = ss.verify(env)
    assert rc == 0, out
