"""Dead letters: a target CHECK constraint the source lacks sends exactly
the violating changes to the dead-letter topic (with SQLSTATE, error and
source position in headers), every other change applies, the count shows
in /metrics and /status; after the constraint is dropped,
--replay-dead-letters applies them."""

import json
import urllib.request

import harness
import sink_support as ss


def get(port, path):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path),
                                timeout=5) as r:
        return r.read().decode()


def test_dead_letters_and_replay(tmp_path, postgres, devkafka):
    postgres.create_db("orders")
    postgres.sql("CREATE TABLE public.orders (id bigint PRIMARY KEY, "
                 "amount numeric(10,2) CONSTRAINT amount_positive "
                 "CHECK (amount >= 0), n integer)", db="orders")
    port = harness.free_port()
    env = ss.env_for(devkafka, postgres,
                     metrics_listen="127.0.0.1:%d" % port)
    ev = ss.Events(devkafka)
    for i in range(1, 21):
        amount = "-%d.00" % i if i in (5, 7) else "%d.00" % i
        ev.insert("orders", {"id": i, "amount": amount, "n": 0})
    ev.update("orders", {"id": 9, "amount": "9.00", "n": 0},
              {"id": 9, "amount": "-9.00", "n": 1})
    ev.update("orders", {"id": 10, "amount": "10.00", "n": 0},
              {"id": 10, "amount": "10.50", "n": 1})
    ev.flush()

    sink = ss.Sink(tmp_path / "sink", env).start()
    try:
        ss.wait_rows(postgres, "SELECT count(*), sum(n) FROM public.orders",
                     [(18, 1)], sink=sink)
        dead = devkafka.read_topic("mono.dlq.orders", expect=3, timeout=30)
        assert len(dead) == 3, dead
        harness.wait_for(lambda: '"dead_letters":3' in get(port, "/status"),
                         timeout=10, what="dead letters in /status")
        metrics = get(port, "/metrics")
        assert ('cdc_bridge_sink_dead_letters_total{service="orders",'
                'table="shop.orders"} 3') in metrics, metrics
    finally:
        assert sink.stop() == 0, sink.output()

    c = devkafka.consumer()
    c.subscribe(["mono.dlq.orders"])
    msgs = []
    while len(msgs) < 3:
        m = c.poll(5)
        assert m is not None, "dead letters not readable"
        if not m.error():
            msgs.append(m)
    c.close()
    ids = sorted(json.loads(m.value())["after"]["id"] for m in msgs)
    assert ids == [5, 7, 9]
    for m in msgs:
        h = {k: v.decode() for k, v in m.headers()}
        assert h["cdc.error.sqlstate"] == "23514", h
        assert "amount_positive" in h["cdc.error.message"], h
        assert h["cdc.source.topic"] == "mono.shop.orders", h
        assert h["cdc.source.position"].startswith("binlog.000001:"), h
        assert int(h["cdc.source.offset"]) >= 0

    assert postgres.sql("SELECT amount::text FROM public.orders WHERE "
                        "id = 9", db="orders") == [("9.00",)]

    # still failing: replay dead-letters them again, applies nothing
    replay = ss.Sink(tmp_path / "replay", env)
    rc, out = replay.run("--replay-dead-letters")
    assert rc == 0, out
    assert postgres.sql("SELECT count(*) FROM public.orders",
                        db="orders") == [(18,)]

    postgres.sql("ALTER TABLE public.orders DROP CONSTRAINT amount_positive",
                 db="orders")
    rc, out = replay.run("--replay-dead-letters")
    assert rc == 0, out
    assert "3 changes applied, 0 dead letters" in out, out
    assert postgres.sql("SELECT id, amount::text FROM public.orders WHERE "
                        "amount < 0 ORDER BY id", db="orders") == [
        (5, "-5.00"), (7, "-7.00"), (9, "-9.00")]
    # replaying again finds nothing new
    rc, out = replay.run("--replay-dead-letters")
    assert rc == 0, out
    assert "no dead letters to replay" in out or \
        "0 changes applied" in out, out
    assert not sink.problems() and not replay.problems()
