"""An offset Kafka no longer holds stops the sink (exit 3) with an error
naming topic, partition and offset and the way to recover; it never
resets silently.  --reset-offsets then starts that topic from its oldest
retained event."""

import sink_support as ss

BIG = 100 * 1024


def test_offset_out_of_range_stops_the_sink(tmp_path, postgres, devkafka):
    assert devkafka.command("create-topic mono.shop.orders 1") \
        .startswith("ok")
    postgres.create_db("orders")
    postgres.sql("CREATE TABLE public.orders (id bigint PRIMARY KEY, "
                 "note text)", db="orders")
    env = ss.env_for(devkafka, postgres)
    ev = ss.Events(devkafka)
    for i in range(1, 11):
        ev.insert("orders", {"id": i, "note": "small"})
    ev.flush()

    sink = ss.Sink(tmp_path / "sink", env).start()
    try:
        ss.wait_rows(postgres, "SELECT count(*) FROM public.orders", [(10,)],
                     sink=sink)
    finally:
        assert sink.stop() == 0, sink.output()

    # while the sink is stopped, > 5 MiB pushes offsets 10.. out of the
    # mock broker's partition
    for i in range(11, 91):
        ev.insert("orders", {"id": i, "note": "x" * BIG})
    ev.flush()

    rc, out = sink.run(timeout=60)
    assert rc == 3, out
    assert "mono.shop.orders[0]: offset 10 is no longer in Kafka" in out, out
    assert "snapshot shop.orders again" in out, out
    assert "--reset-offsets mono.shop.orders" in out, out
    # nothing was skipped
    assert postgres.sql("SELECT count(*) FROM public.orders",
                        db="orders") == [(10,)]
    assert postgres.sql("SELECT next_offset FROM strangler_cdc.offsets",
                        db="orders") == [(10,)]

    rc, out = sink.run("--reset-offsets", "mono.shop.orders", timeout=60)
    assert rc == 0, out
    low = postgres.sql("SELECT next_offset FROM strangler_cdc.offsets",
                       db="orders")[0][0]
    assert 10 < low < 90, out

    sink.start()
    try:
        ss.wait_rows(postgres, "SELECT count(*), max(id) FROM public.orders",
                     [(10 + 90 - low, 90)], sink=sink)
    finally:
        assert sink.stop() == 0, sink.output()
    assert not sink.problems()
