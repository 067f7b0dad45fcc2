"""`auto/demo start` runs the whole migration story with real parts
(MariaDB, dev Kafka, cdc-bridge run and sink, PostgreSQL, the two apps,
nginx with the module, strangler-ctl) and leaves it running; `auto/demo
stop` ends every process it started and removes its data."""

import json
import os
import re
import subprocess
import urllib.error
import urllib.request

import pytest

import harness

DEMO = os.path.join(harness.ROOT, "auto", "demo")


def gone(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


def get(url, headers=None, data=None):
    req = urllib.request.Request(url, headers=headers or {}, data=data)
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.status, r.headers, r.read()


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_demo_story_then_stop(tmp_path):
    d = str(tmp_path / "demo")
    env = dict(os.environ, DEMO_DIR=d, DEMO_STORY="short")
    env.pop("LD_PRELOAD", None)
    state_file = os.path.join(d, "state.json")
    try:
        p = subprocess.run([DEMO, "start"], capture_output=True, text=True,
                           env=env, timeout=240)
        out = p.stdout + p.stderr
        assert p.returncode == 0, out

        # the story's checkpoints, as printed
        for line in ("snapshot done", "lag ", "cdc-bridge verify",
                     "percent 10: strangler-ctl set /api/orders/ 10",
                     "percent 50: strangler-ctl set /api/orders/ 50",
                     "percent 100: strangler-ctl set /api/orders/ 100",
                     "rollback: strangler-ctl rollback /api/orders/",
                     "50% -> 10% (rollback)",
                     "same JSON for the same order from both sides"):
            assert line in out, line
        m = re.search(r"entry\s+(http://127\.0\.0\.1:(\d+))\n", out)
        assert m, out
        entry = m.group(1)

        with open(state_file) as f:
            st = json.load(f)
        ck = st["checkpoints"]
        assert ck["snapshot"] is True
        assert 0 <= ck["lag_ms"] < 1000
        assert ck["verify"] == "equal"
        steps = {(s["step"], s["percent"]): s for s in ck["steps"]}
        assert steps[(0, 0.0)]["service"] == 0
        assert steps[(100, 100.0)]["legacy"] == 0
        for k in ((10, 10.0), (50, 50.0), ("rollback", 50.0),
                  ("rollback", 10.0)):
            assert steps[k]["legacy"] > 0 and steps[k]["service"] > 0, k
        assert ck["steps"][-1]["percent"] == 10.0
        assert ck["same_json"] is True
        assert ck["compared"]["legacy"] > 0 and ck["compared"]["service"] > 0

        # still running: both sides answer through nginx, with the header,
        # and the same order reads the same from either side
        bodies = {}
        for i in range(60):
            status, h, body = get(entry + "/api/orders/2",
                                  {"Cookie": "uid=t%d" % i})
            assert status == 200
            bodies.setdefault(h["X-Strangler-Target"], json.loads(body))
        assert set(bodies) == {"legacy", "service"}
        assert bodies["legacy"] == bodies["service"]
        assert bodies["legacy"]["id"] == 2 and bodies["legacy"]["items"]

        # writes go to the monolith
        status, h, body = get(entry + "/api/orders", {
            "Content-Type": "application/json", "Cookie": "uid=t1"},
            json.dumps({"customer_id": 1, "items": [
                {"sku": "tea", "qty": 1, "price": "2.50"}]}).encode())
        assert status == 201 and h["X-Strangler-Target"] == "legacy"
        # ... and reach the service's database through the bridge
        oid = json.loads(body)["id"]
        svc = "http://127.0.0.1:%d" % st["ports"]["orders_service"]

        def synced():
            try:
                return get("%s/api/orders/%d" % (svc, oid))[0] == 200
            except urllib.error.HTTPError:
                return False
        harness.wait_for(synced, timeout=30, what="new order in service")

        # every answer carries the header, the dashboard is served
        status, h, _ = get(entry + "/")
        assert h["X-Strangler-Target"] == "legacy"
        status, h, body = get(entry + "/strangler/")
        assert status == 200 and b"dashboard.js" in body

        pids = [pr["pid"] for pr in st["procs"]]
        assert len(pids) >= 8 and not any(gone(pid) for pid in pids)
        with open(os.path.join(st["pgdata"], "postmaster.pid")) as f:
            pids.append(int(f.readline()))
    finally:
        p = subprocess.run([DEMO, "stop"], capture_output=True, text=True,
                           env=env, timeout=120)

    assert p.returncode == 0, p.stdout + p.stderr
    left = [pid for pid in pids if not gone(pid)]
    assert not left, left
    assert not os.path.exists(d)
    # nothing of the demo's is left on the system either
    ps = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True,
                        text=True).stdout
    assert d not in ps, [ln for ln in ps.splitlines() if d in ln]
