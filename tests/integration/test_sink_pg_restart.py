"""PostgreSQL restarted mid-stream: the sink reconnects, retries the batch
it was applying and continues; nothing is lost or applied twice."""

import threading
import time

import harness  # noqa: F401
import sink_support as ss

N = 20000


def test_postgres_restart_mid_stream(tmp_path, postgres, devkafka):
    assert devkafka.command("create-topic mono.shop.orders 8") \
        .startswith("ok")
    postgres.create_db("orders")
    postgres.sql("CREATE TABLE public.orders (id bigint PRIMARY KEY, "
                 "n integer)", db="orders")
    env = ss.env_for(devkafka, postgres)
    ev = ss.Events(devkafka)

    def produce():
        for i in range(1, N + 1):
            ev.insert("orders", {"id": i, "n": i})
            if i % 1000 == 0:
                ev.flush()
                time.sleep(0.3)
        ev.flush()

    t = threading.Thread(target=produce)
    sink = ss.Sink(tmp_path / "sink", env).start()
    t.start()
    try:
        def some():
            try:
                return postgres.sql("SELECT count(*) FROM public.orders",
                                    db="orders")[0][0] > 2000
            except Exception:
                return False
        harness.wait_for(some, timeout=60, what="first rows")
        postgres.restart()
        t.join()
        ss.wait_rows(postgres, "SELECT count(*), sum(n) FROM public.orders",
                     [(N, N * (N + 1) // 2)], timeout=120, sink=sink)
        assert sink.alive()
    finally:
        rc = sink.stop()
    out = sink.output()
    assert rc == 0, out
    assert "retrying" in out, out
    assert out.count("connected to postgres") >= 1, out
    assert not sink.problems()
