"""Lag: heartbeats keep the apply lag honest while idle (under a second);
a stopped sink (SIGSTOP) leaves a stale lag file whose watermark falls
behind; a sink blocked by the target (a lock) shows the lag and pending
events growing in /status, the lag file and /metrics; once free it is
back under a second."""

import json
import os
import signal
import threading
import time
import urllib.request

import harness
import sink_support as ss


def status(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/status" % port,
                                timeout=5) as r:
        return json.loads(r.read())


def metrics(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port,
                                timeout=5) as r:
        return r.read().decode()


def test_lag_file_status_and_metrics(tmp_path, postgres, devkafka):
    postgres.create_db("orders")
    postgres.sql("CREATE TABLE public.orders (id bigint PRIMARY KEY, "
                 "n integer)", db="orders")
    port = harness.free_port()
    lagfile = str(tmp_path / "lag" / "orders")
    os.makedirs(os.path.dirname(lagfile))
    env = ss.env_for(devkafka, postgres, lag_file=lagfile,
                     metrics_listen="127.0.0.1:%d" % port)
    env["CDC_SOURCE_HEARTBEAT_TABLE"] = "shop.cdc_heartbeat"
    ev = ss.Events(devkafka)
    stop = threading.Event()

    def beat():
        # what `run` does: a heartbeat row every 200 ms, and some changes
        n = 0
        while not stop.is_set():
            now = int(time.time() * 1000)
            ev.update("cdc_heartbeat", {"id": 1, "beat_ms": now - 200},
                      {"id": 1, "beat_ms": now}, ts_ms=now // 1000 * 1000)
            n += 1
            ev.insert("orders", {"id": n, "n": n}, ts_ms=now // 1000 * 1000)
            ev.marker(now, ("cdc_heartbeat", "orders"))
            ev.flush()
            time.sleep(0.2)

    t = threading.Thread(target=beat)
    t.start()
    sink = ss.Sink(tmp_path / "sink", env).start()
    try:
        def fresh():
            if not os.path.exists(lagfile):
                return False
            lag = ss.read_lagfile(lagfile)
            return 0 <= lag["lag_ms"] < 1000 and lag["pending"] == 0 \
                and lag["service"] == "orders"
        harness.wait_for(fresh, timeout=60, what="lag under 1 s")
        st = status(port)
        # changes keep coming: a few may be in flight
        assert 0 <= st["lag_ms"] < 1000 and 0 <= st["pending"] < 10, st

        # SIGSTOP: the file stops being rewritten; its watermark ages
        os.kill(sink.proc.pid, signal.SIGSTOP)
        time.sleep(0.5)
        first = ss.read_lagfile(lagfile)
        time.sleep(2.5)
        second = ss.read_lagfile(lagfile)
        assert second["updated_ms"] == first["updated_ms"]
        assert int(time.time() * 1000) - second["watermark_ms"] > 2500
        os.kill(sink.proc.pid, signal.SIGCONT)
        harness.wait_for(fresh, timeout=10, what="lag back under 1 s")

        # blocked by the target: lag and pending grow where readers see
        locker = postgres.connect("orders")
        locker.autocommit = False
        with locker.cursor() as c:
            c.execute("LOCK TABLE public.orders IN ACCESS EXCLUSIVE MODE")
        time.sleep(3)
        st = status(port)
        lag = ss.read_lagfile(lagfile)
        assert st["lag_ms"] > 2000 and st["pending"] > 0, st
        assert lag["lag_ms"] > 2000 and lag["pending"] > 0, lag
        m = metrics(port)
        line = [x for x in m.splitlines()
                if x.startswith('cdc_bridge_sink_lag_seconds{service='
                                '"orders"}')]
        assert line and float(line[0].split()[-1]) > 2.0, m
        locker.rollback()
        locker.close()
        harness.wait_for(fresh, timeout=10, what="lag back under 1 s")
        st = status(port)
        assert st["lag_ms"] < 1000 and 0 <= st["pending"] < 10, st
    finally:
        stop.set()
        t.join()
        rc = sink.stop()
    assert rc == 0, sink.output()
    assert not sink.problems()
