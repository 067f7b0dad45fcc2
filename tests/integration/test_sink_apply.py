"""cdc-bridge sink: changes written to Kafka appear in PostgreSQL: inserts,
updates, deletes, a primary-key change, a table without a key, column
renames and drops; offsets live in strangler_cdc.offsets; a restarted
sink applies nothing twice."""

import harness
import sink_support as ss

TABLE = """CREATE TABLE public.orders (
    id bigint PRIMARY KEY, customer text, amount numeric(10,2),
    note text, n integer)"""


def row(i, customer="c", amount="1.00", n=0):
    return {"id": i, "customer": customer, "amount": amount, "n": n,
            "secret": "s%d" % i}


def test_sink_inserts_updates_deletes(tmp_path, postgres, devkafka):
    postgres.create_db("orders")
    postgres.sql(TABLE, db="orders")
    postgres.sql("CREATE TABLE public.log_nokey (a integer, b text)",
                 db="orders")
    env = ss.env_for(devkafka, postgres,
                     tables="shop.orders=public.orders "
                            "shop.log=public.log_nokey",
                     columns="shop.orders.customer=note "
                             "shop.orders.secret=-",
                     allow_keyless_tables="yes")
    ev = ss.Events(devkafka)

    for i in range(1, 11):
        ev.insert("orders", row(i, "c%d" % i, "%d.50" % i))
    ev.update("orders", row(2, "c2", "2.50"), row(2, "c2", "20.25", n=1))
    ev.update("orders", row(2, "c2", "20.25", n=1),
              row(2, "c2", "20.26", n=2))
    ev.delete("orders", row(3, "c3", "3.50"))
    # primary-key change: 4 becomes 40
    ev.update("orders", row(4, "c4", "4.50"), row(40, "c4", "4.50"),
              key={"id": 40})
    # a key deleted and inserted again in the same batch
    ev.delete("orders", row(5, "c5", "5.50"))
    ev.insert("orders", row(5, "again", "5.55"))
    ev.insert("log", {"a": 1, "b": "x"}, key=None)
    ev.insert("log", {"a": 1, "b": "x"}, key=None)
    ev.update("log", {"a": 1, "b": "x"}, {"a": 1, "b": "y"}, key=None)
    ev.delete("log", {"a": 2, "b": "none"}, key=None)
    ev.flush()

    sink = ss.Sink(tmp_path / "sink", env).start()
    try:
        expect = [(1, "c1", "1.50", 0), (2, "c2", "20.26", 2),
                  (5, "again", "5.55", 0), (6, "c6", "6.50", 0),
                  (7, "c7", "7.50", 0), (8, "c8", "8.50", 0),
                  (9, "c9", "9.50", 0), (10, "c10", "10.50", 0),
                  (40, "c4", "4.50", 0)]
        ss.wait_rows(postgres, "SELECT id, note, amount::text, n FROM "
                     "public.orders ORDER BY id", expect, sink=sink)
        ss.wait_rows(postgres, "SELECT a, b FROM public.log_nokey "
                     "ORDER BY b", [(1, "x"), (1, "y")], sink=sink)
        # the renamed column went to "note", the dropped one nowhere
        cols = postgres.sql("SELECT customer FROM public.orders WHERE "
                            "customer IS NOT NULL", db="orders")
        assert cols == []
        offs = postgres.sql("SELECT topic, sum(next_offset) FROM "
                            "strangler_cdc.offsets WHERE service = 'orders'"
                            " GROUP BY topic ORDER BY topic", db="orders")
        assert offs == [("mono.shop.log", 4), ("mono.shop.orders", 16)]

        # a restart reads the offsets back: nothing is applied twice
        sink.stop()
        postgres.sql("UPDATE public.orders SET n = 99 WHERE id = 1",
                     db="orders")
        sink.start()
        ev.update("orders", row(6, "c6", "6.50"), row(6, "c6", "6.60", n=7))
        ev.flush()
        ss.wait_rows(postgres, "SELECT n FROM public.orders WHERE id = 6",
                     [(7,)], sink=sink)
        assert postgres.sql("SELECT n FROM public.orders WHERE id = 1",
                            db="orders") == [(99,)]
        assert postgres.sql("SELECT count(*) FROM public.log_nokey",
                            db="orders") == [(2,)]
    finally:
        rc = sink.stop()
    assert rc == 0, sink.output()
    assert not sink.problems(), sink.problems()
    assert "error" not in sink.output().lower(), sink.output()


def test_asan_sink_exits_0_after_sigterm(tmp_path, postgres, devkafka):
    """The ASan build of the sink, leak checking on, stopped with SIGTERM
    after multi-row upserts and deletes (the per-column array literals),
    a dead letter, its lag file and /metrics: exit status 0, no report.
    The array buffers used to be left allocated at exit (LeakSanitizer
    then exits 1)."""
    postgres.create_db("orders")
    postgres.sql(TABLE, db="orders")
    env = ss.env_for(devkafka, postgres, lag_file=str(tmp_path / "lag"),
                     metrics_listen="127.0.0.1:%d" % harness.free_port(),
                     columns="shop.orders.customer=note "
                             "shop.orders.secret=-")
    ev = ss.Events(devkafka)
    for i in range(1, 41):
        ev.insert("orders", row(i, "c%d" % i, "%d.50" % i))
    for i in range(1, 11):
        ev.delete("orders", row(i, "c%d" % i, "%d.50" % i))
    ev.insert("orders", dict(row(99), amount="not a number"))
    ev.flush()

    sink = ss.Sink(tmp_path / "sink", env, asan=True, leaks=True).start()
    try:
        ss.wait_rows(postgres, "SELECT count(*) FROM public.orders",
                     [(30,)], sink=sink)
        harness.wait_for(lambda: "dead letter:" in sink.output(),
                         timeout=30, what="the dead letter")
    finally:
        rc = sink.stop()
    assert rc == 0, sink.output()[-3000:] + "\n".join(sink.problems())
    assert not sink.problems(), sink.problems()
