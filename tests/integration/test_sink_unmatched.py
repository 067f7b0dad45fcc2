"""An update or delete whose row is not in the target is never a silent
success: it is dead-lettered with SQLSTATE 02000 (no_data) and the reason,
and counted in cdc_bridge_sink_unmatched_total{service,table,op}; the rest
of the batch applies.  An update or delete that follows the row's insert
in the same batch is not a miss (the batch collapses them), and neither
is one in a keyless table that finds its row."""

import json
import shutil
import subprocess
import urllib.request

import harness
import sink_support as ss


def get(port, path):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path),
                                timeout=5) as r:
        return r.read().decode()


def test_unmatched_updates_and_deletes(tmp_path, postgres, devkafka):
    postgres.create_db("orders")
    postgres.sql("CREATE TABLE public.orders (id bigint PRIMARY KEY, "
                 "n integer);"
                 "CREATE TABLE public.notes (body text, n integer)",
                 db="orders")
    port = harness.free_port()
    env = ss.env_for(devkafka, postgres,
                     tables="shop.orders=public.orders "
                     "shop.notes=public.notes",
                     allow_keyless_tables="yes",
                     metrics_listen="127.0.0.1:%d" % port)
    ev = ss.Events(devkafka)
    for i in (1, 2, 3):
        ev.insert("orders", {"id": i, "n": 0})
    ev.insert("notes", {"body": "a", "n": 0})
    # misses: rows 7, 8 and 9 were never inserted (a key change of a
    # missing row is dead-lettered whole: 17 is not inserted)
    ev.update("orders", {"id": 9, "n": 0}, {"id": 9, "n": 1})
    ev.delete("orders", {"id": 8, "n": 0})
    ev.update("orders", {"id": 7, "n": 0}, {"id": 17, "n": 1})
    ev.delete("notes", {"body": "zzz", "n": 0})
    # not misses
    ev.update("orders", {"id": 1, "n": 0}, {"id": 1, "n": 5})
    ev.delete("orders", {"id": 2, "n": 0})
    ev.insert("orders", {"id": 20, "n": 0})
    ev.update("orders", {"id": 20, "n": 0}, {"id": 20, "n": 2})
    ev.insert("orders", {"id": 21, "n": 0})
    ev.delete("orders", {"id": 21, "n": 0})
    ev.update("notes", {"body": "a", "n": 0}, {"body": "a", "n": 3})
    ev.flush()

    sink = ss.Sink(tmp_path / "sink", env).start()
    try:
        ss.wait_rows(postgres, "SELECT id, n FROM public.orders ORDER BY id",
                     [(1, 5), (3, 0), (20, 2)], sink=sink)
        dead = devkafka.read_topic("mono.dlq.orders", expect=4, timeout=30)
        assert len(dead) == 4, dead
        metrics = get(port, "/metrics")
        for table, op, n in (("orders", "update", 2), ("orders", "delete", 1),
                             ("notes", "delete", 1), ("notes", "update", 0)):
            line = ('cdc_bridge_sink_unmatched_total{service="orders",'
                    'table="shop.%s",op="%s"} %d' % (table, op, n))
            assert line in metrics, (line, metrics)
        if shutil.which("promtool"):
            p = subprocess.run(["promtool", "check", "metrics"],
                               input=metrics.encode(), capture_output=True)
            assert p.returncode == 0, p.stdout + p.stderr
    finally:
        assert sink.stop() == 0, sink.output()

    assert postgres.sql("SELECT body, n FROM public.notes",
                        db="orders") == [("a", 3)]

    c = devkafka.consumer()
    c.subscribe(["mono.dlq.orders"])
    msgs = []
    while len(msgs) < 4:
        m = c.poll(5)
        assert m is not None, "dead letters not readable"
        if not m.error():
            msgs.append(m)
    c.close()
    seen = set()
    for m in msgs:
        v = json.loads(m.value())
        h = {k: x.decode() for k, x in m.headers()}
        assert h["cdc.error.sqlstate"] == "02000", h
        assert "matched no row" in h["cdc.error.message"], h
        seen.add((v["source"]["table"], v["op"],
                  (v["before"] or v["after"]).get("id")))
    assert seen == {("orders", "u", 9), ("orders", "d", 8),
                    ("orders", "u", 7), ("notes", "d", None)}, seen
    out = sink.output()
    assert "update matched no row in \"public\".\"orders\" (id=9)" in out, out


def test_replayed_by_run_restart_not_dead_lettered(tmp_path, postgres,
                                                   devkafka):
    """`run` is at-least-once: after a restart it produces again what it
    produced since its checkpoint.  An update or delete found again in its
    partition behind a newer position already read finds its row gone:
    counted, not dead-lettered.  A miss at a new position still is."""
    postgres.create_db("orders")
    postgres.sql("CREATE TABLE public.orders (id bigint PRIMARY KEY, "
                 "n integer)", db="orders")
    port = harness.free_port()
    env = ss.env_for(devkafka, postgres,
                     metrics_listen="127.0.0.1:%d" % port)
    ev = ss.Events(devkafka)
    sink = ss.Sink(tmp_path / "sink", env).start()
    try:
        ev.pos = 1900
        ev.insert("orders", {"id": 60, "n": 0})                    # 2000
        ev.update("orders", {"id": 60, "n": 0}, {"id": 60, "n": 1})  # 2100
        ev.flush()
        ss.wait_rows(postgres, "SELECT id, n FROM public.orders", [(60, 1)],
                     sink=sink)
        ev.delete("orders", {"id": 60, "n": 1})                    # 2200
        ev.flush()
        ss.wait_rows(postgres, "SELECT count(*) FROM public.orders", [(0,)],
                     sink=sink)
        # run restarts from a checkpoint at 2050: the same two again
        ev.pos = 2000
        ev.update("orders", {"id": 60, "n": 0}, {"id": 60, "n": 1})  # 2100
        ev.delete("orders", {"id": 60, "n": 1})                    # 2200
        # and a real miss, new
        ev.pos = 5000
        ev.update("orders", {"id": 61, "n": 0}, {"id": 61, "n": 1})  # 5100
        ev.insert("orders", {"id": 62, "n": 0})
        ev.flush()
        ss.wait_rows(postgres, "SELECT id FROM public.orders", [(62,)],
                     sink=sink)
        dead = devkafka.read_topic("mono.dlq.orders", expect=1, timeout=30)
        assert len(dead) == 1, dead
        assert json.loads(dead[0][1])["after"]["id"] == 61, dead
        metrics = get(port, "/metrics")
        for line in ('cdc_bridge_sink_unmatched_replays_total{service='
                     '"orders",table="shop.orders"} 2',
                     'cdc_bridge_sink_unmatched_total{service="orders",'
                     'table="shop.orders",op="update"} 2',
                     'cdc_bridge_sink_unmatched_total{service="orders",'
                     'table="shop.orders",op="delete"} 1'):
            assert line in metrics, (line, metrics)
    finally:
        assert sink.stop() == 0, sink.output()
    assert "produced again by a run restart" in sink.output()
