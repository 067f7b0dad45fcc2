"""`cdc-bridge status`: the lag table from run's /status, each service's lag
file and its sink's /status; exit 0 only when every part answered and every
lag file is fresh.  Stand-in HTTP servers play `run` and a sink, so the
test reads only what status does with their answers."""

import http.server
import json
import os
import socketserver
import subprocess
import sys
import threading
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harness  # noqa: E402

pytestmark = pytest.mark.timeout(60)


class _Json(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_GET(self):
        doc = self.server.docs.get(self.path)
        if doc is None:
            self.send_response(404)
            self.end_headers()
            return
        body = json.dumps(doc).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class FakeStatus:
    def __init__(self, doc):
        self.port = harness.free_port()
        self.srv = socketserver.ThreadingTCPServer(("127.0.0.1", self.port),
                                                   _Json)
        self.srv.daemon_threads = True
        self.srv.docs = {"/status": doc}
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def listen(self):
        return "127.0.0.1:%d" % self.port

    def stop(self):
        self.srv.shutdown()
        self.srv.server_close()


@pytest.fixture
def fakes():
    made = []

    def make(doc):
        f = FakeStatus(doc)
        made.append(f)
        return f
    yield make
    for f in made:
        f.stop()


def write_lag(path, age_ms=0, lag_ms=120, pending=3, service="orders"):
    now = int(time.time() * 1000)
    with open(path, "w") as f:
        f.write("v=1 updated_ms=%d lag_ms=%d watermark_ms=%d pending=%d "
                "service=%s\n" % (now - age_ms, lag_ms, now - lag_ms,
                                  pending, service))


def status(env, *args):
    e = {k: v for k, v in os.environ.items() if not k.startswith("CDC_")}
    e.update(env)
    return subprocess.run([harness.bridge_path(), "status"] + list(args),
                          capture_output=True, text=True,
                          env=harness.sanitizer_env(e), cwd=harness.ROOT,
                          timeout=30)


def base_env(tmp_path, run_listen):
    return {"CDC_SOURCE_TABLES": "shop.*",
            "CDC_METRICS_LISTEN": run_listen,
            "CDC_SERVICE_ORDERS_POSTGRES": "dbname=orders",
            "CDC_SERVICE_ORDERS_TABLES": "shop.orders",
            "CDC_SERVICE_ORDERS_LAG_FILE": str(tmp_path / "orders.lag")}


def test_all_reachable(tmp_path, fakes):
    run = fakes({"command": "run", "phase": "streaming",
                 "source_lag_ms": 250, "in_flight": 7})
    sink = fakes({"service": "billing", "lag_ms": 900, "pending": 42})
    env = base_env(tmp_path, run.listen())
    env.update({"CDC_SERVICE_BILLING_POSTGRES": "dbname=billing",
                "CDC_SERVICE_BILLING_TABLES": "shop.invoices",
                "CDC_SERVICE_BILLING_METRICS_LISTEN": sink.listen()})
    write_lag(tmp_path / "orders.lag", age_ms=100, lag_ms=120, pending=3)

    p = status(env, "-c", "/dev/null")
    assert p.returncode == 0, p.stdout + p.stderr
    rows = {ln.split()[0]: ln.split() for ln in p.stdout.splitlines()[1:]
            if ln.strip()}
    assert rows["run"][1] == "streaming" and rows["run"][2] == "0.25s"
    assert rows["run"][3] == "7"
    assert rows["orders"][1:4] == ["ok", "0.12s", "3"]
    assert rows["billing"][1:4] == ["ok", "0.90s", "42"]

    p = status(env, "-c", "/dev/null", "--json")
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert doc["ok"] is True
    assert doc["run"]["reachable"] is True
    assert doc["run"]["phase"] == "streaming"
    svc = {s["service"]: s for s in doc["services"]}
    assert svc["orders"]["lag_ms"] == 120 and svc["orders"]["pending"] == 3
    assert svc["billing"]["sink"]["reachable"] is True


def test_unreachable_and_stale(tmp_path, fakes):
    env = base_env(tmp_path, "127.0.0.1:%d" % harness.free_port())
    write_lag(tmp_path / "orders.lag", age_ms=60000)

    p = status(env, "-c", "/dev/null")
    assert p.returncode == 1
    assert "run: not reachable" in p.stdout
    assert "Connection refused" in p.stdout
    line = [ln for ln in p.stdout.splitlines() if ln.startswith("orders")][0]
    assert "stale" in line and "is the sink running?" in line

    # a fresh file but a sink that does not answer
    run = fakes({"phase": "streaming", "source_lag_ms": 0, "in_flight": 0})
    env["CDC_METRICS_LISTEN"] = run.listen()
    env["CDC_SERVICE_ORDERS_METRICS_LISTEN"] = "127.0.0.1:%d" % \
        harness.free_port()
    write_lag(tmp_path / "orders.lag", age_ms=0)
    p = status(env, "-c", "/dev/null", "--json")
    assert p.returncode == 1
    doc = json.loads(p.stdout)
    assert doc["ok"] is False and doc["run"]["reachable"] is True
    assert doc["services"][0]["state"] == "not reachable"

    # a stale threshold of our choosing
    del env["CDC_SERVICE_ORDERS_METRICS_LISTEN"]
    write_lag(tmp_path / "orders.lag", age_ms=3000)
    assert status(env, "-c", "/dev/null").returncode == 0
    assert status(env, "-c", "/dev/null", "--stale", "2").returncode == 1


def test_missing_lag_file_and_bad_config(tmp_path, fakes):
    run = fakes({"phase": "snapshot", "source_lag_ms": -1, "in_flight": 0})
    env = base_env(tmp_path, run.listen())
    p = status(env, "-c", "/dev/null")
    assert p.returncode == 1
    assert "orders.lag: No such file or directory" in p.stdout

    (tmp_path / "orders.lag").write_text("garbage\n")
    p = status(env, "-c", "/dev/null")
    assert p.returncode == 1 and "not a lag file" in p.stdout

    env["CDC_SOURCE_PORT"] = "none"
    p = status(env, "-c", "/dev/null")
    assert p.returncode == 2
    assert 'CDC_SOURCE_PORT: bad value "none"' in p.stderr
